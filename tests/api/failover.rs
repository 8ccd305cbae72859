//! Failover against the model stand-in: retries and what they honour, alerts, outages that
//! open a breaker, degraded mode and the recovery that needs nobody, and a chaos run.

mod chaos;
mod outbox;

use crate::helpers::*;
use crate::routing::standin::*;
use crate::routing::{OPUS, SONNET, call_outcomes, send, spawn_routed, trace_kinds};
use serde_json::Value;
use std::sync::Arc;
use tuesday::config::Settings;

/// Retries without real waits, a breaker that opens after two failures and probes after a
/// second, and a degraded draft that checks every second whether providers are back.
fn quick_failover(s: &mut Settings) {
    s.routing.tau0 = 0.0; // classification stays local: only drafting calls models
    s.failover.max_attempts = 2;
    s.failover.breaker.consecutive_failures = 2;
    s.failover.breaker.open_secs = 1;
    s.failover.resume_check_secs = 1;
}

fn with_retry_after(status: u16, kind: &'static str, header: &'static str, value: &str) -> Reply {
    Reply::Error {
        status,
        kind,
        headers: vec![(header, value.to_owned())],
    }
}

async fn detail(app: &TestApp, message_id: i64, kind: &str) -> Vec<Value> {
    app.state
        .store
        .trace(message_id)
        .await
        .expect("trace")
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.detail).unwrap_or(Value::Null))
        .collect()
}

#[tokio::test]
async fn transient_errors_are_retried_as_the_provider_asks_and_traced() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(
        SONNET,
        vec![
            with_retry_after(429, "rate_limit_error", "retry-after-ms", "40"),
            error(529, "overloaded_error"),
            drafted("¡Claro! Un asesor te escribirá enseguida."),
        ],
    );
    let id = send(&app, "wamid.R1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:local:ok",
            "draft:standard:http_429",
            "draft:standard:http_529",
            "draft:standard:ok"
        ]
    );
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await,
        "model:standard:claude-sonnet-5"
    );
    let retries = detail(&app, id, "retry").await;
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert_eq!(retries[0]["cause"], "http_429");
    assert_eq!(retries[0]["retry_after_ms"], 40);
    assert!(
        retries[0]["wait_ms"].as_u64().expect("wait") >= 40,
        "Retry-After is a floor"
    );
    assert_eq!(retries[1]["cause"], "http_529");
    assert_eq!(retries[1]["attempt"], 2);
    let calls = detail(&app, id, "model_call").await;
    let attempts: Vec<_> = calls.iter().map(|c| c["attempt"].as_u64().unwrap_or(0)).collect();
    assert_eq!(attempts, [1, 2, 3]);
}

#[tokio::test]
async fn a_refused_key_is_not_retried_and_raises_an_alert() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(SONNET, vec![error(401, "authentication_error")]);
    standin.queue(
        OPUS,
        vec![drafted("Olá! Um consultor vai falar com você ainda hoje.")],
    );
    let id = send(
        &app,
        "wamid.K1",
        "5511987654321",
        "Quero falar com um consultor, por favor",
    )
    .await;
    assert_eq!(standin.requests_for(SONNET).len(), 1, "401 is never retried");
    let alerts = detail(&app, id, "model_alert").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["outcome"], "http_401");
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await,
        "model:flagship:claude-opus-5",
        "the chain moves on to the next tier"
    );
    let hops: Vec<_> = detail(&app, id, "route")
        .await
        .into_iter()
        .filter(|d| d["hop"] == true)
        .collect();
    assert_eq!(hops.len(), 1);
    assert_eq!(hops[0]["reason"], "alert");
}

#[tokio::test]
async fn out_of_credit_opens_the_breaker_at_once() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.observability.metrics_token = Some(secrecy::SecretString::from("scrape-me"));
    })
    .await;
    standin.queue(SONNET, vec![error(402, "billing_error")]);
    standin.queue(
        OPUS,
        vec![
            drafted("Sure! An advisor will write to you today."),
            drafted("Of course, an advisor will call you soon 🙂"),
        ],
    );
    let first = send(&app, "wamid.Q1", "14155550123", "I want to talk to an advisor").await;
    let second = send(&app, "wamid.Q2", "14155550124", "can i talk w/ a human pls 🙏").await;
    assert_eq!(
        standin.requests_for(SONNET).len(),
        1,
        "the open breaker spares the second call"
    );
    for id in [first, second] {
        assert_eq!(
            app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
                .await,
            "model:flagship:claude-opus-5"
        );
    }
    let reasons: Vec<_> = detail(&app, second, "route")
        .await
        .into_iter()
        .filter(|d| d["hop"] == true)
        .map(|d| d["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(reasons, ["circuit_open"]);
    let views = app.state.breakers.snapshot();
    let sonnet = views
        .iter()
        .find(|v| v.model == SONNET)
        .expect("sonnet's breaker");
    assert_eq!(sonnet.state, tuesday::failover::BreakerState::Open);
    assert_eq!(sonnet.last_error.as_deref(), Some("http_402"));

    // The breakers are in the metrics too: Sonnet's open, Opus's closed.
    let metrics = app.scrape_metrics("scrape-me").await;
    let line = |model: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with("tuesday_breaker_state{") && l.contains(&format!("model=\"{model}\"")))
            .map(|l| l.rsplit(' ').next().unwrap_or("").to_owned())
    };
    assert_eq!(line(SONNET).as_deref(), Some("2"), "{metrics}");
    assert_eq!(line(OPUS).as_deref(), Some("0"), "{metrics}");
}

#[tokio::test]
async fn a_full_outage_degrades_then_recovery_drafts_the_held_work_again() {
    let (app, standin) = spawn_routed(quick_failover).await;
    let messages = [
        ("wamid.O1", "34612345678", "quiero hablar con un asesor"),
        ("wamid.O2", "5511987654321", "Quero falar com um consultor"),
        ("wamid.O3", "14155550123", "can i talk to an advisor? 🙏"),
    ];
    // Nothing queued: every call answers 500.
    let first = send(&app, messages[0].0, messages[0].1, messages[0].2).await;
    assert_eq!(
        call_outcomes(&app, first).await,
        [
            "classify:local:ok",
            "draft:standard:http_500",
            "draft:standard:http_500",
            "draft:flagship:http_500",
            "draft:flagship:http_500",
            "draft:local:ok"
        ]
    );
    let mode = app.state.store.degraded_mode().await.expect("mode");
    assert!(mode.is_some(), "degraded mode is recorded in the store");
    let calls_so_far = standin.requests().len();
    let mut ids = vec![first];
    for (wamid, from, text) in &messages[1..] {
        ids.push(send(&app, wamid, from, text).await);
    }
    assert_eq!(
        standin.requests().len(),
        calls_so_far,
        "open breakers skip the models without calling them"
    );
    for id in &ids {
        let source = app
            .text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await;
        assert!(source.starts_with("template:"), "{source}");
        let reasons = app
            .text(&format!(
                "SELECT hold_reasons FROM drafts WHERE message_id = {id}"
            ))
            .await;
        assert!(reasons.contains("degraded_mode"), "{reasons}");
        assert!(trace_kinds(&app, *id).await.iter().any(|(k, _)| k == "degraded"));
    }
    assert_eq!(app.state.store.degraded_waiting().await.expect("waiting"), 3);

    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, dashboard) = app.get_page(&manager, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("Degraded mode since"), "{dashboard}");
    assert!(dashboard.contains("3 messages waiting"));
    let (status, page) = app.get_page(&manager, "/status").await;
    assert_eq!(status, 200);
    assert!(page.contains(SONNET) && page.contains(OPUS));
    assert!(page.contains(">open<"), "{page}");
    let rep = client();
    app.log_in(&rep, "rep").await;
    assert_eq!(app.get_page(&rep, "/status").await.0, 403);

    // Providers come back. Nobody touches the inbox.
    standin.otherwise(Some(Arc::new(advisor_draft)));
    // The breakers probe after `open_secs`, the held drafts check every `resume_check_secs`.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    app.drain().await;

    assert_eq!(app.state.store.degraded_mode().await.expect("mode"), None);
    assert_eq!(app.state.store.degraded_waiting().await.expect("waiting"), 0);
    for id in &ids {
        assert_eq!(
            app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
                .await,
            "model:standard:claude-sonnet-5",
            "message {id} drafted again by a model"
        );
        assert!(trace_kinds(&app, *id).await.iter().any(|(k, _)| k == "resumed"));
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts").await,
        3,
        "one draft per message"
    );
    let (_, dashboard) = app.get_page(&manager, "/dashboard").await;
    assert!(!dashboard.contains("Degraded mode since"));
    // The reliability section keeps the period that ended, with its reason.
    assert!(dashboard.contains("Degraded periods"), "{dashboard}");
    let periods = dashboard
        .split("degraded-periods")
        .nth(1)
        .expect("a table of degraded periods");
    assert_eq!(periods.matches("<tr><td>").count(), 1, "{periods}");
    assert!(periods.contains("every model of a task"), "{periods}");
    assert!(!periods.contains("still on"));
    let failovers: i64 = dashboard
        .split("</span><span class=\"label\">Failovers to the next model")
        .next()
        .and_then(|before| before.rsplit('>').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("the failovers tile");
    assert!(failovers > 0, "the first message went from standard to flagship");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind IN ('degraded_started', 'degraded_ended')")
            .await,
        2
    );
}

#[tokio::test]
async fn a_draft_a_person_already_reviewed_is_left_alone_on_recovery() {
    let (app, standin) = spawn_routed(quick_failover).await;
    let id = send(&app, "wamid.H1", "34612345678", "kiero ablar con un asesor xfa").await;
    assert!(app.state.store.degraded_mode().await.expect("mode").is_some());
    // A rep rejects the held template draft before providers return.
    let draft_id = app
        .count(&format!("SELECT id FROM drafts WHERE message_id = {id}"))
        .await;
    let conversation_id = app
        .count(&format!(
            "SELECT conversation_id FROM drafts WHERE message_id = {id}"
        ))
        .await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (csrf, version) = app.form_tokens(&rep, conversation_id).await;
    let response = rep
        .post(format!("{}/drafts/{draft_id}/reject", app.address))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("reason", "ya la llamé"),
        ])
        .send()
        .await
        .expect("reject");
    assert_eq!(response.status(), 303);
    standin.otherwise(Some(Arc::new(|_: &ModelRequest| {
        drafted("¡Claro! Un asesor te escribirá enseguida.")
    })));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    app.drain().await;
    assert_eq!(
        app.text(&format!("SELECT state FROM drafts WHERE message_id = {id}"))
            .await,
        "rejected",
        "the person's decision stands"
    );
    assert!(!trace_kinds(&app, id).await.iter().any(|(k, _)| k == "resumed"));
}

/// A process killed between setting the degraded draft aside and drafting again leaves the
/// message with no draft; the resume job, run again, drafts it.
#[tokio::test]
async fn a_resume_cut_short_after_setting_the_draft_aside_drafts_again() {
    let (app, standin) = spawn_routed(quick_failover).await;
    let cases = [
        ("wamid.K1", "34612345678", "kiero ablar con un asesor xfa 🙏"),
        ("wamid.K2", "5511987654321", "quero falar com um consultor"),
        ("wamid.K3", "14155550123", "can i talk to an advisor pls"),
    ];
    let mut ids = Vec::new();
    for (wamid, from, text) in cases {
        ids.push(send(&app, wamid, from, text).await);
    }
    assert_eq!(app.state.store.degraded_waiting().await.expect("waiting"), 3);
    // What the killed run had done: the degraded drafts are set aside, none drafted again.
    for id in &ids {
        let event = tuesday::store::NewEvent::new("resumed", "set aside before the kill");
        let conversation_id = app
            .count(&format!("SELECT conversation_id FROM messages WHERE id = {id}"))
            .await;
        let taken = app
            .state
            .store
            .reopen_degraded(*id, event.on(*id, conversation_id))
            .await
            .expect("reopen");
        assert!(taken);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, 0);
    standin.otherwise(Some(Arc::new(advisor_draft)));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    app.drain().await;
    for id in &ids {
        assert_eq!(
            app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
                .await,
            "model:standard:claude-sonnet-5",
            "message {id} drafted again"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state <> 'done'").await,
        0
    );
}

#[tokio::test]
async fn shutdown_stops_claiming_and_releases_what_outlives_the_grace_period() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.worker.shutdown_grace_secs = 1;
        s.worker.concurrency = 2;
        s.worker.poll_interval_ms = 20;
        for provider in s.routing.providers.values_mut() {
            provider.timeout_ms = 30_000;
        }
    })
    .await;
    // The model takes far longer than the grace period.
    standin.queue(
        SONNET,
        vec![Reply::Slow(
            20_000,
            Box::new(drafted("Un asesor te escribirá enseguida.")),
        )],
    );
    let body = text_delivery("wamid.S1", "34612345678", "Marta", "quiero hablar con un asesor");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(tuesday::jobs::run_workers(app.state.clone(), stopped));
    while standin.requests_for(SONNET).is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'running'")
            .await,
        1
    );
    stop.send(true).expect("stop");
    // Work arriving during shutdown is not claimed.
    let late = text_delivery("wamid.S2", "5511987654321", "Ana", "Quero falar com um consultor");
    assert_eq!(app.post_webhook(&late).await.status(), 200);
    workers.await.expect("workers stop");

    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'process_inbound' AND state = 'queued' AND attempts = 0"
        )
        .await,
        2,
        "the job in hand is given back uncounted, the late one never claimed"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, 0);
    // The next start (here: a drain) does both.
    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    standin.queue(
        SONNET,
        vec![drafted("Claro! Um consultor vai falar com você em breve.")],
    );
    app.drain().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, 2);
}

#[tokio::test]
async fn the_most_urgent_job_is_claimed_first() {
    let app = spawn_app().await;
    let store = &app.state.store;
    let now = app.state.clock().now_millis();
    let hour = 3_600_000;
    // Enqueued in this order; the customers wrote 1 h, 20 h and 23 h ago.
    for (id, wrote) in [(101, 1), (102, 20), (103, 23)] {
        let job = tuesday::jobs::Job::process_inbound(id, now - wrote * hour);
        assert!(store.enqueue(&job).await.expect("enqueue"));
    }
    assert!(
        store
            .enqueue(&tuesday::jobs::Job::send(7))
            .await
            .expect("enqueue")
    );
    let mut order = Vec::new();
    while let Some(job) = store.claim_job("test", 60_000).await.expect("claim") {
        order.push((job.payload, job.deadline_at.map(|d| (d - now + hour / 2) / hour)));
    }
    assert_eq!(
        order,
        [
            (r#"{"message_id":103}"#.to_owned(), Some(1)),
            (r#"{"message_id":102}"#.to_owned(), Some(4)),
            (r#"{"message_id":101}"#.to_owned(), Some(23)),
            (r#"{"outbound_id":7}"#.to_owned(), Some(24)),
        ],
        "nearest deadline first: the 24-hour window that closes soonest"
    );
}

#[tokio::test]
async fn calls_to_one_provider_wait_for_a_free_slot() {
    let (base, standin) = spawn_models().await;
    let models = tuesday::models::Models::with_concurrency(&crate::routing::providers(&base, 10_000), 1)
        .expect("models");
    let request = crate::routing::request();
    for _ in 0..2 {
        standin.queue(
            SONNET,
            vec![Reply::Slow(1_500, Box::new(classified("pricing", 0.9)))],
        );
    }
    let both = async {
        tokio::join!(
            models.complete("anthropic", SONNET, &request),
            models.complete("anthropic", SONNET, &request)
        )
    };
    let watch = async {
        while standin.requests().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        // The first call is still out (its answer takes 1.5 s): the second has not gone.
        standin.requests().len()
    };
    let ((first, second), in_flight) = tokio::join!(both, watch);
    assert_eq!(in_flight, 1, "one call at a time to this provider");
    assert!(first.is_ok() && second.is_ok());
    assert_eq!(standin.requests().len(), 2);
}

/// A message that reaches us after WhatsApp's 24-hour window (Meta replaying a backlog after an
/// outage) is drafted by no model: only the approved template can go, and it does.
#[tokio::test]
async fn a_message_past_its_window_takes_the_template_path_without_a_model() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.whatsapp.reengagement_template = Some(
            toml::from_str(
                r#"name = "volvemos_a_hablar"
languages = { es = "es", pt = "pt_BR", en = "en_US" }"#,
            )
            .expect("template"),
        );
    })
    .await;
    let day_ago = (TEST_CLOCK.now() - chrono::Duration::hours(25))
        .timestamp()
        .to_string();
    let body = text_delivery(
        "wamid.LATE",
        "34612345678",
        "Lucía",
        "hola, quiero hablar con un asesor sobre el curso",
    )
    .replace(
        &format!("\"timestamp\":\"{}\"", now_seconds()),
        &format!("\"timestamp\":\"{day_ago}\""),
    );
    assert!(body.contains(&day_ago), "{body}");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.drain().await;
    let id = app
        .count("SELECT id FROM messages WHERE external_id = 'wamid.LATE'")
        .await;
    assert!(
        standin.requests().is_empty(),
        "no model is asked to draft what cannot be sent"
    );
    let reasons: Vec<String> = detail(&app, id, "route")
        .await
        .iter()
        .filter_map(|d| d["reason"].as_str().map(str::to_owned))
        .collect();
    assert!(reasons.iter().any(|r| r == "window_closed"), "{reasons:?}");
}

/// Makes the database refuse every draft but a hand-over to a person, as a failing disk or a
/// broken schema would: the pipeline's own writes fail on every attempt.
async fn refuse_drafts_but_hand_overs(app: &TestApp) {
    let sql = match app.state.store.backend() {
        tuesday::store::Backend::Sqlite => {
            "CREATE TRIGGER refuse_drafts BEFORE INSERT ON drafts
             WHEN NEW.hold_reasons NOT LIKE '%processing_failed%'
             BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"
        }
        tuesday::store::Backend::Postgres => {
            "CREATE FUNCTION refuse_drafts() RETURNS trigger AS $$
             BEGIN
               IF NEW.hold_reasons NOT LIKE '%processing_failed%' THEN
                 RAISE EXCEPTION 'simulated write failure';
               END IF;
               RETURN NEW;
             END $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse_drafts BEFORE INSERT ON drafts
             FOR EACH ROW EXECUTE FUNCTION refuse_drafts()"
        }
    };
    app.state.store.execute_sql(sql).await.expect("add the trigger");
}

#[tokio::test]
async fn a_message_whose_processing_fails_for_good_goes_to_a_person() {
    let app = spawn_app_with(|s| s.worker.max_attempts = 2).await;
    refuse_drafts_but_hand_overs(&app).await;
    let messages = [
        (
            "wamid.F1",
            "34612345678",
            "cuanto cuesta el curso de python? 🤔",
            "es",
        ),
        (
            "wamid.F2",
            "5511987654321",
            "qto custa o curso de dados, vcs parcelam?",
            "pt",
        ),
        ("wamid.F3", "14155550123", "how much is the data course pls", "en"),
    ];
    for (wamid, from, body, _) in messages {
        app.post_webhook(&text_delivery(wamid, from, "Prospect", body))
            .await;
    }
    app.drain().await;

    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'process_inbound' AND state = 'failed' AND attempts = 2"
        )
        .await,
        3,
        "each job ran out of attempts"
    );
    for (wamid, _, _, language) in messages {
        let draft = app
            .text(&format!(
                "SELECT d.state || ' ' || d.language || ' ' || d.source || ' ' || d.hold_reasons
                 FROM drafts d JOIN messages m ON m.id = d.message_id WHERE m.external_id = '{wamid}'"
            ))
            .await;
        assert!(
            draft.starts_with(&format!("held {language} template:")),
            "{draft}"
        );
        assert!(
            draft.contains("processing_failed") && draft.contains("simulated write failure"),
            "{draft}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'handed_over'")
            .await,
        3
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        0,
        "nothing goes out without a person"
    );
}
