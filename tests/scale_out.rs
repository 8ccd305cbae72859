//! Three Tuesday processes on one PostgreSQL database: 2,000 messages pushed through them, one
//! instance killed midway. Every message is processed exactly once and nothing is sent twice.
//! Runs when `TUESDAY_TEST_POSTGRES` names a server (the test script sets it).

#[path = "api/helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;
use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

const MESSAGES: usize = 2_000;
const PER_DELIVERY: usize = 10;

struct Instance {
    child: Child,
    url: String,
}

fn start_instance(database_url: &str, graph_base: &str) -> Instance {
    let mut command = serve_command(database_url, graph_base);
    command
        .env("TUESDAY_WORKER__CONCURRENCY", "4")
        .env("TUESDAY_WORKER__LEASE_SECS", "2")
        .env("TUESDAY_WORKER__POLL_INTERVAL_MS", "100")
        .env("TUESDAY_WORKER__RETRY_BASE_MS", "200");
    let (child, url) = spawn_serve(command);
    Instance { child, url }
}

fn delivery(batch: usize) -> String {
    let texts = [
        "hola!! 👋",
        "oi, bom dia",
        "hi there",
        "buenas tardes",
        "olá 😊",
        "hello",
    ];
    let messages: Vec<_> = (0..PER_DELIVERY)
        .map(|i| {
            let n = batch * PER_DELIVERY + i;
            json!({"from": format!("55119{n:08}"), "id": format!("wamid.SCALE{n}"), "timestamp": now_seconds(),
                   "type": "text", "text": {"body": texts[n % texts.len()]}})
        })
        .collect();
    delivery_of("messages", messages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_process_every_message_once_through_a_crash() {
    if postgres_server().is_none() {
        eprintln!("skipped: set TUESDAY_TEST_POSTGRES to run the multi-instance test");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;
    let (graph_base, graph) = spawn_graph().await;
    let mut instances: Vec<Instance> = (0..3)
        .map(|_| start_instance(&database_url, &graph_base))
        .collect();
    let http = client();

    let batches = MESSAGES / PER_DELIVERY;
    let mut alive = vec![true; instances.len()];
    for batch in 0..batches {
        if batch == batches / 2 {
            instances[0].child.kill().expect("kill instance 0");
            instances[0].child.wait().expect("reap instance 0");
            alive[0] = false;
        }
        let body = delivery(batch);
        let signature = sign(APP_SECRET.as_bytes(), body.as_bytes());
        // Like Meta: a delivery that was not acknowledged goes again, here to another instance.
        let mut target = batch % instances.len();
        loop {
            if alive[target] {
                let sent = http
                    .post(format!("{}/webhooks/whatsapp", instances[target].url))
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", &signature)
                    .body(body.clone())
                    .send()
                    .await;
                if matches!(&sent, Ok(r) if r.status() == 200) {
                    break;
                }
            }
            target = (target + 1) % instances.len();
        }
    }

    let store = tuesday::store::Store::connect(&database_url)
        .await
        .expect("connect");
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let drafts = store
            .scalar_i64("SELECT COUNT(*) FROM drafts")
            .await
            .expect("count");
        let pending = store
            .scalar_i64("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
            .await
            .expect("count");
        if drafts == MESSAGES as i64 && pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out: {drafts} drafts, {pending} jobs pending"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let count = |sql: &'static str| {
        let store = store.clone();
        async move { store.scalar_i64(sql).await.expect(sql) }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM messages WHERE direction = 'in'").await,
        MESSAGES as i64
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT message_id) FROM drafts").await,
        MESSAGES as i64
    );
    assert_eq!(count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'").await, 0);

    let requests = graph.requests();
    let mut per_message: HashMap<String, usize> = HashMap::new();
    for request in &requests {
        let quoted = request.body["context"]["message_id"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        *per_message.entry(quoted).or_default() += 1;
    }
    let duplicates: Vec<_> = per_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "sent twice: {duplicates:?}");
    let sent = count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'").await;
    let unconfirmed =
        count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'unconfirmed'").await;
    assert!(sent > 0, "replies went out");
    // Every provider call is accounted for: recorded as sent, or held as unconfirmed because the
    // instance died between the call and the record.
    assert!(requests.len() as i64 >= sent && requests.len() as i64 <= sent + unconfirmed);
    eprintln!(
        "{MESSAGES} messages, {} provider calls, {sent} sent, {unconfirmed} unconfirmed after the kill",
        requests.len()
    );

    for instance in &mut instances[1..] {
        instance.child.kill().expect("stop instance");
        instance.child.wait().expect("reap");
    }
}
