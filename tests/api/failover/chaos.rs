//! The chaos run: real workers, a stand-in that fails a share of calls with 500, 429,
//! timeouts and garbage, then a full outage, then recovery. Nothing may be lost, nothing sent
//! twice, and everything must be processed once providers are back.

use crate::helpers::*;
use crate::routing::standin::*;
use crate::routing::{SONNET, spawn_routed};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tuesday::routing::ModelEntry;

/// What a healthy model drafts, in the customer's language.
/// A third of the calls fail, each way a provider fails.
fn flaky(seed: u64) -> Responder {
    let rng = Mutex::new(StdRng::seed_from_u64(seed));
    Arc::new(move |request: &ModelRequest| {
        let roll: u32 = rng.lock().expect("lock").gen_range(0..12);
        match roll {
            0 => error(500, "api_error"),
            1 => Reply::Error {
                status: 429,
                kind: "rate_limit_error",
                headers: vec![("retry-after", "0".to_owned())],
            },
            2 => Reply::Slow(800, Box::new(advisor_draft(request))),
            3 => Reply::Garbage,
            _ => advisor_draft(request),
        }
    })
}

const MESSAGES: [(&str, &str); 12] = [
    ("quiero hablar con un asesor", "es"),
    ("kiero ablar con alguien xfa", "es"),
    ("me pueden llamar? tengo dudas del curso 🤔", "es"),
    ("Quero falar com um consultor", "pt"),
    ("vcs podem me ligar? tenho duvidas", "pt"),
    ("quero falar com alguem sobre o curso de dados 📊", "pt"),
    ("I want to talk to an advisor", "en"),
    ("can someone call me pls 🙏", "en"),
    ("hola, can I talk to a person?", "en"),
    ("necesito ayuda con mi inscripcion", "es"),
    ("preciso de ajuda com a matricula", "pt"),
    ("I need help with my enrolment", "en"),
];

async fn post_all(app: &TestApp, round: &str, from_base: u64) -> Vec<String> {
    let mut wamids = Vec::new();
    for (i, (text, lang)) in MESSAGES.iter().enumerate() {
        let wamid = format!("wamid.{round}{i}");
        let prefix = match *lang {
            "es" => "346",
            "pt" => "55119",
            _ => "1415",
        };
        let from = format!("{prefix}{}", from_base + i as u64);
        let response = app
            .post_webhook(&text_delivery(&wamid, &from, "Chaos", text))
            .await;
        assert_eq!(response.status(), 200);
        wamids.push(wamid);
    }
    wamids
}

/// Waits until `done` holds, checking every 100 ms; panics after `limit` so the suite stays
/// bounded in time. Not a speed assertion: the limit is far above what the work needs.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn inbound_jobs_settled(app: &TestApp) -> bool {
    app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'process_inbound' AND state IN ('queued', 'running')")
        .await
        == 0
}

#[tokio::test]
async fn chaos_then_outage_then_recovery_loses_nothing_and_sends_nothing_twice() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        // Within standard: Anthropic, then OpenAI.
        s.routing.tiers.standard.push(ModelEntry {
            provider: "openai".to_owned(),
            model: "gpt-5.4".to_owned(),
        });
        for provider in s.routing.providers.values_mut() {
            provider.timeout_ms = 300;
        }
        s.worker.enabled = true;
        s.worker.concurrency = 3;
        s.worker.poll_interval_ms = 20;
        s.failover.max_attempts = 3;
        s.failover.breaker.consecutive_failures = 4;
        s.failover.breaker.open_secs = 1;
        s.failover.resume_check_secs = 1;
        // Every drafted reply may go on its own, so sends happen and duplicates would show.
        s.pipeline.auto_send_intents = tuesday::domain::Intent::DEFAULTS.to_vec();
        s.failover.degraded_auto_send_intents = Vec::new();
    })
    .await;
    // Meta fails some sends too (both retried; rate limits have their own test).
    app.graph.reply_with(vec![
        GraphReply::Error { status: 500, code: 1 },
        GraphReply::Accept,
        GraphReply::Error {
            status: 500,
            code: 131000,
        },
    ]);

    // 1. Chaos: a third of the calls fail.
    standin.otherwise(Some(flaky(42)));
    let mut wamids = post_all(&app, "C", 1000).await;
    wait_until("the chaos round", Duration::from_secs(90), || {
        inbound_jobs_settled(&app)
    })
    .await;

    // 2. A full outage: every call fails.
    standin.otherwise(Some(Arc::new(|_: &ModelRequest| error(503, "overloaded_error"))));
    wamids.extend(post_all(&app, "O", 2000).await);
    wait_until("the outage round", Duration::from_secs(90), || {
        inbound_jobs_settled(&app)
    })
    .await;
    assert!(
        app.state.store.degraded_mode().await.expect("mode").is_some(),
        "a full outage puts Tuesday in degraded mode"
    );
    assert!(app.state.store.degraded_waiting().await.expect("waiting") > 0);

    // 3. Recovery: nobody touches anything.
    standin.otherwise(Some(Arc::new(advisor_draft)));
    wait_until("recovery", Duration::from_secs(90), || async {
        app.state.store.degraded_waiting().await.expect("waiting") == 0
            && app
                .count("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
                .await
                == 0
    })
    .await;

    // Zero lost: every message has exactly one draft, and no job gave up.
    let total = wamids.len() as i64;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        total
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT message_id) FROM drafts").await,
        total
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, total);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'")
            .await,
        0
    );
    // Everything processed after recovery: no draft still stands in for a model.
    assert_eq!(app.state.store.degraded_mode().await.expect("mode"), None);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE source LIKE 'template:%' AND state = 'held'")
            .await,
        0
    );
    // The chaos was real: calls were retried, and the chain moved on at least once.
    assert!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'retry'")
            .await
            > 0
    );
    assert!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'route' AND detail LIKE '%\"hop\":true%'")
            .await
            > 0
    );
    assert!(!standin.requests_for(SONNET).is_empty());

    // Zero duplicates: one provider call per outbound message, and one outbound per draft.
    // The stand-in refused the first and the third request; it accepted every other one.
    let requests = app.graph.requests();
    let mut per_contact: HashMap<String, usize> = HashMap::new();
    for (i, request) in requests.iter().enumerate() {
        if i != 0 && i != 2 {
            *per_contact
                .entry(request.body["to"].as_str().unwrap_or("").to_owned())
                .or_default() += 1;
        }
    }
    let outbound = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
        .await;
    assert!(outbound > 0, "some replies went out");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sending'")
            .await,
        0
    );
    let accepted = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
        .await;
    let accepted_requests = requests.len() as i64 - 2; // the two errors above
    assert_eq!(accepted, accepted_requests, "every accepted send recorded once");
    let repeated: Vec<_> = per_contact.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "a contact got the same reply twice: {repeated:?}"
    );
    assert!(
        app.count("SELECT COUNT(*) FROM (SELECT reply_to FROM messages WHERE direction = 'out' GROUP BY reply_to HAVING COUNT(*) > 1) t")
            .await
            == 0,
        "one outbound message per inbound"
    );
}
