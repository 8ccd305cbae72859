//! Tiered model routing against local stand-ins that speak Anthropic's and OpenAI's wire
//! formats: request shapes, usage and cost arithmetic, errors, and every routing rule.

mod providers;
mod rules;
pub mod standin;

use crate::helpers::*;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::Value;
use standin::*;
use std::collections::BTreeMap;
use std::time::Duration;
use tuesday::config::Settings;
use tuesday::models::{CallError, Models, PriceTable, ProviderSettings, Request, pricing};
use tuesday::routing::ModelEntry;
use tuesday::store::{NewModelCall, SpendScope};

const ANTHROPIC_KEY: &str = "sk-ant-standin-0123456789";
const OPENAI_KEY: &str = "sk-openai-standin-9876543210";
pub(crate) const HAIKU: &str = "claude-haiku-4-5";
pub(crate) const SONNET: &str = "claude-sonnet-5";
pub(crate) const OPUS: &str = "claude-opus-5";

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

pub(crate) fn providers(base: &str, timeout_ms: u64) -> BTreeMap<String, ProviderSettings> {
    let mut map = BTreeMap::new();
    for (name, key) in [
        ("anthropic", Some(ANTHROPIC_KEY)),
        ("openai", Some(OPENAI_KEY)),
        ("vllm", None),
    ] {
        map.insert(
            name.to_owned(),
            ProviderSettings {
                kind: (name == "vllm").then_some(tuesday::models::ProviderKind::Openai),
                base_url: Some(base.to_owned()),
                api_key: key.map(SecretString::from),
                timeout_ms,
            },
        );
    }
    map
}

pub(crate) fn request() -> Request {
    tuesday::routing::prompts::classification(
        &tuesday::domain::Taxonomy::default(),
        tuesday::domain::Language::Es,
        "¿cuánto cuesta el curso de python?",
        "TUE-CANARY-00000000000000ab",
        64,
    )
}

fn entry(model: &str) -> Vec<ModelEntry> {
    vec![ModelEntry {
        provider: "anthropic".to_owned(),
        model: model.to_owned(),
    }]
}

/// Points the three hosted tiers at the stand-in: Haiku, Sonnet, Opus.
pub(crate) fn routed(base: &str, s: &mut Settings) {
    s.routing.providers = providers(base, 2_000);
    s.routing.tiers.fast = entry(HAIKU);
    s.routing.tiers.standard = entry(SONNET);
    s.routing.tiers.flagship = entry(OPUS);
    // Retries without real waits; a provider asking for long waits is left for the next model.
    s.failover.retry_base_ms = 1;
    s.failover.retry_cap_ms = 5;
    s.failover.max_retry_after_ms = 5_000;
}

pub(crate) async fn spawn_routed(configure: impl FnOnce(&mut Settings)) -> (TestApp, ModelStandIn) {
    let (base, standin) = spawn_models().await;
    let app = spawn_app_with(|s| {
        routed(&base, s);
        configure(s);
    })
    .await;
    (app, standin)
}

pub(crate) async fn send(app: &TestApp, wamid: &str, from: &str, text: &str) -> i64 {
    assert_eq!(
        app.post_webhook(&text_delivery(wamid, from, "Contact", text))
            .await
            .status(),
        200
    );
    app.drain().await;
    app.count(&format!("SELECT id FROM messages WHERE external_id = '{wamid}'"))
        .await
}

pub(crate) async fn trace_kinds(app: &TestApp, message_id: i64) -> Vec<(String, String)> {
    app.state
        .store
        .trace(message_id)
        .await
        .expect("trace")
        .into_iter()
        .map(|e| (e.kind, e.summary))
        .collect()
}

/// The message's ledger in the order the calls were made: the classification's, then the
/// draft's, then a re-draft's. (The local tier's rows are stored with the draft, after the
/// hosted calls of the same task.)
pub(crate) async fn call_outcomes(app: &TestApp, message_id: i64) -> Vec<String> {
    let mut out = Vec::new();
    let n = app
        .count(&format!(
            "SELECT COUNT(*) FROM model_calls WHERE message_id = {message_id}"
        ))
        .await;
    for i in 0..n {
        out.push(
            app.text(&format!(
                "SELECT task || ':' || tier || ':' || outcome FROM model_calls WHERE message_id = {message_id}
                 ORDER BY CASE task WHEN 'classify' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, id LIMIT 1 OFFSET {i}"
            ))
            .await,
        );
    }
    out
}
