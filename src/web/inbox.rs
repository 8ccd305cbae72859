//! The review inbox: four queues (held drafts, replies waiting for the send window, failed sends,
//! escalations) with filters, who holds each conversation, and each item's age against the
//! service-level target in the contact's business hours.

use crate::catalog::Market;
use crate::domain::Millis;
use crate::state::AppState;
use crate::store::{Queue, QueueFilter, QueueItem};
use crate::web::auth::{CurrentUser, take_flash};
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use crate::web::{age, timestamp};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/inbox", get(show_inbox))
}

/// A hold reason as the inbox shows it.
pub struct ReasonView {
    pub rule: String,
    pub reason: String,
    pub message: String,
}

pub fn reasons(json: &str) -> Vec<ReasonView> {
    let parsed: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    parsed
        .iter()
        .map(|r| ReasonView {
            rule: r["rule"].as_str().unwrap_or("").to_owned(),
            reason: r["reason"].as_str().unwrap_or("").to_owned(),
            message: r["message"].as_str().unwrap_or("").to_owned(),
        })
        .collect()
}

/// Business minutes between `from` and `now` on the market's clock, counted in 5-minute steps
/// and only as far as `enough` (an SLA check needs no more). Without a market, wall-clock time.
pub fn business_minutes(
    market: Option<&Market>,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    enough: i64,
) -> i64 {
    let Some(market) = market else {
        return (now - from).num_minutes();
    };
    let step = Duration::minutes(5);
    let mut at = from;
    let mut minutes = 0;
    // A week of steps at most: an item older than that has long breached.
    for _ in 0..(7 * 24 * 12) {
        if at >= now || minutes >= enough {
            break;
        }
        if market.is_open(at) {
            minutes += 5;
        }
        at += step;
    }
    minutes
}

pub struct ItemView {
    pub id: i64,
    pub conversation_id: i64,
    pub contact: String,
    pub channel: String,
    pub preview: String,
    pub language: String,
    pub intent: String,
    pub reasons: Vec<ReasonView>,
    pub detail: String,
    pub status: String,
    pub age: String,
    pub breached: bool,
    pub wait_until: String,
    pub holder: String,
    pub held_by_me: bool,
    pub assigned: String,
}

fn item_view(state: &AppState, item: QueueItem, queue: Queue, user_id: i64, now: Millis) -> ItemView {
    let sla = i64::from(state.settings.inbox.sla_minutes);
    let market = item.market.as_deref().and_then(|m| state.catalog.market(m));
    let from = DateTime::from_timestamp_millis(item.since).unwrap_or_default();
    let wall = (now - item.since) / 60_000;
    // Business time never exceeds wall time, so young items need no stepping.
    let breached = matches!(queue, Queue::Held | Queue::Escalated)
        && wall >= sla
        && business_minutes(market, from, state.clock().now(), sla) >= sla;
    let (reasons, detail) = match queue {
        Queue::Held => (reasons(&item.detail), String::new()),
        _ => (Vec::new(), item.detail.clone()),
    };
    ItemView {
        id: item.id,
        conversation_id: item.conversation_id,
        contact: item
            .contact_name
            .unwrap_or_else(|| format!("+{}", item.contact_address)),
        channel: item.channel,
        preview: item.preview.chars().take(140).collect(),
        language: item.language,
        intent: item.intent,
        reasons,
        detail,
        status: item.status.replace('_', " "),
        age: age(item.since, now),
        breached,
        wait_until: item.wait_until.map(timestamp).unwrap_or_default(),
        held_by_me: item.claimed_by == Some(user_id),
        holder: item.claimed_by_name.unwrap_or_default(),
        assigned: item.assigned_name.unwrap_or_default(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub intent: String,
    #[serde(default)]
    pub reason: String,
    /// `me`, `none`, or a username.
    #[serde(default)]
    pub assignee: String,
    /// Minutes: only items at least this old.
    #[serde(default)]
    pub age: String,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub struct Tab {
    pub name: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    tabs: Vec<Tab>,
    view: &'static str,
    items: Vec<ItemView>,
    unsent: Vec<ItemView>,
    query: InboxQuery,
    sla_minutes: u32,
    breaches: usize,
    users: Vec<String>,
    intents: Vec<&'static str>,
    rules: Vec<&'static str>,
}

async fn show_inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Query(query): Query<InboxQuery>,
) -> AppResult<impl IntoResponse> {
    let (jar, flash) = take_flash(jar);
    let queue = Queue::parse(&query.view).unwrap_or(Queue::Held);
    let users = state.store.users().await?;
    let assignee = match query.assignee.trim() {
        "" => None,
        "me" => Some(user.0.id),
        "none" => Some(0),
        name => Some(users.iter().find(|u| u.username == name).map_or(-1, |u| u.id)),
    };
    let now = state.clock().now_millis();
    let filter = QueueFilter {
        language: some(&query.lang),
        channel: some(&query.channel),
        intent: some(&query.intent),
        reason: some(&query.reason),
        assignee,
        older_than: query
            .age
            .trim()
            .parse::<i64>()
            .ok()
            .map(|minutes| now - minutes * 60_000),
    };
    let items: Vec<ItemView> = state
        .store
        .queue(queue, &filter, 300)
        .await?
        .into_iter()
        .map(|item| item_view(&state, item, queue, user.0.id, now))
        .collect();
    // Replies that did not go out stay in sight on the main view too.
    let unsent: Vec<ItemView> = if queue == Queue::Held {
        state
            .store
            .queue(Queue::Failed, &QueueFilter::default(), 10)
            .await?
            .into_iter()
            .map(|item| item_view(&state, item, Queue::Failed, user.0.id, now))
            .collect()
    } else {
        Vec::new()
    };
    let counts = state.store.queue_counts().await?;
    let labels = ["Held drafts", "Waiting for window", "Failed sends", "Escalations"];
    let tabs = Queue::ALL
        .iter()
        .zip(labels)
        .zip(counts)
        .map(|((q, label), count)| Tab {
            name: q.as_str(),
            label,
            count,
            current: *q == queue,
        })
        .collect();
    let page = InboxPage {
        layout: Layout::new("Inbox", &user.0, flash),
        tabs,
        view: queue.as_str(),
        breaches: items.iter().filter(|i| i.breached).count(),
        items,
        unsent,
        query,
        sla_minutes: state.settings.inbox.sla_minutes,
        users: users.into_iter().map(|u| u.username).collect(),
        intents: state.taxonomy.intents().map(|i| i.as_str()).collect(),
        rules: crate::guardrails::RULES.to_vec(),
    };
    Ok((jar, Page(page)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use chrono::TimeZone;

    #[test]
    fn business_minutes_skip_closed_hours() {
        let catalog = Catalog::demo().expect("demo");
        let spain = catalog.market("ES");
        // Thursday 2026-12-03: 09:30 → 10:00 in Madrid, open all along.
        let from = Utc.with_ymd_and_hms(2026, 12, 3, 8, 30, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        assert_eq!(business_minutes(spain, from, now, 1000), 30);
        // Saturday night to Sunday noon in Madrid: closed, so nothing counts.
        let from = Utc.with_ymd_and_hms(2026, 12, 5, 22, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 11, 0, 0).unwrap();
        assert_eq!(business_minutes(spain, from, now, 1000), 0);
        // Stops counting once the target is reached.
        let from = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        assert_eq!(business_minutes(spain, from, now, 15), 15);
        assert_eq!(business_minutes(None, from, now, 15), 240);
    }
}
