//! Widgets: the one engine behind every recommendation endpoint, and `POST
//! /v1/recommendations/batch` (every widget of a page in one round trip). The shopper's session is
//! read once and each widget (for you, similar, bought together, cart, trending, buy again) is
//! answered from the same model, session and merchandising rules; the single-widget endpoints
//! are a batch of one, so they behave identically.

use serde::{Deserialize, Serialize};

use crate::api::{DEFAULT_K, ItemOut, MAX_CONTEXT, MAX_K, MAX_OFFSET};
use crate::artifact::Model;
use crate::error::{ApiError, Code};
use crate::filter::FilterSpec;
use crate::personal::{self, Blend, Interaction};
use crate::recommend::{self, Scored};
use crate::rules::Active;
use crate::session::{self, SessionState};
use crate::shape::{Shape, shaped};

/// Most widgets per batch.
pub const MAX_WIDGETS: usize = 10;

/// What a widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WidgetKind {
    ForYou,
    Similar,
    BoughtTogether,
    Cart,
    Trending,
    BuyAgain,
}

/// One widget of a batch: its own fields and the filter fields beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// The caller's name for it (placement), echoed in the answer.
    pub id: String,
    pub kind: WidgetKind,
    /// The product of `similar` and `bought_together`.
    pub item_id: Option<String>,
    /// The cart of `cart`.
    pub items: Vec<String>,
    pub k: Option<usize>,
    pub offset: Option<usize>,
    pub filter: FilterSpec,
    pub exclude_purchased: bool,
    /// 0 (pure relevance) to 1 (spread across categories and brands).
    pub diversity: f32,
}

/// A widget's own fields, as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WidgetOwn {
    id: String,
    #[serde(rename = "type")]
    kind: WidgetKind,
    #[serde(default)]
    item_id: Option<String>,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    k: Option<usize>,
    #[serde(default)]
    offset: Option<usize>,
    #[serde(default)]
    exclude_purchased: bool,
    #[serde(default)]
    diversity: f32,
}

impl<'de> Deserialize<'de> for Widget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut object = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let filter = FilterSpec::take_json(&mut object).map_err(D::Error::custom)?;
        let own: WidgetOwn =
            serde_json::from_value(serde_json::Value::Object(object)).map_err(D::Error::custom)?;
        Ok(Self {
            id: own.id,
            kind: own.kind,
            item_id: own.item_id,
            items: own.items,
            k: own.k,
            offset: own.offset,
            filter,
            exclude_purchased: own.exclude_purchased,
            diversity: own.diversity,
        })
    }
}

/// The batch body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub anonymous_id: Option<String>,
    /// The shop's signature of `user_id` (`crate::identity`); the `x-vitrine-user-token` header
    /// works too.
    #[serde(default)]
    pub user_token: Option<String>,
    /// Items the shopper is looking at now, most recent first.
    #[serde(default)]
    pub context: Vec<String>,
    /// The recent session the storefront carries (`crate::carried`, the same string as the
    /// `session` query parameter).
    #[serde(default)]
    pub session: Option<crate::carried::CarriedSession>,
    pub widgets: Vec<Widget>,
}

fn bad(widget: &str, field: &str, why: &str) -> ApiError {
    ApiError::new(
        Code::InvalidParameter,
        format!("widget `{widget}`: `{field}` {why}"),
    )
}

impl Widget {
    fn check(&self) -> Result<(), ApiError> {
        let id = self.id.as_str();
        if self.k.is_some_and(|k| !(1..=MAX_K).contains(&k)) {
            return Err(bad(id, "k", &format!("must be from 1 to {MAX_K}")));
        }
        if self.offset.is_some_and(|o| o > MAX_OFFSET) {
            return Err(bad(id, "offset", &format!("must be at most {MAX_OFFSET}")));
        }
        if !(0.0..=1.0).contains(&self.diversity) {
            return Err(bad(id, "diversity", "must be a number from 0 to 1"));
        }
        self.filter
            .check()
            .map_err(|(name, why)| bad(id, name, why))?;
        match self.kind {
            WidgetKind::Similar | WidgetKind::BoughtTogether if self.item_id.is_none() => {
                Err(bad(id, "item_id", "is required for this widget type"))
            }
            WidgetKind::Cart if self.items.is_empty() || self.items.len() > MAX_CONTEXT => {
                Err(bad(
                    id,
                    "items",
                    &format!("must list 1 to {MAX_CONTEXT} item ids"),
                ))
            }
            _ => Ok(()),
        }
    }

    fn filter(&self) -> FilterSpec {
        self.filter.clone()
    }

    /// A widget of `kind` from already-checked common parameters.
    pub fn of(
        kind: WidgetKind,
        k: usize,
        offset: usize,
        spec: &FilterSpec,
        diversity: f32,
    ) -> Self {
        Self {
            id: kind.placement().to_owned(),
            kind,
            item_id: None,
            items: Vec::new(),
            k: Some(k),
            offset: Some(offset),
            filter: spec.clone(),
            exclude_purchased: false,
            diversity,
        }
    }
}

impl WidgetKind {
    /// The default placement name of a single-widget endpoint.
    pub fn placement(self) -> &'static str {
        match self {
            WidgetKind::ForYou => "for_you",
            WidgetKind::Similar => "similar",
            WidgetKind::BoughtTogether => "bought_together",
            WidgetKind::Cart => "cart",
            WidgetKind::Trending => "trending",
            WidgetKind::BuyAgain => "buy_again",
        }
    }
}

/// What every widget of one request shares.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a, 'm> {
    pub state: &'a SessionState,
    /// The for-you strategy (`None`: popular, the control arm).
    pub blend: Option<&'a Blend>,
    pub rules: Option<&'a Active<'m>>,
    /// Request time, epoch ms (rules windows, buy-again due dates).
    pub now: i64,
}

impl BatchRequest {
    /// Parses and checks a body; errors name the widget and field.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let r: Self = serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                Code::InvalidJson,
                format!("batch request is not valid: {e}"),
            )
        })?;
        if r.widgets.is_empty() || r.widgets.len() > MAX_WIDGETS {
            return Err(ApiError::invalid_param(
                "widgets",
                &format!("must list 1 to {MAX_WIDGETS} widgets"),
            ));
        }
        if r.context.len() > MAX_CONTEXT {
            return Err(ApiError::invalid_param(
                "context",
                &format!("lists at most {MAX_CONTEXT} ids"),
            ));
        }
        for (i, w) in r.widgets.iter().enumerate() {
            if w.id.is_empty() || w.id.chars().count() > 64 {
                return Err(ApiError::invalid_param(
                    "widgets",
                    "each widget needs an `id` of 1 to 64 characters",
                ));
            }
            if r.widgets[..i].iter().any(|x| x.id == w.id) {
                return Err(ApiError::invalid_param(
                    "widgets",
                    &format!("widget id `{}` is used twice", w.id),
                ));
            }
            w.check()?;
        }
        Ok(r)
    }

    /// The session key of the shopper, when named.
    pub fn shopper_key(&self) -> Option<String> {
        session::shopper_key(self.user_id.as_deref(), self.anonymous_id.as_deref())
    }

    /// The carried session this request is answered from, if any (`crate::carried::use_carried`).
    pub fn carried(&self) -> Option<crate::carried::CarriedSession> {
        crate::carried::use_carried(self.user_id.as_deref(), self.session.clone())
    }
}

/// One answered widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: WidgetKind,
    pub items: Vec<ItemOut>,
}

/// The batch answer: one serve id for the page, each widget by its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    pub serve_id: String,
    pub model_version: String,
    pub variant: String,
    pub took_ms: f64,
    pub widgets: Vec<WidgetOut>,
}

/// Completes a cart: co-purchases of its items, then the personal ranking of cart + session.
pub fn complete_cart(
    model: &Model,
    cart: &[u32],
    state: &SessionState,
    k: usize,
    allow: &dyn crate::filter::Allow,
    blend: &Blend,
) -> Vec<Scored> {
    let in_cart = session::weight(crate::EventType::AddToCart);
    recommend::complete_cart(model, cart, k, allow, |rest, n| {
        let history: Vec<Interaction> = cart
            .iter()
            .map(|&idx| Interaction {
                idx,
                weight: in_cart,
            })
            .chain(state.history(model))
            .collect();
        personal::personal(model, &history, n, 0, rest, blend)
    })
}

fn item(model: &Model, widget: &str, id: Option<&str>) -> Result<u32, ApiError> {
    let id = id.unwrap_or_default();
    model.item_index(id).ok_or_else(|| {
        ApiError::new(
            Code::ItemNotFound,
            format!("widget `{widget}`: item `{id}` is not in the catalog"),
        )
    })
}

/// Answers every widget of a batch.
pub fn answer(
    model: &Model,
    req: &BatchRequest,
    ctx: &Context<'_, '_>,
) -> Result<Vec<WidgetOut>, ApiError> {
    let mut out = Vec::with_capacity(req.widgets.len());
    for w in &req.widgets {
        let scored = answer_one(model, req, w, ctx)?;
        out.push(WidgetOut {
            id: w.id.clone(),
            kind: w.kind,
            items: ItemOut::describe(model, scored),
        });
    }
    Ok(out)
}

/// Answers one widget for the shopper and context items of `req`.
pub fn answer_one(
    model: &Model,
    req: &BatchRequest,
    w: &Widget,
    ctx: &Context<'_, '_>,
) -> Result<Vec<Scored>, ApiError> {
    let k = w.k.unwrap_or(DEFAULT_K);
    let offset = w.offset.unwrap_or(0);
    let spec = w.filter();
    let mut filter = spec.resolve(model);
    if let Some(r) = ctx.rules {
        filter.hide(r);
    }
    let shape = Shape {
        diversity: w.diversity,
        rules: ctx.rules,
    };
    let state = ctx.state;
    let scored = match w.kind {
        WidgetKind::ForYou => shaped(model, k, offset, shape, |k, offset| {
            let input = personal::ForYou {
                context: &req.context,
                history: state.history(model),
                session: state.current_session(model, ctx.now),
                session_bought: state.bought_in_session(model, ctx.now),
                purchased: state
                    .purchased()
                    .filter_map(|id| model.item_index(id))
                    .collect(),
                filter: &spec,
                exclude_purchased: w.exclude_purchased,
                k,
                offset,
                breadth: w.diversity > 0.0,
            };
            let hidden = ctx.rules.map(|r| r as &dyn crate::filter::Allow);
            personal::for_you_with(model, &input, ctx.blend, hidden)
        }),
        WidgetKind::Similar => {
            let idx = item(model, &w.id, w.item_id.as_deref())?;
            shaped(model, k, offset, shape, |k, offset| {
                skip(recommend::similar(model, idx, k + offset, &filter), offset)
            })
        }
        WidgetKind::BoughtTogether => {
            let idx = item(model, &w.id, w.item_id.as_deref())?;
            shaped(model, k, offset, shape, |k, offset| {
                skip(
                    recommend::bought_together(model, idx, k + offset, &filter),
                    offset,
                )
            })
        }
        WidgetKind::Cart => {
            let cart: Vec<u32> = w
                .items
                .iter()
                .filter_map(|id| model.item_index(id))
                .collect();
            let tuned = Blend::of(model);
            shaped(model, k, offset, shape, |k, offset| {
                skip(
                    complete_cart(model, &cart, state, k + offset, &filter, &tuned),
                    offset,
                )
            })
        }
        WidgetKind::Trending => shaped(model, k, offset, shape, |k, offset| {
            recommend::popular(model, spec.category.as_deref(), k, offset, &filter)
        }),
        WidgetKind::BuyAgain => shaped(model, k, offset, shape, |k, offset| {
            crate::buy_again::rank(model, &state.bought, ctx.now, k, offset, &filter)
        }),
    };
    Ok(scored)
}

fn skip(v: Vec<Scored>, offset: usize) -> Vec<Scored> {
    v.into_iter().skip(offset).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture_v2;

    #[test]
    fn a_page_of_widgets_in_one_answer() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let body = br#"{"anonymous_id": "a1", "context": ["laptop-1"], "widgets": [
            {"id": "home", "type": "for_you", "k": 2},
            {"id": "pdp-similar", "type": "similar", "item_id": "laptop-1", "k": 2},
            {"id": "pdp-together", "type": "bought_together", "item_id": "laptop-1"},
            {"id": "cart", "type": "cart", "items": ["laptop-1"], "k": 2},
            {"id": "top-laptops", "type": "trending", "category": "computers.notebook"}
        ]}"#;
        let req = BatchRequest::parse(body).unwrap();
        assert_eq!(req.shopper_key().as_deref(), Some("a:a1"));
        let state = SessionState::default();
        let blend = Blend::of(&m);
        let ctx = Context {
            state: &state,
            blend: Some(&blend),
            rules: None,
            now: 0,
        };
        let out = answer(&m, &req, &ctx).unwrap();
        let ids: Vec<&str> = out.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(
            ids,
            ["home", "pdp-similar", "pdp-together", "cart", "top-laptops"]
        );
        assert_eq!(out[0].items[0].id, "laptop-2");
        assert!(out[1].items.iter().all(|i| i.id != "laptop-1"));
        assert!(out[3].items.iter().all(|i| i.id != "laptop-1"));
        assert!(
            out[4]
                .items
                .iter()
                .all(|i| i.category == "computers.notebook")
        );
    }

    #[test]
    fn bad_batches_name_the_widget_and_field() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        for (body, code, needle) in [
            (&br#"{"widgets": []}"#[..], Code::InvalidParameter, "widgets"),
            (br#"{"widgets": [{"id": "a", "type": "similar"}]}"#, Code::InvalidParameter, "item_id"),
            (br#"{"widgets": [{"id": "a", "type": "for_you", "k": 0}]}"#, Code::InvalidParameter, "`k`"),
            (br#"{"widgets": [{"id": "a", "type": "for_you"}, {"id": "a", "type": "trending"}]}"#,
             Code::InvalidParameter, "used twice"),
            (br#"{"widgets": [{"id": "a", "type": "carousel"}]}"#, Code::InvalidJson, "carousel"),
            (br#"{"widgets": [{"id": "a", "type": "trending", "min_price": 5, "max_price": 1}]}"#,
             Code::InvalidParameter, "min_price"),
        ] {
            let e = BatchRequest::parse(body).unwrap_err();
            assert_eq!(e.code, code, "{}", e.message);
            assert!(e.message.contains(needle), "{}", e.message);
        }
        let req = BatchRequest::parse(
            br#"{"widgets": [{"id": "pdp", "type": "similar", "item_id": "nope"}]}"#,
        )
        .unwrap();
        let state = SessionState::default();
        let ctx = Context {
            state: &state,
            blend: None,
            rules: None,
            now: 0,
        };
        let e = answer(&m, &req, &ctx).unwrap_err();
        assert_eq!(e.code, Code::ItemNotFound);
        assert!(e.message.contains("pdp"));
    }
}
