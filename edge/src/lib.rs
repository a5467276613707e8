//! Vitrine's Cloudflare Worker: only routing and I/O glue.
//!
//! Every decision (routes, parameters, validation, scoring, error codes, model refresh policy)
//! lives in the `shared` crate; this crate reads requests, R2 objects and queue batches, calls
//! `shared`, and writes responses. On native targets it compiles to nothing, so the workspace
//! builds and tests everywhere; the worker itself is built for `wasm32-unknown-unknown`.

#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod alerts;
#[cfg(target_arch = "wasm32")]
mod artifact_fetch;
#[cfg(target_arch = "wasm32")]
mod assets;
#[cfg(target_arch = "wasm32")]
mod consumer;
#[cfg(target_arch = "wasm32")]
mod gdpr;
#[cfg(target_arch = "wasm32")]
mod handlers;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod model_cache;
#[cfg(target_arch = "wasm32")]
mod rules_cache;
#[cfg(target_arch = "wasm32")]
mod search;
#[cfg(target_arch = "wasm32")]
mod sessions;
#[cfg(target_arch = "wasm32")]
mod settings;
#[cfg(target_arch = "wasm32")]
mod shopify;
#[cfg(target_arch = "wasm32")]
mod sources;
#[cfg(target_arch = "wasm32")]
mod widgets;

#[cfg(target_arch = "wasm32")]
mod entry {
    use shared::batch::WidgetKind;
    use shared::route::{Route, route};
    use worker::{Context, Env, MessageBatch, Request, Response, Result, event};

    use crate::{
        admin, assets, consumer, gdpr, handlers, http, model_cache, search, sources, widgets,
    };

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        let started = http::now_ms();
        let origin = req.headers().get("origin").ok().flatten();
        widgets::flush_due(&env, &ctx, started);
        let method = req.method().to_string();
        let path = req.path();
        let routed = route(&method, &path);
        // Admin calls that hold the admin key are audited; refused ones are only counted, so an
        // unauthenticated flood cannot fill the audit log.
        let admin_route = routed.as_ref().ok().filter(|r| r.requires_admin()).cloned();
        let audited = admin_route.filter(|_| {
            let ok = http::require_admin(&req, &env).is_ok();
            if !ok {
                http::count_refused_admin();
            }
            ok
        });
        let ip = req.headers().get("cf-connecting-ip").ok().flatten();
        let result = match routed {
            Err(e) => Err(e),
            Ok(r) => match allowed(&r, &req, &env).await {
                Err(e) => Err(e),
                Ok(()) => {
                    let call = widgets::Call {
                        env: &env,
                        ctx: &ctx,
                        started,
                    };
                    dispatch(r, req, &call).await
                }
            },
        };
        let resp = result.unwrap_or_else(|e| http::error(&e));
        model_cache::after_response(&env, &ctx);
        if let Some(r) = audited {
            gdpr::audit(&env, &r, &method, &path, resp.status_code(), ip.as_deref()).await;
        }
        Ok(http::with_cors(resp, &env, origin.as_deref()))
    }

    /// Who may call the route (keys, origin, isolate limits), then the global rate limits.
    async fn allowed(
        r: &Route,
        req: &Request,
        env: &Env,
    ) -> std::result::Result<(), shared::ApiError> {
        http::guard(r, req, env)?;
        http::global_rate_limit(r, req, env).await
    }

    async fn dispatch(
        r: Route,
        req: Request,
        call: &widgets::Call<'_>,
    ) -> std::result::Result<Response, shared::ApiError> {
        let env = call.env;
        match r {
            Route::Preflight => http::preflight(),
            Route::Asset(a) => assets::serve(&req, a),
            Route::AddSlash(a) => assets::add_slash(a),
            Route::Health => handlers::health(env).await,
            Route::Model => handlers::model(&req, env).await,
            Route::OpenApi => handlers::openapi(),
            Route::Events => handlers::events(req, env, call.ctx).await,
            Route::Source { source } => sources::receive(req, env, call.ctx, source).await,
            Route::Item { item_id } => widgets::item(env, &item_id).await,
            Route::Recommendations => widgets::for_shopper(call, &req, WidgetKind::ForYou).await,
            Route::BuyAgain => widgets::for_shopper(call, &req, WidgetKind::BuyAgain).await,
            Route::Similar { item_id } => {
                widgets::for_item(call, &req, &item_id, WidgetKind::Similar).await
            }
            Route::BoughtTogether { item_id } => {
                widgets::for_item(call, &req, &item_id, WidgetKind::BoughtTogether).await
            }
            Route::Cart => widgets::cart(call, req).await,
            Route::Batch => widgets::batch(call, req).await,
            Route::Trending => widgets::trending(call, &req).await,
            Route::Search => search::search(call, &req).await,
            Route::SearchSuggest => search::suggest(call, &req).await,
            Route::AdminLakeList => admin::lake_list(&req, env).await,
            Route::AdminLakeGet { key } => admin::lake_get(env, &key).await,
            Route::AdminDashboard => admin::dashboard(env).await,
            Route::AdminModelPut { key } => admin::model_put(req, env, &key).await,
            Route::AdminRulesGet => admin::rules_get(env).await,
            Route::AdminRulesPut => admin::rules_put(req, env).await,
            Route::AdminCustomerErase { id } => gdpr::erase(env, &id).await,
            Route::AdminCustomerExport { id } => gdpr::export(env, &id).await,
            Route::DevShopperToken => handlers::dev_shopper_token(&req, env),
        }
    }

    #[event(queue)]
    async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
        consumer::on_batch(&batch, &env).await
    }
}
