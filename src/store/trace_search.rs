//! Finding traces: inbound messages by contact, text, intent, model, guardrail rule, error code
//! or time range. Model, rule and error code read the indexed columns of `events`.

use super::{Db, Store};
use crate::domain::Millis;

/// What to look for; every field left empty matches everything.
#[derive(Debug, Clone, Default)]
pub struct TraceQuery {
    /// Part of the contact's number or name.
    pub contact: Option<String>,
    /// Part of the message's text.
    pub text: Option<String>,
    pub intent: Option<String>,
    pub model: Option<String>,
    pub rule: Option<String>,
    pub error_code: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TraceHit {
    pub message_id: i64,
    pub conversation_id: i64,
    pub at: Millis,
    pub contact: String,
    pub body: String,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub draft_state: Option<String>,
    pub problems: i64,
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally.
fn contains(text: &Option<String>) -> Option<String> {
    text.as_ref().map(|t| {
        let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    })
}

macro_rules! search_sql {
    ($like:literal, $text:literal) => {
        concat!(
            "SELECT m.id AS message_id, m.conversation_id, m.created_at AS at,
                    COALESCE(ct.name, ct.address) AS contact, m.body, m.language, d.intent,
                    d.state AS draft_state,
                    (SELECT COUNT(*) FROM events p WHERE p.message_id = m.id AND p.error_code IS NOT NULL)
                        AS problems
             FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
             JOIN contacts ct ON ct.id = c.contact_id
             LEFT JOIN drafts d ON d.message_id = m.id
             WHERE m.direction = 'in'
               AND ($1",
            $text,
            " IS NULL OR ct.address ",
            $like,
            " $1 ESCAPE '\\' OR ct.name ",
            $like,
            " $1 ESCAPE '\\')
               AND ($2",
            $text,
            " IS NULL OR m.body ",
            $like,
            " $2 ESCAPE '\\')
               AND ($3",
            $text,
            " IS NULL OR d.intent = $3)
               AND ($4",
            $text,
            " IS NULL OR m.id IN (SELECT e.message_id FROM events e WHERE e.model = $4))
               AND ($5",
            $text,
            " IS NULL OR m.id IN (SELECT e.message_id FROM events e WHERE e.rule = $5))
               AND ($6",
            $text,
            " IS NULL OR m.id IN (SELECT e.message_id FROM events e WHERE e.error_code = $6))
               AND m.created_at >= $7 AND m.created_at <= $8
             ORDER BY m.created_at DESC, m.id DESC
             LIMIT $9"
        )
    };
}

impl Store {
    /// The newest matching inbound messages, at most `limit`.
    pub async fn search_traces(&self, query: &TraceQuery, limit: i64) -> anyhow::Result<Vec<TraceHit>> {
        let contact = contains(&query.contact);
        let text = contains(&query.text);
        let from = query.from.unwrap_or(0);
        let to = query.to.unwrap_or(i64::MAX);
        macro_rules! run {
            ($sql:expr, $pool:expr) => {
                sqlx::query_as($sql)
                    .bind(&contact)
                    .bind(&text)
                    .bind(&query.intent)
                    .bind(&query.model)
                    .bind(&query.rule)
                    .bind(&query.error_code)
                    .bind(from)
                    .bind(to)
                    .bind(limit)
                    .fetch_all($pool)
                    .await
            };
        }
        Ok(match &self.db {
            // SQLite's LIKE ignores ASCII case already.
            Db::Sqlite(pool) => run!(search_sql!("LIKE", ""), pool),
            Db::Postgres(pool) => run!(search_sql!("ILIKE", "::text"), pool),
        }?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(
            super::contains(&Some("50%_off".into())).as_deref(),
            Some("%50\\%\\_off%")
        );
        assert_eq!(super::contains(&None), None);
    }
}
