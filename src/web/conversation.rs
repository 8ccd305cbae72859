//! One conversation: the thread across channels, the contact card, each draft with its guardrail
//! findings highlighted, and what a rep does here (claim, approve, edit, reject, correct the
//! intent, reassign, note, escalate, mark converted or lost).

use crate::domain::{Intent, Role};
use crate::review::{self, ReviewError};
use crate::state::AppState;
use crate::store::{ConversationRow, DraftRow, ThreadMessage};
use crate::web::auth::{CurrentUser, flash, take_flash};
use crate::web::error::{AppError, AppResult};
use crate::web::inbox::{ReasonView, reasons};
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use rust_decimal::Decimal;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}", get(show_conversation))
        .route("/conversations/{id}/claim", post(claim_conversation))
        .route("/conversations/{id}/release", post(release_conversation))
        .route("/conversations/{id}/assign", post(assign_conversation))
        .route("/conversations/{id}/note", post(add_note))
        .route("/conversations/{id}/escalate", post(escalate))
        .route("/conversations/{id}/resolve", post(resolve_escalation))
        .route("/conversations/{id}/converted", post(mark_converted))
        .route("/conversations/{id}/lost", post(mark_lost))
        .route("/drafts/{id}/approve", post(approve_draft))
        .route("/drafts/{id}/reject", post(reject_draft))
        .route("/drafts/{id}/intent", post(correct_intent))
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

/// A piece of a draft's text: plain, or flagged by a guardrail finding.
pub struct Segment {
    pub text: String,
    /// The finding's rule and message, when flagged.
    pub finding: Option<String>,
}

/// Cuts `body` at the findings' byte spans. Spans that overlap an earlier one, fall outside
/// the text or split a character are left out rather than trusted.
pub fn segments(body: &str, findings: &[(Option<(usize, usize)>, String)]) -> Vec<Segment> {
    let mut spans: Vec<(usize, usize, &str)> = findings
        .iter()
        .filter_map(|(span, label)| span.map(|(a, b)| (a, b, label.as_str())))
        .filter(|(a, b, _)| {
            a < b && *b <= body.len() && body.is_char_boundary(*a) && body.is_char_boundary(*b)
        })
        .collect();
    spans.sort_by_key(|s| (s.0, s.1));
    let mut out = Vec::new();
    let mut at = 0;
    for (a, b, label) in spans {
        if a < at {
            continue;
        }
        if a > at {
            out.push(Segment {
                text: body[at..a].to_owned(),
                finding: None,
            });
        }
        out.push(Segment {
            text: body[a..b].to_owned(),
            finding: Some(label.to_owned()),
        });
        at = b;
    }
    if at < body.len() || out.is_empty() {
        out.push(Segment {
            text: body[at..].to_owned(),
            finding: None,
        });
    }
    out
}

pub struct DraftView {
    pub id: i64,
    pub message_id: i64,
    pub body: String,
    pub segments: Vec<Segment>,
    pub state: String,
    pub is_held: bool,
    pub version: i64,
    pub language: String,
    pub intent: String,
    pub corrected: bool,
    pub confidence: String,
    pub source: String,
    pub reasons: Vec<ReasonView>,
    pub decided: String,
    pub final_body: String,
    pub model: String,
}

fn draft_view(d: DraftRow, corrected_intent: Option<String>, model: String) -> DraftView {
    let decided = match (&d.decided_by_name, d.decided_at) {
        (Some(who), Some(at)) => format!("{} by {who} at {}", d.state.replace('_', " "), timestamp(at)),
        _ => String::new(),
    };
    let final_body = match (&d.final_body, &d.reject_reason) {
        (Some(body), _) if *body != d.body => body.clone(),
        (_, Some(reason)) => format!("Reason: {reason}"),
        _ => String::new(),
    };
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&d.hold_reasons).unwrap_or_default();
    let findings: Vec<(Option<(usize, usize)>, String)> = parsed
        .iter()
        .map(|r| {
            let span = r["span"].as_array().and_then(|s| {
                Some((
                    usize::try_from(s.first()?.as_u64()?).ok()?,
                    usize::try_from(s.get(1)?.as_u64()?).ok()?,
                ))
            });
            let label = format!(
                "{}: {}",
                r["rule"].as_str().unwrap_or(""),
                r["message"].as_str().unwrap_or("")
            );
            (span, label)
        })
        .collect();
    DraftView {
        id: d.id,
        message_id: d.message_id,
        is_held: d.state == "held",
        state: d.state.replace('_', " "),
        version: d.version,
        language: d.language,
        corrected: corrected_intent.is_some(),
        intent: corrected_intent.unwrap_or(d.intent),
        confidence: format!("{:.0}%", d.confidence * 100.0),
        source: d.source,
        reasons: reasons(&d.hold_reasons),
        decided,
        final_body,
        segments: segments(&d.body, &findings),
        body: d.body,
        model,
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
    pub opted_out: String,
}

impl ContactView {
    fn new(c: &ConversationRow, opted_out_at: Option<i64>, state: &AppState) -> ContactView {
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
            opted_out: opted_out_at
                .map(|at| format!("opted out {}", timestamp(at)))
                .unwrap_or_else(|| "subscribed".to_owned()),
        }
    }
}

pub struct NoteView {
    pub who: String,
    pub body: String,
    pub at: String,
}

pub struct ConversionView {
    pub value: String,
    pub product: String,
    pub at: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    layout: Layout,
    id: i64,
    contact: ContactView,
    thread: Vec<MessageView>,
    drafts: Vec<DraftView>,
    notes: Vec<NoteView>,
    conversions: Vec<ConversionView>,
    holder: String,
    held_by_me: bool,
    claim_until: String,
    assigned: String,
    escalation: String,
    outcome: String,
    users: Vec<String>,
    intents: Vec<&'static str>,
    default_currency: String,
}

async fn show_conversation(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> AppResult<impl IntoResponse> {
    let (jar, flash) = take_flash(jar);
    let store = &state.store;
    let conversation = store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let mut emails: std::collections::HashMap<i64, crate::store::EmailView> = store
        .conversation_emails(id)
        .await?
        .into_iter()
        .map(|e| (e.message_id, e))
        .collect();
    let thread = store
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
    let mut drafts = Vec::new();
    for d in store.drafts_in_conversation(id).await? {
        let corrected = store.corrected_intent(d.id).await?;
        let spend = store.draft_model(d.message_id).await?;
        drafts.push(draft_view(d, corrected, spend));
    }
    let notes = store
        .notes(id)
        .await?
        .into_iter()
        .map(|n| NoteView {
            who: n.username,
            body: n.body,
            at: timestamp(n.created_at),
        })
        .collect();
    let conversions = store
        .contact_conversions(id)
        .await?
        .into_iter()
        .map(|c| ConversionView {
            value: format!("{} {}", c.value, c.currency),
            product: c.product,
            at: timestamp(c.occurred_at),
            source: c.source,
        })
        .collect();
    let claim = store.claim(id).await?;
    let review = store.conversation_state(id).await?;
    let opted_out = store.contact_opt_out(id).await?;
    let title = conversation
        .contact_name
        .clone()
        .unwrap_or_else(|| format!("+{}", conversation.contact_address));
    let default_currency = conversation
        .market
        .as_deref()
        .and_then(|m| state.catalog.market(m))
        .map(|m| m.currency.code().to_owned())
        .unwrap_or_else(|| "USD".to_owned());
    let page = ConversationPage {
        layout: Layout::new(title, &user.0, flash),
        id,
        contact: ContactView::new(&conversation, opted_out, &state),
        thread,
        drafts,
        notes,
        conversions,
        held_by_me: claim.as_ref().is_some_and(|c| c.user_id == user.0.id),
        claim_until: claim.as_ref().map(|c| timestamp(c.until)).unwrap_or_default(),
        holder: claim.map(|c| c.username).unwrap_or_default(),
        assigned: review.assigned_name.unwrap_or_default(),
        escalation: review
            .escalation_reason
            .filter(|_| review.escalated_at.is_some())
            .unwrap_or_default(),
        outcome: match (review.outcome, review.outcome_reason) {
            (Some(o), Some(r)) => format!("{o}: {r}"),
            (Some(o), None) => o,
            _ => String::new(),
        },
        users: store.users().await?.into_iter().map(|u| u.username).collect(),
        intents: state.taxonomy.intents().map(|i| i.as_str()).collect(),
        default_currency,
    };
    Ok((jar, Page(page)))
}

fn back(jar: CookieJar, conversation: i64, message: impl Into<String>) -> (CookieJar, Redirect) {
    (
        flash(jar, message),
        Redirect::to(&format!("/conversations/{conversation}")),
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn claim_conversation(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let minutes = i64::from(state.settings.inbox.claim_minutes);
    let until = state.clock().now_millis() + minutes * 60_000;
    let message = match state.store.claim_conversation(id, user.0.id, until).await? {
        Some(c) if c.user_id == user.0.id => format!("Claimed: it is yours for {minutes} min."),
        Some(c) => format!(
            "Not claimed: {} holds it until {}.",
            c.username,
            timestamp(c.until)
        ),
        None => "Not claimed.".to_owned(),
    };
    Ok(back(jar, id, message))
}

async fn release_conversation(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    let released = state.store.release_conversation(id, user.0.id).await?;
    Ok(back(
        jar,
        id,
        if released {
            "Released."
        } else {
            "You did not hold it."
        },
    ))
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    #[serde(default)]
    username: String,
}

async fn assign_conversation(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let name = form.username.trim();
    let (assignee, summary) = if name.is_empty() {
        (None, "Unassigned".to_owned())
    } else {
        let target = state
            .store
            .user_by_name(name)
            .await?
            .ok_or_else(|| AppError::Unprocessable(format!("there is no user called {name:?}")))?;
        (Some(target.id), format!("Assigned to {}", target.username))
    };
    state
        .store
        .assign_conversation(id, assignee, user.0.id, summary.clone())
        .await?;
    Ok(back(jar, id, format!("{summary}.")))
}

#[derive(Deserialize)]
struct TextForm {
    csrf: String,
    #[serde(default)]
    text: String,
}

/// A note, reason or the like: trimmed, not empty, at most 2,000 characters.
fn text_field(text: &str, what: &str) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Unprocessable(format!("the {what} is empty")));
    }
    if text.chars().count() > 2000 {
        return Err(AppError::Unprocessable(format!(
            "the {what} is longer than 2000 characters"
        )));
    }
    Ok(text.to_owned())
}

async fn add_note(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<TextForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let text = text_field(&form.text, "note")?;
    state.store.add_note(id, user.0.id, &text).await?;
    Ok(back(jar, id, "Note added (only your team sees it)."))
}

async fn escalate(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<TextForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let text = text_field(&form.text, "reason")?;
    state
        .store
        .escalate_conversation(id, Some(&text), user.0.id)
        .await?;
    Ok(back(
        jar,
        id,
        "Escalated: managers see it in the Escalations queue.",
    ))
}

async fn resolve_escalation(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Manager)?;
    state.store.escalate_conversation(id, None, user.0.id).await?;
    Ok(back(jar, id, "Escalation resolved."))
}

#[derive(Deserialize)]
struct ConvertedForm {
    csrf: String,
    value: String,
    currency: String,
    #[serde(default)]
    product: String,
}

async fn mark_converted(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<ConvertedForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    let conversation = state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let value: Decimal = form
        .value
        .trim()
        .replace(',', ".")
        .parse()
        .ok()
        .filter(|v: &Decimal| *v > Decimal::ZERO)
        .ok_or_else(|| AppError::Unprocessable("the value must be a positive amount".to_owned()))?;
    let currency = form.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AppError::Unprocessable(
            "the currency must be a code such as EUR".to_owned(),
        ));
    }
    let product = form.product.trim().chars().take(200).collect::<String>();
    crate::conversions::record_marked(
        &state,
        id,
        &conversation.contact_address,
        value,
        &currency,
        &product,
        user.0.id,
    )
    .await?;
    Ok(back(jar, id, format!("Marked converted: {value} {currency}.")))
}

async fn mark_lost(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<TextForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    state.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    let reason = text_field(&form.text, "reason")?;
    state.store.mark_lost(id, &reason, user.0.id).await?;
    Ok(back(jar, id, "Marked lost."))
}

#[derive(Deserialize)]
struct IntentForm {
    csrf: String,
    intent: String,
}

async fn correct_intent(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<IntentForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    let draft = state.store.draft(id).await?.ok_or(AppError::NotFound)?;
    let intent: Intent = state
        .taxonomy
        .parse(&form.intent)
        .map_err(|e| AppError::Unprocessable(e.to_string()))?;
    state.store.correct_intent(id, intent.as_str(), user.0.id).await?;
    Ok(back(
        jar,
        draft.conversation_id,
        format!("Intent recorded as {intent}: it becomes a training label."),
    ))
}

/// The conversation a review form's draft belongs to, where its answer redirects.
async fn conversation_of_draft(state: &AppState, draft_id: i64) -> AppResult<i64> {
    Ok(state
        .store
        .draft(draft_id)
        .await?
        .ok_or(AppError::NotFound)?
        .conversation_id)
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
    let conversation = conversation_of_draft(&state, id).await?;
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
    Ok(back(jar, conversation, message))
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
    let conversation = conversation_of_draft(&state, id).await?;
    let message = match review::reject(&state, &user.0, id, form.version, &form.reason).await? {
        Ok(()) => "Rejected: nothing will be sent.".to_owned(),
        Err(ReviewError::NotFound(_)) => return Err(AppError::NotFound),
        Err(e) => format!("Not rejected: {e}."),
    };
    Ok(back(jar, conversation, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &[Segment]) -> Vec<(&str, bool)> {
        s.iter().map(|s| (s.text.as_str(), s.finding.is_some())).collect()
    }

    #[test]
    fn findings_are_cut_out_of_the_text() {
        let body = "El curso cuesta 99 € y te garantizo empleo 😀";
        let price = body.find("99 €").expect("price");
        let promise = body.find("te garantizo empleo").expect("promise");
        let s = segments(
            body,
            &[
                (
                    Some((promise, promise + "te garantizo empleo".len())),
                    "promises: job guarantee".into(),
                ),
                (
                    Some((price, price + "99 €".len())),
                    "prices: not in the catalog".into(),
                ),
                (None, "policy: reviewed".into()),
            ],
        );
        assert_eq!(
            texts(&s),
            [
                ("El curso cuesta ", false),
                ("99 €", true),
                (" y ", false),
                ("te garantizo empleo", true),
                (" 😀", false)
            ]
        );
    }

    #[test]
    fn bad_spans_are_ignored() {
        let body = "Olá, preço R$ 1.497 ✓";
        let check = body.find('✓').expect("mark");
        // Inside a multi-byte character, past the end, overlapping, empty.
        let s = segments(
            body,
            &[
                (Some((check + 1, check + 2)), "x".into()),
                (Some((0, 999)), "x".into()),
                (Some((0, 3)), "a".into()),
                (Some((1, 4)), "b".into()),
                (Some((2, 6)), "d".into()),
                (Some((5, 5)), "c".into()),
            ],
        );
        assert_eq!(
            texts(&s),
            [("O", false), ("lá", true), (", preço R$ 1.497 ✓", false)]
        );
        assert_eq!(texts(&segments("hi", &[])), [("hi", false)]);
    }
}
