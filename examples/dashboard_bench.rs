//! How fast the dashboard and inbox pages answer on a big SQLite database: loads 100,000
//! conversations with 1,000,000 messages (half inbound with a draft and a `received` event, half
//! sent replies; 1% of drafts held, 5% approved, 1% rejected, 0.5% of sends failed) over 60
//! days, starts Tuesday on it, signs in as a manager and times each page over HTTP.
//!
//! cargo run --release --example dashboard_bench -- 100000 5 [keep.db]
//!
//! With a third argument the database is written there and kept, to look at query plans.
//! The first dashboard request builds the roll-up for every conversation; it is timed apart.
//! The loader writes rows straight with SQL: it is a fixture, not a path the app uses.

use secrecy::SecretString;
use std::time::{Duration, Instant};
use tuesday::config::Settings;
use tuesday::startup::Application;

const PASSWORD: &str = "benchmark password";

async fn load(url: &str, conversations: i64, now: i64) -> anyhow::Result<()> {
    let pool = sqlx::SqlitePool::connect(url).await?;
    let span = 60 * 86_400_000_i64;
    let statements = [
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {conversations})
             INSERT INTO contacts (id, channel, address, name, market, language, last_inbound_at, created_at)
             SELECT i, 'whatsapp', CAST(34600000000 + i AS TEXT), 'Contact ' || i,
                    CASE i % 3 WHEN 0 THEN 'ES' WHEN 1 THEN 'BR' ELSE 'US' END,
                    CASE i % 3 WHEN 0 THEN 'es' WHEN 1 THEN 'pt' ELSE 'en' END,
                    {now} - (i * {span} / {conversations}) + 540000, {now} - (i * {span} / {conversations}) FROM n"
        ),
        "INSERT INTO conversations (id, contact_id, channel, business_number, language, created_at, last_message_at)
         SELECT id, id, 'whatsapp', '106540352242922', language, created_at, created_at + 540000 FROM contacts"
            .to_owned(),
        // Ten messages per conversation, a minute apart: in, out, in, out, …
        "WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 9)
         INSERT INTO messages (id, conversation_id, direction, channel, external_id, kind, body, sent_at,
                               language, status, status_rank, last_error, created_at)
         SELECT c.id * 10 + k.j, c.id, CASE k.j % 2 WHEN 0 THEN 'in' ELSE 'out' END, 'whatsapp',
                'wamid.' || (c.id * 10 + k.j), 'text',
                CASE k.j % 2 WHEN 0 THEN 'Hola, ¿cuánto cuesta el curso? 😀' ELSE 'El curso cuesta 349 €.' END,
                c.created_at + k.j * 60000, c.language,
                CASE WHEN k.j % 2 = 0 THEN NULL WHEN (c.id * 10 + k.j) % 200 = 1 THEN 'failed' ELSE 'sent' END,
                0, CASE WHEN k.j % 2 = 1 AND (c.id * 10 + k.j) % 200 = 1 THEN 'Graph API error 131047' END,
                c.created_at + k.j * 60000
         FROM conversations c CROSS JOIN k"
            .to_owned(),
        "INSERT INTO drafts (message_id, conversation_id, language, intent, confidence, body, source, state,
                             hold_reasons, version, decided_at, final_body, reject_reason, outbound_id, created_at)
         SELECT m.id, m.conversation_id, m.language, CASE m.id % 4 WHEN 0 THEN 'pricing' WHEN 2 THEN 'course_info' ELSE 'greeting' END,
                0.9, 'El curso cuesta 349 €.', 'template',
                CASE WHEN m.id % 100 = 0 THEN 'held' WHEN m.id % 100 < 7 THEN 'approved' WHEN m.id % 100 < 9 THEN 'rejected' ELSE 'auto_sent' END,
                CASE WHEN m.id % 100 = 0 THEN '[{\"rule\":\"prices\",\"reason\":\"price_not_in_catalog\",\"message\":\"x\",\"span\":[16,21]}]' ELSE '[]' END,
                0,
                CASE WHEN m.id % 100 BETWEEN 1 AND 8 THEN m.created_at + 300000 END,
                CASE WHEN m.id % 100 BETWEEN 1 AND 6 THEN 'El curso cuesta 349 € al contado.' END,
                CASE WHEN m.id % 100 BETWEEN 7 AND 8 THEN 'tono' END,
                CASE WHEN m.id % 100 = 0 OR m.id % 100 BETWEEN 7 AND 8 THEN NULL ELSE m.id + 1 END,
                m.created_at
         FROM messages m WHERE m.direction = 'in'"
            .to_owned(),
        "INSERT INTO events (message_id, conversation_id, kind, summary, detail, day, at)
         SELECT id, conversation_id, 'received', 'Received', '{}',
                strftime('%Y-%m-%d', created_at / 1000, 'unixepoch'), created_at
         FROM messages WHERE direction = 'in'"
            .to_owned(),
        "ANALYZE".to_owned(),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
    }
    pool.close().await;
    Ok(())
}

async fn time(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let response = client.get(url).send().await?;
    anyhow::ensure!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await?;
    Ok(start.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let conversations: i64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir()?;
    let path = args
        .next()
        .map_or_else(|| dir.path().join("bench.db"), std::path::PathBuf::from);
    anyhow::ensure!(!path.exists(), "{} exists; name a new file", path.display());
    let url = format!("sqlite://{}", path.display());
    let mut settings = Settings {
        database_url: url.clone(),
        ..Settings::default()
    };
    settings.server.port = 0;
    settings.worker.enabled = false;
    settings.users.manager_password = Some(SecretString::from(PASSWORD));
    let app = Application::build(settings).await?;
    let now = app.state.clock().now_millis();
    let started = Instant::now();
    load(&url, conversations, now).await?;
    let messages = app
        .state
        .store
        .scalar_i64("SELECT COUNT(*) FROM messages")
        .await?;
    println!(
        "loaded {conversations} conversations, {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(async move { app.run().await });

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = client
        .get(format!("{address}/login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let csrf = login
        .split(marker)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    client
        .post(format!("{address}/login"))
        .form(&[
            ("username", "manager"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await?;

    let first = time(&client, &format!("{address}/dashboard")).await?;
    println!(
        "first dashboard (builds the roll-up of every conversation): {} ms",
        first.as_millis()
    );
    let pages = [
        "/dashboard",
        "/dashboard?by=week",
        "/dashboard?by=intent&from=2026-01-01&to=2027-12-31",
        "/inbox",
        "/inbox?view=failed",
        "/inbox?lang=pt&age=60",
        "/dashboard/export/funnel.csv",
    ];
    for page in pages {
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(time(&client, &format!("{address}{page}")).await?);
        }
        times.sort();
        println!(
            "{page:55} median {:>5} ms  max {:>5} ms  ({runs} runs)",
            times[times.len() / 2].as_millis(),
            times[times.len() - 1].as_millis()
        );
    }
    Ok(())
}
