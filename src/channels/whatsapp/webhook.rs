//! `/webhooks/whatsapp`: Meta's verification handshake and signed deliveries. A delivery is
//! stored raw and parsed in one transaction, then acknowledged; the work happens in jobs.

use super::payload::{ParseError, parse_delivery};
use super::signature::verify_signature;
use crate::channels::WHATSAPP;
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use subtle::ConstantTimeEq;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/whatsapp", get(verify_webhook).post(receive_webhook))
}

/// Echoes `hub.challenge` byte for byte when the mode and verify token match.
async fn verify_webhook(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> AppResult<String> {
    let expected = state.settings.whatsapp.verify_token.as_ref();
    let given = query.get("hub.verify_token");
    let token_ok = match (expected, given) {
        (Some(expected), Some(given)) => {
            bool::from(expected.expose_secret().as_bytes().ct_eq(given.as_bytes()))
        }
        _ => false,
    };
    if query.get("hub.mode").map(String::as_str) != Some("subscribe") || !token_ok {
        return Err(AppError::Forbidden("verification failed".to_owned()));
    }
    query
        .get("hub.challenge")
        .cloned()
        .ok_or_else(|| AppError::Forbidden("verification failed".to_owned()))
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<StatusCode> {
    let secret = state.settings.whatsapp.app_secret.as_ref().ok_or_else(|| {
        AppError::Unavailable("WhatsApp is not configured: set whatsapp.app_secret".to_owned())
    })?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::Unauthorized("missing X-Hub-Signature-256".to_owned()))?;
    if !verify_signature(secret.expose_secret().as_bytes(), &body, signature) {
        return Err(AppError::Unauthorized("invalid signature".to_owned()));
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| AppError::BadRequest("the body is not UTF-8".to_owned()))?;

    match parse_delivery(&body, &state.settings.whatsapp.phone_number_ids) {
        Ok(delivery) => {
            let summary = state.store.ingest(WHATSAPP, text, &delivery).await?;
            tracing::info!(
                delivery = summary.delivery_id,
                new = summary.new_messages,
                duplicates = summary.duplicate_messages,
                statuses = summary.statuses,
                preferences = summary.preferences,
                "webhook stored"
            );
            if summary.new_messages + summary.statuses > 0 {
                state.jobs_ready.notify_waiters();
            }
            Ok(StatusCode::OK)
        }
        Err(ParseError::Malformed(why)) => Err(AppError::BadRequest(format!("malformed JSON: {why}"))),
        Err(ParseError::UnknownPhoneNumber(id)) => {
            Err(AppError::Unprocessable(format!("unknown phone_number_id {id:?}")))
        }
        Err(ParseError::Unrecognised(why)) => {
            // Signed by Meta, so genuine: keep it for an admin and stop Meta's retries.
            let id = state.store.ingest_unparsed(WHATSAPP, text, &why).await?;
            tracing::warn!(delivery = id, %why, "stored an unparsed webhook delivery");
            Ok(StatusCode::OK)
        }
    }
}
