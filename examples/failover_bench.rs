//! Failover benchmark (not a timed test): 10,000 WhatsApp messages through the real app (SQLite,
//! real workers) while the model providers go down and come back. Local stand-ins speak
//! Anthropic's Messages API, OpenAI's Chat Completions and the Graph API.
//!
//!     cargo run --release --example failover_bench [-- --messages 10000]
//!
//! 1. healthy: the first fifth of the messages, drafted by the models;
//! 2. outage: every model call answers 503 while the rest arrive; breakers open, degraded mode
//!    begins, drafts come from the templates and are held;
//! 3. recovery: the models answer again; the held drafts are drafted again on their own.
//!
//! Prints lost and duplicated messages and sends, the time from the last breaker of the
//! drafting chain opening to degraded mode being recorded, and the time from recovery until
//! the backlog is drained.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tuesday::config::Settings;
use tuesday::models::ProviderSettings;
use tuesday::routing::ModelEntry;
use tuesday::startup::Application;
use tuesday::store::Store;

const APP_SECRET: &str = "bench-secret";
const TOKEN: &str = "bench-token";
const PER_DELIVERY: usize = 50;

const TEXTS: [(&str, &str); 9] = [
    ("quiero hablar con un asesor", "es"),
    ("kiero info del curso xfa, me pueden llamar?", "es"),
    ("necesito ayuda con mi inscripcion 🙏", "es"),
    ("Quero falar com um consultor", "pt"),
    ("vcs podem me ligar? tenho duvidas", "pt"),
    ("preciso de ajuda com a matricula 📚", "pt"),
    ("I want to talk to an advisor", "en"),
    ("can someone call me pls", "en"),
    ("hola, can I talk to a person? 🙂", "en"),
];

#[derive(Clone, Default)]
struct Models {
    down: Arc<AtomicBool>,
}

fn reply_for(body: &Value) -> &'static str {
    let text = body.to_string();
    if ["consultor", "ligar", "matricula"]
        .iter()
        .any(|w| text.contains(w))
    {
        "Claro! Um consultor vai falar com você em breve."
    } else if ["asesor", "llamar", "inscripcion"]
        .iter()
        .any(|w| text.contains(w))
    {
        "¡Claro! Un asesor te escribirá enseguida."
    } else {
        "Sure! An advisor will write to you shortly."
    }
}

async fn anthropic(
    State(m): State<Models>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    if m.down.load(Ordering::SeqCst) {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
        );
    }
    let text = json!({ "reply": reply_for(&body) }).to_string();
    (
        axum::http::StatusCode::OK,
        Json(json!({
            "id": "msg_bench", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 900, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        })),
    )
}

async fn openai(State(m): State<Models>, Json(body): Json<Value>) -> (axum::http::StatusCode, Json<Value>) {
    if m.down.load(Ordering::SeqCst) {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"error": {"message": "The server is overloaded", "type": "server_error", "param": null, "code": null}}),
            ),
        );
    }
    let text = json!({ "reply": reply_for(&body) }).to_string();
    (
        axum::http::StatusCode::OK,
        Json(json!({
            "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_764_780_000, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940},
        })),
    )
}

/// Sends per idempotency key, as the Graph API stand-in received them.
type Sends = Arc<Mutex<HashMap<String, usize>>>;

async fn graph(State(sends): State<Sends>, Json(body): Json<Value>) -> Json<Value> {
    let key = body["biz_opaque_callback_data"].as_str().unwrap_or("").to_owned();
    let n = {
        let mut sends = sends.lock().expect("lock");
        *sends.entry(key).or_default() += 1;
        sends.values().sum::<usize>()
    };
    Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": format!("wamid.BENCHOUT{n}")}]}),
    )
}

async fn serve(router: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(address)
}

fn delivery(from: usize, count: usize, now: i64) -> String {
    let messages: Vec<_> = (from..from + count)
        .map(|n| {
            let (text, lang) = TEXTS[n % TEXTS.len()];
            let prefix = match lang {
                "es" => "346",
                "pt" => "55119",
                _ => "1415",
            };
            json!({"from": format!("{prefix}{n:07}"), "id": format!("wamid.BENCH{n}"), "timestamp": now.to_string(),
                   "type": "text", "text": {"body": text}})
        })
        .collect();
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "messages": messages}}]}]})
    .to_string()
}

async fn post_range(
    http: &reqwest::Client,
    url: &str,
    clock: tuesday::domain::Clock,
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    let mut n = from;
    while n < to {
        let count = PER_DELIVERY.min(to - n);
        let body = delivery(n, count, clock.now().timestamp());
        let signature = tuesday::channels::whatsapp::sign(APP_SECRET.as_bytes(), body.as_bytes());
        let response = http
            .post(format!("{url}/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "webhook answered {}", response.status());
        n += count;
    }
    Ok(())
}

async fn count(store: &Store, sql: &str) -> anyhow::Result<i64> {
    store.scalar_i64(sql).await
}

async fn wait_for(store: &Store, what: &str, sql: &str, want: i64) -> anyhow::Result<()> {
    let started = Instant::now();
    while count(store, sql).await? != want {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(3_600),
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut messages = 10_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--messages" => messages = args.next().unwrap_or_default().parse()?,
            other => anyhow::bail!("unknown argument {other:?} (expected --messages N)"),
        }
    }
    let healthy = messages / 5;

    let models = Models::default();
    let models_url = serve(
        Router::new()
            .route("/v1/messages", post(anthropic))
            .route("/v1/chat/completions", post(openai))
            .with_state(models.clone()),
    )
    .await?;
    let sends: Sends = Arc::default();
    let graph_url = serve(
        Router::new()
            .route("/{version}/{number}/messages", post(graph))
            .with_state(sends.clone()),
    )
    .await?;

    let dir = tempfile::tempdir()?;
    let mut settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        ..Settings::default()
    };
    settings.server.port = 0;
    // A Wednesday afternoon in every market, so the sending-hours rules let replies go.
    settings.clock_start = Some("2026-12-09T16:30:00Z".parse()?);
    settings.whatsapp.app_secret = Some(SecretString::from(APP_SECRET));
    settings.whatsapp.access_token = Some(SecretString::from(TOKEN));
    settings.whatsapp.api_base = graph_url;
    settings.pipeline.auto_send_min_accuracy = 0.0;
    settings.pipeline.auto_send_intents = tuesday::domain::Intent::DEFAULTS.to_vec();
    settings.worker.concurrency = 8;
    settings.worker.poll_interval_ms = 50;
    settings.routing.tau0 = 0.0;
    let mut providers = BTreeMap::new();
    for (name, key) in [("anthropic", "sk-ant-bench"), ("openai", "sk-openai-bench")] {
        providers.insert(
            name.to_owned(),
            ProviderSettings {
                base_url: Some(models_url.clone()),
                api_key: Some(SecretString::from(key)),
                timeout_ms: 2_000,
                ..ProviderSettings::default()
            },
        );
    }
    settings.routing.providers = providers;
    let entry = |provider: &str, model: &str| ModelEntry {
        provider: provider.to_owned(),
        model: model.to_owned(),
    };
    settings.routing.tiers.fast = vec![entry("anthropic", "claude-haiku-4-5")];
    settings.routing.tiers.standard = vec![entry("anthropic", "claude-sonnet-5"), entry("openai", "gpt-5.4")];
    settings.routing.tiers.flagship = vec![entry("anthropic", "claude-opus-5")];
    settings.routing.budget.daily_usd = "1000000".parse()?;
    settings.routing.budget.monthly_usd = "10000000".parse()?;
    settings.failover.breaker.open_secs = 2;
    settings.failover.resume_check_secs = 1;
    let chain = ["claude-sonnet-5", "gpt-5.4", "claude-opus-5"];

    let app = Application::build(settings).await?;
    let url = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    tokio::spawn(async move { app.run().await });
    let store = state.store.clone();
    let http = reqwest::Client::new();
    let inbound_done =
        "SELECT COUNT(*) FROM jobs WHERE kind = 'process_inbound' AND state IN ('queued', 'running')";

    println!("failover benchmark: {messages} messages, {healthy} before the outage");
    let started = Instant::now();
    post_range(&http, &url, state.clock(), 0, healthy).await?;
    wait_for(&store, "the healthy phase", inbound_done, 0).await?;
    println!(
        "healthy phase done after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    models.down.store(true, Ordering::SeqCst);
    let outage = Instant::now();
    post_range(&http, &url, state.clock(), healthy, messages).await?;
    wait_for(&store, "the outage phase", inbound_done, 0).await?;
    let now_ms = state.clock().now_millis();
    let views = state.breakers.snapshot();
    let opened: Vec<i64> = views
        .iter()
        .filter(|v| chain.contains(&v.model.as_str()))
        .filter_map(|v| v.opened_ago.map(|ago| now_ms - ago.as_millis() as i64))
        .collect();
    let mode = store.degraded_mode().await?;
    let waiting = store.degraded_waiting().await?;
    println!(
        "outage phase done after {:.1} s: {} of {} breakers in the chain opened, {waiting} messages held in degraded mode",
        outage.elapsed().as_secs_f64(),
        opened.len(),
        chain.len()
    );
    let to_degraded = match (opened.iter().max(), &mode) {
        (Some(last_open), Some(mode)) if opened.len() == chain.len() => Some(mode.since - last_open),
        _ => None,
    };

    models.down.store(false, Ordering::SeqCst);
    let recovery = Instant::now();
    wait_for(&store, "the held drafts", "SELECT COUNT(*) FROM degraded_holds h JOIN drafts d ON d.message_id = h.message_id WHERE h.resumed_at IS NULL AND d.state = 'held'", 0).await?;
    wait_for(
        &store,
        "the queue",
        "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')",
        0,
    )
    .await?;
    let drained = recovery.elapsed();

    let inbound = count(&store, "SELECT COUNT(*) FROM messages WHERE direction = 'in'").await?;
    let drafted = count(&store, "SELECT COUNT(DISTINCT message_id) FROM drafts").await?;
    let failed_jobs = count(&store, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'").await?;
    let extra_drafts = count(&store, "SELECT COUNT(*) FROM drafts").await? - drafted;
    let extra_outbound = count(&store, "SELECT COUNT(*) FROM messages WHERE direction = 'out'").await?
        - count(
            &store,
            "SELECT COUNT(DISTINCT reply_to) FROM messages WHERE direction = 'out'",
        )
        .await?;
    let (sent, sent_twice) = {
        let sends = sends.lock().expect("lock");
        (
            sends.values().sum::<usize>(),
            sends.values().filter(|n| **n > 1).count(),
        )
    };
    let still_template = count(
        &store,
        "SELECT COUNT(*) FROM drafts WHERE source LIKE 'template:%' AND state = 'held'",
    )
    .await?;
    let lost = messages as i64 - drafted.min(inbound) + failed_jobs;
    println!("messages posted:                 {messages}");
    println!(
        "lost:                            {lost}  (posted {messages}, stored {inbound}, drafted {drafted}, failed jobs {failed_jobs})"
    );
    println!(
        "duplicated:                      {}  (extra drafts {extra_drafts}, extra outbound {extra_outbound}, keys sent twice {sent_twice})",
        extra_drafts + extra_outbound + sent_twice as i64
    );
    println!("replies sent:                    {sent}");
    println!("held template drafts left:       {still_template}");
    match to_degraded {
        Some(ms) => println!("degraded mode after the chain's last breaker opened: {ms} ms"),
        None => println!(
            "degraded mode after the chain's last breaker opened: not measured (mode {mode:?}, {} breakers opened)",
            opened.len()
        ),
    }
    println!("backlog drained after recovery:  {:.1} s", drained.as_secs_f64());
    println!(
        "total:                           {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
