//! Sign-in limits: after too many failures on one username, or from one client address, within
//! a window (`server.login_limit`), sign-ins are refused with 429 until the oldest counted
//! failure leaves the window. Refused attempts check no password, so a locked account answers
//! the same to the right and the wrong one. Failures live in the database (every instance
//! counts them), keyed by a hash of the username as typed, known or not, so the answer never
//! tells whether an account exists.

use crate::domain::Millis;
use crate::state::AppState;
use crate::store::{FailureScope, UserRow};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// One sign-in attempt: what it is counted against.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// SHA-256 of the trimmed, lowercased username.
    account: String,
    ip: String,
}

impl Attempt {
    pub fn new(username: &str, ip: IpAddr) -> Attempt {
        let name = username.trim().to_lowercase();
        Attempt {
            account: hex::encode(Sha256::digest(name.as_bytes())),
            ip: ip.to_string(),
        }
    }
}

/// Why and for how long sign-ins are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub scope: FailureScope,
    /// Whole seconds until an attempt will be looked at again (at least 1).
    pub retry_after_secs: i64,
}

impl Lockout {
    /// What the login page says: the same for either scope.
    pub fn message(&self) -> String {
        let minutes = (self.retry_after_secs + 59) / 60;
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        format!("Too many failed sign-ins. Try again in {minutes} {unit}.")
    }
}

/// When a lockout whose `nth` most recent failure happened `at` lifts, seen from `now`.
fn lifts_in(at: Millis, window: Millis, now: Millis) -> i64 {
    ((at + window - now).max(0) + 999) / 1000
}

fn window_millis(state: &AppState) -> Millis {
    i64::from(state.settings.server.login_limit.window_minutes) * 60_000
}

/// The lockout in force for `attempt`, if any: the longer of the account's and the address's.
pub async fn lockout(state: &AppState, attempt: &Attempt) -> anyhow::Result<Option<Lockout>> {
    let limits = &state.settings.server.login_limit;
    let window = window_millis(state);
    let now = state.clock().now_millis();
    let mut found: Option<Lockout> = None;
    for (scope, key, limit) in [
        (FailureScope::Account, &attempt.account, limits.account_failures),
        (FailureScope::Ip, &attempt.ip, limits.ip_failures),
    ] {
        let Some(at) = state
            .store
            .nth_recent_login_failure(scope, key, now - window, limit)
            .await?
        else {
            continue;
        };
        let lockout = Lockout {
            scope,
            retry_after_secs: lifts_in(at, window, now).max(1),
        };
        if found.is_none_or(|f| f.retry_after_secs < lockout.retry_after_secs) {
            found = Some(lockout);
        }
    }
    Ok(found)
}

/// Logs and counts a refused attempt. The audit log got one entry when the lockout began; one
/// per refusal would let anyone fill an append-only table.
pub fn note_refusal(state: &AppState, attempt: &Attempt, lockout: &Lockout) {
    tracing::warn!(
        scope = lockout.scope.as_str(),
        ip = %attempt.ip,
        retry_after_secs = lockout.retry_after_secs,
        "sign-in refused: too many failures"
    );
    state
        .observability
        .metrics
        .login_refusals
        .get_or_create(&vec![("scope", lockout.scope.as_str().to_owned())])
        .inc();
}

/// Counts a failed sign-in; the failure that reaches a limit writes the lockout to the audit
/// log (`user`: the account the username names, if it exists).
pub async fn record_failure(
    state: &AppState,
    attempt: &Attempt,
    user: Option<&UserRow>,
) -> anyhow::Result<()> {
    let limits = &state.settings.server.login_limit;
    let window = window_millis(state);
    let now = state.clock().now_millis();
    let (account_failures, ip_failures) = state
        .store
        .record_login_failure(&attempt.account, &attempt.ip, now - window, now - window)
        .await?;
    let reached = [
        (FailureScope::Account, account_failures, limits.account_failures),
        (FailureScope::Ip, ip_failures, limits.ip_failures),
    ];
    for (scope, failures, limit) in reached {
        if failures != i64::from(limit) {
            continue;
        }
        // An unknown username is not written down: it may be a password typed in the wrong box.
        let (user_id, username) = match (scope, user) {
            (FailureScope::Account, Some(u)) => (Some(u.id), u.username.as_str()),
            _ => (None, "anonymous"),
        };
        let summary = match scope {
            FailureScope::Account => format!(
                "sign-ins to this account refused after {failures} failures in {} min",
                limits.window_minutes
            ),
            FailureScope::Ip => format!(
                "sign-ins from {} refused after {failures} failures in {} min",
                attempt.ip, limits.window_minutes
            ),
        };
        tracing::warn!(scope = scope.as_str(), ip = %attempt.ip, failures, "sign-in lockout begins");
        state
            .store
            .audit_security_event(
                user_id,
                username,
                "login_locked",
                &summary,
                &json!({"scope": scope.as_str(), "ip": attempt.ip, "failures": failures,
                        "window_minutes": limits.window_minutes}),
            )
            .await?;
    }
    Ok(())
}

/// A successful sign-in clears the account's failures (not the address's: a shared office
/// address is still limited by everyone's failures).
pub async fn record_success(state: &AppState, attempt: &Attempt) -> anyhow::Result<()> {
    state.store.clear_login_failures(&attempt.account).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_count_alike_whatever_their_case_or_spaces() {
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        assert_eq!(Attempt::new(" Rep ", ip).account, Attempt::new("rep", ip).account);
        assert_ne!(Attempt::new("rep", ip).account, Attempt::new("admin", ip).account);
        assert_eq!(
            Attempt::new("rep", ip).account.len(),
            64,
            "a hash, never the name"
        );
    }

    #[test]
    fn lockouts_lift_when_the_counted_failure_leaves_the_window() {
        let window = 15 * 60_000;
        assert_eq!(lifts_in(1_000_000, window, 1_000_000), 900);
        assert_eq!(lifts_in(1_000_000, window, 1_000_000 + 899_001), 1, "rounded up");
        assert_eq!(lifts_in(1_000_000, window, 1_000_000 + window + 5), 0);
        let lockout = Lockout {
            scope: FailureScope::Ip,
            retry_after_secs: 61,
        };
        assert_eq!(
            lockout.message(),
            "Too many failed sign-ins. Try again in 2 minutes."
        );
        let lockout = Lockout {
            scope: FailureScope::Account,
            retry_after_secs: 1,
        };
        assert_eq!(
            lockout.message(),
            "Too many failed sign-ins. Try again in 1 minute."
        );
    }
}
