//! Tiered model routing against local stand-ins that speak Anthropic's and OpenAI's wire
//! formats: request shapes, usage and cost arithmetic, errors, and every routing rule.

mod standin;

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
const HAIKU: &str = "claude-haiku-4-5";
const SONNET: &str = "claude-sonnet-5";
const OPUS: &str = "claude-opus-5";

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn providers(base: &str, timeout_ms: u64) -> BTreeMap<String, ProviderSettings> {
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

fn request() -> Request {
    tuesday::routing::prompts::classification(
        tuesday::domain::Language::Es,
        "¿cuánto cuesta el curso de python?",
        "TUE-CANARY-00000000000000ab",
        64,
    )
}

#[tokio::test]
async fn anthropic_requests_and_cached_usage_follow_the_wire_format() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 2_000)).expect("models");
    let text = r#"{"intent":"pricing","confidence":0.97}"#;
    standin.queue(
        HAIKU,
        vec![answer(
            text,
            Tokens {
                input: 21,
                output: 12,
                cache_write: 0,
                cache_read: 1_800,
            },
        )],
    );
    let completion = models
        .complete("anthropic", HAIKU, &request())
        .await
        .expect("answer");
    assert_eq!(completion.text, text);
    assert_eq!(
        (completion.usage.input_tokens, completion.usage.cache_read_tokens),
        (21, 1_800),
        "input_tokens exclude the cached tokens"
    );
    // Haiku 4.5 at $1 in, $5 out, $0.10 cache read: 21 + 60 + 180 = 261 µ$.
    let price = PriceTable::default().get(HAIKU).expect("price");
    assert_eq!(pricing::cost(&completion.usage, &price), d("0.000261"));

    let sent = standin.requests();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), ANTHROPIC_KEY);
    assert_eq!(r.header("anthropic-version"), "2023-06-01");
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(
        r.header("authorization"),
        "",
        "Anthropic takes the key in x-api-key only"
    );
    assert_eq!(r.body["model"], HAIKU);
    assert_eq!(r.body["max_tokens"], 64);
    assert_eq!(r.body["system"][0]["cache_control"]["type"], "ephemeral");
    assert!(
        r.body["system"][1]["text"]
            .as_str()
            .unwrap_or("")
            .contains("TUE-CANARY-00000000000000ab")
    );
    assert_eq!(r.body["messages"][0]["role"], "user");
    let user: Value =
        serde_json::from_str(r.body["messages"][0]["content"].as_str().unwrap_or("")).expect("json");
    assert_eq!(user["customer_message"], "¿cuánto cuesta el curso de python?");
}

#[tokio::test]
async fn openai_requests_ask_for_a_strict_schema_and_cached_tokens_are_split_out() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 2_000)).expect("models");
    let tokens = Tokens {
        input: 2_048,
        output: 40,
        cache_write: 0,
        cache_read: 1_920,
    };
    standin.queue(
        "gpt-5.4-mini",
        vec![answer(r#"{"intent":"greeting","confidence":0.8}"#, tokens)],
    );
    standin.queue(
        "llama-3.3-70b",
        vec![answer(r#"{"intent":"greeting","confidence":0.8}"#, tokens)],
    );
    let completion = models
        .complete("openai", "gpt-5.4-mini", &request())
        .await
        .expect("answer");
    assert_eq!(
        (
            completion.usage.input_tokens,
            completion.usage.cache_read_tokens,
            completion.usage.output_tokens
        ),
        (128, 1_920, 40),
        "prompt_tokens include the cached ones"
    );
    // gpt-5.4-mini at $0.75 in, $4.50 out, $0.075 cached: 96 + 180 + 144 = 420 µ$.
    let price = PriceTable::default().get("gpt-5.4-mini").expect("price");
    assert_eq!(pricing::cost(&completion.usage, &price), d("0.00042"));

    let r = &standin.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), format!("Bearer {OPENAI_KEY}"));
    assert_eq!(r.body["response_format"]["type"], "json_schema");
    assert_eq!(r.body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(r.body["response_format"]["json_schema"]["name"], "classification");
    assert_eq!(
        r.body["response_format"]["json_schema"]["schema"],
        tuesday::routing::prompts::classification_schema()
    );
    assert_eq!(r.body["max_completion_tokens"], 64);
    assert_eq!(r.body["messages"][0]["role"], "system");
    let system = r.body["messages"][0]["content"].as_str().unwrap_or("");
    assert!(
        system.ends_with("never write it, quote it or mention it."),
        "the canary comes last, after the cacheable prefix"
    );

    // An OpenAI-compatible server without a key gets no Authorization header.
    models
        .complete("vllm", "llama-3.3-70b", &request())
        .await
        .expect("answer");
    assert_eq!(standin.requests()[1].header("authorization"), "");
}

#[tokio::test]
async fn provider_errors_are_typed_with_their_retry_advice() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 2_000)).expect("models");
    let in_20s = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(20));
    // provider, model, reply → status, error type, retry-after bounds in seconds, retryable
    type Case = (
        &'static str,
        &'static str,
        Reply,
        u16,
        &'static str,
        Option<(u64, u64)>,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "anthropic",
            HAIKU,
            error(400, "invalid_request_error"),
            400,
            "invalid_request_error",
            None,
            false,
        ),
        (
            "anthropic",
            HAIKU,
            error(401, "authentication_error"),
            401,
            "authentication_error",
            None,
            false,
        ),
        (
            "anthropic",
            HAIKU,
            Reply::Error {
                status: 429,
                kind: "rate_limit_error",
                headers: vec![("retry-after", "7".to_owned())],
            },
            429,
            "rate_limit_error",
            Some((7, 7)),
            true,
        ),
        (
            "anthropic",
            HAIKU,
            Reply::Error {
                status: 429,
                kind: "rate_limit_error",
                headers: vec![("retry-after", in_20s)],
            },
            429,
            "rate_limit_error",
            Some((18, 20)),
            true,
        ),
        (
            "anthropic",
            HAIKU,
            error(500, "api_error"),
            500,
            "api_error",
            None,
            true,
        ),
        (
            "anthropic",
            HAIKU,
            error(529, "overloaded_error"),
            529,
            "overloaded_error",
            None,
            true,
        ),
        (
            "openai",
            "gpt-5.4",
            error(400, "invalid_request_error"),
            400,
            "invalid_request_error",
            None,
            false,
        ),
        (
            "openai",
            "gpt-5.4",
            error(401, "invalid_api_key"),
            401,
            "invalid_api_key",
            None,
            false,
        ),
        (
            "openai",
            "gpt-5.4",
            Reply::Error {
                status: 429,
                kind: "rate_limit_exceeded",
                headers: vec![("retry-after-ms", "1500".to_owned())],
            },
            429,
            "rate_limit_exceeded",
            Some((1, 2)),
            true,
        ),
        (
            "openai",
            "gpt-5.4",
            error(500, "server_error"),
            500,
            "server_error",
            None,
            true,
        ),
    ];
    for (provider, model, reply, status, kind, wait, retryable) in cases {
        standin.queue(model, vec![reply]);
        let err = models
            .complete(provider, model, &request())
            .await
            .expect_err("an error");
        let CallError::Status {
            status: got,
            kind: got_kind,
            ..
        } = &err
        else {
            panic!("{provider} {status}: {err:?}");
        };
        assert_eq!((*got, got_kind.as_str()), (status, kind), "{provider}");
        assert_eq!(err.retryable(), retryable, "{provider} {status}");
        assert_eq!(err.outcome(), format!("http_{status}"));
        match (wait, err.retry_after()) {
            (None, None) => {}
            (Some((low, high)), Some(after)) => {
                assert!(
                    after.as_secs_f64() >= low as f64 && after.as_secs_f64() <= high as f64,
                    "{after:?}"
                );
            }
            (want, got) => panic!("{provider} {status}: retry-after {got:?}, wanted {want:?}"),
        }
    }
}

#[tokio::test]
async fn garbage_and_slow_answers_fail_without_hanging() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 300)).expect("models");
    standin.queue(HAIKU, vec![Reply::Garbage]);
    standin.queue(
        "gpt-5.4",
        vec![Reply::Slow(1_500, Box::new(classified("pricing", 0.9)))],
    );
    let garbage = models.complete("anthropic", HAIKU, &request()).await;
    assert!(matches!(garbage, Err(CallError::Malformed(_))), "{garbage:?}");
    let started = std::time::Instant::now();
    let slow = models.complete("openai", "gpt-5.4", &request()).await;
    assert!(matches!(slow, Err(CallError::Timeout(_))), "{slow:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1_200),
        "the timeout cut the wait"
    );
    let unknown = models.complete("mistral", "m", &request()).await;
    assert!(matches!(unknown, Err(CallError::NotConfigured(_))));
}

fn entry(model: &str) -> Vec<ModelEntry> {
    vec![ModelEntry {
        provider: "anthropic".to_owned(),
        model: model.to_owned(),
    }]
}

/// Points the three hosted tiers at the stand-in: Haiku, Sonnet, Opus.
fn routed(base: &str, s: &mut Settings) {
    s.routing.providers = providers(base, 2_000);
    s.routing.tiers.fast = entry(HAIKU);
    s.routing.tiers.standard = entry(SONNET);
    s.routing.tiers.flagship = entry(OPUS);
}

async fn spawn_routed(configure: impl FnOnce(&mut Settings)) -> (TestApp, ModelStandIn) {
    let (base, standin) = spawn_models().await;
    let app = spawn_app_with(|s| {
        routed(&base, s);
        configure(s);
    })
    .await;
    (app, standin)
}

async fn send(app: &TestApp, wamid: &str, from: &str, text: &str) -> i64 {
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

async fn trace_kinds(app: &TestApp, message_id: i64) -> Vec<(String, String)> {
    app.state
        .store
        .trace(message_id)
        .await
        .expect("trace")
        .into_iter()
        .map(|e| (e.kind, e.summary))
        .collect()
}

async fn call_outcomes(app: &TestApp, message_id: i64) -> Vec<String> {
    let mut out = Vec::new();
    let n = app
        .count(&format!(
            "SELECT COUNT(*) FROM model_calls WHERE message_id = {message_id}"
        ))
        .await;
    for i in 0..n {
        out.push(
            app.text(&format!(
                "SELECT task || ':' || tier || ':' || outcome FROM model_calls WHERE message_id = {message_id} ORDER BY id LIMIT 1 OFFSET {i}"
            ))
            .await,
        );
    }
    out
}

/// Doubt escalates: local → fast below τ0, fast → standard below τ1; each call priced exactly.
#[tokio::test]
async fn classification_escalates_on_doubt_and_prices_every_call() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 1.0).await;
    standin.queue(HAIKU, vec![classified("greeting", 0.5)]);
    standin.queue(SONNET, vec![classified("greeting", 0.93)]);
    let id = send(&app, "wamid.R1", "34612345678", "hola!! 👋").await;

    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:fast:ok",
            "classify:standard:ok",
            "classify:local:ok",
            "draft:local:ok"
        ]
    );
    // Haiku: 400 × $1 + 12 × $5 = 460 µ$; Sonnet 5: 400 × $2 + 12 × $10 = 920 µ$.
    assert_eq!(
        app.text("SELECT cost_usd FROM model_calls WHERE tier = 'fast'")
            .await,
        "0.00046"
    );
    assert_eq!(
        app.text("SELECT cost_usd FROM model_calls WHERE tier = 'standard'")
            .await,
        "0.00092"
    );
    let store = &app.state.store;
    let message = store.spend_for(SpendScope::Message(id)).await.expect("spend");
    assert_eq!((message.calls, message.cost_usd), (2, d("0.00138")));
    let conversation_id = app.count("SELECT conversation_id FROM drafts").await;
    let contact_id = app.count("SELECT contact_id FROM conversations").await;
    assert_eq!(
        store
            .spend_for(SpendScope::Conversation(conversation_id))
            .await
            .expect("s")
            .cost_usd,
        d("0.00138")
    );
    assert_eq!(
        store
            .spend_for(SpendScope::Contact(contact_id))
            .await
            .expect("s")
            .cost_usd,
        d("0.00138")
    );
    assert_eq!(store.spend_to_date().await.expect("spend").today, d("0.00138"));

    // The answer kept is standard's; a greeting is drafted from its template and sent.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_calls WHERE used = TRUE AND tier = 'standard'")
            .await,
        1
    );
    assert_eq!(app.text("SELECT source FROM drafts").await, "template:greeting");
    assert_eq!(app.text("SELECT state FROM drafts").await, "auto_sent");
    let trace = trace_kinds(&app, id).await;
    let routes: Vec<&str> = trace
        .iter()
        .filter(|(k, _)| k == "route")
        .map(|(_, s)| s.as_str())
        .collect();
    assert!(
        routes[0].contains("escalates to fast") && routes[0].contains("below τ0"),
        "{routes:?}"
    );
    assert!(
        routes[1].contains("escalates to standard") && routes[1].contains("below τ1"),
        "{routes:?}"
    );
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "classified" && s.contains("standard: claude-sonnet-5")),
        "{trace:?}"
    );
}

/// An answer that breaks the schema is that model's failure: it is paid for, and the task
/// escalates; the pipeline never sees it.
#[tokio::test]
async fn answers_that_break_the_schema_escalate() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 1.0).await;
    standin.queue(
        HAIKU,
        vec![answer(
            r#"{"intent":"refund","confidence":0.9}"#,
            Tokens {
                input: 400,
                output: 12,
                ..Tokens::default()
            },
        )],
    );
    standin.queue(SONNET, vec![classified("pricing", 0.9)]);
    let id = send(&app, "wamid.R2", "5511987654321", "quanto custa python?").await;
    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:fast:invalid_answer",
            "classify:standard:ok",
            "classify:local:ok",
            "draft:local:ok"
        ]
    );
    assert_eq!(
        app.text("SELECT cost_usd FROM model_calls WHERE outcome = 'invalid_answer'")
            .await,
        "0.00046"
    );
    assert_eq!(app.text("SELECT intent FROM drafts").await, "pricing");
}

/// Complaints go to flagship, the default to standard, simple intents to templates.
#[tokio::test]
async fn drafting_picks_the_tier_by_rule() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(
        OPUS,
        vec![drafted(
            "Lamentamos muito, Ana. Um consultor vai falar com você hoje.",
        )],
    );
    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    let complaint = send(
        &app,
        "wamid.C1",
        "5511987654321",
        "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡",
    )
    .await;
    let human = send(&app, "wamid.C2", "34612345678", "quiero hablar con un asesor").await;
    let greeting = send(&app, "wamid.C3", "16505551234", "hola 👋").await;

    let source = |id: i64| format!("SELECT source FROM drafts WHERE message_id = {id}");
    assert_eq!(app.text(&source(complaint)).await, "model:flagship:claude-opus-5");
    assert_eq!(app.text(&source(human)).await, "model:standard:claude-sonnet-5");
    assert_eq!(app.text(&source(greeting)).await, "template:greeting");
    assert_eq!(standin.requests().len(), 2, "the greeting cost nothing");
    let opus = &standin.requests_for(OPUS)[0];
    let user: Value =
        serde_json::from_str(opus.body["messages"][0]["content"].as_str().unwrap_or("")).expect("json");
    assert_eq!(user["conversation"][0]["from"], "customer");
    assert!(
        opus.body["system"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Brazilian Portuguese")
    );
    let trace = trace_kinds(&app, complaint).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("Draft on flagship: complaints")),
        "{trace:?}"
    );
}

/// A standard draft that fails a guardrail is re-drafted once on flagship with the reason; if
/// flagship fails too, a person takes over.
#[tokio::test]
async fn a_standard_draft_that_fails_a_guardrail_is_redrafted_on_flagship() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(
        SONNET,
        vec![drafted("Un asesor te llama hoy. Python desde cero cuesta 199 €.")],
    );
    standin.queue(
        OPUS,
        vec![drafted("Un asesor te escribirá hoy mismo para ayudarte.")],
    );
    let id = send(&app, "wamid.P1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        app.text("SELECT source FROM drafts").await,
        "model:flagship:claude-opus-5"
    );
    assert_eq!(
        app.text("SELECT body FROM drafts").await,
        "Un asesor te escribirá hoy mismo para ayudarte."
    );
    let redraft = &standin.requests_for(OPUS)[0];
    let user: Value =
        serde_json::from_str(redraft.body["messages"][0]["content"].as_str().unwrap_or("")).expect("json");
    let reasons = user["previous_draft_refused_because"].to_string();
    assert!(
        reasons.contains("price_not_in_catalog") && reasons.contains("199"),
        "{reasons}"
    );
    assert!(
        call_outcomes(&app, id)
            .await
            .contains(&"redraft:flagship:ok".to_owned())
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_calls WHERE used = TRUE AND task = 'redraft'")
            .await,
        1
    );

    standin.queue(SONNET, vec![drafted("Python desde cero cuesta 199 €.")]);
    standin.queue(OPUS, vec![drafted("Hoy Python desde cero cuesta solo 150 €.")]);
    let id = send(&app, "wamid.P2", "34698765432", "quiero hablar con un asesor").await;
    let state = app
        .text(&format!("SELECT state FROM drafts WHERE message_id = {id}"))
        .await;
    assert_eq!(state, "held");
    let trace = trace_kinds(&app, id).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("held for a person")),
        "{trace:?}"
    );
    assert_eq!(
        standin.requests_for(OPUS).len(),
        2,
        "one re-draft per message, no more"
    );
}

/// Near the limit the tier steps down; a call whose worst case would cross the cap is never made.
#[tokio::test]
async fn the_budget_steps_tiers_down_and_never_crosses_the_cap() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.routing.budget.daily_usd = d("1");
        s.routing.budget.monthly_usd = d("100");
    })
    .await;
    let spend = |amount: &str| NewModelCall {
        message_id: None,
        conversation_id: None,
        contact_id: None,
        task: "draft",
        tier: "standard",
        provider: "anthropic".to_owned(),
        model: SONNET.to_owned(),
        usage: Default::default(),
        estimated_input_tokens: 0,
        estimated_output_tokens: 0,
        cost_usd: d(amount),
        latency_ms: 1,
        outcome: "ok".to_owned(),
        error: None,
        used: false,
    };
    let complaint = "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡";
    app.state
        .store
        .settle_call(None, &spend("0.85"))
        .await
        .expect("spend");
    standin.queue(
        SONNET,
        vec![drafted("Lamentamos muito. Um consultor vai te ligar hoje.")],
    );
    let at_85 = send(&app, "wamid.B1", "5511987654321", complaint).await;
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {at_85}"))
            .await,
        "model:standard:claude-sonnet-5"
    );
    let trace = trace_kinds(&app, at_85).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("standard at most")),
        "{trace:?}"
    );

    app.state
        .store
        .settle_call(None, &spend("0.08"))
        .await
        .expect("spend");
    standin.queue(
        HAIKU,
        vec![drafted("Lamentamos muito. Um consultor vai te ligar hoje.")],
    );
    let at_93 = send(&app, "wamid.B2", "5511912345678", complaint).await;
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {at_93}"))
            .await,
        "model:fast:claude-haiku-4-5"
    );

    // Past 97%: local only.
    app.state
        .store
        .settle_call(None, &spend("0.05"))
        .await
        .expect("spend");
    let before = standin.requests().len();
    let at_98 = send(&app, "wamid.B3", "5511955555555", complaint).await;
    assert!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {at_98}"))
            .await
            .starts_with("template:")
    );
    assert_eq!(standin.requests().len(), before);
    let trace = trace_kinds(&app, at_98).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("local only")),
        "{trace:?}"
    );
}

/// Whatever the share used, a call whose worst case does not fit under the cap is never made.
#[tokio::test]
async fn a_call_that_could_cross_the_hard_cap_is_never_made() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.routing.budget.daily_usd = d("0.005");
    })
    .await;
    let id = send(
        &app,
        "wamid.H1",
        "5511987654321",
        "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡",
    )
    .await;
    assert!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await
            .starts_with("template:")
    );
    assert!(standin.requests().is_empty(), "no call that could cross the cap");
    let trace = trace_kinds(&app, id).await;
    let skipped = trace
        .iter()
        .filter(|(k, s)| k == "route" && s.contains("would cross the budget"))
        .count();
    assert_eq!(skipped, 3, "flagship, then standard, then fast: {trace:?}");
    assert_eq!(
        app.state.store.spend_to_date().await.expect("spend").today,
        Decimal::ZERO
    );
}

/// A reply that repeats the canary is refused; outages fall through to the templates.
#[tokio::test]
async fn leaked_canaries_and_outages_fall_back_safely() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(SONNET, vec![Reply::LeakCanary]);
    standin.queue(OPUS, vec![drafted("Un asesor te escribirá hoy mismo.")]);
    let id = send(&app, "wamid.L1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await,
        "model:flagship:claude-opus-5"
    );
    let refused = app
        .text("SELECT error FROM model_calls WHERE outcome = 'invalid_answer'")
        .await;
    assert!(refused.contains("canary"), "{refused}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE body LIKE '%TUE-CANARY%'")
            .await,
        0
    );

    standin.queue(SONNET, vec![error(529, "overloaded_error")]);
    standin.queue(
        OPUS,
        vec![Reply::Error {
            status: 429,
            kind: "rate_limit_error",
            headers: vec![("retry-after", "30".to_owned())],
        }],
    );
    let id = send(&app, "wamid.L2", "34698765432", "quiero hablar con un asesor").await;
    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:local:ok",
            "draft:standard:http_529",
            "draft:flagship:http_429",
            "draft:local:ok"
        ]
    );
    assert!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await
            .starts_with("template:")
    );

    // Keys never reach the trace or the ledger.
    for key in [ANTHROPIC_KEY, OPENAI_KEY] {
        let leaks = app
            .count(&format!(
                "SELECT COUNT(*) FROM events WHERE summary LIKE '%{key}%' OR detail LIKE '%{key}%'"
            ))
            .await
            + app
                .count(&format!(
                    "SELECT COUNT(*) FROM model_calls WHERE error LIKE '%{key}%'"
                ))
                .await;
        assert_eq!(leaks, 0);
    }
    assert!(!format!("{:?}", app.state.settings).contains(ANTHROPIC_KEY));
}

/// The dashboard shows spend and what the same work would have cost on one tier.
#[tokio::test]
async fn the_dashboard_shows_spend_and_both_baselines() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    send(&app, "wamid.D1", "34612345678", "quiero hablar con un asesor").await;
    send(&app, "wamid.D2", "34612345679", "hola 👋").await;
    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, page) = app.get_page(&manager, "/dashboard").await;
    assert_eq!(status, 200);
    for text in [
        "Model spend",
        "All on standard (claude-sonnet-5)",
        "All on flagship (claude-opus-5)",
        "saved",
        "Budget today",
    ] {
        assert!(page.contains(text), "{text} missing from the dashboard");
    }
    // 900 × $2 + 80 × $10 = 2,600 µ$ for the one standard draft.
    assert!(page.contains("US$ 0.0026"), "{page}");
}

/// With no provider configured, nothing is called and nothing costs money.
#[tokio::test]
async fn without_providers_everything_stays_local_and_free() {
    let app = spawn_app().await;
    let id = send(&app, "wamid.N1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        call_outcomes(&app, id).await,
        ["classify:local:ok", "draft:local:ok"]
    );
    assert_eq!(
        app.state.store.spend_to_date().await.expect("spend").today,
        Decimal::ZERO
    );
    let summary = app
        .text(&format!(
            "SELECT summary FROM events WHERE message_id = {id} AND kind = 'route' ORDER BY id DESC LIMIT 1"
        ))
        .await;
    assert!(summary.contains("no standard model is configured"), "{summary}");
}
