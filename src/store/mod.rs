//! All database access. One facade, [`Store`], over small query modules. Times are epoch
//! milliseconds and money is a decimal string, so the same schema fits SQLite and PostgreSQL;
//! queries that must differ between the two will sit side by side in these modules.

mod catalog;
mod conversations;
mod drafts;
mod events;
mod inbound;
mod jobs;
mod outbound;
mod users;

pub use conversations::{ConversationRow, ThreadMessage};
pub use drafts::{ApproveOutcome, DraftRow, HeldDraft, NewDraft};
pub use events::{DailyCount, EventRow, NewEvent};
pub use inbound::{DeliveryRow, InboundContext, IngestSummary};
pub use jobs::{ClaimedJob, JobCounts};
pub use outbound::OutboundRow;
pub use users::{SessionUser, UserRow};

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
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
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("while running database migrations")
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
