//! Nothing goes out outside the contact's sending hours: the market's business hours, less its
//! quiet hours and holidays, on the contact's own clock. Outside them the send waits in the
//! queue until the next opening (`hold_until`); it is never dropped.

use super::policy::MarketCalendar;
use super::{Context, Finding};
use crate::catalog::{Catalog, Hours, Market};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

const RULE: &str = "sending_hours";

/// How far ahead to look for an opening before giving up: two weeks covers any holiday run.
const HORIZON_DAYS: i64 = 14;

/// The ISO region of a phone number in international form ("+5511…", "34612…"), by its
/// country code; a number the metadata can't place gets its code's main region (+44 → GB).
pub fn phone_region(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let number = phonenumber::parse(None, format!("+{digits}")).ok()?;
    number
        .country()
        .id()
        .map(|id| id.as_ref().to_owned())
        .or_else(|| {
            phonenumber::metadata::DATABASE
                .region(&number.code().value())
                .and_then(|regions| regions.first().map(|r| (*r).to_owned()))
        })
}

/// The market whose code is the phone's region, if we sell there.
pub fn market_for_phone<'c>(catalog: &'c Catalog, phone: &str) -> Option<&'c Market> {
    phone_region(phone).and_then(|region| catalog.market(&region))
}

/// The phone's time zone: its market's, or the policy's for regions outside our markets.
pub fn timezone_for_phone(context: &Context<'_>, phone: &str) -> Option<Tz> {
    let region = phone_region(phone)?;
    if let Some(market) = context.catalog.market(&region) {
        return Some(market.timezone);
    }
    context.policy.file.sending_hours.timezones.get(&region).copied()
}

/// Whether a market's window is open at `now` on `timezone`'s clock, and if not, when it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Open,
    Closed {
        why: Closed,
        opens: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Holiday,
    QuietHours,
    OutsideBusinessHours,
}

pub fn window(hours: &[Hours], calendar: &MarketCalendar, timezone: Tz, now: DateTime<Utc>) -> Window {
    let local = now.with_timezone(&timezone).naive_local();
    let today = local.date();
    let mut opens = None;
    for offset in 0..=HORIZON_DAYS {
        let day = today + Duration::days(offset);
        for (from, to) in free_intervals(hours, calendar, day) {
            if from <= local && local < to {
                return Window::Open;
            }
            // Intervals come sorted, so the first one ahead is the next opening.
            if from > local && opens.is_none() {
                opens = Some(from);
            }
        }
        if opens.is_some() {
            break;
        }
    }
    let why = if calendar.holidays.contains(&today) {
        Closed::Holiday
    } else if free_intervals(hours, &MarketCalendar::default(), today)
        .iter()
        .any(|(from, to)| *from <= local && local < *to)
    {
        Closed::QuietHours
    } else {
        Closed::OutsideBusinessHours
    };
    Window::Closed {
        why,
        opens: opens.and_then(|at| to_utc(timezone, at)),
    }
}

/// The stretches of a local day when sending is allowed.
fn free_intervals(
    hours: &[Hours],
    calendar: &MarketCalendar,
    day: NaiveDate,
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    if calendar.holidays.contains(&day) {
        return Vec::new();
    }
    let at = |t: NaiveTime| day.and_time(t);
    let midnight = NaiveTime::MIN;
    let end_of_day = day.and_time(midnight) + Duration::days(1);
    let mut quiet: Vec<(NaiveDateTime, NaiveDateTime)> = Vec::new();
    let yesterday = (day - Duration::days(1)).weekday();
    for q in &calendar.quiet {
        if q.from < q.to {
            if q.days.contains(day.weekday()) {
                quiet.push((at(q.from), at(q.to)));
            }
        } else {
            if q.days.contains(day.weekday()) {
                quiet.push((at(q.from), end_of_day));
            }
            if q.days.contains(yesterday) {
                quiet.push((at(midnight), at(q.to)));
            }
        }
    }
    let mut free = Vec::new();
    for h in hours.iter().filter(|h| h.days.contains(day.weekday())) {
        let mut pieces = vec![(at(h.open), at(h.close))];
        for &(qs, qe) in &quiet {
            pieces = pieces
                .into_iter()
                .flat_map(|(s, e)| {
                    let mut left = Vec::new();
                    if s < qs.min(e) {
                        left.push((s, qs.min(e)));
                    }
                    if qe.max(s) < e {
                        left.push((qe.max(s), e));
                    }
                    left
                })
                .collect();
        }
        free.extend(pieces);
    }
    free.sort();
    free
}

/// A local wall-clock time as an instant; a time skipped by a DST change moves an hour on.
fn to_utc(timezone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    timezone
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            timezone
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// The next local midnight on the contact's clock, when the daily count starts again.
pub fn next_local_midnight(timezone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let tomorrow = now.with_timezone(&timezone).date_naive() + Duration::days(1);
    to_utc(timezone, tomorrow.and_time(NaiveTime::MIN))
}

pub fn check(context: &Context<'_>) -> Finding {
    let timezone = context.timezone();
    let market = context.market;
    let empty = MarketCalendar::default();
    let calendar = context.policy.calendar(&market.code).unwrap_or(&empty);
    let local = context.now.with_timezone(&timezone);
    let clock = format!(
        "{} {} in {timezone}",
        local.format("%a %Y-%m-%d %H:%M"),
        market.code
    );
    match window(&market.hours, calendar, timezone, context.now) {
        Window::Open => Finding::pass(RULE, "within_sending_hours", format!("open at {clock}")),
        Window::Closed { why, opens } => {
            let reason = match why {
                Closed::Holiday => "holiday",
                Closed::QuietHours => "quiet_hours",
                Closed::OutsideBusinessHours => "outside_business_hours",
            };
            let finding = Finding::hold(
                RULE,
                reason,
                match opens {
                    Some(at) => format!(
                        "closed at {clock}; waits until {}",
                        at.with_timezone(&timezone).format("%a %Y-%m-%d %H:%M")
                    ),
                    None => format!("closed at {clock}, with no opening in the next two weeks"),
                },
            );
            match opens {
                Some(at) => finding.until(at),
                None => finding,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::testing::context;

    fn at(instant: &str) -> DateTime<Utc> {
        instant.parse().expect("instant")
    }

    /// (market, phone, time zone override) at an instant → (reason, hold_until)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<Tz>,
        &'a str,
        &'a str,
        Option<&'a str>,
    );

    #[test]
    fn holds_until_the_next_opening_on_the_contacts_clock() {
        let cases: &[Case<'_>] = &[
            // Tuesday 18:00 in Madrid: open.
            (
                "ES",
                Some("+34612345678"),
                None,
                "2027-01-12T17:00:00Z",
                "within_sending_hours",
                None,
            ),
            // 22:30 in Madrid: opens Wednesday 09:00 (08:00 UTC).
            (
                "ES",
                Some("34612345678"),
                None,
                "2027-01-12T21:30:00Z",
                "outside_business_hours",
                Some("2027-01-13T08:00:00Z"),
            ),
            // 14:30 in Madrid: lunch quiet hours until 16:00.
            (
                "ES",
                None,
                None,
                "2027-01-12T13:30:00Z",
                "quiet_hours",
                Some("2027-01-12T15:00:00Z"),
            ),
            // Saturday 13:00 in Madrid is open; Saturday 15:00 waits for Monday 09:00.
            (
                "ES",
                None,
                None,
                "2027-01-16T12:00:00Z",
                "within_sending_hours",
                None,
            ),
            (
                "ES",
                None,
                None,
                "2027-01-16T14:00:00Z",
                "outside_business_hours",
                Some("2027-01-18T08:00:00Z"),
            ),
            // Reyes (6 January) is a holiday in Spain.
            (
                "ES",
                None,
                None,
                "2027-01-06T10:00:00Z",
                "holiday",
                Some("2027-01-07T08:00:00Z"),
            ),
            // Carnaval Monday and Tuesday in Brazil: Wednesday 08:00 in São Paulo.
            (
                "BR",
                Some("+55 11 98765-4321"),
                None,
                "2027-02-08T14:00:00Z",
                "holiday",
                Some("2027-02-10T11:00:00Z"),
            ),
            // 19:30 in São Paulo: open until 20:00.
            (
                "BR",
                Some("5511987654321"),
                None,
                "2027-01-12T22:30:00Z",
                "within_sending_hours",
                None,
            ),
            // The same instant in Mexico City is 16:30: open; in New York 17:30: open.
            (
                "MX",
                Some("+52 55 1234 5678"),
                None,
                "2027-01-12T22:30:00Z",
                "within_sending_hours",
                None,
            ),
            // MLK day in the US.
            (
                "US",
                Some("+1 650 555 1234"),
                None,
                "2027-01-18T15:00:00Z",
                "holiday",
                Some("2027-01-19T14:00:00Z"),
            ),
            // A US contact set to Los Angeles: 07:00 there, opens at 09:00 Pacific.
            (
                "US",
                Some("+1 650 555 1234"),
                Some(chrono_tz::America::Los_Angeles),
                "2027-01-12T15:00:00Z",
                "outside_business_hours",
                Some("2027-01-12T17:00:00Z"),
            ),
            // An Argentine number in a Spanish-language conversation priced from Mexico:
            // Buenos Aires clock (UTC-3), Mexico's hours. 08:00 there: opens at 09:00.
            (
                "MX",
                Some("+54 9 11 2345 6789"),
                None,
                "2027-01-12T11:00:00Z",
                "outside_business_hours",
                Some("2027-01-12T12:00:00Z"),
            ),
        ];
        for (market, phone, zone, now, reason, until) in cases {
            let mut ctx = context(market, Language::Es);
            ctx.now = at(now);
            if let Some(phone) = phone {
                ctx = ctx.with_phone(phone);
            }
            if let Some(zone) = zone {
                ctx = ctx.with_timezone(*zone);
            }
            let finding = check(&ctx);
            assert_eq!(finding.reason, *reason, "{market} {now}: {}", finding.message);
            assert_eq!(
                finding.hold_until,
                until.map(at),
                "{market} {now}: {}",
                finding.message
            );
        }
    }

    #[test]
    fn phone_regions_come_from_the_country_code() {
        for (phone, region) in [
            ("+34 612 345 678", Some("ES")),
            ("5511987654321", Some("BR")),
            ("+52 1 55 1234 5678", Some("MX")),
            ("+1 650 555 1234", Some("US")),
            ("+44 7700 900123", Some("GB")),
            ("not a phone", None),
        ] {
            assert_eq!(phone_region(phone).as_deref(), region, "{phone}");
        }
    }

    #[test]
    fn spring_forward_gaps_still_open() {
        // Madrid skips 02:00–03:00 on 2027-03-28; nothing breaks around it.
        let at = next_local_midnight(
            chrono_tz::Europe::Madrid,
            "2027-03-27T12:00:00Z".parse().expect("instant"),
        );
        assert_eq!(at, Some("2027-03-27T23:00:00Z".parse().expect("instant")));
    }
}
