//! The durable job queue. A worker claims a job with a lease; a job whose lease ran out (its
//! worker died) is claimable again. Claiming is one UPDATE, so two workers never hold one job.

use super::Store;
use crate::domain::{Millis, now_millis};
pub use crate::jobs::Job;
use sqlx::{Sqlite, Transaction};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, Default)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

/// Adds a job unless one with the same dedupe key exists. Returns whether it was added.
pub(crate) async fn enqueue(tx: &mut Transaction<'_, Sqlite>, job: &Job, now: Millis) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, state, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', $4, $4, $4)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(job.kind)
    .bind(job.payload.to_string())
    .bind(&job.dedupe_key)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

impl Store {
    pub async fn enqueue(&self, job: &Job) -> anyhow::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let added = enqueue(&mut tx, job, now_millis()).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Claims the oldest runnable job for `worker` until `now + lease_ms`.
    pub async fn claim_job(&self, worker: &str, lease_ms: i64) -> anyhow::Result<Option<ClaimedJob>> {
        let now = now_millis();
        Ok(sqlx::query_as(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1,
                             locked_by = $2, updated_at = $3
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' AND run_at <= $3)
                            OR (state = 'running' AND lease_until < $3)
                         ORDER BY run_at, id LIMIT 1)
             RETURNING id, kind, payload, attempts",
        )
        .bind(now + lease_ms)
        .bind(worker)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks a job done, if `worker` still holds it.
    pub async fn complete_job(&self, id: i64, worker: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(now_millis())
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a job back in the queue to run again at `run_at`.
    pub async fn retry_job(&self, id: i64, worker: &str, run_at: Millis, error: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, run_at = $1, last_error = $2,
                             updated_at = $3
             WHERE id = $4 AND locked_by = $5 AND state = 'running'",
        )
        .bind(run_at)
        .bind(error)
        .bind(now_millis())
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn fail_job(&self, id: i64, worker: &str, error: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_until = NULL, last_error = $1, updated_at = $2
             WHERE id = $3 AND locked_by = $4 AND state = 'running'",
        )
        .bind(error)
        .bind(now_millis())
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn job_counts(&self) -> anyhow::Result<JobCounts> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = JobCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "queued" => counts.queued = n,
                "running" => counts.running = n,
                "done" => counts.done = n,
                _ => counts.failed += n,
            }
        }
        Ok(counts)
    }

    /// Jobs of one kind, oldest first, as (kind, state, attempts): for tests and the admin page.
    pub async fn jobs_of_kind(&self, kind: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
        Ok(
            sqlx::query_as("SELECT kind, state, attempts FROM jobs WHERE kind = $1 ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
