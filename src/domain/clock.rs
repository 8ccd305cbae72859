//! Where Tuesday reads the time.
//!
//! Production runs on the system clock. A clock can also be started at a chosen instant and run on
//! from there, in step with the system clock: demos and tests use one to see the sending-hours
//! rules on a Wednesday afternoon whatever the hour they run at.

use super::Millis;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// Added to the system clock, in milliseconds.
    offset: i64,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads `at` now and then moves on with the system clock.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock {
            offset: at.timestamp_millis() - Utc::now().timestamp_millis(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset)
    }

    pub fn now_millis(&self) -> Millis {
        Utc::now().timestamp_millis() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_started_clock_reads_its_start_and_moves_on() {
        let start = Utc.with_ymd_and_hms(2026, 12, 9, 16, 30, 0).unwrap();
        let clock = Clock::starting_at(start);
        let first = clock.now();
        assert!((first - start).num_seconds().abs() < 5, "{first}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first);
        assert!((clock.now_millis() - clock.now().timestamp_millis()).abs() < 1_000);
        assert!((Clock::system().now() - Utc::now()).num_seconds().abs() < 5);
    }
}
