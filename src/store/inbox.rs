//! The review inbox's queues (held drafts, replies waiting for the send window, failed sends,
//! escalations) with their filters, and what reps do to a conversation: claim, assign, note,
//! escalate, correct the intent, close it as converted or lost.

use super::events::{self, NewEvent};
use super::{Store, on_pool, on_tx};
use crate::domain::Millis;
use serde_json::json;

/// Which queue the inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Held,
    Waiting,
    Failed,
    Escalated,
}

impl Queue {
    pub const ALL: [Queue; 4] = [Queue::Held, Queue::Waiting, Queue::Failed, Queue::Escalated];

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Held => "held",
            Queue::Waiting => "waiting",
            Queue::Failed => "failed",
            Queue::Escalated => "escalated",
        }
    }

    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

/// Narrows a queue. `None` everywhere shows it all.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub language: Option<String>,
    pub channel: Option<String>,
    pub intent: Option<String>,
    /// A rule or reason code the hold names (`prices`, `price_not_in_catalog`, …).
    pub reason: Option<String>,
    /// Assigned to or claimed by this user; `Some(0)`: nobody.
    pub assignee: Option<i64>,
    /// Only items that have waited since at least this instant.
    pub older_than: Option<Millis>,
}

/// One row of any queue. `id` is the draft (held), the outbound message (waiting, failed) or
/// the conversation (escalated).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueItem {
    pub id: i64,
    pub conversation_id: i64,
    pub contact_name: Option<String>,
    pub contact_address: String,
    pub channel: String,
    pub market: Option<String>,
    pub language: String,
    pub intent: String,
    pub preview: String,
    /// Held: the hold reasons as JSON; waiting: why; failed: the error; escalated: the reason.
    pub detail: String,
    pub status: String,
    pub since: Millis,
    pub wait_until: Option<Millis>,
    pub claimed_by: Option<i64>,
    pub claimed_by_name: Option<String>,
    pub assigned_name: Option<String>,
}

/// Who holds a conversation now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claim {
    pub user_id: i64,
    pub username: String,
    pub until: Millis,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    pub id: i64,
    pub username: String,
    pub body: String,
    pub created_at: Millis,
}

/// A conversation's review state, for its page.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ConversationState {
    pub assigned_to: Option<i64>,
    pub assigned_name: Option<String>,
    pub escalated_at: Option<Millis>,
    pub escalation_reason: Option<String>,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
}

/// The columns every queue selects, in [`QueueItem`] order, then the joins they share.
macro_rules! queue_sql {
    ($from:literal, $language:literal, $intent:literal, $preview:literal, $detail:literal,
     $status:literal, $since:literal, $wait:literal, $id:literal, $where:literal) => {
        concat!(
            "SELECT ",
            $id,
            " AS id, c.id AS conversation_id, k.name AS contact_name,
                    k.address AS contact_address, c.channel, k.market, ",
            $language,
            " AS language, ",
            $intent,
            " AS intent, ",
            $preview,
            " AS preview, ",
            $detail,
            " AS detail, ",
            $status,
            " AS status, ",
            $since,
            " AS since, ",
            $wait,
            " AS wait_until,
                    cu.id AS claimed_by, cu.username AS claimed_by_name, au.username AS assigned_name
             FROM ",
            $from,
            "
             JOIN contacts k ON k.id = c.contact_id
             LEFT JOIN users cu ON cu.id = c.claimed_by AND c.claimed_until > $7
             LEFT JOIN users au ON au.id = c.assigned_to
             WHERE ",
            $where,
            "
               AND ($1 IS NULL OR ",
            $language,
            " = $1)
               AND ($2 IS NULL OR c.channel = $2)
               AND ($3 IS NULL OR ",
            $intent,
            " = $3)
               AND ($4 IS NULL OR ",
            $detail,
            " LIKE $4)
               AND ($5 IS NULL
                    OR ($5 = 0 AND c.assigned_to IS NULL AND cu.id IS NULL)
                    OR c.assigned_to = $5 OR cu.id = $5)
               AND ($6 IS NULL OR ",
            $since,
            " <= $6)
             ORDER BY ",
            $since,
            ", ",
            $id,
            " LIMIT $8"
        )
    };
}

const HELD: &str = queue_sql!(
    "drafts d JOIN messages m ON m.id = d.message_id JOIN conversations c ON c.id = d.conversation_id",
    "d.language",
    "COALESCE(d.corrected_intent, d.intent)",
    "m.body",
    "d.hold_reasons",
    "'held'",
    "d.created_at",
    "CAST(NULL AS BIGINT)",
    "d.id",
    "d.state = 'held'"
);

const WAITING: &str = queue_sql!(
    "messages o JOIN conversations c ON c.id = o.conversation_id
     JOIN jobs j ON j.dedupe_key = 'send:' || o.id
     LEFT JOIN drafts d ON d.outbound_id = o.id",
    "COALESCE(d.language, c.language, 'unknown')",
    "COALESCE(d.corrected_intent, d.intent, '')",
    "o.body",
    "COALESCE(j.last_error, '')",
    "o.status",
    "o.created_at",
    "j.run_at",
    "o.id",
    "o.direction = 'out' AND o.status = 'queued' AND j.state = 'queued' AND j.run_at > $7"
);

const FAILED: &str = queue_sql!(
    "messages o JOIN conversations c ON c.id = o.conversation_id
     LEFT JOIN drafts d ON d.outbound_id = o.id",
    "COALESCE(d.language, c.language, 'unknown')",
    "COALESCE(d.corrected_intent, d.intent, '')",
    "o.body",
    "COALESCE(o.last_error, '')",
    "o.status",
    "o.created_at",
    "CAST(NULL AS BIGINT)",
    "o.id",
    "o.direction = 'out' AND o.status IN ('failed', 'not_configured', 'unconfirmed', 'blocked')"
);

const ESCALATED: &str = queue_sql!(
    "conversations c",
    "COALESCE(c.language, 'unknown')",
    "COALESCE((SELECT COALESCE(d.corrected_intent, d.intent) FROM drafts d
               WHERE d.conversation_id = c.id ORDER BY d.id DESC LIMIT 1), '')",
    "COALESCE((SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'
               ORDER BY m.id DESC LIMIT 1), '')",
    "COALESCE(c.escalation_reason, '')",
    "'escalated'",
    "c.escalated_at",
    "CAST(NULL AS BIGINT)",
    "c.id",
    "c.escalated_at IS NOT NULL"
);

impl Store {
    pub async fn corrected_intent(&self, draft_id: i64) -> anyhow::Result<Option<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT corrected_intent FROM drafts WHERE id = $1"
        )
        .bind(draft_id)
        .fetch_optional(pool)
        .await)?
        .flatten())
    }

    /// When the contact of a conversation opted out, if they did.
    pub async fn contact_opt_out(&self, conversation_id: i64) -> anyhow::Result<Option<Millis>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT k.opted_out_at FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1"
        )
        .bind(conversation_id)
        .fetch_optional(pool)
        .await)?
        .flatten())
    }

    /// Which tier and model wrote the draft for `message_id`, and what every model call on the
    /// message cost: `standard · claude-sonnet-5 · US$ 0.0042`.
    pub async fn draft_model(&self, message_id: i64) -> anyhow::Result<String> {
        let calls: Vec<(String, String, String, String, bool)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT task, tier, model, cost_usd, used FROM model_calls WHERE message_id = $1 ORDER BY id"
        )
        .bind(message_id)
        .fetch_all(pool)
        .await)?;
        let cost: rust_decimal::Decimal = calls
            .iter()
            .filter_map(|c| c.3.parse::<rust_decimal::Decimal>().ok())
            .sum();
        let writer = calls
            .iter()
            .rev()
            .find(|c| c.0 != "classify" && c.4)
            .map(|c| format!("{} · {}", c.1, c.2));
        Ok(match writer {
            Some(w) => format!("{w} · US$ {}", cost.round_dp(4).normalize()),
            None if calls.is_empty() => String::new(),
            None => format!("US$ {}", cost.round_dp(4).normalize()),
        })
    }

    /// One queue, oldest first, narrowed by `filter`.
    pub async fn queue(
        &self,
        queue: Queue,
        filter: &QueueFilter,
        limit: i64,
    ) -> anyhow::Result<Vec<QueueItem>> {
        let sql = match queue {
            Queue::Held => HELD,
            Queue::Waiting => WAITING,
            Queue::Failed => FAILED,
            Queue::Escalated => ESCALATED,
        };
        let reason = filter.reason.as_ref().map(|r| format!("%\"{r}\"%"));
        let now = self.clock.now_millis();
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(filter.language.as_deref())
            .bind(filter.channel.as_deref())
            .bind(filter.intent.as_deref())
            .bind(reason.as_deref())
            .bind(filter.assignee)
            .bind(filter.older_than)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// How many items each queue holds, unfiltered, in [`Queue::ALL`] order.
    pub async fn queue_counts(&self) -> anyhow::Result<[i64; 4]> {
        let now = self.clock.now_millis();
        let row: (i64, i64, i64, i64) = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM drafts WHERE state = 'held'),
                    (SELECT COUNT(*) FROM messages o JOIN jobs j ON j.dedupe_key = 'send:' || o.id
                      WHERE o.status = 'queued' AND o.direction = 'out' AND j.state = 'queued' AND j.run_at > $1),
                    (SELECT COUNT(*) FROM messages WHERE direction = 'out'
                      AND status IN ('failed', 'not_configured', 'unconfirmed', 'blocked')),
                    (SELECT COUNT(*) FROM conversations WHERE escalated_at IS NOT NULL)"
        )
        .bind(now)
        .fetch_one(pool)
        .await
        })?;
        Ok([row.0, row.1, row.2, row.3])
    }

    /// Claims a conversation for `user_id` until `until`, unless someone else holds it. Returns
    /// the claim that stands afterwards (the caller's, or the other person's).
    pub async fn claim_conversation(
        &self,
        conversation_id: i64,
        user_id: i64,
        until: Millis,
    ) -> anyhow::Result<Option<Claim>> {
        let now = self.clock.now_millis();
        on_pool!(self, |pool| sqlx::query(
            "UPDATE conversations SET claimed_by = $1, claimed_until = $2
             WHERE id = $3 AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_until <= $4)"
        )
        .bind(user_id)
        .bind(until)
        .bind(conversation_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        self.claim(conversation_id).await
    }

    /// Lets go of a claim `user_id` holds.
    pub async fn release_conversation(&self, conversation_id: i64, user_id: i64) -> anyhow::Result<bool> {
        let changed = on_pool!(self, |pool| sqlx::query(
            "UPDATE conversations SET claimed_by = NULL, claimed_until = NULL
             WHERE id = $1 AND claimed_by = $2"
        )
        .bind(conversation_id)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed > 0)
    }

    /// The claim on a conversation, if one has not lapsed.
    pub async fn claim(&self, conversation_id: i64) -> anyhow::Result<Option<Claim>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT u.id AS user_id, u.username, c.claimed_until AS until
             FROM conversations c JOIN users u ON u.id = c.claimed_by
             WHERE c.id = $1 AND c.claimed_until > $2"
        )
        .bind(conversation_id)
        .bind(self.clock.now_millis())
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn conversation_state(&self, conversation_id: i64) -> anyhow::Result<ConversationState> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT c.assigned_to, u.username AS assigned_name, c.escalated_at, c.escalation_reason,
                    c.outcome, c.outcome_reason
             FROM conversations c LEFT JOIN users u ON u.id = c.assigned_to WHERE c.id = $1"
        )
        .bind(conversation_id)
        .fetch_optional(pool)
        .await)?
        .unwrap_or_default())
    }

    /// Assigns a conversation to `assignee` (or nobody), on its trace.
    pub async fn assign_conversation(
        &self,
        conversation_id: i64,
        assignee: Option<i64>,
        by: i64,
        summary: String,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE conversations SET assigned_to = $1,
                    claimed_by = NULL, claimed_until = NULL WHERE id = $2"
        )
        .bind(assignee)
        .bind(conversation_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let event = conversation_event("reassigned", summary, conversation_id, by)
            .detail(json!({ "assigned_to": assignee }));
        events::insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Escalates a conversation to a manager (`Some(reason)`) or clears the escalation.
    pub async fn escalate_conversation(
        &self,
        conversation_id: i64,
        reason: Option<&str>,
        by: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        let at = reason.map(|_| tx.now);
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE conversations SET escalated_at = $1, escalation_reason = $2 WHERE id = $3"
        )
        .bind(at)
        .bind(reason)
        .bind(conversation_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let event = match reason {
            Some(why) => conversation_event(
                "escalated",
                format!("Escalated to a manager: {why}"),
                conversation_id,
                by,
            ),
            None => conversation_event("escalation_resolved", "Escalation resolved", conversation_id, by),
        };
        events::insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_note(&self, conversation_id: i64, user_id: i64, body: &str) -> anyhow::Result<i64> {
        let mut tx = self.begin().await?;
        let now = tx.now;
        let id: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
            "INSERT INTO notes (conversation_id, user_id, body, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id"
        )
        .bind(conversation_id)
        .bind(user_id)
        .bind(body)
        .bind(now)
        .fetch_one(conn)
        .await)?;
        let event = conversation_event("note", "Private note added", conversation_id, user_id)
            .detail(json!({ "note_id": id }));
        events::insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn notes(&self, conversation_id: i64) -> anyhow::Result<Vec<NoteRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT n.id, u.username, n.body, n.created_at FROM notes n JOIN users u ON u.id = n.user_id
             WHERE n.conversation_id = $1 ORDER BY n.id"
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Records a person's correction of a draft's intent: the label the next training reads.
    pub async fn correct_intent(&self, draft_id: i64, intent: &str, by: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let row: Option<(i64, i64, String)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "UPDATE drafts SET corrected_intent = $1 WHERE id = $2
             RETURNING message_id, conversation_id, intent"
        )
        .bind(intent)
        .bind(draft_id)
        .fetch_optional(conn)
        .await)?;
        let Some((message_id, conversation_id, was)) = row else {
            return Ok(false);
        };
        let event = NewEvent::new("intent_corrected", format!("Intent corrected: {was} → {intent}"))
            .on(message_id, conversation_id)
            .by(by)
            .detail(json!({ "draft_id": draft_id, "from": was, "to": intent }));
        events::insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Closes a conversation as lost with a reason. (Converted goes through
    /// [`Store::record_conversion`], which also attributes it.)
    pub async fn mark_lost(&self, conversation_id: i64, reason: &str, by: i64) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        let now = tx.now;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE conversations SET outcome = 'lost', outcome_reason = $1, outcome_at = $2 WHERE id = $3"
        )
        .bind(reason)
        .bind(now)
        .bind(conversation_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let event = conversation_event("lost", format!("Marked lost: {reason}"), conversation_id, by)
            .detail(json!({ "reason": reason }));
        events::insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An event on a conversation as a whole, not on one message.
pub(super) fn conversation_event(
    kind: &'static str,
    summary: impl Into<String>,
    conversation_id: i64,
    by: i64,
) -> NewEvent {
    NewEvent {
        conversation_id: Some(conversation_id),
        user_id: Some(by),
        ..NewEvent::new(kind, summary)
    }
}
