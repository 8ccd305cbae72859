//! `/webhooks/conversion`: `X-Tuesday-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body
//! with `conversions.secret`, checked before the body is read. Idempotent on `external_id`.

use super::ConversionPayload;
use crate::channels::whatsapp::verify_signature;
use crate::state::AppState;
use crate::store::Recorded;
use crate::web::error::{AppError, AppResult};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/conversion", post(receive_conversion))
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_conversion(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
    let secret = state.settings.conversions.secret.as_ref().ok_or_else(|| {
        AppError::Unavailable("conversions are not configured: set conversions.secret".to_owned())
    })?;
    let signature = headers
        .get("x-tuesday-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::Unauthorized("missing X-Tuesday-Signature".to_owned()))?;
    if !verify_signature(secret.expose_secret().as_bytes(), &body, signature) {
        return Err(AppError::Unauthorized("invalid signature".to_owned()));
    }
    let payload = ConversionPayload::parse(&body).map_err(|e| AppError::Unprocessable(e.to_string()))?;
    match super::record_reported(&state, &payload).await? {
        Recorded::New {
            id,
            conversations,
            agent_messages,
        } => {
            tracing::info!(
                conversion = id,
                conversations = conversations.len(),
                "conversion recorded"
            );
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "id": id,
                    "duplicate": false,
                    "attributed_conversations": conversations,
                    "attributed_agent_messages": agent_messages,
                })),
            ))
        }
        Recorded::Duplicate { id } => Ok((StatusCode::OK, Json(json!({ "id": id, "duplicate": true })))),
    }
}
