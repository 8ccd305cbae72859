//! Ingest load generator: signed WhatsApp webhook deliveries at a fixed rate (open loop), each
//! with a new message id, against a running Tuesday. Latency is measured from the moment each
//! request was due, so a stalled server cannot hide its queueing (no coordinated omission).
//!
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8080 --secret S --rate 1000 --seconds 10

use hdrhistogram::Histogram;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

struct Args {
    url: String,
    secret: String,
    rate: u64,
    seconds: u64,
    connections: usize,
    run: String,
}

fn args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        secret: "bench-secret".into(),
        rate: 1000,
        seconds: 10,
        connections: 64,
        run: format!("{}", std::process::id()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--url" => args.url = value,
            "--secret" => args.secret = value,
            "--rate" => args.rate = value.parse().unwrap_or(args.rate),
            "--seconds" => args.seconds = value.parse().unwrap_or(args.seconds),
            "--connections" => args.connections = value.parse().unwrap_or(args.connections),
            "--run" => args.run = value,
            other => eprintln!("ignoring unknown flag {other}"),
        }
    }
    args
}

fn body(run: &str, n: u64) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},"contacts":[{{"profile":{{"name":"Bench {n}"}},"wa_id":"5511{n:09}"}}],"messages":[{{"from":"5511{n:09}","id":"wamid.bench.{run}.{n}","timestamp":"1764780000","type":"text","text":{{"body":"Olá! Quanto custa o curso de Análise de Dados? 😀"}}}}]}}}}]}}]}}"#
    )
}

#[tokio::main]
async fn main() {
    let args = args();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()
        .expect("client");
    let histogram = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
    ));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let permits = Arc::new(Semaphore::new(args.connections));
    let total = args.rate * args.seconds;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let payload = body(&args.run, n);
        let signature = tuesday::channels::whatsapp::sign(args.secret.as_bytes(), payload.as_bytes());
        let (client, url, histogram, errors) = (
            client.clone(),
            format!("{}/webhooks/whatsapp", args.url),
            histogram.clone(),
            errors.clone(),
        );
        handles.push(tokio::spawn(async move {
            let ok = client
                .post(url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(payload)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            let micros = due.elapsed().as_micros() as u64;
            if ok {
                let _ = histogram.lock().await.record(micros.max(1));
            } else {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(permit);
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let h = histogram.lock().await;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{{\"target_rate\":{},\"sent\":{},\"ok\":{},\"errors\":{},\"achieved_rate\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        args.rate,
        total,
        h.len(),
        errors.load(std::sync::atomic::Ordering::Relaxed),
        h.len() as f64 / elapsed,
        ms(0.50),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
}
