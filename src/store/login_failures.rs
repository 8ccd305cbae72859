//! Failed sign-ins, counted per account and per client address for the login limits. The rows
//! live in the database so that every instance behind a load balancer sees the same count.

use super::{Store, on_pool, on_tx};
use crate::domain::Millis;

/// What a failure is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureScope {
    /// The username as typed, hashed.
    Account,
    /// The client's address.
    Ip,
}

impl FailureScope {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureScope::Account => "account",
            FailureScope::Ip => "ip",
        }
    }
}

impl Store {
    /// The time of the `nth` most recent failure (1 = the newest) for `key` after `since`, if
    /// there were that many: when it leaves the window, fewer than `nth` remain.
    pub async fn nth_recent_login_failure(
        &self,
        scope: FailureScope,
        key: &str,
        since: Millis,
        nth: u32,
    ) -> anyhow::Result<Option<Millis>> {
        let sql = match scope {
            FailureScope::Account => {
                "SELECT at FROM login_failures WHERE account = $1 AND at > $2
                 ORDER BY at DESC LIMIT 1 OFFSET $3"
            }
            FailureScope::Ip => {
                "SELECT at FROM login_failures WHERE ip = $1 AND at > $2
                 ORDER BY at DESC LIMIT 1 OFFSET $3"
            }
        };
        let offset = i64::from(nth.max(1) - 1);
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(key)
            .bind(since)
            .bind(offset)
            .fetch_optional(pool)
            .await)?)
    }

    /// Records a failed sign-in now and forgets failures from before `prune_before`. Returns
    /// how many failures the account and the address have after `since`, this one included.
    pub async fn record_login_failure(
        &self,
        account: &str,
        ip: &str,
        since: Millis,
        prune_before: Millis,
    ) -> anyhow::Result<(i64, i64)> {
        let now = self.clock.now_millis();
        let mut tx = self.begin().await?;
        on_tx!(tx, |conn| sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(prune_before)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(tx, |conn| sqlx::query(
            "INSERT INTO login_failures (account, ip, at) VALUES ($1, $2, $3)"
        )
        .bind(account)
        .bind(ip)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let counts: (i64, i64) = on_tx!(tx, |conn| sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM login_failures WHERE account = $1 AND at > $3),
                    (SELECT COUNT(*) FROM login_failures WHERE ip = $2 AND at > $3)"
        )
        .bind(account)
        .bind(ip)
        .bind(since)
        .fetch_one(conn)
        .await)?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Forgets an account's failures: it signed in.
    pub async fn clear_login_failures(&self, account: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM login_failures WHERE account = $1"
        )
        .bind(account)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
