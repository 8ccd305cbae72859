//! `/webhooks/twilio` (messages) and `/webhooks/twilio/status` (status callbacks): the
//! signature is checked on the full public URL and every parameter before anything is read.

use super::payload::{parse_message, parse_status};
use super::signature::verify_signature;
use crate::channels::{Delivery, TWILIO};
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::post;
use secrecy::ExposeSecret;

/// An empty TwiML answer: we reply later, through the API.
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio", post(receive_message))
        .route("/webhooks/twilio/status", post(receive_status))
}

/// The form's parameters, once the signature over them and the public URL holds.
fn verified_params(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<Vec<(String, String)>> {
    let settings = &state.settings.twilio;
    let (Some(token), Some(public_url)) = (&settings.auth_token, &settings.public_url) else {
        return Err(AppError::Unavailable(
            "Twilio is not configured: set twilio.auth_token and twilio.public_url".to_owned(),
        ));
    };
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::Unauthorized("missing X-Twilio-Signature".to_owned()))?;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("unreadable form: {e}")))?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", public_url.trim_end_matches('/'));
    if !verify_signature(token.expose_secret().as_bytes(), &url, &params, signature) {
        return Err(AppError::Unauthorized("invalid signature".to_owned()));
    }
    Ok(params)
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_message(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<impl IntoResponse + use<>> {
    let params = verified_params(&state, &uri, &headers, &body)?;
    let now = state.clock().now_millis();
    // Some accounts point status callbacks at the message URL too.
    let delivery =
        if params.iter().any(|(n, _)| n == "MessageStatus") && !params.iter().any(|(n, _)| n == "Body") {
            Delivery {
                statuses: parse_status(&params, now)
                    .map_err(AppError::BadRequest)?
                    .into_iter()
                    .collect(),
                ..Delivery::default()
            }
        } else {
            Delivery {
                messages: vec![parse_message(&params, now).map_err(AppError::BadRequest)?],
                ..Delivery::default()
            }
        };
    ingest(&state, &body, &delivery).await
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_status(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<impl IntoResponse + use<>> {
    let params = verified_params(&state, &uri, &headers, &body)?;
    let update = parse_status(&params, state.clock().now_millis()).map_err(AppError::BadRequest)?;
    let delivery = Delivery {
        statuses: update.into_iter().collect(),
        ..Delivery::default()
    };
    ingest(&state, &body, &delivery).await
}

/// Stores the delivery and answers with empty TwiML.
async fn ingest(state: &AppState, body: &[u8], delivery: &Delivery) -> AppResult<impl IntoResponse + use<>> {
    let raw = String::from_utf8_lossy(body);
    let summary = state.store.ingest(TWILIO, &raw, delivery).await?;
    tracing::info!(
        delivery = summary.delivery_id,
        new = summary.new_messages,
        duplicates = summary.duplicate_messages,
        statuses = summary.statuses,
        "Twilio webhook stored"
    );
    if summary.new_messages + summary.statuses > 0 {
        state.jobs_ready.notify_waiters();
    }
    Ok(([(header::CONTENT_TYPE, "text/xml")], EMPTY_TWIML))
}
