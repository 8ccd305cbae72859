//! What people do to held drafts: approve as written, edit and approve, or reject. The reply
//! goes through the guardrails again before it is approved; a block stops it unless a manager
//! overrides it with a reason, and the override is recorded on the trace.

use crate::domain::Role;
use crate::gate::{self, OVERRIDABLE};
use crate::guardrails::Verdict;
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
    #[error("only a manager may override the guardrails")]
    OverrideNotAllowed,
    #[error("{0} has claimed this conversation")]
    ClaimedBy(String),
}

/// Refuses a rep's decision on a conversation someone else holds; managers may step in.
async fn check_claim(
    state: &AppState,
    user: &SessionUser,
    conversation_id: i64,
) -> anyhow::Result<Result<(), ReviewError>> {
    match state.store.claim(conversation_id).await? {
        Some(claim) if claim.user_id != user.id && user.role < Role::Manager => {
            Ok(Err(ReviewError::ClaimedBy(claim.username)))
        }
        _ => Ok(Ok(())),
    }
}

/// An approved reply, with the guardrails' remaining concerns for the reviewer to see.
#[derive(Debug, Clone, PartialEq)]
pub struct Approved {
    pub outbound_id: i64,
    pub notes: Vec<String>,
}

/// Approves draft `draft_id` as seen at `version`, with `edited` replacing its text if given.
pub async fn approve(
    state: &AppState,
    user: &SessionUser,
    draft_id: i64,
    version: i64,
    edited: Option<&str>,
    override_reason: Option<&str>,
) -> anyhow::Result<Result<Approved, ReviewError>> {
    let Some(draft) = state.store.draft(draft_id).await? else {
        return Ok(Err(ReviewError::NotFound(draft_id)));
    };
    if let Err(e) = check_claim(state, user, draft.conversation_id).await? {
        return Ok(Err(e));
    }
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
    let override_reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    if override_reason.is_some() && user.role < Role::Manager {
        return Ok(Err(ReviewError::OverrideNotAllowed));
    }
    let reply = gate::Reply {
        message_id: draft.message_id,
        body: final_body,
        language: draft.language.parse().ok(),
        confidence: None,
    };
    let findings = gate::check(state, &reply, state.clock().now())
        .await?
        .unwrap_or_default();
    let concerns: Vec<_> = findings.iter().filter(|f| f.verdict != Verdict::Pass).collect();
    let blocks: Vec<String> = concerns
        .iter()
        .filter(|f| f.verdict == Verdict::Block)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    let overridable = concerns
        .iter()
        .filter(|f| f.verdict == Verdict::Block)
        .all(|f| OVERRIDABLE.contains(&f.rule));
    if !blocks.is_empty() && (override_reason.is_none() || !overridable) {
        return Ok(Err(ReviewError::Blocked(blocks.join("; "))));
    }
    let notes: Vec<String> = concerns
        .iter()
        .filter(|f| f.verdict == Verdict::Hold)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    let summary = match (was_edited, blocks.is_empty()) {
        (_, false) => "Draft approved over a guardrail block (manager override)",
        (true, true) => "Draft edited and approved",
        (false, true) => "Draft approved",
    };
    let event = NewEvent::new("approved", summary).detail(json!({
        "draft_id": draft_id,
        "edited": was_edited,
        "edit_distance": was_edited.then(|| strsim::levenshtein(&draft.body, final_body)),
        "edit_share": was_edited.then(|| crate::text::edit_share(&draft.body, final_body)),
        "body": final_body,
        "override_reason": override_reason,
        "overridden": blocks,
        "notes": notes,
    }));
    let policy_override = override_reason.filter(|_| !blocks.is_empty());
    match state
        .store
        .approve_draft(draft_id, version, user.id, final_body, policy_override, event)
        .await?
    {
        ApproveOutcome::Approved { outbound_id } => {
            state.jobs_ready.notify_waiters();
            Ok(Ok(Approved { outbound_id, notes }))
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
    let Some(draft) = state.store.draft(draft_id).await? else {
        return Ok(Err(ReviewError::NotFound(draft_id)));
    };
    if let Err(e) = check_claim(state, user, draft.conversation_id).await? {
        return Ok(Err(e));
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
