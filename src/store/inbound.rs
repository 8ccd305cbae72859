//! Webhook deliveries and the messages they carry: stored raw and parsed in one transaction.

use super::contacts;
use super::events::{self, NewEvent};
use super::jobs::{self, Job};
use super::{Backend, Store, Tx, on_pool, on_tx};
use crate::channels::{Delivery, InboundMessage, PreferenceUpdate};
use crate::domain::Millis;
use serde_json::json;

/// What one delivery added to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub delivery_id: i64,
    pub new_messages: usize,
    pub duplicate_messages: usize,
    pub statuses: usize,
    pub preferences: usize,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub channel: String,
    pub received_at: Millis,
    pub body: String,
    pub parse_state: String,
    pub note: Option<String>,
}

/// An inbound message with what the pipeline needs to know about its conversation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboundContext {
    pub message_id: i64,
    pub conversation_id: i64,
    pub contact_id: i64,
    pub contact_address: String,
    pub contact_name: Option<String>,
    /// The conversation's channel: `whatsapp`, `twilio` or `email`.
    pub channel: String,
    pub business_number: String,
    pub kind: String,
    pub body: String,
    pub external_id: Option<String>,
    /// The language the conversation was in before this message, if one was settled.
    pub conversation_language: Option<String>,
    pub market: Option<String>,
    /// Whether the message has a draft already (it was processed).
    pub has_draft: bool,
}

impl Store {
    /// Stores a delivery exactly as received plus everything parsed out of it, in one transaction.
    /// Each new message gets a `process_inbound` job; a message already seen is skipped. On
    /// SQLite the transaction is shared with the other deliveries arriving at the same moment
    /// (see `group_commit`); either way this returns once the delivery is on disk.
    pub async fn ingest(
        &self,
        channel: &str,
        raw_body: &str,
        delivery: &Delivery,
    ) -> anyhow::Result<IngestSummary> {
        let now = self.clock.now_millis();
        if let Some(group) = &self.group_commit {
            return group
                .ingest(channel, raw_body, delivery, now, self.mask_traces)
                .await;
        }
        let mut tx = self.begin().await?;
        let summary = ingest_in(&mut tx, channel, raw_body, delivery, now).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Stores a correctly signed delivery we could not understand, so an admin can look at it.
    pub async fn ingest_unparsed(&self, channel: &str, raw_body: &str, why: &str) -> anyhow::Result<i64> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (channel, received_at, body, parse_state, note)
             VALUES ($1, $2, $3, 'unparsed', $4) RETURNING id",
        )
        .bind(channel)
        .bind(self.clock.now_millis())
        .bind(raw_body)
        .bind(why)
        .fetch_one(pool)
        .await)?)
    }

    pub async fn deliveries(
        &self,
        parse_state: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, channel, received_at, body, parse_state, note FROM webhook_deliveries
             WHERE (CAST($1 AS TEXT) IS NULL OR parse_state = CAST($1 AS TEXT)) ORDER BY id DESC LIMIT $2",
        )
        .bind(parse_state)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    pub async fn inbound_context(&self, message_id: i64) -> anyhow::Result<Option<InboundContext>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT m.id AS message_id, c.id AS conversation_id, k.id AS contact_id,
                    k.address AS contact_address, k.name AS contact_name,
                    c.channel, c.business_number, m.kind, m.body, m.external_id,
                    c.language AS conversation_language, k.market,
                    EXISTS (SELECT 1 FROM drafts d WHERE d.message_id = m.id) AS has_draft
             FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
             JOIN contacts k ON k.id = c.contact_id
             WHERE m.id = $1 AND m.direction = 'in'",
        )
        .bind(message_id)
        .fetch_optional(pool)
        .await)?)
    }
}

// Upserts that keep the latest time, and the name from the latest message: SQLite's
// two-argument MAX is PostgreSQL's GREATEST.
const UPSERT_CONTACT_SQLITE: &str =
    "INSERT INTO contacts (channel, address, name, last_inbound_at, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (channel, address) DO UPDATE SET
        name = CASE WHEN excluded.last_inbound_at >= COALESCE(contacts.last_inbound_at, 0)
                    THEN COALESCE(excluded.name, contacts.name) ELSE contacts.name END,
        last_inbound_at = MAX(COALESCE(contacts.last_inbound_at, 0), excluded.last_inbound_at)
    RETURNING id";
const UPSERT_CONTACT_POSTGRES: &str =
    "INSERT INTO contacts (channel, address, name, last_inbound_at, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (channel, address) DO UPDATE SET
        name = CASE WHEN excluded.last_inbound_at >= COALESCE(contacts.last_inbound_at, 0)
                    THEN COALESCE(excluded.name, contacts.name) ELSE contacts.name END,
        last_inbound_at = GREATEST(COALESCE(contacts.last_inbound_at, 0), excluded.last_inbound_at)
    RETURNING id";
const UPSERT_CONVERSATION_SQLITE: &str = "INSERT INTO conversations
        (contact_id, channel, business_number, created_at, last_message_at)
    VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (contact_id, business_number) DO UPDATE SET
        last_message_at = MAX(conversations.last_message_at, excluded.last_message_at)
    RETURNING id";
const UPSERT_CONVERSATION_POSTGRES: &str = "INSERT INTO conversations
        (contact_id, channel, business_number, created_at, last_message_at)
    VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (contact_id, business_number) DO UPDATE SET
        last_message_at = GREATEST(conversations.last_message_at, excluded.last_message_at)
    RETURNING id";

/// Records a contact's stop (opt-out) or resume from the provider, creating the contact if we
/// never heard from them.
async fn apply_preference(tx: &mut Tx, preference: &PreferenceUpdate, now: Millis) -> anyhow::Result<()> {
    let contact_id: i64 = on_tx!(tx, |conn| sqlx::query_scalar(
        "INSERT INTO contacts (channel, address, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (channel, address) DO UPDATE SET channel = excluded.channel
         RETURNING id",
    )
    .bind(preference.channel)
    .bind(&preference.address)
    .bind(now)
    .fetch_one(conn)
    .await)?;
    contacts::set_opt_out(tx, contact_id, preference.stop.then_some(preference.at)).await?;
    let (kind, summary) = if preference.stop {
        (
            "opted_out",
            format!(
                "{} stopped messages from us (provider preference)",
                preference.address
            ),
        )
    } else {
        (
            "opted_in",
            format!(
                "{} resumed messages from us (provider preference)",
                preference.address
            ),
        )
    };
    events::insert(
        tx,
        &NewEvent::new(kind, summary).detail(json!({ "contact_id": contact_id, "at": preference.at })),
    )
    .await?;
    Ok(())
}

/// Inserts one inbound message with its contact, conversation, job and first trace event.
/// Stores one delivery and what it carried inside `tx`.
pub(super) async fn ingest_in(
    tx: &mut Tx,
    channel: &str,
    raw_body: &str,
    delivery: &Delivery,
    now: Millis,
) -> anyhow::Result<IngestSummary> {
    let note = (!delivery.ignored.is_empty()).then(|| delivery.ignored.join("; "));
    let delivery_id: i64 = on_tx!(tx, |conn| sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (channel, received_at, body, parse_state, note)
         VALUES ($1, $2, $3, 'parsed', $4) RETURNING id",
    )
    .bind(channel)
    .bind(now)
    .bind(raw_body)
    .bind(note)
    .fetch_one(conn)
    .await)?;

    let mut summary = IngestSummary {
        delivery_id,
        ..IngestSummary::default()
    };
    for message in &delivery.messages {
        match insert_message(tx, delivery_id, message, None, now).await? {
            Some(_) => summary.new_messages += 1,
            None => summary.duplicate_messages += 1,
        }
    }
    for preference in &delivery.preferences {
        apply_preference(tx, preference, now).await?;
        summary.preferences += 1;
    }
    for status in &delivery.statuses {
        let job = Job::apply_status(status)?;
        jobs::enqueue(tx, &job, now).await?;
        summary.statuses += 1;
    }
    Ok(summary)
}

/// `conversation` is the one threading found (email); without it, the contact's conversation
/// with that business number. Returns `None` when the provider id was already stored.
pub(super) async fn insert_message(
    tx: &mut Tx,
    delivery_id: i64,
    message: &InboundMessage,
    conversation: Option<i64>,
    now: Millis,
) -> anyhow::Result<Option<i64>> {
    // No look-up first: a message already stored is rare (a provider's retry or replay), and
    // the INSERT below skips it. Until then it only upserts its contact and conversation
    // again, which changes nothing for a message already counted: times keep the latest,
    // and a name is taken only from a message at least as recent as the contact's last.
    let (upsert_contact, upsert_conversation) = match tx.backend() {
        Backend::Sqlite => (UPSERT_CONTACT_SQLITE, UPSERT_CONVERSATION_SQLITE),
        Backend::Postgres => (UPSERT_CONTACT_POSTGRES, UPSERT_CONVERSATION_POSTGRES),
    };
    let contact_id: i64 = on_tx!(tx, |conn| sqlx::query_scalar(upsert_contact)
        .bind(message.channel)
        .bind(&message.from)
        .bind(&message.profile_name)
        .bind(message.sent_at)
        .bind(now)
        .fetch_one(conn)
        .await)?;

    let conversation_id: i64 = match conversation {
        Some(id) => id,
        None => on_tx!(tx, |conn| sqlx::query_scalar(upsert_conversation)
            .bind(contact_id)
            .bind(message.channel)
            .bind(&message.business_number)
            .bind(message.sent_at)
            .fetch_one(conn)
            .await)?,
    };

    let reply_to: Option<i64> = match &message.reply_to_external_id {
        Some(external) => on_tx!(tx, |conn| sqlx::query_scalar(
            "SELECT id FROM messages WHERE channel = $1 AND external_id = $2"
        )
        .bind(message.channel)
        .bind(external)
        .fetch_optional(conn)
        .await)?,
        None => None,
    };

    // A concurrent delivery of the same message (another instance) may insert it first: then
    // this one waits for it and does nothing.
    let message_id: Option<i64> = on_tx!(tx, |conn| sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, direction, channel, external_id, delivery_id, reply_to,
                               kind, body, sent_at, created_at)
         VALUES ($1, 'in', $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (channel, external_id) DO NOTHING RETURNING id",
    )
    .bind(conversation_id)
    .bind(message.channel)
    .bind(&message.external_id)
    .bind(delivery_id)
    .bind(reply_to)
    .bind(&message.kind)
    .bind(&message.body)
    .bind(message.sent_at)
    .bind(now)
    .fetch_optional(conn)
    .await)?;
    let Some(message_id) = message_id else {
        return Ok(None);
    };

    jobs::enqueue(tx, &Job::process_inbound(message_id, message.sent_at), now).await?;
    events::insert(
        tx,
        &NewEvent::new(
            "received",
            format!("{} message from {}", message.kind, message.from),
        )
        .on(message_id, conversation_id)
        .detail(json!({
            "channel": message.channel,
            "external_id": message.external_id,
            "from": message.from,
            "kind": message.kind,
            "body": message.body,
            "delivery_id": delivery_id,
        })),
    )
    .await?;
    Ok(Some(message_id))
}
