//! `/webhooks/email/*`: Postmark (JSON, basic auth), SendGrid (multipart, basic auth), Mailgun
//! (form, HMAC signature, one use per token) and raw MIME (bearer token). Each checks who is
//! posting, parses, stores in one transaction and answers; the work happens in jobs.

use super::auth::{self, Access, MailgunRejection};
use super::form::{self, Field};
use super::message::{EmailError, ParsedEmail};
use super::{mailgun::parse_mailgun, mime::parse_mime, postmark::parse_postmark, sendgrid::parse_sendgrid};
use crate::channels::EMAIL;
use crate::state::AppState;
use crate::store::EmailIngest;
use crate::web::error::AppError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/email/postmark", post(receive_postmark))
        .route("/webhooks/email/sendgrid", post(receive_sendgrid))
        .route("/webhooks/email/mailgun", post(receive_mailgun))
        .route("/webhooks/email/mime", post(receive_mime))
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// 401 asks for credentials; 403 refuses the ones given (and stops Postmark's retries).
fn refuse(access: Access, scheme: &'static str) -> Response {
    match access {
        Access::Missing => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, scheme)],
            "credentials required\n",
        )
            .into_response(),
        Access::Denied | Access::Granted => (StatusCode::FORBIDDEN, "invalid credentials\n").into_response(),
    }
}

/// Basic auth with `email.webhook_username` and `email.webhook_password`: the refusal to send,
/// or `None` when the credentials are right.
fn basic_refusal(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let settings = &state.settings.email;
    let (Some(user), Some(password)) = (&settings.webhook_username, &settings.webhook_password) else {
        return Some(
            AppError::Unavailable(
                "email webhooks are not configured: set email.webhook_username and email.webhook_password"
                    .to_owned(),
            )
            .into_response(),
        );
    };
    match auth::check_basic(authorization(headers), user, password) {
        Access::Granted => None,
        other => Some(refuse(other, "Basic realm=\"tuesday\"")),
    }
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_postmark(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = basic_refusal(&state, &headers) {
        return refused;
    }
    store(
        &state,
        "postmark",
        &without_attachment_content(&body),
        parse_postmark(&body),
        None,
    )
    .await
}

/// Postmark's JSON as stored: attachments keep their name, type and size, not their content.
fn without_attachment_content(body: &[u8]) -> String {
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::from_utf8_lossy(body).into_owned();
    };
    for attachment in json["Attachments"].as_array_mut().into_iter().flatten() {
        if let Some(content) = attachment.get_mut("Content") {
            *content = json!("(not stored)");
        }
    }
    json.to_string()
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_sendgrid(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = basic_refusal(&state, &headers) {
        return refused;
    }
    let fields = match form::read_fields(&content_type(&headers), body).await {
        Ok(fields) => fields,
        Err(why) => return AppError::BadRequest(why).into_response(),
    };
    store(
        &state,
        "sendgrid",
        &describe(&fields),
        parse_sendgrid(&fields),
        None,
    )
    .await
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_mailgun(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let settings = &state.settings.email;
    let Some(key) = &settings.mailgun_signing_key else {
        return AppError::Unavailable("Mailgun is not configured: set email.mailgun_signing_key".to_owned())
            .into_response();
    };
    let fields = match form::read_fields(&content_type(&headers), body).await {
        Ok(fields) => fields,
        Err(why) => return AppError::BadRequest(why).into_response(),
    };
    let token = form::text(&fields, "token");
    let verdict = auth::verify_mailgun(
        key.expose_secret().as_bytes(),
        form::text(&fields, "timestamp").as_deref(),
        token.as_deref(),
        form::text(&fields, "signature").as_deref(),
        state.clock().now().timestamp(),
        settings.mailgun_max_age_secs,
    );
    match verdict {
        Ok(()) => {}
        Err(MailgunRejection::Missing) => {
            return AppError::Unauthorized(MailgunRejection::Missing.to_string()).into_response();
        }
        Err(rejection) => {
            tracing::warn!(%rejection, "refused a Mailgun delivery");
            return AppError::Forbidden(rejection.to_string()).into_response();
        }
    }
    store(
        &state,
        "mailgun",
        &describe(&fields),
        parse_mailgun(&fields),
        token.as_deref(),
    )
    .await
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn receive_mime(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = &state.settings.email.mime_token else {
        return AppError::Unavailable("the MIME endpoint is not configured: set email.mime_token".to_owned())
            .into_response();
    };
    match auth::check_bearer(authorization(&headers), token) {
        Access::Granted => {}
        other => return refuse(other, "Bearer"),
    }
    let raw = String::from_utf8_lossy(&body);
    store(&state, "mime", &raw, parse_mime(&body), None).await
}

/// A multipart form as stored: its text fields, and only the name, type and size of files.
fn describe(fields: &[Field]) -> String {
    let described: Vec<serde_json::Value> = fields
        .iter()
        .map(|f| match &f.filename {
            Some(filename) => json!({"name": f.name, "filename": filename, "content_type": f.content_type, "size": f.bytes.len()}),
            None => json!({"name": f.name, "value": String::from_utf8_lossy(&f.bytes)}),
        })
        .collect();
    serde_json::Value::Array(described).to_string()
}

/// Stores a parsed email, or keeps what could not be parsed for an admin and says why.
async fn store(
    state: &AppState,
    provider: &str,
    raw: &str,
    parsed: Result<ParsedEmail, EmailError>,
    replay_token: Option<&str>,
) -> Response {
    let email = parsed.and_then(|p| {
        p.into_inbound(
            state.settings.email.reply_domain.as_deref(),
            state.clock().now_millis(),
        )
    });
    let email = match email {
        Ok(email) => email,
        Err(error) => {
            return match state
                .store
                .ingest_unparsed(EMAIL, raw, &format!("{provider}: {error}"))
                .await
            {
                Ok(id) => {
                    tracing::warn!(delivery = id, provider, %error, "stored an unparsed email");
                    AppError::Unprocessable(error.to_string()).into_response()
                }
                Err(e) => AppError::Internal(e).into_response(),
            };
        }
    };
    match state
        .store
        .ingest_email(provider, raw, &email, replay_token)
        .await
    {
        Ok(EmailIngest::Stored(summary)) => {
            tracing::info!(
                delivery = summary.delivery_id,
                provider,
                new = summary.new_messages,
                duplicates = summary.duplicate_messages,
                attachments = email.attachments.len(),
                "email stored"
            );
            if summary.new_messages > 0 {
                state.jobs_ready.notify_waiters();
            }
            StatusCode::OK.into_response()
        }
        Ok(EmailIngest::Replayed) => {
            tracing::warn!(provider, "refused a replayed webhook token");
            AppError::Forbidden("token already used".to_owned()).into_response()
        }
        Err(e) => AppError::Internal(e).into_response(),
    }
}
