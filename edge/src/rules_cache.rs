//! The isolate's merchandising rules: read from the models bucket beside the model, re-read at
//! most every `MODEL_REFRESH_SECONDS`; a document that fails to parse keeps the previous rules.

use std::cell::RefCell;
use std::rc::Rc;

use shared::rules::{RULES_KEY, RuleSet};
use worker::Env;

use crate::http::now_ms;

struct Cached {
    checked_at: i64,
    rules: Rc<RuleSet>,
}

thread_local! {
    static RULES: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

async fn read(env: &Env) -> Result<RuleSet, String> {
    let bucket = env.bucket("MODELS").map_err(|e| e.to_string())?;
    let obj = bucket
        .get(RULES_KEY)
        .execute()
        .await
        .map_err(|e| e.to_string())?;
    let Some(body) = obj.as_ref().and_then(|o| o.body()) else {
        return Ok(RuleSet::default());
    };
    let bytes = body.bytes().await.map_err(|e| e.to_string())?;
    RuleSet::parse(&bytes).map_err(|e| e.to_string())
}

/// The rules in force (empty when none are stored).
pub async fn current(env: &Env) -> Rc<RuleSet> {
    let now = now_ms();
    let every = crate::settings::get(env).refresh_ms;
    let fresh = RULES.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|x| now - x.checked_at < every)
            .map(|x| Rc::clone(&x.rules))
    });
    if let Some(r) = fresh {
        return r;
    }
    let rules = match read(env).await {
        Ok(r) => Rc::new(r),
        Err(e) => {
            worker::console_error!("rules kept: {e}");
            RULES
                .with(|c| c.borrow().as_ref().map(|x| Rc::clone(&x.rules)))
                .unwrap_or_default()
        }
    };
    install(Rc::clone(&rules), now);
    rules
}

/// Makes `rules` current in this isolate (after an admin write).
pub fn install(rules: Rc<RuleSet>, now: i64) {
    RULES.with(|c| {
        *c.borrow_mut() = Some(Cached {
            checked_at: now,
            rules,
        });
    });
}
