//! Vitrine's Cloudflare Worker: only routing and I/O glue.
//!
//! Every decision (routes, parameters, validation, scoring, error codes, model refresh policy)
//! lives in the `shared` crate; this crate reads requests, R2 objects and queue batches, calls
//! `shared`, and writes responses. On native targets it compiles to nothing, so the workspace
//! builds and tests everywhere; the worker itself is built for `wasm32-unknown-unknown`.

#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod consumer;
#[cfg(target_arch = "wasm32")]
mod handlers;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod model_cache;
#[cfg(target_arch = "wasm32")]
mod sessions;

#[cfg(target_arch = "wasm32")]
mod entry {
    use shared::route::{Route, route};
    use worker::{Context, Env, MessageBatch, Request, Response, Result, event};

    use crate::{admin, consumer, handlers, http};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        let started = http::now_ms();
        let method = req.method().to_string();
        let result = match route(&method, &req.path()) {
            Err(e) => Err(e),
            Ok(r) if r.requires_admin() => match http::require_admin(&req, &env) {
                Err(e) => Err(e),
                Ok(()) => dispatch(r, req, &env, started).await,
            },
            Ok(r) => dispatch(r, req, &env, started).await,
        };
        let resp = result.unwrap_or_else(|e| http::error(&e));
        Ok(http::with_cors(resp, &env))
    }

    async fn dispatch(
        r: Route,
        req: Request,
        env: &Env,
        started: i64,
    ) -> std::result::Result<Response, shared::ApiError> {
        match r {
            Route::Preflight => http::preflight(),
            Route::Health => handlers::health(env).await,
            Route::Model => handlers::model(env).await,
            Route::Events => handlers::events(req, env).await,
            Route::Recommendations => handlers::recommendations(&req, env, started).await,
            Route::Similar { item_id } => handlers::similar(&req, env, &item_id, started).await,
            Route::BoughtTogether { item_id } => {
                handlers::bought_together(&req, env, &item_id, started).await
            }
            Route::Cart => handlers::cart(req, env, started).await,
            Route::Batch => handlers::batch(req, env, started).await,
            Route::Trending => handlers::trending(&req, env, started).await,
            Route::AdminLakeList => admin::lake_list(&req, env).await,
            Route::AdminLakeGet { key } => admin::lake_get(env, &key).await,
            Route::AdminModelPut { key } => admin::model_put(req, env, &key).await,
        }
    }

    #[event(queue)]
    async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
        consumer::write_batch(&batch, &env).await
    }
}
