//! All database access. One facade, [`Store`], with two backends: SQLite (the embedded default)
//! and PostgreSQL (to scale out). Each query is written once where the SQL is the same on both,
//! and side by side where it differs. Times are epoch milliseconds and money is a decimal string,
//! so both schemas (`migrations/sqlite`, `migrations/postgres`) hold the same values.

mod audit;
mod catalog;
mod contacts;
mod conversations;
mod conversions;
mod drafts;
mod email;
mod eval_runs;
mod events;
mod facts;
mod failover;
mod group_commit;
mod inbound;
mod inbox;
mod jobs;
mod labels;
mod login_failures;
mod model_calls;
mod observations;
mod outbound;
mod retention;
mod routing_facts;
mod trace_search;
mod users;

pub use audit::AuditRow;
pub use contacts::{ContactHistory, SuppressedContact};
pub use conversations::{ConversationRow, ThreadMessage};
pub use conversions::{ConversionRow, NewConversion, Recorded};
pub use drafts::{ApproveOutcome, DraftRow, HeldDraft, NewDraft};
pub use email::{EmailIngest, EmailThread, EmailView};
pub use eval_runs::EvalRunSummary;
pub use events::{DailyCount, EventRow, NewEvent};
pub use facts::{Dimension, FactRow, FunnelRow, ReviewTotals, day_string};
pub use failover::{DegradedMode, DegradedPeriod};
pub use inbound::{DeliveryRow, InboundContext, IngestSummary};
pub use inbox::{Claim, ConversationState, NoteRow, Queue, QueueFilter, QueueItem};
pub use jobs::{ClaimedJob, JobCounts};
pub use labels::ReviewedMessage;
pub use login_failures::FailureScope;
pub use model_calls::{
    BaselineTokens, DaySpend, NewModelCall, Reservation, SpendScope, SpendSummary, SpendToDate,
};
pub use observations::{Observation, QueueGauges, ReplyRow};
pub use outbound::OutboundRow;
pub use retention::RetentionSummary;
pub use routing_facts::ReviewedDraft;
pub use trace_search::{TraceHit, TraceQuery};
pub use users::{SessionUser, UserRow, UserSummary};

use crate::domain::{Clock, Millis};
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    db: Db,
    clock: Clock,
    /// SQLite only: the one writer that batches webhook deliveries into shared commits.
    group_commit: Option<std::sync::Arc<group_commit::GroupCommit>>,
    /// Mask personal data in trace events as they are written (`redaction = "everywhere"`).
    mask_traces: bool,
}

#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction on either backend, with the store clock's reading when it began: every
/// row it writes carries that one time.
pub(crate) struct Tx {
    conn: TxConn,
    pub(crate) now: Millis,
    pub(crate) mask_traces: bool,
}

pub(crate) enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the store's pool, whichever backend it is. The body is
/// compiled once per backend, so each gets its own native types.
macro_rules! on_pool {
    ($store:expr, |$conn:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite($conn) => $body,
            $crate::store::Db::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.conn {
            $crate::store::TxConn::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::TxConn::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_tx};

impl Store {
    /// Opens the database at `url` (`sqlite://FILE`, created if missing, or `postgres://…`)
    /// and brings its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without touching its schema.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .with_context(|| format!("while reading database_url {}", redact(url)))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .with_context(|| format!("while connecting to PostgreSQL at {}", redact(url)))?;
            Db::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("while reading database_url {url:?}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a webhook is acknowledged only once its transaction is on disk.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .with_context(|| format!("while opening the database {url:?}"))?;
            Db::Sqlite(pool)
        };
        let direct = Store {
            db,
            clock: Clock::system(),
            mask_traces: false,
            group_commit: None,
        };
        let group_commit = match direct.db {
            Db::Sqlite(_) => Some(std::sync::Arc::new(group_commit::GroupCommit::start(
                direct.clone(),
            ))),
            // PostgreSQL takes concurrent writers and groups their commits itself.
            Db::Postgres(_) => None,
        };
        Ok(Store {
            group_commit,
            ..direct
        })
    }

    /// The store, reading time from `clock`.
    pub fn with_clock(self, clock: Clock) -> Store {
        Store { clock, ..self }
    }

    /// The store, masking personal data in every trace event it writes.
    pub fn with_trace_masking(self, mask_traces: bool) -> Store {
        Store { mask_traces, ..self }
    }

    /// The clock the store stamps rows with.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.db {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .context("while running database migrations")
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn begin(&self) -> sqlx::Result<Tx> {
        let conn = match &self.db {
            // IMMEDIATE: a transaction takes the write lock when it begins, waiting for it
            // under the busy timeout. A deferred one that read first and then wrote would fail
            // at once with SQLITE_BUSY whenever another writer got in between.
            Db::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            conn,
            now: self.clock.now_millis(),
            mask_traces: self.mask_traces,
        })
    }

    /// Runs a query returning one integer: for tests and operational checks only, never with
    /// text that came from outside.
    #[doc(hidden)]
    pub async fn scalar_i64(&self, sql: &str) -> anyhow::Result<i64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await)?)
    }

    /// Runs statements that return nothing (several, separated by `;`): for tests only, to
    /// stage what the application never does itself.
    #[doc(hidden)]
    pub async fn execute_sql(&self, sql: &str) -> anyhow::Result<()> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        on_pool!(self, |pool| sqlx::raw_sql(sql).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Runs a query returning one text value: for tests and operational checks only.
    #[doc(hidden)]
    pub async fn scalar_text(&self, sql: &str) -> anyhow::Result<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await)?)
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await,
            TxConn::Postgres(tx) => tx.commit().await,
        }
    }

    pub(crate) async fn rollback(self) -> sqlx::Result<()> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.rollback().await,
            TxConn::Postgres(tx) => tx.rollback().await,
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A database URL with its password hidden, for error messages.
fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((credentials, rest)) => match credentials.rsplit_once(':') {
            Some((user, _)) if user.contains("//") && user.matches(':').count() == 1 => {
                format!("{user}:***@{rest}")
            }
            _ => format!("{credentials}@{rest}"),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            super::redact("postgres://app:s3cret@db:5432/t"),
            "postgres://app:***@db:5432/t"
        );
        assert_eq!(super::redact("postgres://app@db/t"), "postgres://app@db/t");
        assert_eq!(super::redact("sqlite://tuesday.db"), "sqlite://tuesday.db");
    }
}
