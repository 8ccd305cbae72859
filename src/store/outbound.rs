//! The outbox: outbound messages from queued to sent, delivered and read.

use super::events::{self, NewEvent};
use super::jobs::{self, Job};
use super::{Store, Tx, on_pool, on_tx};
use crate::channels::{DeliveryStatus, StatusUpdate};
use crate::domain::Millis;
use serde_json::json;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboundRow {
    pub id: i64,
    pub conversation_id: i64,
    /// The inbound message this answers: the trace it belongs to.
    pub reply_to: i64,
    pub channel: String,
    pub to_address: String,
    pub business_number: String,
    pub body: String,
    pub status: String,
    pub external_id: Option<String>,
    pub inbound_external_id: Option<String>,
    /// The language of the message it answers.
    pub language: Option<String>,
    /// A manager's reason for sending despite a guardrail block.
    pub policy_override: Option<String>,
}

/// Queues a reply to `inbound_id` and its send job. Returns the outbound message id.
pub(super) async fn queue(
    tx: &mut Tx,
    draft_id: i64,
    inbound_id: i64,
    conversation_id: i64,
    body: &str,
    policy_override: Option<&str>,
    now: Millis,
) -> anyhow::Result<i64> {
    let outbound_id: i64 = on_tx!(tx, |conn| sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, direction, channel, reply_to, kind, body, sent_at,
                               status, status_rank, created_at, policy_override)
         SELECT id, 'out', channel, $1, 'text', $2, $3, 'queued', 0, $3, $5 FROM conversations WHERE id = $4
         RETURNING id",
    )
    .bind(inbound_id)
    .bind(body)
    .bind(now)
    .bind(conversation_id)
    .bind(policy_override)
    .fetch_one(conn)
    .await)?;
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE drafts SET outbound_id = $1 WHERE id = $2"
    )
    .bind(outbound_id)
    .bind(draft_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    jobs::enqueue(tx, &Job::send(outbound_id), now).await?;
    events::insert(
        tx,
        &NewEvent::new("queued", "Reply queued for sending")
            .on(inbound_id, conversation_id)
            .detail(json!({ "outbound_id": outbound_id, "draft_id": draft_id })),
    )
    .await?;
    Ok(outbound_id)
}

impl Store {
    pub async fn outbound(&self, id: i64) -> anyhow::Result<Option<OutboundRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT m.id, m.conversation_id, m.reply_to, m.channel, k.address AS to_address,
                    c.business_number, m.body, m.status, m.external_id,
                    i.external_id AS inbound_external_id, i.language, m.policy_override
             FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
             JOIN contacts k ON k.id = c.contact_id
             JOIN messages i ON i.id = m.reply_to
             WHERE m.id = $1 AND m.direction = 'out'",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Moves a queued message to `sent` with the provider's id. Returns `false` if it was not
    /// queued any more (another attempt got there first).
    pub async fn mark_sent(
        &self,
        out: &OutboundRow,
        external_id: &str,
        event: NewEvent,
    ) -> anyhow::Result<bool> {
        self.finish_send(out, "sent", Some(external_id), None, event)
            .await
    }

    /// Moves a queued message to a terminal send state: `failed` or `not_configured`.
    pub async fn mark_unsent(
        &self,
        out: &OutboundRow,
        status: &str,
        error: &str,
        event: NewEvent,
    ) -> anyhow::Result<bool> {
        self.finish_send(out, status, None, Some(error), event).await
    }

    async fn finish_send(
        &self,
        out: &OutboundRow,
        status: &str,
        external_id: Option<&str>,
        error: Option<&str>,
        event: NewEvent,
    ) -> anyhow::Result<bool> {
        let rank = DeliveryStatus::parse(status).map_or(DeliveryStatus::Failed.rank(), DeliveryStatus::rank);
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE messages SET status = $1, status_rank = $2, external_id = COALESCE($3, external_id),
                                 last_error = $4
             WHERE id = $5 AND status IN ('queued', 'sending', 'unconfirmed')",
        )
        .bind(status)
        .bind(rank)
        .bind(external_id)
        .bind(error)
        .bind(out.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?
            == 1;
        if changed {
            events::insert(&mut tx, &event.on(out.reply_to, out.conversation_id)).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Stops a queued reply that the policy no longer allows (an opt-out since, the 24-hour
    /// window closed, a block): it waits for a person in the inbox's "Not sent" list.
    pub async fn mark_blocked(&self, out: &OutboundRow, why: &str, event: NewEvent) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE messages SET status = 'blocked', last_error = $1 WHERE id = $2 AND status = 'queued'"
        )
        .bind(why)
        .bind(out.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 1 {
            events::insert(&mut tx, &event.on(out.reply_to, out.conversation_id)).await?;
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Marks a queued message as being sent, before the provider is called. Returns `false` if
    /// it was not queued (another worker has it, or it is done).
    pub async fn claim_send(&self, out: &OutboundRow) -> anyhow::Result<bool> {
        let claimed = on_pool!(self, |pool| sqlx::query(
            "UPDATE messages SET status = 'sending' WHERE id = $1 AND status = 'queued'"
        )
        .bind(out.id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// Puts a message whose send certainly failed back in the queue, recording the attempt.
    pub async fn requeue_send(&self, out: &OutboundRow, event: NewEvent) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE messages SET status = 'queued', last_error = $1 WHERE id = $2 AND status = 'sending'"
        )
        .bind(&event.summary)
        .bind(out.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        events::insert(&mut tx, &event.on(out.reply_to, out.conversation_id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A send whose outcome is unknown (the worker died mid-call, or the provider never
    /// answered) is never resent blindly: it waits for a status webhook or a person.
    pub async fn mark_unconfirmed(
        &self,
        out: &OutboundRow,
        why: &str,
        event: NewEvent,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE messages SET status = 'unconfirmed', last_error = $1 WHERE id = $2 AND status = 'sending'"
        )
        .bind(why)
        .bind(out.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 1 {
            events::insert(&mut tx, &event.on(out.reply_to, out.conversation_id)).await?;
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Applies a provider status report. A status only ever moves forward; a report that would
    /// move it back is recorded on the trace and otherwise ignored. Returns `None` when no
    /// outbound message has that provider id (yet).
    pub async fn apply_status(&self, update: &StatusUpdate) -> anyhow::Result<Option<bool>> {
        let mut tx = self.begin().await?;
        let row: Option<(i64, i64, i64, i64)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT id, reply_to, conversation_id, status_rank FROM messages
             WHERE channel = $1 AND external_id = $2 AND direction = 'out'",
        )
        .bind(&update.channel)
        .bind(&update.external_id)
        .fetch_optional(conn)
        .await)?;
        let Some((id, inbound_id, conversation_id, old_rank)) = row else {
            return Ok(None);
        };
        let new_rank = update.status.rank();
        let advanced = new_rank > old_rank;
        if advanced {
            on_tx!(&mut tx, |conn| {
                sqlx::query("UPDATE messages SET status = $1, status_rank = $2, last_error = COALESCE($3, last_error) WHERE id = $4")
                .bind(update.status.as_str())
                .bind(new_rank)
                .bind(&update.error)
                .bind(id)
                .execute(conn)
                .await
            .map(|r| r.rows_affected())
            })?;
        }
        for (kind, summary) in status_events(old_rank, update.status, advanced) {
            let event = NewEvent::new(kind, summary)
                .on(inbound_id, conversation_id)
                .detail(json!({
                    "outbound_id": id,
                    "external_id": update.external_id,
                    "status": update.status.as_str(),
                    "provider_time": update.at,
                    "error": update.error,
                }));
            events::insert(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(Some(advanced))
    }

    pub async fn outbound_count(&self) -> anyhow::Result<i64> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE direction = 'out'"
        )
        .fetch_one(pool)
        .await)?)
    }
}

/// The trace events for a status report. A `read` that skips `delivered` implies it, so the
/// daily counts stay exact whatever order the provider reports in.
fn status_events(old_rank: i64, status: DeliveryStatus, advanced: bool) -> Vec<(&'static str, String)> {
    if !advanced {
        return vec![(
            "status_ignored",
            format!("Status {} ignored: already further along", status.as_str()),
        )];
    }
    let mut out = Vec::new();
    if status == DeliveryStatus::Read && old_rank < DeliveryStatus::Delivered.rank() {
        out.push(("delivered", "Delivered (implied by a read receipt)".to_owned()));
    }
    let kind = match status {
        DeliveryStatus::Queued | DeliveryStatus::Sent => "status_sent",
        DeliveryStatus::Failed => "status_failed",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Read => "read",
    };
    out.push((kind, format!("Provider reports {}", status.as_str())));
    out
}
