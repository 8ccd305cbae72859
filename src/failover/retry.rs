//! What to do after a failed model call, and how long to wait before the next attempt:
//! exponential backoff with full jitter, or the wait the provider asked for. Pure functions.

use crate::models::CallError;
use rand::Rng;
use std::time::Duration;

/// What a failed call means for the task and for the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Rate limits, overload, server errors, timeouts, connection errors, garbage answers:
    /// the same call may succeed in a moment.
    Transient,
    /// 400, 401, 403: our request or our key is wrong. Retrying cannot help; a person must
    /// look, so it is logged as an alert.
    Alert,
    /// 402 or a quota error: the provider will refuse every call until someone pays. The
    /// provider's breaker opens at once.
    Outage,
    /// No such provider in the settings.
    NotConfigured,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Transient => "transient",
            Failure::Alert => "alert",
            Failure::Outage => "outage",
            Failure::NotConfigured => "not_configured",
        }
    }
}

/// Sorts a call error into what to do about it.
pub fn classify(error: &CallError) -> Failure {
    match error {
        CallError::Status {
            status,
            kind,
            message,
            ..
        } => {
            let text = format!("{kind} {message}").to_lowercase();
            let quota = text.contains("insufficient_quota")
                || text.contains("quota")
                || text.contains("credit balance")
                || text.contains("billing");
            if *status == 402 || (quota && *status != 500) {
                Failure::Outage
            } else if matches!(status, 400 | 401 | 403) {
                Failure::Alert
            } else if *status == 429 || *status == 408 || *status >= 500 {
                Failure::Transient
            } else {
                Failure::Alert
            }
        }
        CallError::Timeout(_) | CallError::Transport(_) | CallError::Malformed(_) => Failure::Transient,
        CallError::NotConfigured(_) => Failure::NotConfigured,
    }
}

/// How attempts are spaced.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// A provider asking for a longer wait than this is left for the next entry.
    pub max_retry_after: Duration,
}

/// The wait before attempt `attempt + 1`, after `attempt` failed attempts (1-based). Full
/// jitter: a uniform draw between zero and `min(cap, base · 2^(attempt-1))`, so workers that
/// failed together do not come back together. A `Retry-After` from the provider is a floor.
/// `None` when the provider asked for more than `max_retry_after`.
pub fn delay(
    backoff: &Backoff,
    attempt: u32,
    retry_after: Option<Duration>,
    rng: &mut impl Rng,
) -> Option<Duration> {
    if let Some(asked) = retry_after
        && asked > backoff.max_retry_after
    {
        return None;
    }
    let ceiling = backoff
        .base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)))
        .min(backoff.cap);
    let jittered = Duration::from_millis(rng.gen_range(0..=ceiling.as_millis() as u64));
    Some(retry_after.map_or(jittered, |asked| asked.max(jittered)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn status(status: u16, kind: &str, message: &str) -> CallError {
        CallError::Status {
            status,
            kind: kind.to_owned(),
            message: message.to_owned(),
            retry_after: None,
        }
    }

    #[test]
    fn errors_sort_into_retry_alert_and_outage() {
        let cases = [
            (
                status(429, "rate_limit_error", "Number of requests exceeded"),
                Failure::Transient,
            ),
            (status(529, "overloaded_error", "Overloaded"), Failure::Transient),
            (
                status(500, "api_error", "Internal server error"),
                Failure::Transient,
            ),
            (
                status(503, "unknown", "upstream connect error"),
                Failure::Transient,
            ),
            (CallError::Timeout(Duration::from_secs(1)), Failure::Transient),
            (
                CallError::Transport("connection refused".into()),
                Failure::Transient,
            ),
            (
                CallError::Malformed("expected value at line 1".into()),
                Failure::Transient,
            ),
            (
                status(400, "invalid_request_error", "max_tokens: too large"),
                Failure::Alert,
            ),
            (
                status(401, "authentication_error", "invalid x-api-key"),
                Failure::Alert,
            ),
            (status(403, "permission_error", "not allowed"), Failure::Alert),
            (status(402, "unknown", "Payment Required"), Failure::Outage),
            (
                status(429, "insufficient_quota", "You exceeded your current quota"),
                Failure::Outage,
            ),
            (
                status(
                    400,
                    "invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API",
                ),
                Failure::Outage,
            ),
            (CallError::NotConfigured("mistral".into()), Failure::NotConfigured),
        ];
        for (error, want) in cases {
            assert_eq!(classify(&error), want, "{error}");
        }
    }

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1_000),
            max_retry_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn full_jitter_stays_under_a_doubling_ceiling_and_the_cap() {
        let mut rng = StdRng::seed_from_u64(7);
        for (attempt, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1_000), (30, 1_000)] {
            let draws: Vec<u64> = (0..500)
                .map(|_| {
                    delay(&backoff(), attempt, None, &mut rng)
                        .expect("no retry-after")
                        .as_millis() as u64
                })
                .collect();
            assert!(
                draws.iter().all(|d| *d <= ceiling),
                "attempt {attempt}: {draws:?}"
            );
            // Jitter spreads the waits over the whole range, not around one value.
            assert!(draws.iter().any(|d| *d < ceiling / 4), "attempt {attempt}");
            assert!(draws.iter().any(|d| *d > ceiling * 3 / 4), "attempt {attempt}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_too_long_a_wait_moves_on() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let wait = delay(&backoff(), 1, Some(Duration::from_secs(2)), &mut rng).expect("waits");
            assert_eq!(wait, Duration::from_secs(2));
        }
        let short = delay(&backoff(), 4, Some(Duration::from_millis(10)), &mut rng).expect("waits");
        assert!(short >= Duration::from_millis(10) && short <= Duration::from_millis(800));
        assert_eq!(
            delay(&backoff(), 1, Some(Duration::from_secs(11)), &mut rng),
            None
        );
    }
}
