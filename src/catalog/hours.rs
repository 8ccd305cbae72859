//! Business hours of a market, in its own time zone.

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hours {
    pub days: Weekdays,
    #[serde(with = "hhmm")]
    pub open: NaiveTime,
    #[serde(with = "hhmm")]
    pub close: NaiveTime,
}

/// An inclusive range of weekdays, written `mon-fri` or `sat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekdays {
    pub first: Weekday,
    pub last: Weekday,
}

impl Weekdays {
    pub fn contains(self, day: Weekday) -> bool {
        let (first, last, day) = (
            self.first.num_days_from_monday(),
            self.last.num_days_from_monday(),
            day.num_days_from_monday(),
        );
        first <= day && day <= last
    }
}

impl std::str::FromStr for Weekdays {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |d: &str| {
            d.trim()
                .parse::<Weekday>()
                .map_err(|_| format!("bad weekday {d:?}"))
        };
        match s.split_once('-') {
            Some((first, last)) => Ok(Weekdays {
                first: parse(first)?,
                last: parse(last)?,
            }),
            None => {
                let day = parse(s)?;
                Ok(Weekdays {
                    first: day,
                    last: day,
                })
            }
        }
    }
}

impl std::fmt::Display for Weekdays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |d: Weekday| d.to_string().to_lowercase();
        if self.first == self.last {
            write!(f, "{}", short(self.first))
        } else {
            write!(f, "{}-{}", short(self.first), short(self.last))
        }
    }
}

impl Serialize for Weekdays {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&t.format("%H:%M"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M").map_err(serde::de::Error::custom)
    }
}

impl super::Market {
    /// Whether the market is open at an instant, judged on its local clock.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.timezone);
        let time = local.time();
        self.hours
            .iter()
            .any(|h| h.days.contains(local.weekday()) && h.open <= time && time < h.close)
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use chrono::{TimeZone, Utc};

    #[test]
    fn opening_hours_follow_the_local_clock() {
        let catalog = Catalog::demo().expect("demo");
        let spain = catalog.market("ES").expect("ES");
        // Thursday 2026-12-03 08:30 UTC is 09:30 in Madrid: open.
        assert!(spain.is_open(Utc.with_ymd_and_hms(2026, 12, 3, 8, 30, 0).unwrap()));
        // 22:00 UTC is 23:00 in Madrid: closed.
        assert!(!spain.is_open(Utc.with_ymd_and_hms(2026, 12, 3, 22, 0, 0).unwrap()));
        // Sunday: closed all day.
        assert!(!spain.is_open(Utc.with_ymd_and_hms(2026, 12, 6, 11, 0, 0).unwrap()));
        let brazil = catalog.market("BR").expect("BR");
        // 22:00 UTC is 19:00 in São Paulo: still open.
        assert!(brazil.is_open(Utc.with_ymd_and_hms(2026, 12, 3, 22, 0, 0).unwrap()));
    }
}
