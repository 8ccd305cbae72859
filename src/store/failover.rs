//! Degraded mode in the database, so every worker, every instance and the dashboard see the
//! same start time, and the messages it held until a model can draft them again.

use super::{Store, Tx, events, jobs, on_pool, on_tx};
use crate::domain::Millis;
use crate::jobs::Job;
use crate::store::NewEvent;
use serde_json::json;

/// A degraded period in the dashboard's history: `until` is `None` while it lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct DegradedPeriod {
    pub since: Millis,
    pub until: Option<Millis>,
    pub reason: String,
}

/// Degraded mode as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DegradedMode {
    pub since: Millis,
    pub reason: String,
}

impl Store {
    /// Enters degraded mode unless it is already on. Returns whether this call entered it.
    pub async fn enter_degraded(&self, reason: &str) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let now = tx.now;
        let added = on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO degraded_mode (id, since, reason) VALUES (1, $1, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .bind(reason)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if added == 1 {
            let event = NewEvent::new("degraded_started", format!("Degraded mode: {reason}"))
                .detail(json!({ "reason": reason }));
            events::insert(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(added == 1)
    }

    /// Leaves degraded mode, if it was on, and wakes the held messages' resume jobs at once.
    /// Returns when it had begun.
    pub async fn leave_degraded(&self) -> anyhow::Result<Option<Millis>> {
        let now = self.clock.now_millis();
        let mut tx = self.begin().await?;
        let ended: Option<(Millis, String)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "DELETE FROM degraded_mode WHERE id = 1 RETURNING since, reason"
        )
        .fetch_optional(conn)
        .await)?;
        let since = ended.as_ref().map(|(since, _)| *since);
        if let Some((since, reason)) = ended {
            let lasted = now - since;
            let event = NewEvent::new(
                "degraded_ended",
                format!("Degraded mode over after {} s: a model answered", lasted / 1000),
            )
            .detail(json!({ "since": since, "lasted_ms": lasted, "reason": reason }));
            events::insert(&mut tx, &event).await?;
            on_tx!(&mut tx, |conn| sqlx::query(
                "UPDATE jobs SET run_at = $1 WHERE kind = $2 AND state = 'queued' AND run_at > $1"
            )
            .bind(now)
            .bind(crate::jobs::RESUME_DEGRADED)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(since)
    }

    pub async fn degraded_mode(&self) -> anyhow::Result<Option<DegradedMode>> {
        let row: Option<(Millis, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT since, reason FROM degraded_mode WHERE id = 1"
        )
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|(since, reason)| DegradedMode { since, reason }))
    }

    /// Messages whose degraded-mode draft still waits: held, and neither reviewed nor
    /// drafted again.
    pub async fn degraded_waiting(&self) -> anyhow::Result<i64> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM degraded_holds h JOIN drafts d ON d.message_id = h.message_id
             WHERE h.resumed_at IS NULL AND d.state = 'held'"
        )
        .fetch_one(pool)
        .await)?)
    }

    /// Takes back a degraded-mode draft nobody has touched, so the pipeline drafts the message
    /// again. Returns `false` (and changes nothing) when a person has already acted on it.
    pub async fn reopen_degraded(&self, message_id: i64, event: NewEvent) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let now = tx.now;
        let taken = on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM drafts WHERE message_id = $1 AND state = 'held' AND version = 0
               AND decided_at IS NULL
               AND EXISTS (SELECT 1 FROM degraded_holds h
                           WHERE h.message_id = $1 AND h.resumed_at IS NULL)"
        )
        .bind(message_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE degraded_holds SET resumed_at = $1 WHERE message_id = $2 AND resumed_at IS NULL"
        )
        .bind(now)
        .bind(message_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if taken == 1 {
            events::insert(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(taken == 1)
    }

    /// The degraded periods that ended in the day range (`YYYY-MM-DD`, inclusive), oldest
    /// first, then the one still running.
    pub async fn degraded_periods(
        &self,
        from_day: &str,
        to_day: &str,
    ) -> anyhow::Result<Vec<DegradedPeriod>> {
        let ended: Vec<(Millis, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT at, detail FROM events WHERE kind = 'degraded_ended' AND day >= $1 AND day <= $2
             ORDER BY at"
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await)?;
        let mut periods: Vec<DegradedPeriod> = ended
            .into_iter()
            .map(|(until, detail)| {
                let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
                DegradedPeriod {
                    since: detail["since"].as_i64().unwrap_or(until),
                    until: Some(until),
                    reason: detail["reason"].as_str().unwrap_or_default().to_owned(),
                }
            })
            .collect();
        if let Some(now) = self.degraded_mode().await? {
            periods.push(DegradedPeriod {
                since: now.since,
                until: None,
                reason: now.reason,
            });
        }
        Ok(periods)
    }

    /// How many times a task left a model for the next one in its chain, in the day range.
    pub async fn failovers(&self, from_day: &str, to_day: &str) -> anyhow::Result<i64> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE kind = 'route' AND day >= $1 AND day <= $2
               AND detail LIKE '%\"hop\":true%'"
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_one(pool)
        .await)?)
    }
}

/// Records that degraded mode held `message_id`'s draft, and schedules the check that drafts it
/// again once providers are back.
pub(crate) async fn hold_degraded(tx: &mut Tx, message_id: i64, check_at: Millis) -> anyhow::Result<()> {
    let now = tx.now;
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO degraded_holds (message_id, held_at) VALUES ($1, $2)
         ON CONFLICT (message_id) DO UPDATE SET held_at = excluded.held_at, resumed_at = NULL",
    )
    .bind(message_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let mut job = Job::resume_degraded(message_id, now);
    job.run_at = Some(check_at);
    jobs::enqueue(tx, &job, now).await?;
    Ok(())
}
