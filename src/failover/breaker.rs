//! A circuit breaker per provider and model. It opens after `consecutive_failures` failures in
//! a row, or when at least `failure_rate` of the calls in the last `window_secs` failed (given
//! `min_calls` calls); while open, calls skip it at once; after `open_secs` one probe goes
//! through (half-open), and its outcome closes or reopens it. 402 and quota errors open it at
//! once for `outage_open_secs`.
//!
//! The state lives in memory, shared by every worker of the process (one [`Breakers`] in
//! `AppState`), and reads time from a [`Ticker`] so tests can move the clock by hand.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a breaker reads the time: milliseconds since some fixed origin.
pub trait Ticker: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> u64;
}

/// The monotonic system clock.
#[derive(Debug)]
pub struct SystemTicker(Instant);

impl Default for SystemTicker {
    fn default() -> Self {
        SystemTicker(Instant::now())
    }
}

impl Ticker for SystemTicker {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

/// A clock that moves only when told: for tests.
#[derive(Debug, Default)]
pub struct ManualTicker(AtomicU64);

impl ManualTicker {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Ticker for ManualTicker {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `[failover.breaker]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerSettings {
    pub consecutive_failures: u32,
    pub window_secs: u64,
    /// Share of failed calls in the window that opens the breaker, 0–1.
    pub failure_rate: f64,
    /// Fewer calls than this in the window never open it on the rate alone.
    pub min_calls: u32,
    /// How long it stays open before a probe.
    pub open_secs: u64,
    /// How long a 402 or quota error keeps it open.
    pub outage_open_secs: u64,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            consecutive_failures: 5,
            window_secs: 60,
            failure_rate: 0.5,
            min_calls: 10,
            open_secs: 30,
            outage_open_secs: 300,
        }
    }
}

impl BreakerSettings {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.consecutive_failures >= 1,
            "failover.breaker.consecutive_failures must be at least 1"
        );
        anyhow::ensure!(
            self.failure_rate > 0.0 && self.failure_rate <= 1.0,
            "failover.breaker.failure_rate must be above 0 and at most 1"
        );
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Whether a call may go to a provider/model now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Go,
    /// The half-open probe: its outcome decides the breaker.
    Probe,
    /// Open (or a probe is already out): skip this entry.
    Skip {
        retry_in: Duration,
    },
}

/// One breaker as the status page and the metrics see it.
#[derive(Debug, Clone, Serialize)]
pub struct BreakerView {
    pub provider: String,
    pub model: String,
    pub state: BreakerState,
    pub consecutive_failures: u32,
    pub window_calls: usize,
    pub window_failures: usize,
    /// How long ago it last opened, if it ever did.
    pub opened_ago: Option<Duration>,
    /// Until the next probe, while open.
    pub probe_in: Option<Duration>,
    /// Times it opened since the process started.
    pub times_opened: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Breaker {
    state: Option<Open>,
    consecutive: u32,
    /// (when, failed) for the calls in the window.
    window: VecDeque<(u64, bool)>,
    times_opened: u64,
    last_opened: Option<u64>,
    last_error: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    until: u64,
    /// When the half-open probe went out, if it did.
    probe_at: Option<u64>,
}

impl Breaker {
    fn state(&self, now: u64) -> BreakerState {
        match self.state {
            None => BreakerState::Closed,
            Some(open) if now < open.until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    fn permit(&mut self, now: u64, settings: &BreakerSettings) -> Permit {
        let Some(open) = self.state.as_mut() else {
            return Permit::Go;
        };
        if now < open.until {
            return Permit::Skip {
                retry_in: Duration::from_millis(open.until - now),
            };
        }
        // One probe at a time; a probe that never reported back (its task was cancelled)
        // frees the slot after another `open_secs`.
        let probe_timeout = settings.open_secs * 1000;
        match open.probe_at {
            Some(at) if now < at + probe_timeout => Permit::Skip {
                retry_in: Duration::from_millis(at + probe_timeout - now),
            },
            _ => {
                open.probe_at = Some(now);
                Permit::Probe
            }
        }
    }

    fn prune(&mut self, now: u64, settings: &BreakerSettings) {
        let horizon = now.saturating_sub(settings.window_secs * 1000);
        while self.window.front().is_some_and(|(at, _)| *at < horizon) {
            self.window.pop_front();
        }
    }

    fn success(&mut self, now: u64, settings: &BreakerSettings) {
        self.state = None;
        self.consecutive = 0;
        self.window.push_back((now, false));
        self.prune(now, settings);
    }

    fn failure(&mut self, now: u64, settings: &BreakerSettings, error: &str) {
        self.last_error = Some(error.to_owned());
        self.consecutive += 1;
        self.window.push_back((now, true));
        self.prune(now, settings);
        if self.state.is_some() {
            // A failed probe (or a call that was already out when it opened) reopens it.
            self.open(now, settings.open_secs);
            return;
        }
        let failed = self.window.iter().filter(|(_, f)| *f).count();
        let calls = self.window.len();
        let by_rate =
            calls >= settings.min_calls as usize && failed as f64 >= settings.failure_rate * calls as f64;
        if self.consecutive >= settings.consecutive_failures || by_rate {
            self.open(now, settings.open_secs);
        }
    }

    fn open(&mut self, now: u64, secs: u64) {
        let until = now + secs * 1000;
        if self.state.is_none() {
            self.times_opened += 1;
            self.last_opened = Some(now);
        }
        // A longer opening (an outage) is never shortened by a shorter one.
        let until = self.state.map_or(until, |o| {
            if o.probe_at.is_some() {
                until
            } else {
                o.until.max(until)
            }
        });
        self.state = Some(Open {
            until,
            probe_at: None,
        });
    }
}

/// Every breaker of the process, by provider and model.
#[derive(Debug)]
pub struct Breakers {
    settings: BreakerSettings,
    ticker: Arc<dyn Ticker>,
    map: Mutex<BTreeMap<(String, String), Breaker>>,
}

impl Breakers {
    pub fn new(settings: BreakerSettings, ticker: Arc<dyn Ticker>) -> Breakers {
        Breakers {
            settings,
            ticker,
            map: Mutex::new(BTreeMap::new()),
        }
    }

    fn with<T>(&self, provider: &str, model: &str, f: impl FnOnce(&mut Breaker, u64) -> T) -> T {
        let now = self.ticker.now_ms();
        let mut map = self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let breaker = map.entry((provider.to_owned(), model.to_owned())).or_default();
        f(breaker, now)
    }

    /// Asks to make a call. A `Probe` or `Go` must be followed by `success` or `failure`.
    pub fn permit(&self, provider: &str, model: &str) -> Permit {
        self.with(provider, model, |b, now| b.permit(now, &self.settings))
    }

    pub fn success(&self, provider: &str, model: &str) {
        self.with(provider, model, |b, now| b.success(now, &self.settings));
    }

    /// Returns whether the breaker is open after this failure.
    pub fn failure(&self, provider: &str, model: &str, error: &str) -> bool {
        self.with(provider, model, |b, now| {
            b.failure(now, &self.settings, error);
            b.state.is_some()
        })
    }

    /// 402 or a quota error: open at once for `outage_open_secs`.
    pub fn outage(&self, provider: &str, model: &str, error: &str) {
        self.with(provider, model, |b, now| {
            b.last_error = Some(error.to_owned());
            b.consecutive += 1;
            b.window.push_back((now, true));
            b.open(now, self.settings.outage_open_secs);
        });
    }

    pub fn state(&self, provider: &str, model: &str) -> BreakerState {
        self.with(provider, model, |b, now| b.state(now))
    }

    /// Every breaker that has seen a call, for the status page and the metrics.
    pub fn snapshot(&self) -> Vec<BreakerView> {
        let now = self.ticker.now_ms();
        let mut map = self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.iter_mut()
            .map(|((provider, model), b)| {
                b.prune(now, &self.settings);
                BreakerView {
                    provider: provider.clone(),
                    model: model.clone(),
                    state: b.state(now),
                    consecutive_failures: b.consecutive,
                    window_calls: b.window.len(),
                    window_failures: b.window.iter().filter(|(_, f)| *f).count(),
                    opened_ago: b.last_opened.map(|at| Duration::from_millis(now - at)),
                    probe_in: b
                        .state
                        .filter(|o| now < o.until)
                        .map(|o| Duration::from_millis(o.until - now)),
                    times_opened: b.times_opened,
                    last_error: b.last_error.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers(settings: BreakerSettings) -> (Breakers, Arc<ManualTicker>) {
        let ticker = Arc::new(ManualTicker::default());
        (Breakers::new(settings, ticker.clone()), ticker)
    }

    fn settings() -> BreakerSettings {
        BreakerSettings {
            consecutive_failures: 3,
            window_secs: 60,
            failure_rate: 0.5,
            min_calls: 6,
            open_secs: 30,
            outage_open_secs: 300,
        }
    }

    const P: &str = "anthropic";
    const M: &str = "claude-haiku-4-5";

    #[test]
    fn opens_after_consecutive_failures_and_a_success_resets_the_count() {
        let (b, _) = breakers(settings());
        b.failure(P, M, "http_500");
        b.failure(P, M, "http_500");
        b.success(P, M);
        b.failure(P, M, "http_500");
        b.failure(P, M, "http_500");
        assert_eq!(b.state(P, M), BreakerState::Closed);
        assert_eq!(b.permit(P, M), Permit::Go);
        assert!(b.failure(P, M, "http_529"), "the third failure in a row opens it");
        assert_eq!(b.state(P, M), BreakerState::Open);
        assert!(matches!(b.permit(P, M), Permit::Skip { .. }));
        // Another model at the same provider has its own breaker.
        assert_eq!(b.permit(P, "claude-sonnet-5"), Permit::Go);
    }

    #[test]
    fn opens_on_the_failure_rate_within_the_window() {
        let (b, ticker) = breakers(settings());
        // S F S F S F: never three in a row, but half of six calls failed.
        for i in 0..6 {
            if i % 2 == 1 {
                b.failure(P, M, "timeout");
            } else {
                b.success(P, M);
            }
            ticker.advance(Duration::from_secs(1));
        }
        assert_eq!(b.state(P, M), BreakerState::Open);

        // The same pattern spread over more than the window never opens it.
        let (b, ticker) = breakers(settings());
        for i in 0..12 {
            if i % 2 == 0 {
                b.failure(P, M, "timeout");
            } else {
                b.success(P, M);
            }
            ticker.advance(Duration::from_secs(25));
        }
        assert_eq!(b.state(P, M), BreakerState::Closed);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_outcome_decides() {
        let (b, ticker) = breakers(settings());
        for _ in 0..3 {
            b.failure(P, M, "http_503");
        }
        ticker.advance(Duration::from_secs(29));
        assert!(matches!(b.permit(P, M), Permit::Skip { retry_in } if retry_in == Duration::from_secs(1)));
        ticker.advance(Duration::from_secs(1));
        assert_eq!(b.state(P, M), BreakerState::HalfOpen);
        assert_eq!(b.permit(P, M), Permit::Probe);
        assert!(
            matches!(b.permit(P, M), Permit::Skip { .. }),
            "only one probe at a time"
        );
        // The probe fails: open for another 30 s.
        b.failure(P, M, "http_503");
        assert_eq!(b.state(P, M), BreakerState::Open);
        ticker.advance(Duration::from_secs(30));
        assert_eq!(b.permit(P, M), Permit::Probe);
        b.success(P, M);
        assert_eq!(b.state(P, M), BreakerState::Closed);
        assert_eq!(b.permit(P, M), Permit::Go);
        let view = &b.snapshot()[0];
        assert_eq!(
            view.times_opened, 1,
            "reopening after a failed probe is the same outage"
        );
        assert_eq!(view.consecutive_failures, 0);
    }

    #[test]
    fn a_probe_that_never_reports_frees_the_slot() {
        let (b, ticker) = breakers(settings());
        for _ in 0..3 {
            b.failure(P, M, "transport");
        }
        ticker.advance(Duration::from_secs(30));
        assert_eq!(b.permit(P, M), Permit::Probe);
        ticker.advance(Duration::from_secs(29));
        assert!(matches!(b.permit(P, M), Permit::Skip { .. }));
        ticker.advance(Duration::from_secs(1));
        assert_eq!(b.permit(P, M), Permit::Probe);
    }

    #[test]
    fn an_outage_opens_at_once_for_longer() {
        let (b, ticker) = breakers(settings());
        b.outage(P, M, "http_402");
        assert_eq!(b.state(P, M), BreakerState::Open);
        ticker.advance(Duration::from_secs(31));
        assert_eq!(b.state(P, M), BreakerState::Open, "not just open_secs");
        // A transient failure meanwhile does not shorten it.
        b.failure(P, M, "http_500");
        ticker.advance(Duration::from_secs(268));
        assert_eq!(b.state(P, M), BreakerState::Open);
        ticker.advance(Duration::from_secs(1));
        assert_eq!(b.state(P, M), BreakerState::HalfOpen);
        let view = &b.snapshot()[0];
        assert_eq!(view.last_error.as_deref(), Some("http_500"));
        assert_eq!(view.state, BreakerState::HalfOpen);
    }

    #[test]
    fn the_snapshot_counts_the_window() {
        let (b, ticker) = breakers(settings());
        b.success(P, M);
        b.failure(P, M, "http_429");
        ticker.advance(Duration::from_secs(61));
        b.failure(P, "gpt-5-mini", "timeout");
        let views = b.snapshot();
        let haiku = views.iter().find(|v| v.model == M).expect("haiku");
        assert_eq!(
            (haiku.window_calls, haiku.window_failures),
            (0, 0),
            "both left the window"
        );
        assert_eq!(haiku.consecutive_failures, 1);
        let mini = views.iter().find(|v| v.model == "gpt-5-mini").expect("mini");
        assert_eq!((mini.window_calls, mini.window_failures), (1, 1));
        assert_eq!(mini.opened_ago, None);
    }
}
