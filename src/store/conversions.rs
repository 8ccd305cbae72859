//! Conversions (sales) and their attribution: to the contact's conversations in the days before
//! the sale, and to the agent's replies sent in them. A webhook delivery is idempotent on its
//! `external_id`.

use super::events::{self, NewEvent};
use super::inbox::conversation_event;
use super::{Store, on_pool, on_tx};
use crate::domain::Millis;
use serde_json::json;

/// A conversion to record. Money is an exact decimal string.
#[derive(Debug, Clone)]
pub struct NewConversion {
    pub external_id: Option<String>,
    /// `webhook` or `rep`.
    pub source: &'static str,
    /// Phone digits or a lower-case email address.
    pub contact_key: String,
    pub value: String,
    pub currency: String,
    pub product: String,
    pub occurred_at: Millis,
    pub recorded_by: Option<i64>,
    /// A rep marks this conversation converted: it is attributed whatever its dates.
    pub conversation_id: Option<i64>,
    /// Attribute to the conversations with messages since this instant.
    pub window_start: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    New {
        id: i64,
        conversations: Vec<i64>,
        agent_messages: i64,
    },
    /// This `external_id` was recorded before; nothing changed.
    Duplicate { id: i64 },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversionRow {
    pub id: i64,
    pub source: String,
    pub value: String,
    pub currency: String,
    pub product: String,
    pub occurred_at: Millis,
}

const SENT: &str = "('sent', 'delivered', 'read')";

impl Store {
    /// Records a conversion and its attribution, all or nothing.
    pub async fn record_conversion(&self, c: &NewConversion) -> anyhow::Result<Recorded> {
        let mut tx = self.begin().await?;
        let now = tx.now;
        let contact_id: Option<i64> = match c.conversation_id {
            Some(conversation) => on_tx!(&mut tx, |conn| sqlx::query_scalar(
                "SELECT contact_id FROM conversations WHERE id = $1"
            )
            .bind(conversation)
            .fetch_optional(conn)
            .await)?,
            None => on_tx!(&mut tx, |conn| sqlx::query_scalar(
                "SELECT id FROM contacts WHERE address = $1 ORDER BY id LIMIT 1"
            )
            .bind(&c.contact_key)
            .fetch_optional(conn)
            .await)?,
        };
        let id: Option<i64> = on_tx!(&mut tx, |conn| sqlx::query_scalar(
            "INSERT INTO conversions (external_id, source, contact_id, contact_key, value, currency,
                                      product, occurred_at, recorded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (external_id) DO NOTHING RETURNING id"
        )
        .bind(c.external_id.as_deref())
        .bind(c.source)
        .bind(contact_id)
        .bind(&c.contact_key)
        .bind(&c.value)
        .bind(&c.currency)
        .bind(&c.product)
        .bind(c.occurred_at)
        .bind(c.recorded_by)
        .bind(now)
        .fetch_optional(conn)
        .await)?;
        let Some(id) = id else {
            let existing: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
                "SELECT id FROM conversions WHERE external_id = $1"
            )
            .bind(c.external_id.as_deref())
            .fetch_one(conn)
            .await)?;
            return Ok(Recorded::Duplicate { id: existing });
        };

        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO conversion_conversations (conversion_id, conversation_id, agent_messages)
             SELECT $1, c.id,
                    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out'
                       AND m.status IN {SENT} AND m.created_at >= $3 AND m.created_at <= $4)
             FROM conversations c
             WHERE c.contact_id = $2 AND (c.id = $5 OR EXISTS (
                 SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                   AND m.created_at >= $3 AND m.created_at <= $4))"
        ));
        if let Some(contact_id) = contact_id {
            on_tx!(&mut tx, |conn| sqlx::query(sql)
                .bind(id)
                .bind(contact_id)
                .bind(c.window_start)
                .bind(c.occurred_at)
                .bind(c.conversation_id.unwrap_or(-1))
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO conversion_messages (conversion_id, message_id)
             SELECT $1, m.id FROM conversion_conversations cc
             JOIN messages m ON m.conversation_id = cc.conversation_id
             WHERE cc.conversion_id = $1 AND m.direction = 'out' AND m.status IN {SENT}
               AND m.created_at >= $2 AND m.created_at <= $3"
        ));
        let agent_messages = on_tx!(&mut tx, |conn| sqlx::query(sql)
            .bind(id)
            .bind(c.window_start)
            .bind(c.occurred_at)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        // Each credited reply's trace (the inbound message it answered) shows the conversion.
        let credited: Vec<(i64, i64, i64)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT m.id, m.reply_to, m.conversation_id FROM conversion_messages cm
             JOIN messages m ON m.id = cm.message_id
             WHERE cm.conversion_id = $1 AND m.reply_to IS NOT NULL ORDER BY m.id"
        )
        .bind(id)
        .fetch_all(conn)
        .await)?;
        for (outbound_id, inbound_id, conversation_id) in credited {
            let mut event = NewEvent::new(
                "conversion",
                format!(
                    "Conversion attributed: {} {} ({}), to the reply sent as message {outbound_id}",
                    c.value, c.currency, c.product
                ),
            )
            .on(inbound_id, conversation_id)
            .detail(json!({
                "conversion_id": id,
                "outbound_id": outbound_id,
                "source": c.source,
                "external_id": c.external_id,
                "value": c.value,
                "currency": c.currency,
                "product": c.product,
            }));
            event.user_id = c.recorded_by;
            events::insert(&mut tx, &event).await?;
        }
        let conversations: Vec<i64> = on_tx!(&mut tx, |conn| sqlx::query_scalar(
            "SELECT conversation_id FROM conversion_conversations WHERE conversion_id = $1
             ORDER BY conversation_id"
        )
        .bind(id)
        .fetch_all(conn)
        .await)?;
        for &conversation in &conversations {
            on_tx!(&mut tx, |conn| sqlx::query(
                "UPDATE conversations SET outcome = 'converted', outcome_reason = $1, outcome_at = $2
                 WHERE id = $3"
            )
            .bind(&c.product)
            .bind(now)
            .bind(conversation)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
            let mut event = conversation_event(
                "converted",
                format!("Converted: {} {} ({})", c.value, c.currency, c.product),
                conversation,
                c.recorded_by.unwrap_or_default(),
            )
            .detail(json!({ "conversion_id": id, "source": c.source, "external_id": c.external_id }));
            event.user_id = c.recorded_by;
            events::insert(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(Recorded::New {
            id,
            conversations,
            agent_messages: i64::try_from(agent_messages).unwrap_or(i64::MAX),
        })
    }

    /// The contact's conversions, newest first: the contact card's history.
    pub async fn contact_conversions(&self, conversation_id: i64) -> anyhow::Result<Vec<ConversionRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT v.id, v.source, v.value, v.currency, v.product, v.occurred_at
             FROM conversions v JOIN conversations c ON c.contact_id = v.contact_id
             WHERE c.id = $1 ORDER BY v.occurred_at DESC LIMIT 20"
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Conversions in `[from, to]` attributed to at least one conversation: the dashboard's revenue.
    pub async fn conversions_between(&self, from: Millis, to: Millis) -> anyhow::Result<Vec<ConversionRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, source, value, currency, product, occurred_at FROM conversions v
             WHERE occurred_at >= $1 AND occurred_at <= $2
               AND EXISTS (SELECT 1 FROM conversion_conversations cc WHERE cc.conversion_id = v.id)
             ORDER BY occurred_at"
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)?)
    }
}
