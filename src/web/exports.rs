//! CSV exports of every dashboard table, for the same range and breakdown as the page, plus one
//! row per conversation. Managers and admins only.

use crate::domain::Role;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::dashboard::{self, RangeQuery, key_label};
use crate::web::error::{AppError, AppResult};
use crate::web::timestamp;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;

/// The tables that export, by file name.
pub const TABLES: [&str; 6] = [
    "funnel",
    "conversations",
    "rejections",
    "guardrails",
    "failures",
    "money",
];

fn write(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header)?;
    for row in rows {
        out.write_record(&row)?;
    }
    out.into_inner()
        .map_err(|e| anyhow::anyhow!("while writing CSV: {e}"))
}

pub async fn export_table(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    Query(query): Query<RangeQuery>,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let name = table.strip_suffix(".csv").unwrap_or(&table);
    if !TABLES.contains(&name) {
        return Err(AppError::NotFound);
    }
    let (range, by) = dashboard::read_query(&state, &query)?;
    let body = if name == "conversations" {
        state.store.refresh_rollups().await?;
        let rows = state
            .store
            .conversation_facts(range.start_day(), range.to_day())
            .await?;
        write(
            &[
                "conversation_id",
                "started_at",
                "language",
                "channel",
                "intent",
                "tier",
                "inbound_messages",
                "drafts",
                "held",
                "sent_auto",
                "sent_approved",
                "replied",
                "converted",
                "approved",
                "rejected",
                "edited",
                "edit_distance",
                "first_review_seconds",
                "outcome",
                "model_cost_usd",
            ],
            rows.into_iter().map(|r| {
                vec![
                    r.conversation_id.to_string(),
                    timestamp(r.started_at),
                    r.language,
                    r.channel,
                    r.intent,
                    key_label(crate::store::Dimension::Tier, &r.tier_rank.to_string()),
                    r.inbound.to_string(),
                    r.drafts.to_string(),
                    r.held.to_string(),
                    r.sent_auto.to_string(),
                    r.sent_approved.to_string(),
                    r.replied.to_string(),
                    r.converted.to_string(),
                    r.approved.to_string(),
                    r.rejected.to_string(),
                    r.edited.to_string(),
                    r.edit_distance.to_string(),
                    r.review_ms.map(|ms| (ms / 1000).to_string()).unwrap_or_default(),
                    r.outcome.unwrap_or_default(),
                    r.cost_usd,
                ]
            }),
        )?
    } else {
        let data = dashboard::load(&state, range, by).await?;
        match name {
            "funnel" => write(
                &[
                    by.as_str(),
                    "conversations",
                    "inbound",
                    "drafted",
                    "sent",
                    "sent_auto",
                    "sent_approved",
                    "replied",
                    "converted",
                    "lost",
                ],
                data.funnel.iter().chain(std::iter::once(&data.total)).map(|r| {
                    vec![
                        key_label(by, &r.key),
                        r.conversations.to_string(),
                        r.inbound.to_string(),
                        r.drafted.to_string(),
                        r.sent.to_string(),
                        r.sent_auto.to_string(),
                        r.sent_approved.to_string(),
                        r.replied.to_string(),
                        r.converted.to_string(),
                        r.lost.to_string(),
                    ]
                }),
            )?,
            "rejections" => write(
                &["reason", "drafts"],
                data.quality
                    .rejections
                    .into_iter()
                    .map(|(r, n)| vec![r, n.to_string()]),
            )?,
            "guardrails" => write(
                &["finding", "hits"],
                data.quality
                    .guardrails
                    .into_iter()
                    .map(|(r, n)| vec![r, n.to_string()]),
            )?,
            "failures" => write(
                &["status", "error", "replies"],
                data.failures
                    .into_iter()
                    .map(|(s, e, n)| vec![s, e, n.to_string()]),
            )?,
            _ => write(
                &["figure", "value"],
                [
                    vec!["model spend".to_owned(), data.money.spend],
                    vec!["cost per conversation".to_owned(), data.money.per_conversation],
                    vec!["cost per conversion".to_owned(), data.money.per_conversion],
                    vec!["conversions".to_owned(), data.money.conversions.to_string()],
                ]
                .into_iter()
                .chain(
                    data.money
                        .revenue
                        .into_iter()
                        .map(|r| vec!["revenue".to_owned(), r]),
                ),
            )?,
        }
    };
    let filename = format!("tuesday-{name}-{}-{}.csv", range.from, range.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    ))
}
