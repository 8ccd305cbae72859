//! What the guardrails need to know about a contact: opt-out state, their own time zone, and
//! recent outbound messages.

use super::{Store, Tx, on_pool, on_tx};
use crate::domain::Millis;

/// A contact's recent history, as the guardrails read it.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ContactHistory {
    pub last_inbound_at: Option<Millis>,
    pub outbound_today: i64,
    pub previous_outbound: Option<String>,
    pub opted_out_at: Option<Millis>,
    /// Replies that went out after the opt-out (the one confirmation, normally).
    pub sent_since_opt_out: i64,
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuppressedContact {
    pub id: i64,
    pub channel: String,
    pub address: String,
    pub name: Option<String>,
    pub opted_out_at: Millis,
}

/// Records an opt-out (`Some(at)`) or the contact's own resubscription (`None`).
pub(super) async fn set_opt_out(tx: &mut Tx, contact_id: i64, at: Option<Millis>) -> sqlx::Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE contacts SET opted_out_at = $1 WHERE id = $2"
    )
    .bind(at)
    .bind(contact_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

impl Store {
    /// The history of `contact_id`, counting outbound messages created since `day_start`.
    pub async fn contact_history(
        &self,
        contact_id: i64,
        day_start: Millis,
    ) -> anyhow::Result<ContactHistory> {
        // "Sent" means sending, sent, delivered, read or unconfirmed: we sent it, or may have.
        // Messages are reached through the contact's conversations (`messages_out_recent`), so
        // the cost follows this contact's history, not every contact's outbound messages.
        const SQL: &str = "SELECT k.last_inbound_at,
                (SELECT COUNT(*) FROM messages m
                  WHERE m.conversation_id IN (SELECT c.id FROM conversations c WHERE c.contact_id = k.id)
                    AND m.direction = 'out' AND m.created_at >= $2
                    AND m.status IN ('sending', 'sent', 'delivered', 'read', 'unconfirmed')) AS outbound_today,
                (SELECT m.body FROM messages m
                  WHERE m.conversation_id IN (SELECT c.id FROM conversations c WHERE c.contact_id = k.id)
                    AND m.direction = 'out' AND m.status IN ('sending', 'sent', 'delivered', 'read', 'unconfirmed')
                  ORDER BY m.id DESC LIMIT 1) AS previous_outbound,
                k.opted_out_at,
                (SELECT COUNT(*) FROM messages m
                  WHERE m.conversation_id IN (SELECT c.id FROM conversations c WHERE c.contact_id = k.id)
                    AND m.direction = 'out' AND k.opted_out_at IS NOT NULL
                    AND m.created_at >= k.opted_out_at AND m.status IN ('sending', 'sent', 'delivered', 'read', 'unconfirmed')) AS sent_since_opt_out,
                k.timezone
            FROM contacts k WHERE k.id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(contact_id)
            .bind(day_start)
            .fetch_optional(pool)
            .await)?
        .unwrap_or_default())
    }

    /// Contacts who asked not to be contacted, newest first: the suppression list.
    pub async fn suppressed_contacts(&self, limit: i64) -> anyhow::Result<Vec<SuppressedContact>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, channel, address, name, opted_out_at FROM contacts
             WHERE opted_out_at IS NOT NULL ORDER BY opted_out_at DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }
}
