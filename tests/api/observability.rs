//! Observability end to end: OTLP/Langfuse export to a local receiver that decodes the
//! protobuf, `/metrics` access and content, `/readyz`, the trace page and search, the audit
//! log's append-only triggers, redaction and retention — in es, pt and en.

// The model stand-in the routing tests use, compiled here too so this file stays on its own.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "routing/standin.rs"]
mod standin;

use crate::helpers::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tuesday::observability::{LangfuseSettings, OtlpSettings, Redaction};

/// A local OTLP/HTTP receiver: decodes each protobuf request; answers 503 while `down`.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
    authorizations: Arc<Mutex<Vec<String>>>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if r.down.load(std::sync::atomic::Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-protobuf") {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE;
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    r.authorizations.lock().expect("lock").push(auth);
    let mut spans = r.spans.lock().expect("lock");
    for rs in request.resource_spans {
        for ss in rs.scope_spans {
            spans.extend(ss.spans);
        }
    }
    StatusCode::OK
}

async fn spawn_receiver() -> (String, Receiver) {
    let receiver = Receiver::default();
    let router = axum::Router::new()
        .route("/v1/traces", post(receive))
        .route("/api/public/otel/v1/traces", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
    (base, receiver)
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            any_value::Value::IntValue(n) => Some(n.to_string()),
            any_value::Value::DoubleValue(x) => Some(x.to_string()),
            any_value::Value::BoolValue(b) => Some(b.to_string()),
            other => Some(format!("{other:?}")),
        })
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send(app: &TestApp, wamid: &str, from: &str, name: &str, text: &str) -> i64 {
    assert_eq!(
        app.post_webhook(&text_delivery(wamid, from, name, text))
            .await
            .status(),
        200
    );
    app.drain().await;
    app.count(&format!("SELECT id FROM messages WHERE external_id = '{wamid}'"))
        .await
}

fn langfuse(base: &str) -> LangfuseSettings {
    LangfuseSettings {
        host: format!("{base}/"),
        public_key: "pk-lf-test".to_owned(),
        secret_key: SecretString::from("sk-lf-test"),
        timeout_ms: 2_000,
    }
}

/// A classification escalated to Haiku: the generation reaches Langfuse with its parent, the
/// session and user on every span, tokens, the request id and the cost we computed.
#[tokio::test]
async fn traces_reach_langfuse_with_parents_session_and_cost() {
    let (base, receiver) = spawn_receiver().await;
    let (models, standin) = standin::spawn_models().await;
    let app = spawn_app_with(|s| {
        s.routing.providers.insert(
            "anthropic".to_owned(),
            tuesday::models::ProviderSettings {
                kind: None,
                base_url: Some(models.clone()),
                api_key: Some(SecretString::from("sk-ant-standin")),
                timeout_ms: 2_000,
            },
        );
        s.routing.tiers.fast = vec![tuesday::routing::ModelEntry {
            provider: "anthropic".to_owned(),
            model: "claude-haiku-4-5".to_owned(),
        }];
        s.routing.tau0 = 1.0; // every classification asks the fast tier
        s.routing.tau1 = 0.5;
        s.observability.tap_interval_ms = 50;
        s.observability.langfuse = Some(langfuse(&base));
        s.observability.redaction = Redaction::Export;
    })
    .await;
    standin.queue("claude-haiku-4-5", vec![standin::classified("pricing", 0.93)]);
    let id = send(
        &app,
        "wamid.OBS1",
        "5511987654321",
        "Ana",
        "Quanto custa o curso de Análise de Dados? meu email é ana@exemplo.com.br",
    )
    .await;
    let cost = app
        .text("SELECT cost_usd FROM model_calls WHERE tier = 'fast'")
        .await;
    wait_for(|| {
        receiver
            .spans
            .lock()
            .expect("lock")
            .iter()
            .any(|s| s.name == "model_call")
            && receiver
                .spans
                .lock()
                .expect("lock")
                .iter()
                .any(|s| s.name == "drafted")
    })
    .await;
    let spans = receiver.spans.lock().expect("lock").clone();
    let auth = receiver.authorizations.lock().expect("lock")[0].clone();
    assert_eq!(auth, "Basic cGstbGYtdGVzdDpzay1sZi10ZXN0", "Basic base64(pk:sk)");
    let root = spans
        .iter()
        .find(|s| s.name == "inbound message")
        .expect("root span");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(
        attr(root, "langfuse.trace.name").as_deref(),
        Some("inbound message")
    );
    assert_eq!(
        attr(root, "langfuse.trace.metadata.message_id"),
        Some(id.to_string())
    );
    let input = attr(root, "langfuse.observation.input").expect("the message as input");
    assert!(
        input.contains("[email]") && !input.contains("ana@exemplo"),
        "{input}"
    );
    let generation = spans.iter().find(|s| s.name == "model_call").expect("generation");
    assert_eq!(generation.trace_id, root.trace_id);
    assert_eq!(
        generation.parent_span_id, root.span_id,
        "children hang under the root"
    );
    assert_eq!(
        attr(generation, "langfuse.observation.type").as_deref(),
        Some("generation")
    );
    assert_eq!(
        attr(generation, "langfuse.observation.model.name").as_deref(),
        Some("claude-haiku-4-5")
    );
    assert_eq!(
        attr(generation, "tuesday.cost_usd").as_deref(),
        Some(cost.as_str())
    );
    let details: serde_json::Value =
        serde_json::from_str(&attr(generation, "langfuse.observation.cost_details").expect("cost"))
            .expect("json");
    let expected: f64 = cost.parse().expect("number");
    assert!(expected > 0.0 && (details["total"].as_f64().expect("total") - expected).abs() < 1e-12);
    let usage: serde_json::Value =
        serde_json::from_str(&attr(generation, "langfuse.observation.usage_details").expect("usage"))
            .expect("json");
    assert_eq!(usage["input"], 400);
    assert_eq!(usage["output"], 12);
    assert_eq!(
        attr(generation, "tuesday.provider_request_id").as_deref(),
        Some("msg_standin")
    );
    assert!(generation.end_time_unix_nano >= generation.start_time_unix_nano);
    let conversation = app
        .count("SELECT conversation_id FROM messages WHERE external_id = 'wamid.OBS1'")
        .await;
    for span in &spans {
        assert_eq!(
            attr(span, "langfuse.session.id"),
            Some(format!("conversation-{conversation}")),
            "{}",
            span.name
        );
        assert!(
            attr(span, "langfuse.user.id").is_some_and(|u| u.starts_with("contact-")),
            "{}",
            span.name
        );
    }
    assert!(
        spans
            .iter()
            .any(|s| attr(s, "langfuse.observation.type").as_deref() == Some("guardrail"))
    );
}

/// A collector that is down loses nothing until the buffer is full; past it, drops are
/// counted, and once it is back the rest arrives. The pipeline never waits for it.
#[tokio::test]
async fn a_collector_that_is_down_costs_counted_drops_not_the_pipeline() {
    let (base, receiver) = spawn_receiver().await;
    receiver.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let app = spawn_app_with(|s| {
        s.observability.tap_interval_ms = 50;
        s.observability.export_buffer_spans = 5;
        s.observability.export_batch_spans = 2;
        s.observability.metrics_token = Some(SecretString::from("scrape-me"));
        s.observability.otlp = Some(OtlpSettings {
            endpoint: format!("{base}/v1/traces"),
            headers: BTreeMap::from([("x-tenant".to_owned(), SecretString::from("tuesday"))]),
            timeout_ms: 1_000,
        });
    })
    .await;
    let texts = [
        (
            "wamid.D1",
            "34612345678",
            "Hola! cuanto cuesta el curso de python?",
        ),
        (
            "wamid.D2",
            "5511987654321",
            "oi, qual o preço do curso de dados? 😊",
        ),
        (
            "wamid.D3",
            "12125550147",
            "hi, how much is the data analytics course?",
        ),
    ];
    for (wamid, from, text) in texts {
        send(&app, wamid, from, "C", text).await;
    }
    let drafts = app.count("SELECT COUNT(*) FROM drafts").await;
    assert_eq!(drafts, 3, "the pipeline ran while the collector was down");
    let metrics = || app.scrape_metrics("scrape-me");
    let mut page = String::new();
    for _ in 0..100 {
        page = metrics().await;
        if page.contains("tuesday_exported_spans_total{destination=\"otlp\",outcome=\"dropped\"}") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(page.contains("outcome=\"dropped\""), "{page}");
    assert!(receiver.spans.lock().expect("lock").is_empty());
    receiver.down.store(false, std::sync::atomic::Ordering::SeqCst);
    wait_for(|| receiver.spans.lock().expect("lock").len() >= 5).await;
    assert_eq!(
        receiver.spans.lock().expect("lock").len(),
        5,
        "the buffer's bound, no more"
    );
}

#[tokio::test]
async fn metrics_need_the_token_and_count_stages_rules_and_queues() {
    let closed = spawn_app().await;
    let status = closed
        .http
        .get(format!("{}/metrics", closed.address))
        .send()
        .await
        .expect("get")
        .status();
    assert_eq!(status, 404, "no token and no loopback: no metrics");

    let app = spawn_app_with(|s| {
        s.observability.tap_interval_ms = 50;
        s.observability.metrics_token = Some(SecretString::from("s3cret-token"));
    })
    .await;
    let get = |token: &'static str| {
        let request = app.http.get(format!("{}/metrics", app.address));
        async move {
            let r = if token.is_empty() {
                request
            } else {
                request.bearer_auth(token)
            }
            .send()
            .await
            .expect("metrics");
            (r.status().as_u16(), r.text().await.expect("body"))
        }
    };
    assert_eq!(get("").await.0, 404);
    assert_eq!(get("wrong").await.0, 404);
    // es held for a person, pt and en priced
    send(
        &app,
        "wamid.M1",
        "34612345678",
        "Marta",
        "Quiero hablar con un asesor, llamadme",
    )
    .await;
    send(
        &app,
        "wamid.M2",
        "5511987654321",
        "Ana",
        "quanto custa o curso de dados?",
    )
    .await;
    send(
        &app,
        "wamid.M3",
        "12125550147",
        "John",
        "how much is the python course?",
    )
    .await;
    let mut page = String::new();
    for _ in 0..100 {
        page = get("s3cret-token").await.1;
        // The tail counts events as it reads them: wait until it has read all three messages.
        if page.contains("tuesday_guardrail_verdicts_total{rule=\"prices\"")
            && page.contains("tuesday_messages_total{stage=\"received\",outcome=\"ok\"} 3")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        page.contains("tuesday_messages_total{stage=\"received\",outcome=\"ok\"} 3"),
        "{page}"
    );
    assert!(
        page.contains("tuesday_guardrail_verdicts_total{rule=\"prices\""),
        "{page}"
    );
    assert!(page.contains("tuesday_review_queue_size "), "{page}");
    assert!(page.contains("tuesday_queue_depth "), "{page}");
    let held = app
        .count("SELECT COUNT(*) FROM drafts WHERE state = 'held'")
        .await;
    assert!(
        page.contains(&format!("tuesday_review_queue_size {held}\n")),
        "{page}"
    );
    let sent = app.count("SELECT COUNT(*) FROM events WHERE kind = 'sent'").await;
    if sent > 0 {
        assert!(
            page.contains("tuesday_sends_total{channel=\"whatsapp\",status=\"sent\"}"),
            "{page}"
        );
    }
    let ready = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn metrics_answer_loopback_when_allowed() {
    let app = spawn_app_with(|s| s.observability.metrics_loopback = true).await;
    let r = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("tuesday_review_queue_size")
    );
}

/// The trace page: a timeline with durations and bars, expandable observations, and the draft
/// linked to what was sent. Search finds it by contact, text, intent, rule and time; a bad
/// date is refused with a clear message.
#[tokio::test]
async fn trace_page_and_search_in_three_languages() {
    let app = spawn_app().await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let es = send(
        &app,
        "wamid.S1",
        "34612345678",
        "Marta Gómez",
        "Quiero hablar con un asesor por favor",
    )
    .await;
    let pt = send(
        &app,
        "wamid.S2",
        "5511987654321",
        "Ana Souza",
        "quanto custa o curso de analise de dados?",
    )
    .await;
    let en = send(
        &app,
        "wamid.S3",
        "12125550147",
        "John Smith",
        "how much is teh python course? 🐍",
    )
    .await;

    let (status, page) = app.get_page(&rep, &format!("/messages/{pt}/trace")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<svg class=\"bar\""), "timeline bars");
    assert!(page.contains("class=\"duration\""), "timed stages show durations");
    assert!(page.contains("<details>"), "observations expand");
    assert!(page.contains("generation") || page.contains("span"));
    assert!(page.contains("Draft → reply"), "draft linked to the reply");
    assert!(
        page.contains("href=\"#obs-"),
        "links to the observations along the way"
    );

    let search = |q: &str| {
        let q = q.to_owned();
        let rep = rep.clone();
        let app = &app;
        async move { app.get_page(&rep, &format!("/traces?{q}")).await.1 }
    };
    let link = |id: i64| format!("/messages/{id}/trace");
    let page = search("contact=marta").await;
    assert!(
        page.contains(&link(es)) && !page.contains(&link(pt)),
        "by contact name"
    );
    let page = search("contact=5511").await;
    assert!(page.contains(&link(pt)) && !page.contains(&link(es)), "by number");
    let page = search("text=PYTHON").await;
    assert!(
        page.contains(&link(en)) && !page.contains(&link(pt)),
        "by text, any case"
    );
    let intent = app
        .text(&format!("SELECT intent FROM drafts WHERE message_id = {es}"))
        .await;
    let page = search(&format!("intent={intent}")).await;
    assert!(page.contains(&link(es)), "by intent {intent}");
    let page = search("rule=prices").await;
    assert!(
        page.contains(&link(pt)) && page.contains(&link(en)),
        "by guardrail rule"
    );
    let page = search("rule=no_such_rule").await;
    assert!(page.contains("No trace matches"));
    let page = search("from=2026-12-09&to=2026-12-09").await;
    assert!(page.contains(&link(es)) && page.contains(&link(pt)) && page.contains(&link(en)));
    let page = search("from=2026-12-10").await;
    assert!(!page.contains(&link(es)), "time range");
    let page = search("from=ma%C3%B1ana").await;
    assert!(page.contains("is not a date"), "bad input is named");
}

/// Every human action lands in the audit log, which managers read and nobody can change.
#[tokio::test]
async fn the_audit_log_records_people_and_refuses_changes() {
    let app = spawn_app().await;
    send(
        &app,
        "wamid.A1",
        "34612345678",
        "Marta",
        "Quiero hablar con un asesor por favor, llamadme",
    )
    .await;
    let draft_id = app.count("SELECT id FROM drafts WHERE state = 'held'").await;
    let conversation_id = app.count("SELECT conversation_id FROM drafts").await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (csrf, version) = app.form_tokens(&rep, conversation_id).await;
    let r = rep
        .post(format!("{}/drafts/{draft_id}/reject", app.address))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("reason", "ya la llamé"),
        ])
        .send()
        .await
        .expect("reject");
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'rejected' AND username = 'rep'")
            .await,
        1
    );
    let (status, _) = app.get_page(&rep, "/audit").await;
    assert_eq!(status, 403, "reps do not read the audit log");
    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, page) = app.get_page(&manager, "/audit").await;
    assert_eq!(status, 200);
    assert!(page.contains("rejected") && page.contains(">rep<"), "{page}");
    for sql in [
        "UPDATE audit_log SET username = 'nobody'",
        "DELETE FROM audit_log",
    ] {
        let err = app.state.store.scalar_i64(&format!("{sql} RETURNING id")).await;
        assert!(format!("{:#}", err.expect_err(sql)).contains("append-only"));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, 1);
}

/// `redaction = "everywhere"` masks phones, emails and ID numbers in stored traces.
#[tokio::test]
async fn redaction_everywhere_masks_stored_traces() {
    let app = spawn_app_with(|s| s.observability.redaction = Redaction::Everywhere).await;
    let id = send(
        &app,
        "wamid.R1",
        "5511987654321",
        "Ana",
        "meu cpf 390.533.447-05, email ana@exemplo.com; my SSN 123-45-6789, mi DNI 12345678Z",
    )
    .await;
    let details = app
        .text(&format!(
            "SELECT detail FROM events WHERE message_id = {id} AND kind = 'received'"
        ))
        .await;
    for secret in [
        "390.533.447-05",
        "ana@exemplo.com",
        "123-45-6789",
        "12345678Z",
        "5511987654321",
    ] {
        assert!(!details.contains(secret), "{secret} in {details}");
    }
    assert!(
        details.contains("[CPF]") && details.contains("[email]") && details.contains("[phone]"),
        "{details}"
    );
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (_, page) = app.get_page(&rep, &format!("/messages/{id}/trace")).await;
    assert!(
        !page.contains("ana@exemplo.com"),
        "the page shows the masked text"
    );
}

/// Retention removes old bodies and traces, and the dashboard's counts survive it.
#[tokio::test]
async fn retention_clears_bodies_and_keeps_the_dashboard_counts() {
    let app = spawn_app_with(|s| s.observability.retention_days = 30).await;
    send(
        &app,
        "wamid.T1",
        "34612345678",
        "Marta",
        "hola, cuánto cuesta el curso de python?",
    )
    .await;
    send(
        &app,
        "wamid.T2",
        "5511987654321",
        "Ana",
        "oi quanto custa o curso de dados",
    )
    .await;
    send(
        &app,
        "wamid.T3",
        "12125550147",
        "John",
        "hi how much is the data course 🙂",
    )
    .await;
    let today = app.state.clock().now().format("%Y-%m-%d").to_string();
    let before = app.state.store.daily_counts(&today).await.expect("counts");
    let events = app.count("SELECT COUNT(*) FROM events").await;
    assert!(events > 0);
    // Nothing is old yet.
    let none = tuesday::observability::retention::run(&app.state)
        .await
        .expect("runs");
    assert_eq!(none.events_removed, 0);
    let later = app.state.clock().now_millis() + 31 * 86_400_000;
    let summary = tuesday::observability::retention::run_at(&app.state, later)
        .await
        .expect("runs");
    assert_eq!(summary.events_removed as i64, events);
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND body LIKE '%curso%'")
            .await,
        0,
        "bodies are gone"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE body LIKE '%curso%'")
            .await,
        0
    );
    let mut after = app.state.store.daily_counts(&today).await.expect("counts");
    let mut before = before;
    let key = |c: &tuesday::store::DailyCount| (c.day.clone(), c.language.clone(), c.kind.clone(), c.count);
    before.sort_by_key(key);
    after.sort_by_key(key);
    assert_eq!(
        before.iter().map(key).collect::<Vec<_>>(),
        after.iter().map(key).collect::<Vec<_>>()
    );
    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, _) = app.get_page(&manager, "/dashboard").await;
    assert_eq!(status, 200);
}

/// With `observability.log_format = "json"`, every log line is one JSON object, and the line a
/// processed message writes names that message and its trace id; no secret appears in any line.
#[tokio::test]
async fn json_logs_carry_the_message_and_trace_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;
    let (graph_base, _graph) = spawn_graph().await;
    let mut command = serve_command(&database_url, &graph_base);
    command
        .env("TUESDAY_OBSERVABILITY__LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    let (mut child, url, log) = spawn_serve_logged(command);
    let http = client();
    let texts = [
        (
            "wamid.J1",
            "34612345678",
            "hola, cuanto cuesta el curso de python? 🐍",
        ),
        ("wamid.J2", "5511987654321", "oi, qual o preço do curso de dados"),
        ("wamid.J3", "14155550123", "hi! how much is the data course"),
    ];
    for (wamid, from, text) in texts {
        assert!(post_signed(&http, &url, &text_delivery(wamid, from, "Contact", text)).await);
    }
    let processed = |lines: &[String]| -> Vec<Value> {
        lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == "message processed")
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while processed(&log.lock().expect("log")).len() < texts.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "no 'message processed' lines"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().expect("stop");
    child.wait().expect("reap");

    let store = tuesday::store::Store::connect(&database_url)
        .await
        .expect("connect");
    let lines = log.lock().expect("log").clone();
    for (wamid, _, _) in texts {
        let id = store
            .scalar_i64(&format!("SELECT id FROM messages WHERE external_id = '{wamid}'"))
            .await
            .expect("message id");
        let line = processed(&lines)
            .into_iter()
            .find(|v| v["span"]["message_id"] == id)
            .unwrap_or_else(|| panic!("no line for message {id}: {lines:#?}"));
        assert_eq!(line["level"], "INFO");
        assert_eq!(
            line["span"]["trace_id"],
            tuesday::observability::export::trace_id_hex(id)
        );
        assert!(
            line["intent"].is_string() && line["decision"].is_string(),
            "{line}"
        );
        // The job around it is named too.
        let spans = line["spans"].as_array().expect("span list");
        assert!(spans.iter().any(|s| s["name"] == "job"), "{line}");
    }
    for line in lines.iter().filter(|l| l.starts_with('{')) {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["timestamp"].is_string(), "{line}");
        assert!(
            !line.contains(APP_SECRET) && !line.contains(ACCESS_TOKEN),
            "{line}"
        );
    }
}
