//! Users and their login sessions. Session tokens are stored only as SHA-256 hashes.

use super::{Store, on_pool};
use crate::domain::{Millis, Role};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub password_hash: String,
}

/// The signed-in user behind a session, with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
}

impl Store {
    pub async fn count_users(&self) -> anyhow::Result<i64> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(pool)
        .await)?)
    }

    /// Creates a user; `None` if the name is taken (another instance may have just seeded it).
    pub async fn create_user(
        &self,
        username: &str,
        role: Role,
        password_hash: &str,
    ) -> anyhow::Result<Option<i64>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(self.clock.now_millis())
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn user_by_name(&self, username: &str) -> anyhow::Result<Option<UserRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, username, role, password_hash FROM users WHERE username = $1"
        )
        .bind(username)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: Millis,
    ) -> anyhow::Result<()> {
        let now = self.clock.now_millis();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The user behind a live session. A session past its absolute end, or unused since
    /// `idle_since` or before, is deleted and counts as none. One last used before
    /// `touch_before` is marked as used now, so a busy session writes at most once per interval.
    pub async fn session_user(
        &self,
        token_hash: &str,
        idle_since: Millis,
        touch_before: Millis,
    ) -> anyhow::Result<Option<SessionUser>> {
        let row: Option<(i64, String, String, String, Millis, Millis)> =
            on_pool!(self, |pool| sqlx::query_as(
                "SELECT u.id, u.username, u.role, s.csrf_token, s.expires_at, s.last_seen_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?;
        let Some((id, username, role, csrf_token, expires_at, last_seen_at)) = row else {
            return Ok(None);
        };
        let now = self.clock.now_millis();
        if expires_at <= now || last_seen_at <= idle_since {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        if last_seen_at < touch_before {
            on_pool!(self, |pool| sqlx::query(
                "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1"
            )
            .bind(now)
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(Some(SessionUser {
            id,
            username,
            role: role.parse()?,
            csrf_token,
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every user, by name, with how many sessions they have open.
    pub async fn users(&self) -> anyhow::Result<Vec<UserSummary>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.created_at,
                    (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > $1) AS sessions
             FROM users u ORDER BY u.username"
        )
        .bind(self.clock.now_millis())
        .fetch_all(pool)
        .await)?)
    }

    pub async fn user(&self, id: i64) -> anyhow::Result<Option<UserRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, username, role, password_hash FROM users WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn set_role(&self, id: i64, role: Role) -> anyhow::Result<bool> {
        let changed = on_pool!(self, |pool| sqlx::query(
            "UPDATE users SET role = $1 WHERE id = $2"
        )
        .bind(role.as_str())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed > 0)
    }

    pub async fn set_password_hash(&self, id: i64, password_hash: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE id = $2"
        )
        .bind(password_hash)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends every session of a user: logout everywhere. Returns how many there were.
    pub async fn delete_sessions_of(&self, user_id: i64) -> anyhow::Result<u64> {
        Ok(on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1"
        )
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }
}

/// A user as the admin page lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub created_at: Millis,
    pub sessions: i64,
}
