//! The dashboard's roll-ups. `conversation_facts` keeps one row per conversation (its funnel
//! stages, review figures and cost), `funnel_daily` sums it per day and breakdown, and
//! `guardrail_daily` keeps guardrail findings per day. Both are
//! refreshed only for what changed since a watermark (the events written since then), so the
//! dashboard reads small tables and never scans messages.

use super::{Backend, Store, on_pool};
use crate::domain::Millis;

/// Events stamped this long before the watermark are read again: a transaction that began
/// earlier may commit after a refresh.
const OVERLAP_MS: Millis = 120_000;

/// The per-conversation columns, for SQLite and PostgreSQL; only the cost sum and the JSON
/// access differ.
macro_rules! facts_sql {
    ($edit_distance:literal, $cost:literal) => {
        concat!(
            "INSERT INTO conversation_facts (conversation_id, started_at, epoch_day, language, channel,
                 intent, tier_rank, inbound, drafts, held, sent_auto, sent_approved, replied, converted,
                 approved, rejected, edited, edit_distance, review_ms, outcome, cost_usd)
             SELECT c.id, c.created_at, c.created_at / 86400000, COALESCE(c.language, 'unknown'), c.channel,
               COALESCE((SELECT COALESCE(d.corrected_intent, d.intent) FROM drafts d
                          WHERE d.conversation_id = c.id ORDER BY d.id LIMIT 1), 'none'),
               COALESCE((SELECT MAX(CASE mc.tier WHEN 'fast' THEN 1 WHEN 'standard' THEN 2
                                     WHEN 'flagship' THEN 3 ELSE 0 END)
                          FROM model_calls mc WHERE mc.conversation_id = c.id AND mc.task <> 'classify' AND mc.used), -1),
               (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'),
               (SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id),
               (SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id AND d.state = 'held'),
               (SELECT COUNT(*) FROM drafts d JOIN messages o ON o.id = d.outbound_id
                 WHERE d.conversation_id = c.id AND d.state = 'auto_sent' AND o.status IN ('sent', 'delivered', 'read')),
               (SELECT COUNT(*) FROM drafts d JOIN messages o ON o.id = d.outbound_id
                 WHERE d.conversation_id = c.id AND d.state = 'approved' AND o.status IN ('sent', 'delivered', 'read')),
               CASE WHEN EXISTS (SELECT 1 FROM messages r WHERE r.conversation_id = c.id AND r.direction = 'in'
                   AND r.id > (SELECT MIN(o.id) FROM messages o WHERE o.conversation_id = c.id
                               AND o.direction = 'out' AND o.status IN ('sent', 'delivered', 'read')))
                    THEN 1 ELSE 0 END,
               CASE WHEN EXISTS (SELECT 1 FROM conversion_conversations cc WHERE cc.conversation_id = c.id)
                    THEN 1 ELSE 0 END,
               (SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id AND d.state = 'approved'),
               (SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id AND d.state = 'rejected'),
               (SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id AND d.state = 'approved'
                  AND d.final_body IS NOT NULL AND d.final_body <> d.body),
               COALESCE((SELECT SUM(", $edit_distance, ") FROM drafts d
                  JOIN events e ON e.message_id = d.message_id AND e.kind = 'approved'
                  WHERE d.conversation_id = c.id), 0),
               (SELECT MIN(d.decided_at - d.created_at) FROM drafts d
                 WHERE d.conversation_id = c.id AND d.state IN ('approved', 'rejected')),
               c.outcome, ", $cost, "
             FROM conversations c
             WHERE c.id IN (SELECT e.conversation_id FROM events e WHERE e.at > $1 AND e.conversation_id IS NOT NULL)
             ON CONFLICT (conversation_id) DO UPDATE SET
               language = excluded.language, channel = excluded.channel, intent = excluded.intent,
               tier_rank = excluded.tier_rank, inbound = excluded.inbound, drafts = excluded.drafts,
               held = excluded.held, sent_auto = excluded.sent_auto, sent_approved = excluded.sent_approved,
               replied = excluded.replied, converted = excluded.converted, approved = excluded.approved,
               rejected = excluded.rejected, edited = excluded.edited, edit_distance = excluded.edit_distance,
               review_ms = excluded.review_ms, outcome = excluded.outcome, cost_usd = excluded.cost_usd"
        )
    };
}

const FACTS_SQLITE: &str = facts_sql!(
    "COALESCE(CAST(json_extract(e.detail, '$.edit_distance') AS INTEGER), 0)",
    "COALESCE((SELECT printf('%.6f', SUM(CAST(mc.cost_usd AS REAL))) FROM model_calls mc
                WHERE mc.conversation_id = c.id), '0')"
);
const FACTS_POSTGRES: &str = facts_sql!(
    "COALESCE(CAST(CAST(e.detail AS JSONB) ->> 'edit_distance' AS BIGINT), 0)",
    "COALESCE((SELECT CAST(SUM(CAST(mc.cost_usd AS NUMERIC)) AS TEXT) FROM model_calls mc
                WHERE mc.conversation_id = c.id), '0')"
);

/// The days whose conversations changed since `$1`: their `funnel_daily` rows are rebuilt.
const CHANGED_DAYS: &str = "SELECT DISTINCT f.epoch_day FROM conversation_facts f
     WHERE f.conversation_id IN (SELECT e.conversation_id FROM events e
                                 WHERE e.at > $1 AND e.conversation_id IS NOT NULL)";

/// A dimension the funnel is broken down by. Each maps to a fixed column expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Language,
    Channel,
    Intent,
    Tier,
    Week,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Language,
        Dimension::Channel,
        Dimension::Intent,
        Dimension::Tier,
        Dimension::Week,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Language => "language",
            Dimension::Channel => "channel",
            Dimension::Intent => "intent",
            Dimension::Tier => "tier",
            Dimension::Week => "week",
        }
    }

    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }

    fn column(self) -> &'static str {
        match self {
            Dimension::Language => "language",
            Dimension::Channel => "channel",
            Dimension::Intent => "intent",
            // Tier and week are numbers; the page names them.
            Dimension::Tier => "CAST(tier_rank AS TEXT)",
            // Weeks start on Monday: epoch day 0 was a Thursday.
            Dimension::Week => "CAST((epoch_day + 3) / 7 AS TEXT)",
        }
    }
}

/// One row of the funnel: conversations that reached each stage.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct FunnelRow {
    pub key: String,
    pub conversations: i64,
    pub inbound: i64,
    pub drafted: i64,
    pub sent: i64,
    pub sent_auto: i64,
    pub sent_approved: i64,
    pub replied: i64,
    pub converted: i64,
    pub lost: i64,
}

/// Review figures over a range of conversations.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ReviewTotals {
    pub approved: i64,
    pub rejected: i64,
    pub edited: i64,
    pub edit_distance: i64,
}

/// One row per conversation, for the CSV export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FactRow {
    pub conversation_id: i64,
    pub started_at: Millis,
    pub language: String,
    pub channel: String,
    pub intent: String,
    pub tier_rank: i64,
    pub inbound: i64,
    pub drafts: i64,
    pub held: i64,
    pub sent_auto: i64,
    pub sent_approved: i64,
    pub replied: i64,
    pub converted: i64,
    pub approved: i64,
    pub rejected: i64,
    pub edited: i64,
    pub edit_distance: i64,
    pub review_ms: Option<i64>,
    pub outcome: Option<String>,
    pub cost_usd: String,
}

impl Store {
    /// Brings the roll-ups up to date with the events written since the last refresh.
    pub async fn refresh_rollups(&self) -> anyhow::Result<()> {
        let now = self.clock.now_millis();
        let watermark: Option<Millis> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT watermark FROM rollup_state WHERE name = 'facts'"
        )
        .fetch_optional(pool)
        .await)?;
        let since = watermark.map_or(-1, |w| w - OVERLAP_MS);
        let facts = match self.backend() {
            Backend::Sqlite => FACTS_SQLITE,
            Backend::Postgres => FACTS_POSTGRES,
        };
        on_pool!(self, |pool| sqlx::query(facts)
            .bind(since)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        let since_day = if since < 0 {
            String::new()
        } else {
            day_string(since)
        };
        let mut tx = self.begin().await?;
        let days: Vec<i64> = super::on_tx!(&mut tx, |conn| sqlx::query_scalar(CHANGED_DAYS)
            .bind(since)
            .fetch_all(conn)
            .await)?;
        for day in days {
            super::on_tx!(&mut tx, |conn| sqlx::query(
                "DELETE FROM funnel_daily WHERE epoch_day = $1"
            )
            .bind(day)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
            super::on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO funnel_daily
                 SELECT epoch_day, language, channel, intent, tier_rank, COUNT(*),
                        SUM(CASE WHEN inbound > 0 THEN 1 ELSE 0 END),
                        SUM(CASE WHEN drafts > 0 THEN 1 ELSE 0 END),
                        SUM(CASE WHEN sent_auto + sent_approved > 0 THEN 1 ELSE 0 END),
                        SUM(CASE WHEN sent_auto > 0 THEN 1 ELSE 0 END),
                        SUM(CASE WHEN sent_approved > 0 THEN 1 ELSE 0 END),
                        SUM(replied), SUM(converted), SUM(CASE WHEN outcome = 'lost' THEN 1 ELSE 0 END),
                        SUM(approved), SUM(rejected), SUM(edited), SUM(edit_distance)
                 FROM conversation_facts WHERE epoch_day = $1
                 GROUP BY epoch_day, language, channel, intent, tier_rank
                 ON CONFLICT (epoch_day, language, channel, intent, tier_rank) DO UPDATE SET
                   conversations = excluded.conversations, inbound = excluded.inbound,
                   drafted = excluded.drafted, sent = excluded.sent, sent_auto = excluded.sent_auto,
                   sent_approved = excluded.sent_approved, replied = excluded.replied,
                   converted = excluded.converted, lost = excluded.lost, approved = excluded.approved,
                   rejected = excluded.rejected, edited = excluded.edited,
                   edit_distance = excluded.edit_distance"
            )
            .bind(day)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        super::on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM guardrail_daily WHERE day >= $1"
        )
        .bind(&since_day)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        super::on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO guardrail_daily (day, summary, hits)
             SELECT day, summary, COUNT(*) FROM events
             WHERE day >= $1 AND kind = 'guardrail' AND summary NOT LIKE '%: pass %'
             GROUP BY day, summary"
        )
        .bind(&since_day)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        super::on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO rollup_state (name, watermark) VALUES ('facts', $1)
             ON CONFLICT (name) DO UPDATE SET watermark = excluded.watermark"
        )
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// The funnel for conversations started on epoch days `[from_day, to_day]`, by `by`.
    pub async fn funnel(&self, by: Dimension, from_day: i64, to_day: i64) -> anyhow::Result<Vec<FunnelRow>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {key} AS key, CAST(SUM(conversations) AS BIGINT) AS conversations,
                    CAST(SUM(inbound) AS BIGINT) AS inbound, CAST(SUM(drafted) AS BIGINT) AS drafted,
                    CAST(SUM(sent) AS BIGINT) AS sent, CAST(SUM(sent_auto) AS BIGINT) AS sent_auto,
                    CAST(SUM(sent_approved) AS BIGINT) AS sent_approved,
                    CAST(SUM(replied) AS BIGINT) AS replied, CAST(SUM(converted) AS BIGINT) AS converted,
                    CAST(SUM(lost) AS BIGINT) AS lost
             FROM funnel_daily WHERE epoch_day >= $1 AND epoch_day <= $2
             GROUP BY {key} ORDER BY {key}",
            key = by.column()
        ));
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(from_day)
            .bind(to_day)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn review_totals(&self, from_day: i64, to_day: i64) -> anyhow::Result<ReviewTotals> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(approved), 0) AS BIGINT) AS approved,
                    CAST(COALESCE(SUM(rejected), 0) AS BIGINT) AS rejected,
                    CAST(COALESCE(SUM(edited), 0) AS BIGINT) AS edited,
                    CAST(COALESCE(SUM(edit_distance), 0) AS BIGINT) AS edit_distance
             FROM funnel_daily WHERE epoch_day >= $1 AND epoch_day <= $2"
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_one(pool)
        .await)?)
    }

    /// The time each reviewed conversation waited for its first decision, in milliseconds.
    pub async fn review_waits(&self, from_day: i64, to_day: i64) -> anyhow::Result<Vec<i64>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT review_ms FROM conversation_facts
             WHERE epoch_day >= $1 AND epoch_day <= $2 AND review_ms IS NOT NULL"
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await)?)
    }

    /// Rejection reasons of drafts decided in `[from, to]`, most common first.
    pub async fn rejection_reasons(&self, from: Millis, to: Millis) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT COALESCE(reject_reason, '') AS reason, COUNT(*) AS n FROM drafts
             WHERE decided_at >= $1 AND decided_at <= $2 AND state = 'rejected'
             GROUP BY COALESCE(reject_reason, '') ORDER BY n DESC, reason LIMIT 25"
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)?)
    }

    /// Guardrail findings other than pass, per summary (`rule: verdict (reason)`), in a day range.
    pub async fn guardrail_hits(&self, from_day: &str, to_day: &str) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT summary, CAST(SUM(hits) AS BIGINT) AS n FROM guardrail_daily
             WHERE day >= $1 AND day <= $2 GROUP BY summary ORDER BY n DESC, summary"
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await)?)
    }

    /// Replies that could not be sent in `[from, to]`, per status and error text.
    pub async fn failed_sends(&self, from: Millis, to: Millis) -> anyhow::Result<Vec<(String, String, i64)>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT status, COALESCE(last_error, '') AS error, COUNT(*) AS n FROM messages
             WHERE status IN ('failed', 'not_configured', 'unconfirmed', 'blocked')
               AND created_at >= $1 AND created_at <= $2 AND direction = 'out'
             GROUP BY status, COALESCE(last_error, '') ORDER BY n DESC"
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)?)
    }

    /// Every conversation started in the day range, one row each, for the CSV export.
    pub async fn conversation_facts(&self, from_day: i64, to_day: i64) -> anyhow::Result<Vec<FactRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT conversation_id, started_at, language, channel, intent, tier_rank, inbound, drafts,
                    held, sent_auto, sent_approved, replied, converted, approved, rejected, edited,
                    edit_distance, review_ms, outcome, cost_usd
             FROM conversation_facts WHERE epoch_day >= $1 AND epoch_day <= $2 ORDER BY conversation_id"
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await)?)
    }
}

/// The UTC date of an instant, as the `events.day` column holds it.
pub fn day_string(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}
