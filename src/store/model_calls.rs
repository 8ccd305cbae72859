//! Model calls and what they cost. Every call is a `model_calls` row; `model_spend` keeps the
//! running total per UTC day and tier, plus reservations for calls in flight, so the budget
//! check is one small read and two workers (or two instances) can never both spend the last
//! dollar. Money is summed in Rust as exact decimals, never in SQL.

use super::{Store, Tx, on_pool, on_tx};
use crate::domain::Millis;
use crate::models::Usage;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;

/// A finished call (or a task the local tier answered, at no cost), as the router records it.
#[derive(Debug, Clone)]
pub struct NewModelCall {
    pub message_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub contact_id: Option<i64>,
    /// `classify`, `draft` or `redraft`.
    pub task: &'static str,
    pub tier: &'static str,
    pub provider: String,
    pub model: String,
    pub usage: Usage,
    /// For the local tier: the tokens a model would have read and written for the same task,
    /// so the baselines can price what the local tier saved.
    pub estimated_input_tokens: u64,
    pub estimated_output_tokens: u64,
    pub cost_usd: Decimal,
    pub latency_ms: i64,
    /// `ok`, `invalid_answer`, `http_429`, `timeout`, …
    pub outcome: String,
    pub error: Option<String>,
    /// Whether the task kept this call's answer.
    pub used: bool,
}

/// Money set aside for a call in flight, released when the call is settled.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    day: String,
    tier: &'static str,
    amount: Decimal,
}

/// Spend to date, reservations included.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpendToDate {
    pub today: Decimal,
    pub month: Decimal,
}

/// What to total the cost of.
#[derive(Debug, Clone, Copy)]
pub enum SpendScope {
    Message(i64),
    Conversation(i64),
    Contact(i64),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendSummary {
    pub calls: i64,
    pub cost_usd: Decimal,
    pub usage: Usage,
}

/// One row of the spend table: a UTC day and a tier.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySpend {
    pub day: String,
    pub tier: String,
    pub calls: i64,
    pub cost_usd: Decimal,
}

/// Token totals of the answers tasks kept, for pricing the baselines.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BaselineTokens {
    pub usage: Usage,
}

fn day_of(at: Millis) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .date_naive()
}

/// The first day of `day`'s month and of the next, as `YYYY-MM-DD`.
fn month_bounds(day: NaiveDate) -> (String, String) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    (first.to_string(), next.to_string())
}

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

fn tokens(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Serialises budget changes: PostgreSQL takes a transaction-scoped advisory lock; SQLite's
/// first write in the transaction (the row upsert that follows) takes its one writer lock.
async fn lock_budget(tx: &mut Tx) -> sqlx::Result<()> {
    if let super::TxConn::Postgres(tx) = &mut tx.conn {
        sqlx::query("SELECT pg_advisory_xact_lock(7310420)")
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn ensure_row(tx: &mut Tx, day: &str, tier: &str) -> sqlx::Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO model_spend (day, tier, calls, cost_usd, reserved_usd) VALUES ($1, $2, 0, '0', '0')
         ON CONFLICT (day, tier) DO NOTHING",
    )
    .bind(day)
    .bind(tier)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn spend_in(tx: &mut Tx, day: NaiveDate) -> sqlx::Result<SpendToDate> {
    let (from, to) = month_bounds(day);
    let rows: Vec<(String, String, String)> = on_tx!(tx, |conn| sqlx::query_as(
        "SELECT day, cost_usd, reserved_usd FROM model_spend WHERE day >= $1 AND day < $2"
    )
    .bind(&from)
    .bind(&to)
    .fetch_all(conn)
    .await)?;
    Ok(total(&rows, &day.to_string()))
}

fn total(rows: &[(String, String, String)], today: &str) -> SpendToDate {
    let mut spend = SpendToDate::default();
    for (day, cost, reserved) in rows {
        let amount = decimal(cost) + decimal(reserved);
        spend.month += amount;
        if day == today {
            spend.today += amount;
        }
    }
    spend
}

/// Inserts calls made on `day`, in one statement, and returns their ids. Neither backend
/// promises the order of a multi-row INSERT's RETURNING: callers that need an id insert one row.
async fn insert_calls(tx: &mut Tx, calls: &[NewModelCall], day: &str, at: Millis) -> sqlx::Result<Vec<i64>> {
    on_tx!(tx, |conn| {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO model_calls (message_id, conversation_id, contact_id, task, tier, provider, model,
                input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
                estimated_input_tokens, estimated_output_tokens, cost_usd, latency_ms, outcome, error,
                used, day, at) ",
        );
        query.push_values(calls, |mut values, call| {
            values
                .push_bind(call.message_id)
                .push_bind(call.conversation_id)
                .push_bind(call.contact_id)
                .push_bind(call.task)
                .push_bind(call.tier)
                .push_bind(&call.provider)
                .push_bind(&call.model)
                .push_bind(tokens(call.usage.input_tokens))
                .push_bind(tokens(call.usage.output_tokens))
                .push_bind(tokens(call.usage.cache_write_tokens))
                .push_bind(tokens(call.usage.cache_read_tokens))
                .push_bind(tokens(call.estimated_input_tokens))
                .push_bind(tokens(call.estimated_output_tokens))
                .push_bind(call.cost_usd.normalize().to_string())
                .push_bind(call.latency_ms)
                .push_bind(&call.outcome)
                .push_bind(&call.error)
                .push_bind(call.used)
                .push_bind(day)
                .push_bind(at);
        });
        query.push(" RETURNING id");
        query.build_query_scalar().fetch_all(conn).await
    })
}

/// Records the local tier's answers, which cost nothing and reserved nothing, inside the
/// caller's transaction (the pipeline's draft): their rows and the day's call count, without
/// the budget lock and the read-modify-write a paid call needs. The rows carry the
/// transaction's time, a few milliseconds after the answers were made.
pub(crate) async fn record_free(tx: &mut Tx, calls: &[NewModelCall]) -> anyhow::Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    anyhow::ensure!(
        calls.iter().all(|c| c.cost_usd.is_zero()),
        "only calls that cost nothing are recorded without the budget"
    );
    let at = tx.now;
    let day = day_of(at).to_string();
    insert_calls(tx, calls, &day, at).await?;
    let mut per_tier: Vec<(&str, i64)> = Vec::new();
    for call in calls {
        match per_tier.iter_mut().find(|(tier, _)| *tier == call.tier) {
            Some((_, n)) => *n += 1,
            None => per_tier.push((call.tier, 1)),
        }
    }
    for (tier, n) in per_tier {
        on_tx!(tx, |conn| sqlx::query(
            "INSERT INTO model_spend (day, tier, calls, cost_usd, reserved_usd) VALUES ($1, $2, $3, '0', '0')
             ON CONFLICT (day, tier) DO UPDATE SET calls = model_spend.calls + excluded.calls",
        )
        .bind(&day)
        .bind(tier)
        .bind(n)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

impl Store {
    /// What the workspace has spent (and reserved) today and this month, UTC.
    pub async fn spend_to_date(&self) -> anyhow::Result<SpendToDate> {
        let today = day_of(self.clock.now_millis());
        let (from, to) = month_bounds(today);
        let rows: Vec<(String, String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT day, cost_usd, reserved_usd FROM model_spend WHERE day >= $1 AND day < $2"
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(pool)
        .await)?;
        Ok(total(&rows, &today.to_string()))
    }

    /// Sets `amount` aside for a call on `tier` if it fits under both limits; `None` if not.
    /// A reservation whose call never settles (the process died mid-call) stays booked for
    /// the rest of its day: the budget errs on the side of spending less.
    pub async fn reserve_spend(
        &self,
        tier: &'static str,
        amount: Decimal,
        daily_limit: Decimal,
        monthly_limit: Decimal,
    ) -> anyhow::Result<Option<Reservation>> {
        let today = day_of(self.clock.now_millis());
        let day = today.to_string();
        let mut tx = self.begin().await?;
        lock_budget(&mut tx).await?;
        ensure_row(&mut tx, &day, tier).await?;
        let spent = spend_in(&mut tx, today).await?;
        if spent.today + amount > daily_limit || spent.month + amount > monthly_limit {
            return Ok(None);
        }
        let reserved: String = on_tx!(&mut tx, |conn| sqlx::query_scalar(
            "SELECT reserved_usd FROM model_spend WHERE day = $1 AND tier = $2"
        )
        .bind(&day)
        .bind(tier)
        .fetch_one(conn)
        .await)?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE model_spend SET reserved_usd = $1 WHERE day = $2 AND tier = $3"
        )
        .bind((decimal(&reserved) + amount).to_string())
        .bind(&day)
        .bind(tier)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(Some(Reservation { day, tier, amount }))
    }

    /// Records a call: releases its reservation, adds its cost to the day's total and stores
    /// the row, in one transaction. Returns the row's id.
    pub async fn settle_call(
        &self,
        reservation: Option<Reservation>,
        call: &NewModelCall,
    ) -> anyhow::Result<i64> {
        let at = self.clock.now_millis();
        let (day, released) = match &reservation {
            Some(r) => (r.day.clone(), r.amount),
            None => (day_of(at).to_string(), Decimal::ZERO),
        };
        let mut tx = self.begin().await?;
        lock_budget(&mut tx).await?;
        ensure_row(&mut tx, &day, call.tier).await?;
        let (cost, reserved): (String, String) = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT cost_usd, reserved_usd FROM model_spend WHERE day = $1 AND tier = $2"
        )
        .bind(&day)
        .bind(call.tier)
        .fetch_one(conn)
        .await)?;
        let reserved = (decimal(&reserved) - released).max(Decimal::ZERO);
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE model_spend SET calls = calls + 1, cost_usd = $1, reserved_usd = $2
             WHERE day = $3 AND tier = $4",
        )
        .bind((decimal(&cost) + call.cost_usd).normalize().to_string())
        .bind(reserved.normalize().to_string())
        .bind(&day)
        .bind(call.tier)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let id = insert_calls(&mut tx, std::slice::from_ref(call), &day, at)
            .await?
            .first()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the model call was not stored"))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records free calls (the local tier's answers) in a transaction of their own, for callers
    /// that store no draft with them.
    pub async fn record_free_calls(&self, calls: &[NewModelCall]) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        record_free(&mut tx, calls).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the call whose answer a task kept.
    pub async fn mark_call_used(&self, id: i64) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE model_calls SET used = $1 WHERE id = $2"
        )
        .bind(true)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Calls, tokens and cost of one message, conversation or contact.
    pub async fn spend_for(&self, scope: SpendScope) -> anyhow::Result<SpendSummary> {
        let (column, id) = match scope {
            SpendScope::Message(id) => ("message_id", id),
            SpendScope::Conversation(id) => ("conversation_id", id),
            SpendScope::Contact(id) => ("contact_id", id),
        };
        // `column` is one of three fixed names, never outside text.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT cost_usd, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens
             FROM model_calls WHERE {column} = $1 AND provider <> 'local'"
        ));
        let rows: Vec<(String, i64, i64, i64, i64)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(id).fetch_all(pool).await)?;
        let mut summary = SpendSummary::default();
        for (cost, input, output, write, read) in rows {
            summary.calls += 1;
            summary.cost_usd += decimal(&cost);
            summary.usage.input_tokens += input.max(0) as u64;
            summary.usage.output_tokens += output.max(0) as u64;
            summary.usage.cache_write_tokens += write.max(0) as u64;
            summary.usage.cache_read_tokens += read.max(0) as u64;
        }
        Ok(summary)
    }

    /// Spend per UTC day and tier since `since_day`, newest first.
    pub async fn spend_by_day(&self, since_day: &str) -> anyhow::Result<Vec<DaySpend>> {
        let rows: Vec<(String, String, i64, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT day, tier, calls, cost_usd FROM model_spend WHERE day >= $1 ORDER BY day DESC, tier"
        )
        .bind(since_day)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(day, tier, calls, cost)| DaySpend {
                day,
                tier,
                calls,
                cost_usd: decimal(&cost),
            })
            .collect())
    }

    /// How many tasks each tier answered since `since_day`: (task, tier, count).
    pub async fn answers_by_tier(&self, since_day: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT task, tier, COUNT(*) FROM model_calls WHERE day >= $1 AND used = $2
             GROUP BY task, tier ORDER BY task, tier",
        )
        .bind(since_day)
        .bind(true)
        .fetch_all(pool)
        .await)?)
    }

    /// Tokens of the answers kept since `since_day`, the local tier's estimates included.
    pub async fn baseline_tokens(&self, since_day: &str) -> anyhow::Result<BaselineTokens> {
        let (input, output, write, read): (i64, i64, i64, i64) = on_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(input_tokens + estimated_input_tokens), 0) AS BIGINT),
                    CAST(COALESCE(SUM(output_tokens + estimated_output_tokens), 0) AS BIGINT),
                    CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT),
                    CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT)
             FROM model_calls WHERE day >= $1 AND used = $2",
        )
        .bind(since_day)
        .bind(true)
        .fetch_one(pool)
        .await)?;
        Ok(BaselineTokens {
            usage: Usage {
                input_tokens: input.max(0) as u64,
                output_tokens: output.max(0) as u64,
                cache_write_tokens: write.max(0) as u64,
                cache_read_tokens: read.max(0) as u64,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_run_from_the_first_to_the_next_first() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        assert_eq!(
            month_bounds(day),
            ("2026-12-01".to_owned(), "2027-01-01".to_owned())
        );
    }

    #[test]
    fn totals_add_reservations_and_split_today_from_the_month() {
        let rows = vec![
            ("2026-12-01".to_owned(), "1.5".to_owned(), "0".to_owned()),
            ("2026-12-03".to_owned(), "0.25".to_owned(), "0.01".to_owned()),
            ("2026-12-03".to_owned(), "0.000001".to_owned(), "0".to_owned()),
        ];
        let spend = total(&rows, "2026-12-03");
        assert_eq!(spend.today, "0.260001".parse::<Decimal>().expect("d"));
        assert_eq!(spend.month, "1.760001".parse::<Decimal>().expect("d"));
    }
}
