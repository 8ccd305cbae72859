//! The managers' dashboard: the funnel from inbound to converted by language, channel, intent,
//! tier or week; money; review quality; reliability; over a date range. Every figure comes from
//! the roll-ups (store/facts.rs), refreshed for what changed before each read.

use crate::domain::{Millis, Role};
use crate::state::AppState;
use crate::store::{Dimension, FunnelRow, day_string};
use crate::web::auth::{CurrentUser, take_flash};
use crate::web::charts::{self, Column, FunnelBar, percent};
use crate::web::error::{AppError, AppResult};
use crate::web::exports;
use crate::web::templates::{Layout, Page};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(show_dashboard))
        .route("/dashboard/export/{table}", get(exports::export_table))
}

const DAY: Millis = 86_400_000;

#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub by: String,
}

/// A date range in whole UTC days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    /// Reads `from`/`to` (YYYY-MM-DD); either missing means the last 30 days up to today.
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<Range, String> {
        let read = |s: &str, what: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{what} must be a date like 2026-12-01, not {s:?}"))
        };
        let to = if to.trim().is_empty() {
            today
        } else {
            read(to, "to")?
        };
        let from = if from.trim().is_empty() {
            to - chrono::Duration::days(29)
        } else {
            read(from, "from")?
        };
        if from > to {
            return Err("from must not be after to".to_owned());
        }
        if (to - from).num_days() > 3660 {
            return Err("the range may span at most ten years".to_owned());
        }
        Ok(Range { from, to })
    }

    pub fn start_day(self) -> i64 {
        epoch_day(self.from)
    }

    pub fn to_day(self) -> i64 {
        epoch_day(self.to)
    }

    pub fn start_millis(self) -> Millis {
        self.start_day() * DAY
    }

    pub fn to_millis(self) -> Millis {
        (self.to_day() + 1) * DAY - 1
    }
}

fn epoch_day(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

/// A funnel key as people read it: tier ranks and epoch weeks become names.
pub fn key_label(by: Dimension, key: &str) -> String {
    match by {
        Dimension::Tier => match key {
            "-1" => "no draft",
            "0" => "local",
            "1" => "fast",
            "2" => "standard",
            "3" => "flagship",
            other => other,
        }
        .to_owned(),
        Dimension::Week => key
            .parse::<i64>()
            .ok()
            .and_then(|week| NaiveDate::default().checked_add_signed(chrono::Duration::days(week * 7 - 3)))
            .map(|monday| format!("week of {monday}"))
            .unwrap_or_else(|| key.to_owned()),
        _ => key.to_owned(),
    }
}

pub struct FunnelLine {
    pub key: String,
    pub row: FunnelRow,
    pub draft_rate: String,
    pub send_rate: String,
    pub reply_rate: String,
    pub conversion_rate: String,
}

fn funnel_line(by: Dimension, row: FunnelRow) -> FunnelLine {
    FunnelLine {
        key: key_label(by, &row.key),
        draft_rate: percent(row.drafted, row.inbound),
        send_rate: percent(row.sent, row.drafted),
        reply_rate: percent(row.replied, row.sent),
        conversion_rate: percent(row.converted, row.inbound),
        row,
    }
}

pub fn total(rows: &[FunnelRow]) -> FunnelRow {
    rows.iter().fold(
        FunnelRow {
            key: "all".to_owned(),
            ..FunnelRow::default()
        },
        |mut t, r| {
            t.conversations += r.conversations;
            t.inbound += r.inbound;
            t.drafted += r.drafted;
            t.sent += r.sent;
            t.sent_auto += r.sent_auto;
            t.sent_approved += r.sent_approved;
            t.replied += r.replied;
            t.converted += r.converted;
            t.lost += r.lost;
            t
        },
    )
}

pub struct Money {
    pub spend: String,
    pub per_conversation: String,
    pub per_conversion: String,
    /// Revenue per currency, e.g. `EUR 1,047.00`.
    pub revenue: Vec<String>,
    pub conversions: usize,
}

pub struct Quality {
    pub approval_rate: String,
    pub edit_rate: String,
    pub mean_distance: String,
    pub median_review: String,
    pub rejections: Vec<(String, i64)>,
    pub guardrails: Vec<(String, i64)>,
    /// `(label, accuracy 0–1)` of the stored evaluation runs, oldest first.
    pub eval_points: String,
    pub eval_labels: Vec<(String, String)>,
}

/// Everything the page and the exports show for one range.
pub struct Dashboard {
    pub funnel: Vec<FunnelRow>,
    pub total: FunnelRow,
    pub weeks: Vec<FunnelRow>,
    pub money: Money,
    pub quality: Quality,
    pub failures: Vec<(String, String, i64)>,
    pub reliability: Reliability,
}

/// Failovers and degraded periods in the range.
pub struct Reliability {
    /// Times a task moved on to the next model of its chain.
    pub failovers: i64,
    /// `(since, until or "still on", how long, why)`.
    pub degraded: Vec<(String, String, String, String)>,
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

fn minutes(ms: i64) -> String {
    match ms / 1000 {
        s @ 0..60 => format!("{s} s"),
        s @ 60..3600 => format!("{} min", s / 60),
        s => format!("{:.1} h", s as f64 / 3600.0),
    }
}

/// Reads the range's figures, after bringing the roll-ups up to date.
pub async fn load(state: &AppState, range: Range, by: Dimension) -> anyhow::Result<Dashboard> {
    let store = &state.store;
    store.refresh_rollups().await?;
    let (from, to) = (range.start_day(), range.to_day());
    let funnel = store.funnel(by, from, to).await?;
    let weeks = store.funnel(Dimension::Week, from, to).await?;
    let total = total(&funnel);

    let spend_days = store.spend_by_day(&range.from.to_string()).await?;
    let to_day = range.to.to_string();
    let spend: Decimal = spend_days
        .iter()
        .filter(|d| d.day <= to_day)
        .map(|d| d.cost_usd)
        .sum();
    let conversions = store
        .conversions_between(range.start_millis(), range.to_millis())
        .await?;
    let mut revenue: BTreeMap<String, Decimal> = BTreeMap::new();
    for c in &conversions {
        if let Ok(value) = c.value.parse::<Decimal>() {
            *revenue.entry(c.currency.clone()).or_default() += value;
        }
    }
    let per = |n: i64| {
        if n > 0 {
            crate::web::spend::usd(spend / Decimal::from(n))
        } else {
            "–".to_owned()
        }
    };
    let money = Money {
        spend: crate::web::spend::usd(spend),
        per_conversation: per(total.conversations),
        per_conversion: per(i64::try_from(conversions.len()).unwrap_or(i64::MAX)),
        revenue: revenue
            .into_iter()
            .map(|(c, v)| format!("{c} {}", v.normalize()))
            .collect(),
        conversions: conversions.len(),
    };

    let review = store.review_totals(from, to).await?;
    let decided = review.approved + review.rejected;
    let runs = store.eval_runs(30).await?;
    let mut runs: Vec<_> = runs.into_iter().collect();
    runs.sort_by_key(|r| r.at);
    let quality = Quality {
        approval_rate: percent(review.approved, decided),
        edit_rate: percent(review.edited, review.approved),
        mean_distance: if review.edited > 0 {
            format!("{:.1}", review.edit_distance as f64 / review.edited as f64)
        } else {
            "–".to_owned()
        },
        median_review: median(store.review_waits(from, to).await?).map_or("–".to_owned(), minutes),
        rejections: store
            .rejection_reasons(range.start_millis(), range.to_millis())
            .await?,
        guardrails: store
            .guardrail_hits(&range.from.to_string(), &range.to.to_string())
            .await?,
        eval_points: charts::line(
            &runs.iter().map(|r| r.intent_accuracy).collect::<Vec<_>>(),
            520,
            150,
        ),
        eval_labels: runs
            .iter()
            .map(|r| (day_string(r.at), format!("{:.1}%", r.intent_accuracy * 100.0)))
            .collect(),
    };
    let failures = store
        .failed_sends(range.start_millis(), range.to_millis())
        .await?;
    let (from_day, to_day) = (range.from.to_string(), range.to.to_string());
    let now = state.clock().now_millis();
    let reliability = Reliability {
        failovers: store.failovers(&from_day, &to_day).await?,
        degraded: store
            .degraded_periods(&from_day, &to_day)
            .await?
            .into_iter()
            .map(|p| {
                (
                    crate::web::timestamp(p.since),
                    p.until.map_or("still on".to_owned(), crate::web::timestamp),
                    minutes(p.until.unwrap_or(now) - p.since),
                    p.reason,
                )
            })
            .collect(),
    };
    Ok(Dashboard {
        funnel,
        total,
        weeks,
        money,
        quality,
        failures,
        reliability,
    })
}

/// Reads the range and breakdown from the query string, or says what is wrong with them.
pub fn read_query(state: &AppState, query: &RangeQuery) -> AppResult<(Range, Dimension)> {
    let today = state.clock().now().date_naive();
    let range = Range::parse(&query.from, &query.to, today).map_err(AppError::BadRequest)?;
    let by = match query.by.trim() {
        "" => Dimension::Language,
        other => Dimension::parse(other).ok_or_else(|| {
            AppError::BadRequest(format!(
                "by must be language, channel, intent, tier or week, not {other:?}"
            ))
        })?,
    };
    Ok((range, by))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    from: String,
    to: String,
    by: &'static str,
    dimensions: Vec<&'static str>,
    lines: Vec<FunnelLine>,
    total: FunnelLine,
    bars: Vec<FunnelBar>,
    funnel_width: i64,
    weeks: Vec<Column>,
    weeks_width: i64,
    money: Money,
    quality: Quality,
    failures: Vec<(String, String, i64)>,
    reliability: Reliability,
    queued_jobs: i64,
    failed_jobs: i64,
    whatsapp_configured: bool,
    /// Set while the evaluation gate keeps auto-send off: why.
    auto_send_off: Option<String>,
    spend: crate::web::spend::SpendView,
    /// While degraded mode is on: since when, and how many messages wait.
    degraded: Option<crate::web::status::DegradedBanner>,
    query: String,
}

async fn show_dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Query(query): Query<RangeQuery>,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let (jar, flash) = take_flash(jar);
    let (range, by) = read_query(&state, &query)?;
    let data = load(&state, range, by).await?;
    let total = data.total.clone();
    let bars = charts::funnel(&[
        ("Inbound", total.inbound),
        ("Drafted", total.drafted),
        ("Sent", total.sent),
        ("Replied", total.replied),
        ("Converted", total.converted),
    ]);
    let (weeks, weeks_width) = charts::columns(
        &data
            .weeks
            .iter()
            .map(|w| {
                let label = key_label(Dimension::Week, &w.key).replace("week of ", "");
                (
                    label.get(5..).unwrap_or(&label).to_owned(),
                    w.conversations,
                    w.sent,
                )
            })
            .collect::<Vec<_>>(),
    );
    let jobs = state.store.job_counts().await?;
    let gate = state.auto_send.status(&state.store).await?;
    let page = DashboardPage {
        auto_send_off: (!gate.allows_auto_send()).then(|| gate.describe()),
        layout: Layout::new("Dashboard", &user.0, flash),
        from: range.from.to_string(),
        to: range.to.to_string(),
        by: by.as_str(),
        dimensions: Dimension::ALL.iter().map(|d| d.as_str()).collect(),
        lines: data.funnel.into_iter().map(|r| funnel_line(by, r)).collect(),
        total: funnel_line(by, total),
        bars,
        funnel_width: charts::FUNNEL_WIDTH,
        weeks,
        weeks_width,
        money: data.money,
        quality: data.quality,
        failures: data.failures,
        reliability: data.reliability,
        queued_jobs: jobs.queued + jobs.running,
        failed_jobs: jobs.failed,
        whatsapp_configured: state.whatsapp.is_configured(),
        spend: crate::web::spend::spend_view(&state, &range.from.to_string()).await?,
        degraded: crate::web::status::degraded_banner(&state).await?,
        query: format!("from={}&to={}&by={}", range.from, range.to, by.as_str()),
    };
    Ok((jar, Page(page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn ranges_default_to_thirty_days_and_refuse_nonsense() {
        let today = date("2026-12-09");
        let r = Range::parse("", "", today).expect("default");
        assert_eq!((r.from, r.to), (date("2026-11-10"), today));
        let r = Range::parse("2026-12-01", "2026-12-01", today).expect("one day");
        assert_eq!(r.to_millis() - r.start_millis(), DAY - 1);
        assert_eq!(r.start_day(), 20_788);
        assert!(Range::parse("2026-12-05", "2026-12-01", today).is_err());
        assert!(matches!(Range::parse("ayer", "", today), Err(e) if e.contains("ayer")));
    }

    #[test]
    fn keys_read_as_words() {
        assert_eq!(key_label(Dimension::Tier, "2"), "standard");
        assert_eq!(key_label(Dimension::Tier, "-1"), "no draft");
        // Epoch day 20_796 is Wednesday 2026-12-09; its week began on Monday 2026-12-07.
        let week = (20_796 + 3) / 7;
        assert_eq!(
            key_label(Dimension::Week, &week.to_string()),
            "week of 2026-12-07"
        );
        assert_eq!(key_label(Dimension::Language, "pt"), "pt");
    }

    #[test]
    fn medians_and_totals() {
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![]), None);
        let rows = [
            FunnelRow {
                key: "es".into(),
                conversations: 3,
                inbound: 3,
                sent: 2,
                converted: 1,
                ..FunnelRow::default()
            },
            FunnelRow {
                key: "pt".into(),
                conversations: 1,
                inbound: 1,
                sent: 1,
                ..FunnelRow::default()
            },
        ];
        let t = total(&rows);
        assert_eq!((t.conversations, t.sent, t.converted), (4, 3, 1));
    }
}
