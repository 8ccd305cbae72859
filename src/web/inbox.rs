//! The review inbox: held drafts, a conversation with its draft, and the review actions.

use crate::domain::Millis;
use crate::review::{self, ReviewError};
use crate::state::AppState;
use crate::store::{ConversationRow, DraftRow, HeldDraft, ThreadMessage};
use crate::web::auth::{CurrentUser, flash, take_flash};
use crate::web::error::{AppError, AppResult};
use crate::web::templates::{Layout, Page};
use crate::web::{age, timestamp};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/inbox", get(show_inbox))
        .route("/conversations/{id}", get(show_conversation))
        .route("/drafts/{id}/approve", post(approve_draft))
        .route("/drafts/{id}/reject", post(reject_draft))
}

/// A hold reason as the inbox shows it.
pub struct ReasonView {
    pub reason: String,
    pub message: String,
}

fn reasons(json: &str) -> Vec<ReasonView> {
    let parsed: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    parsed
        .iter()
        .map(|r| ReasonView {
            reason: r["reason"].as_str().unwrap_or("").to_owned(),
            message: r["message"].as_str().unwrap_or("").to_owned(),
        })
        .collect()
}

pub struct HeldView {
    pub id: i64,
    pub conversation_id: i64,
    pub contact: String,
    pub preview: String,
    pub language: String,
    pub intent: String,
    pub confidence: String,
    pub reasons: Vec<ReasonView>,
    pub age: String,
}

impl HeldView {
    fn new(d: HeldDraft, now: Millis) -> Self {
        HeldView {
            id: d.id,
            conversation_id: d.conversation_id,
            contact: d
                .contact_name
                .unwrap_or_else(|| format!("+{}", d.contact_address)),
            preview: d.inbound_body.chars().take(140).collect(),
            language: d.language,
            intent: d.intent,
            confidence: format!("{:.0}%", d.confidence * 100.0),
            reasons: reasons(&d.hold_reasons),
            age: age(d.created_at, now),
        }
    }
}

pub struct UnsentView {
    pub conversation_id: i64,
    pub status: String,
    pub error: String,
    pub preview: String,
    pub age: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    held: Vec<HeldView>,
    unsent: Vec<UnsentView>,
}

async fn show_inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> AppResult<impl IntoResponse> {
    let (jar, flash) = take_flash(jar);
    let now = state.clock().now_millis();
    let held = state
        .store
        .held_drafts(200)
        .await?
        .into_iter()
        .map(|d| HeldView::new(d, now))
        .collect();
    let unsent = state
        .store
        .unsent_messages(50)
        .await?
        .into_iter()
        .map(|m| UnsentView {
            conversation_id: m.conversation_id,
            status: m.status.unwrap_or_default().replace('_', " "),
            error: m.last_error.unwrap_or_default(),
            preview: m.body.chars().take(100).collect(),
            age: age(m.sent_at, now),
        })
        .collect();
    let page = InboxPage {
        layout: Layout::new("Review inbox", &user.0, flash),
        held,
        unsent,
    };
    Ok((jar, Page(page)))
}

pub struct MessageView {
    pub id: i64,
    pub inbound: bool,
    pub body: String,
    pub kind: String,
    pub language: String,
    pub status: String,
    pub error: String,
    pub at: String,
    /// For an email: its subject, full body (the pipeline read only the trimmed reply) and
    /// attachments by name.
    pub email: Option<EmailPart>,
}

pub struct EmailPart {
    pub subject: String,
    pub full_body: String,
    pub attachments: Vec<String>,
}

impl From<crate::store::EmailView> for EmailPart {
    fn from(e: crate::store::EmailView) -> Self {
        let attachments: Vec<serde_json::Value> = serde_json::from_str(&e.attachments).unwrap_or_default();
        EmailPart {
            subject: e.subject,
            full_body: e.full_body,
            attachments: attachments
                .iter()
                .map(|a| {
                    format!(
                        "{} ({}, {} bytes)",
                        a["filename"].as_str().unwrap_or("?"),
                        a["content_type"].as_str().unwrap_or("?"),
                        a["size"]
                    )
                })
                .collect(),
        }
    }
}

impl From<ThreadMessage> for MessageView {
    fn from(m: ThreadMessage) -> Self {
        MessageView {
            id: m.id,
            inbound: m.direction == "in",
            body: m.body,
            kind: m.kind,
            language: m.language.unwrap_or_default(),
            status: m.status.unwrap_or_default().replace('_', " "),
            error: m.last_error.unwrap_or_default(),
            at: timestamp(m.sent_at),
            email: None,
        }
    }
}

pub struct DraftView {
    pub id: i64,
    pub message_id: i64,
    pub body: String,
    pub state: String,
    pub is_held: bool,
    pub version: i64,
    pub language: String,
    pub intent: String,
    pub confidence: String,
    pub source: String,
    pub reasons: Vec<ReasonView>,
    pub decided: String,
    pub final_body: String,
}

impl From<DraftRow> for DraftView {
    fn from(d: DraftRow) -> Self {
        let decided = match (&d.decided_by_name, d.decided_at) {
            (Some(who), Some(at)) => format!("{} by {who} at {}", d.state.replace('_', " "), timestamp(at)),
            _ => String::new(),
        };
        let final_body = match (&d.final_body, &d.reject_reason) {
            (Some(body), _) if *body != d.body => body.clone(),
            (_, Some(reason)) => format!("Reason: {reason}"),
            _ => String::new(),
        };
        DraftView {
            id: d.id,
            message_id: d.message_id,
            is_held: d.state == "held",
            state: d.state.replace('_', " "),
            version: d.version,
            language: d.language,
            intent: d.intent,
            confidence: format!("{:.0}%", d.confidence * 100.0),
            source: d.source,
            reasons: reasons(&d.hold_reasons),
            decided,
            final_body,
            body: d.body,
        }
    }
}

pub struct ContactView {
    pub name: String,
    pub address: String,
    pub channel: String,
    pub language: String,
    pub market: String,
    pub local_time: String,
    pub window: String,
}

impl ContactView {
    fn new(c: &ConversationRow, state: &AppState) -> ContactView {
        let market = c.market.as_deref().and_then(|m| state.catalog.market(m));
        let local_time = market
            .map(|m| {
                let now = state.clock().now();
                let open = if m.is_open(now) { "open" } else { "closed" };
                format!("{} ({open})", now.with_timezone(&m.timezone).format("%a %H:%M"))
            })
            .unwrap_or_default();
        let window = c
            .last_inbound_at
            .map(|last| {
                let left = last + 24 * 3_600_000 - state.clock().now_millis();
                if left > 0 {
                    format!("{} h {} min left", left / 3_600_000, left % 3_600_000 / 60_000)
                } else {
                    "closed: templates only".to_owned()
                }
            })
            .unwrap_or_default();
        ContactView {
            name: c.contact_name.clone().unwrap_or_default(),
            address: c.contact_address.clone(),
            channel: c.channel.clone(),
            language: c.language.clone().unwrap_or_else(|| "not yet known".to_owned()),
            market: market
                .map(|m| m.name.clone())
                .unwrap_or_else(|| "unknown".to_owned()),
            local_time,
            window,
        }
    }
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    layout: Layout,
    contact: ContactView,
    thread: Vec<MessageView>,
    drafts: Vec<DraftView>,
}

async fn show_conversation(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> AppResult<impl IntoResponse> {
    let (jar, flash) = take_flash(jar);
    let conversation = state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let mut emails: std::collections::HashMap<i64, crate::store::EmailView> = state
        .store
        .conversation_emails(id)
        .await?
        .into_iter()
        .map(|e| (e.message_id, e))
        .collect();
    let thread = state
        .store
        .thread(id)
        .await?
        .into_iter()
        .map(|m| {
            let email = emails.remove(&m.id).map(EmailPart::from);
            MessageView {
                email,
                ..MessageView::from(m)
            }
        })
        .collect();
    let drafts = state
        .store
        .drafts_in_conversation(id)
        .await?
        .into_iter()
        .map(DraftView::from)
        .collect();
    let title = conversation.contact_name.clone().unwrap_or_else(|| {
        if conversation.channel == crate::channels::EMAIL {
            conversation.contact_address.clone()
        } else {
            format!("+{}", conversation.contact_address)
        }
    });
    let page = ConversationPage {
        layout: Layout::new(title, &user.0, flash),
        contact: ContactView::new(&conversation, &state),
        thread,
        drafts,
    };
    Ok((jar, Page(page)))
}

#[derive(Deserialize)]
struct ApproveForm {
    csrf: String,
    version: i64,
    /// Present when the rep edited the draft.
    body: Option<String>,
    /// A manager's reason to send despite a guardrail block.
    override_reason: Option<String>,
}

#[tracing::instrument(skip_all, fields(draft = id, user = user.0.id))]
async fn approve_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<ApproveForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    let conversation = state
        .store
        .draft(id)
        .await?
        .ok_or(AppError::NotFound)?
        .conversation_id;
    let approval = review::approve(
        &state,
        &user.0,
        id,
        form.version,
        form.body.as_deref(),
        form.override_reason.as_deref(),
    )
    .await?;
    let message = match approval {
        Ok(approved) if approved.notes.is_empty() => "Approved: the reply is on its way.".to_owned(),
        Ok(approved) => format!(
            "Approved: the reply is on its way. Note: {}.",
            approved.notes.join("; ")
        ),
        Err(ReviewError::NotFound(_)) => return Err(AppError::NotFound),
        Err(e) => format!("Not approved: {e}."),
    };
    Ok((
        flash(jar, message),
        Redirect::to(&format!("/conversations/{conversation}")),
    ))
}

#[derive(Deserialize)]
struct RejectForm {
    csrf: String,
    version: i64,
    #[serde(default)]
    reason: String,
}

#[tracing::instrument(skip_all, fields(draft = id, user = user.0.id))]
async fn reject_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<RejectForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    let conversation = state
        .store
        .draft(id)
        .await?
        .ok_or(AppError::NotFound)?
        .conversation_id;
    let message = match review::reject(&state, &user.0, id, form.version, &form.reason).await? {
        Ok(()) => "Rejected: nothing will be sent.".to_owned(),
        Err(ReviewError::NotFound(_)) => return Err(AppError::NotFound),
        Err(e) => format!("Not rejected: {e}."),
    };
    Ok((
        flash(jar, message),
        Redirect::to(&format!("/conversations/{conversation}")),
    ))
}
