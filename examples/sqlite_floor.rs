//! The physical limit of ingest on this disk: one-row transactions into SQLite with the same
//! settings Tuesday uses (WAL, synchronous = FULL), from one writer, as fast as they commit.
//!
//! cargo run --release --example sqlite_floor -- 5000

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir()?;
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("floor.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let body = "x".repeat(600);
    let start = Instant::now();
    for _ in 0..rows {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO t (body) VALUES ($1)")
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{{\"rows\":{rows},\"seconds\":{elapsed:.2},\"commits_per_second\":{:.0}}}",
        rows as f64 / elapsed
    );
    Ok(())
}
