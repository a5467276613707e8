//! `POST /v1/sources/shopify`: the shop's Shopify webhooks. Signature, topic and mapping checks
//! are `shared::sources::shopify`; here the R2 and ingest I/O. A delivery is processed once: its
//! `X-Shopify-Webhook-Id` is recorded in the lake after it succeeded, and a redelivery is answered
//! `200` with `duplicate: true` and changes nothing. A failure answers an error, so Shopify
//! retries it.

use serde_json::json;
use shared::event::ValidationPolicy;
use shared::ingest::MAX_BATCH_BYTES;
use shared::sources::Source;
use shared::sources::shopify::{self, Topic};
use shared::{ApiError, Code, lake};
use worker::{Env, Request};

use crate::handlers::{require_pseudonymizer, store};
use crate::http::{HandlerResult, json, now_ms, storage_error};

pub async fn receive(mut req: Request, env: &Env, ctx: &worker::Context) -> HandlerResult {
    let secret = crate::sources::secret(env, Source::Shopify)?;
    require_pseudonymizer(env)?;
    let body = crate::http::read_body(&mut req, MAX_BATCH_BYTES, "body").await?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    shopify::verify(&body, header("x-shopify-hmac-sha256").as_deref(), &secret)?;
    let topic_name = header("x-shopify-topic").unwrap_or_default();
    let topic = Topic::parse(&topic_name).ok_or_else(|| {
        ApiError::new(
            Code::InvalidParameter,
            format!("webhook topic `{topic_name}` is not one Vitrine subscribes to"),
        )
    })?;
    let delivery = shopify::webhook_id(header("x-shopify-webhook-id").as_deref())?;
    let bucket = env
        .bucket("LAKE")
        .map_err(|e| storage_error("lake bucket", &e))?;
    let marker = lake::shopify_delivery(&delivery);
    let seen = bucket
        .head(&marker)
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    if seen.is_some() {
        return json(200, &json!({"webhook_id": delivery, "duplicate": true}));
    }
    let doc: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(Code::InvalidJson, format!("body is not valid JSON: {e}")))?;
    let now = now_ms();
    let answer = match topic {
        Topic::OrdersCreate => {
            let outcome = shopify::order(&doc).outcome(now, &ValidationPolicy::default());
            store(&outcome, env, ctx).await?
        }
        Topic::ProductsCreate | Topic::ProductsUpdate | Topic::ProductsDelete => {
            let record = shopify::product(topic, &doc, now)?;
            let key = lake::shopify_product(&delivery);
            bucket
                .put(&key, format!("{record}\n"))
                .execute()
                .await
                .map_err(|e| storage_error("lake bucket", &e))?;
            json(200, &json!({"stored": key}))?
        }
        Topic::CustomersRedact => {
            crate::gdpr::erase(env, &shopify::privacy_customer(&doc)?).await?
        }
        Topic::CustomersDataRequest => {
            let export = crate::gdpr::export_of(env, &shopify::privacy_customer(&doc)?).await?;
            let key = lake::shopify_receipt("data-request", &delivery);
            let text = serde_json::to_string(&export)
                .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
            bucket
                .put(&key, text)
                .execute()
                .await
                .map_err(|e| storage_error("lake bucket", &e))?;
            json(200, &json!({"receipt": key, "subject": export.subject}))?
        }
        Topic::ShopRedact => {
            // The shop uninstalled the app 48 hours ago: every customer's data goes.
            let shop = doc.get("shop_domain").and_then(serde_json::Value::as_str);
            crate::gdpr::erase_shop(
                env,
                &format!("shopify-shop-redact-{delivery}"),
                shop.unwrap_or_default(),
            )
            .await?
        }
    };
    bucket
        .put(&marker, json!({"topic": topic_name, "at": now}).to_string())
        .execute()
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    Ok(answer)
}
