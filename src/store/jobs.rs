//! The durable job queue. A worker claims a job with a lease; a job whose lease ran out (its
//! worker died) is claimable again. Claiming is one statement: on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so instances never wait on each other or share a job. Among the
//! runnable jobs the one with the nearest deadline goes first (a customer's 24-hour window).

use super::{Backend, Store, Tx, on_pool, on_tx};
use crate::domain::Millis;
pub use crate::jobs::Job;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    /// When it must be done by (`None` for jobs queued before deadlines existed).
    pub deadline_at: Option<Millis>,
}

#[derive(Debug, Clone, Default)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

/// Adds a job unless one with the same dedupe key exists. Returns whether it was added.
pub(crate) async fn enqueue(tx: &mut Tx, job: &Job, now: Millis) -> sqlx::Result<bool> {
    let payload = job.payload.to_string();
    let run_at = job.run_at.unwrap_or(now);
    let deadline = job.deadline.unwrap_or(run_at + crate::jobs::DEFAULT_DEADLINE_MS);
    let result = on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, state, run_at, deadline_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $6)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(job.kind)
    .bind(&payload)
    .bind(&job.dedupe_key)
    .bind(run_at)
    .bind(deadline)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(result == 1)
}

// Both walk `jobs_due` (queued and running jobs in claim order) and stop at the first runnable
// job; `state IN (...)` repeats the index's condition so the planner may use it. SQLite's
// planner, without statistics, would rather gather every ready job through `jobs_ready` and
// sort them all (a cost that grows with the backlog), so it is told which index to use.
const CLAIM_SQLITE: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1,
                                locked_by = $2, updated_at = $3
    WHERE id = (SELECT id FROM jobs INDEXED BY jobs_due
                WHERE state IN ('queued', 'running')
                  AND ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3))
                ORDER BY COALESCE(deadline_at, run_at), run_at, id LIMIT 1)
    RETURNING id, kind, payload, attempts, deadline_at";

const CLAIM_POSTGRES: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1,
                                locked_by = $2, updated_at = $3
    WHERE id = (SELECT id FROM jobs
                WHERE state IN ('queued', 'running')
                  AND ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3))
                ORDER BY COALESCE(deadline_at, run_at), run_at, id LIMIT 1
                FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, payload, attempts, deadline_at";

impl Store {
    pub async fn enqueue(&self, job: &Job) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let added = enqueue(&mut tx, job, self.clock.now_millis()).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Claims the oldest runnable job for `worker` until `now + lease_ms`.
    pub async fn claim_job(&self, worker: &str, lease_ms: i64) -> anyhow::Result<Option<ClaimedJob>> {
        let now = self.clock.now_millis();
        let sql = match self.backend() {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(now + lease_ms)
            .bind(worker)
            .bind(now)
            .fetch_optional(pool)
            .await)?)
    }

    /// Extends `worker`'s lease on a job it is still running to `now + lease_ms`. Returns
    /// whether it still held the job.
    pub async fn renew_lease(&self, id: i64, worker: &str, lease_ms: i64) -> anyhow::Result<bool> {
        let now = self.clock.now_millis();
        let renewed = on_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2
             WHERE id = $3 AND locked_by = $4 AND state = 'running'",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(renewed == 1)
    }

    /// Marks a job done, if `worker` still holds it.
    pub async fn complete_job(&self, id: i64, worker: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(self.clock.now_millis())
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Puts a job back in the queue to run again at `run_at`.
    pub async fn retry_job(&self, id: i64, worker: &str, run_at: Millis, error: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, run_at = $1, last_error = $2,
                             updated_at = $3
             WHERE id = $4 AND locked_by = $5 AND state = 'running'",
        )
        .bind(run_at)
        .bind(error)
        .bind(self.clock.now_millis())
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn fail_job(&self, id: i64, worker: &str, error: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_until = NULL, last_error = $1, updated_at = $2
             WHERE id = $3 AND locked_by = $4 AND state = 'running'",
        )
        .bind(error)
        .bind(self.clock.now_millis())
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Puts a job back to run at `run_at` without counting this run as an attempt: it was not
    /// a failure, only too early (outside the contact's sending hours).
    pub async fn defer_job(&self, id: i64, worker: &str, run_at: Millis, why: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, run_at = $1, last_error = $2,
                             attempts = attempts - 1, updated_at = $3
             WHERE id = $4 AND locked_by = $5 AND state = 'running'",
        )
        .bind(run_at)
        .bind(why)
        .bind(self.clock.now_millis())
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Gives a job back to the queue at once, as a worker does when it shuts down mid-job.
    pub async fn release_job(&self, id: i64, worker: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, attempts = attempts - 1, updated_at = $1
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(self.clock.now_millis())
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn job_counts(&self) -> anyhow::Result<JobCounts> {
        let rows: Vec<(String, i64)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT state, COUNT(*) FROM jobs GROUP BY state"
        )
        .fetch_all(pool)
        .await)?;
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
}
