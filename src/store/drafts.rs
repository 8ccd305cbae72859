//! Drafts: written by the pipeline, held for review or sent, approved or rejected by people.
//! Every state change is a compare-and-set on `version`, so two reps can never both send.

use super::events::{self, NewEvent};
use super::{NewModelCall, contacts, failover, model_calls, outbound};
use super::{Store, on_pool, on_tx};
use crate::domain::Millis;
use serde_json::json;

/// A draft as the pipeline hands it to the store, with the trace of how it was made.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub message_id: i64,
    pub conversation_id: i64,
    pub contact_id: i64,
    pub market: String,
    pub language: String,
    pub intent: String,
    pub confidence: f64,
    pub body: String,
    pub source: String,
    /// `true` sends it straight away; `false` holds it for review.
    pub auto_send: bool,
    pub hold_reasons: serde_json::Value,
    /// The message asks not to be contacted again: the contact goes on the suppression list.
    pub opt_out: bool,
    /// Degraded mode held it: when to check whether providers are back to draft it again.
    /// The hold and its check are stored with the draft, so neither is lost to a crash.
    pub degraded_check_at: Option<Millis>,
    pub events: Vec<NewEvent>,
    /// The local tier's answers that made it, recorded with it (they cost nothing).
    pub free_calls: Vec<NewModelCall>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftRow {
    pub id: i64,
    pub message_id: i64,
    pub conversation_id: i64,
    pub language: String,
    pub intent: String,
    pub confidence: f64,
    pub body: String,
    pub source: String,
    pub state: String,
    pub hold_reasons: String,
    pub version: i64,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Millis>,
    pub final_body: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: Millis,
}

/// A row of the review inbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldDraft {
    pub id: i64,
    pub conversation_id: i64,
    pub message_id: i64,
    pub contact_name: Option<String>,
    pub contact_address: String,
    pub inbound_body: String,
    pub language: String,
    pub intent: String,
    pub confidence: f64,
    pub hold_reasons: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApproveOutcome {
    /// The draft is approved and its reply queued as this outbound message.
    Approved { outbound_id: i64 },
    /// Someone else decided on the draft first; nothing was changed.
    AlreadyDecided,
}

/// `SELECT … FROM drafts d` with the decider's name, followed by the rest of the query.
macro_rules! select_drafts {
    ($rest:literal) => {
        concat!(
            "SELECT d.id, d.message_id, d.conversation_id, d.language, d.intent, d.confidence, d.body,
                    d.source, d.state, d.hold_reasons, d.version, u.username AS decided_by_name,
                    d.decided_at, d.final_body, d.reject_reason, d.created_at
             FROM drafts d LEFT JOIN users u ON u.id = d.decided_by ",
            $rest
        )
    };
}

impl Store {
    /// Stores what the pipeline made of a message, all or nothing. Returns `false` when the
    /// message already had a draft, in which case nothing is written.
    pub async fn save_draft(&self, draft: &NewDraft) -> anyhow::Result<bool> {
        let now = self.clock.now_millis();
        let mut tx = self.begin().await?;
        let state = if draft.auto_send { "auto_sent" } else { "held" };
        let draft_id: Option<i64> = on_tx!(&mut tx, |conn| sqlx::query_scalar(
            "INSERT INTO drafts (message_id, conversation_id, language, intent, confidence, body, source,
                                 state, hold_reasons, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (message_id) DO NOTHING RETURNING id",
        )
        .bind(draft.message_id)
        .bind(draft.conversation_id)
        .bind(&draft.language)
        .bind(&draft.intent)
        .bind(draft.confidence)
        .bind(&draft.body)
        .bind(&draft.source)
        .bind(state)
        .bind(draft.hold_reasons.to_string())
        .bind(now)
        .fetch_optional(conn)
        .await)?;
        let Some(draft_id) = draft_id else {
            return Ok(false);
        };

        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE messages SET language = $1 WHERE id = $2"
        )
        .bind(&draft.language)
        .bind(draft.message_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE conversations SET language = $1 WHERE id = $2"
        )
        .bind(&draft.language)
        .bind(draft.conversation_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE contacts SET language = $1, market = $2 WHERE id = $3"
        )
        .bind(&draft.language)
        .bind(&draft.market)
        .bind(draft.contact_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if draft.opt_out {
            contacts::set_opt_out(&mut tx, draft.contact_id, Some(now)).await?;
        }
        events::insert_all(&mut tx, &draft.events).await?;
        model_calls::record_free(&mut tx, &draft.free_calls).await?;
        if let Some(check_at) = draft.degraded_check_at {
            failover::hold_degraded(&mut tx, draft.message_id, check_at).await?;
        }
        if draft.auto_send {
            outbound::queue(
                &mut tx,
                draft_id,
                draft.message_id,
                draft.conversation_id,
                &draft.body,
                None,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn draft(&self, id: i64) -> anyhow::Result<Option<DraftRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(select_drafts!(
            "WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn drafts_in_conversation(&self, conversation_id: i64) -> anyhow::Result<Vec<DraftRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(select_drafts!(
            "WHERE d.conversation_id = $1 ORDER BY d.id"
        ))
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Held drafts, oldest first: the review inbox.
    pub async fn held_drafts(&self, limit: i64) -> anyhow::Result<Vec<HeldDraft>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT d.id, d.conversation_id, d.message_id, k.name AS contact_name,
                    k.address AS contact_address, m.body AS inbound_body, d.language, d.intent,
                    d.confidence, d.hold_reasons, d.created_at
             FROM drafts d
             JOIN messages m ON m.id = d.message_id
             JOIN conversations c ON c.id = d.conversation_id
             JOIN contacts k ON k.id = c.contact_id
             WHERE d.state = 'held' ORDER BY d.created_at, d.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// Approves a held draft at `version`, queueing `final_body` for sending, in one transaction.
    pub async fn approve_draft(
        &self,
        draft_id: i64,
        version: i64,
        user_id: i64,
        final_body: &str,
        policy_override: Option<&str>,
        event: NewEvent,
    ) -> anyhow::Result<ApproveOutcome> {
        let now = self.clock.now_millis();
        let mut tx = self.begin().await?;
        let claimed: Option<(i64, i64)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "UPDATE drafts SET state = 'approved', version = version + 1, decided_by = $1,
                               decided_at = $2, final_body = $3
             WHERE id = $4 AND version = $5 AND state = 'held'
             RETURNING message_id, conversation_id",
        )
        .bind(user_id)
        .bind(now)
        .bind(final_body)
        .bind(draft_id)
        .bind(version)
        .fetch_optional(conn)
        .await)?;
        let Some((message_id, conversation_id)) = claimed else {
            return Ok(ApproveOutcome::AlreadyDecided);
        };
        events::insert(&mut tx, &event.on(message_id, conversation_id).by(user_id)).await?;
        let outbound_id = outbound::queue(
            &mut tx,
            draft_id,
            message_id,
            conversation_id,
            final_body,
            policy_override,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ApproveOutcome::Approved { outbound_id })
    }

    /// Rejects a held draft at `version`. Returns `false` if someone decided on it first.
    pub async fn reject_draft(
        &self,
        draft_id: i64,
        version: i64,
        user_id: i64,
        reason: &str,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let claimed: Option<(i64, i64)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "UPDATE drafts SET state = 'rejected', version = version + 1, decided_by = $1,
                               decided_at = $2, reject_reason = $3
             WHERE id = $4 AND version = $5 AND state = 'held'
             RETURNING message_id, conversation_id",
        )
        .bind(user_id)
        .bind(self.clock.now_millis())
        .bind(reason)
        .bind(draft_id)
        .bind(version)
        .fetch_optional(conn)
        .await)?;
        let Some((message_id, conversation_id)) = claimed else {
            return Ok(false);
        };
        let event = NewEvent::new("rejected", "Draft rejected")
            .on(message_id, conversation_id)
            .by(user_id)
            .detail(json!({ "draft_id": draft_id, "reason": reason }));
        events::insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(true)
    }
}
