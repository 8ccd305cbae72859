//! Pipeline overhead: everything Tuesday does to a message except calling a model. Messages
//! from the labelled demo data (es, pt, en) are stored as WhatsApp deliveries, then two workers
//! run every job: language detection, local classification, templates, every guardrail, the
//! decision, the draft and trace rows, and the outbox (no WhatsApp token, so each auto-sent
//! reply is recorded as "channel not configured" instead of leaving the machine).
//!
//! cargo run --release --example pipeline_bench -- --messages 100000 [--workers 2] [--db FILE]
//!
//! Prints JSON: messages, jobs, wall seconds, messages per second, and the process's CPU time
//! per message (user + system, from /proc/self/stat).

use std::time::Instant;
use tuesday::channels::{Delivery, InboundMessage, WHATSAPP};
use tuesday::config::Settings;
use tuesday::pipeline::classify::{DEMO_TEST, DEMO_TRAIN, read_jsonl};
use tuesday::startup::build_state;

const PER_DELIVERY: usize = 100;
const CONTACTS: usize = 10_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let messages = flag("--messages").unwrap_or(100_000);
    let workers = flag("--workers").unwrap_or(2);
    // Logs only when asked (`RUST_LOG=sqlx::query=debug` lists every statement and its time).
    if std::env::var_os("RUST_LOG").is_some() {
        tuesday::telemetry::init();
    }
    let dir = tempfile::tempdir()?;
    // `--db FILE` keeps the database afterwards, to look at its query plans.
    let path = text_flag("--db").map_or_else(|| dir.path().join("bench.db"), std::path::PathBuf::from);
    let mut settings = Settings {
        database_url: format!("sqlite://{}", path.display()),
        ..Settings::default()
    };
    settings.worker.enabled = false;
    settings.pipeline.auto_send_min_accuracy = 0.0;
    // A weekday afternoon when every market is open, so sends are not deferred to the morning.
    settings.clock_start = Some(chrono::DateTime::parse_from_rfc3339("2026-12-09T16:30:00Z")?.to_utc());
    for password in [
        &mut settings.users.admin_password,
        &mut settings.users.manager_password,
        &mut settings.users.rep_password,
    ] {
        *password = Some("bench".to_owned().into());
    }
    let (state, _) = build_state(settings).await?;

    let mut texts = Vec::new();
    for source in DEMO_TRAIN.iter().chain(&DEMO_TEST) {
        texts.extend(read_jsonl(source)?.into_iter().map(|e| e.text));
    }
    let sent_at = state.clock().now_millis();
    let ingest_start = Instant::now();
    for batch in 0..messages.div_ceil(PER_DELIVERY) {
        let delivery = Delivery {
            messages: (batch * PER_DELIVERY..((batch + 1) * PER_DELIVERY).min(messages))
                .map(|n| InboundMessage {
                    channel: WHATSAPP,
                    external_id: format!("wamid.BENCH{n}"),
                    from: format!("5511{:09}", n % CONTACTS),
                    profile_name: None,
                    business_number: "106540352242922".to_owned(),
                    kind: "text".to_owned(),
                    body: texts[n % texts.len()].clone(),
                    sent_at,
                    reply_to_external_id: None,
                })
                .collect(),
            ..Delivery::default()
        };
        state.store.ingest(WHATSAPP, "{}", &delivery).await?;
    }
    let ingest_seconds = ingest_start.elapsed().as_secs_f64();

    let cpu_before = cpu_seconds()?;
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let state = state.clone();
        handles.push(tokio::spawn(async move { tuesday::jobs::drain(&state).await }));
    }
    let mut jobs = 0;
    for handle in handles {
        jobs += handle.await??;
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds()? - cpu_before;
    let drafts = state.store.scalar_i64("SELECT COUNT(*) FROM drafts").await?;
    let events = state.store.scalar_i64("SELECT COUNT(*) FROM events").await?;
    anyhow::ensure!(
        drafts as usize == messages,
        "{drafts} drafts for {messages} messages"
    );
    println!(
        "{}",
        serde_json::json!({
            "messages": messages,
            "jobs": jobs,
            "trace_events": events,
            "ingest_seconds": round(ingest_seconds),
            "seconds": round(seconds),
            "messages_per_second": round(messages as f64 / seconds),
            "cpu_ms_per_message": round(cpu * 1000.0 / messages as f64),
            "wall_ms_per_message": round(seconds * 1000.0 / messages as f64),
        })
    );
    Ok(())
}

fn flag(name: &str) -> Option<usize> {
    text_flag(name)?.parse().ok()
}

fn text_flag(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

/// User plus system CPU time of this process so far, from /proc/self/stat (in clock ticks).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("unreadable /proc/self/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks =
        |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).copied().unwrap_or("0").parse::<f64>()?) };
    // utime and stime: fields 14 and 15 of the line, 11 and 12 (from 0) after the name.
    let ticks_per_second = clock_ticks()?;
    Ok((ticks(11)? + ticks(12)?) / ticks_per_second)
}

fn clock_ticks() -> anyhow::Result<f64> {
    let out = std::process::Command::new("getconf").arg("CLK_TCK").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
