//! What people do to held drafts: approve as written, edit and approve, or reject. An edited
//! draft goes through the guardrails again; nothing a person writes skips the price check.

use crate::guardrails::{self, Verdict};
use crate::state::AppState;
use crate::store::{ApproveOutcome, NewEvent, SessionUser};
use serde_json::json;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReviewError {
    #[error("draft {0} does not exist")]
    NotFound(i64),
    #[error("someone else already decided on this draft")]
    AlreadyDecided,
    #[error("the reply is empty")]
    Empty,
    #[error("the reply is longer than {0} characters")]
    TooLong(usize),
    #[error("blocked by the guardrails: {0}")]
    Blocked(String),
}

/// Approves draft `draft_id` as seen at `version`, with `edited` replacing its text if given.
pub async fn approve(
    state: &AppState,
    user: &SessionUser,
    draft_id: i64,
    version: i64,
    edited: Option<&str>,
) -> anyhow::Result<Result<i64, ReviewError>> {
    let Some(draft) = state.store.draft(draft_id).await? else {
        return Ok(Err(ReviewError::NotFound(draft_id)));
    };
    let final_body = match edited {
        Some(text) => text.trim(),
        None => draft.body.as_str(),
    };
    if final_body.trim().is_empty() {
        return Ok(Err(ReviewError::Empty));
    }
    let limit = crate::channels::whatsapp::MAX_TEXT_CHARS;
    if final_body.chars().count() > limit {
        return Ok(Err(ReviewError::TooLong(limit)));
    }
    let was_edited = final_body != draft.body;
    if was_edited && let Some(problem) = recheck(state, draft.message_id, &draft.language, final_body).await?
    {
        return Ok(Err(ReviewError::Blocked(problem)));
    }
    let summary = if was_edited {
        "Draft edited and approved"
    } else {
        "Draft approved"
    };
    let event = NewEvent::new("approved", summary).detail(json!({
        "draft_id": draft_id,
        "edited": was_edited,
        "body": final_body,
    }));
    match state
        .store
        .approve_draft(draft_id, version, user.id, final_body, event)
        .await?
    {
        ApproveOutcome::Approved { outbound_id } => {
            state.jobs_ready.notify_waiters();
            Ok(Ok(outbound_id))
        }
        ApproveOutcome::AlreadyDecided => Ok(Err(ReviewError::AlreadyDecided)),
    }
}

pub async fn reject(
    state: &AppState,
    user: &SessionUser,
    draft_id: i64,
    version: i64,
    reason: &str,
) -> anyhow::Result<Result<(), ReviewError>> {
    if state.store.draft(draft_id).await?.is_none() {
        return Ok(Err(ReviewError::NotFound(draft_id)));
    }
    let reason = if reason.trim().is_empty() {
        "no reason given"
    } else {
        reason.trim()
    };
    if state
        .store
        .reject_draft(draft_id, version, user.id, reason)
        .await?
    {
        Ok(Ok(()))
    } else {
        Ok(Err(ReviewError::AlreadyDecided))
    }
}

/// Runs the blocking guardrails on a person's text; returns what blocked it, if anything.
async fn recheck(
    state: &AppState,
    message_id: i64,
    language: &str,
    body: &str,
) -> anyhow::Result<Option<String>> {
    let Some(ctx) = state.store.inbound_context(message_id).await? else {
        return Ok(None);
    };
    let catalog = &state.catalog;
    let market = ctx
        .market
        .as_deref()
        .and_then(|m| catalog.market(m))
        .or_else(|| catalog.market_for_phone(&ctx.contact_address))
        .unwrap_or_else(|| catalog.default_market(crate::domain::Language::En));
    let language = language.parse().unwrap_or(market.language);
    // A person wrote it: the classifier's doubt no longer applies (the default confidence).
    // integration: the store must supply `.with_history(..)` here too, so an edit sent after
    // the 24-hour window, to an opted-out contact or over the daily limit is caught.
    let guard = guardrails::Context::new(catalog, &state.policy, market, language, chrono::Utc::now())
        .with_thread(&ctx.body)
        .with_phone(&ctx.contact_address);
    let findings = guardrails::check(body, &guard);
    let blocked: Vec<String> = findings
        .into_iter()
        .filter(|f| f.verdict == Verdict::Block)
        .map(|f| f.message)
        .collect();
    Ok((!blocked.is_empty()).then(|| blocked.join("; ")))
}
