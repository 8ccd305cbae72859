//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database answers
//! and, where this process runs workers, they are alive) and `/metrics` (Prometheus), which
//! answers only a bearer token from config or, when allowed, loopback; otherwise 404.

use crate::state::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(show_readiness))
        .route("/metrics", get(show_metrics))
}

async fn show_readiness(State(state): State<AppState>) -> Response {
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %format!("{e:#}"), "not ready: the database does not answer");
        return (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer").into_response();
    }
    if let Some(problem) = state.observability.workers_problem() {
        return (StatusCode::SERVICE_UNAVAILABLE, problem).into_response();
    }
    "ready".into_response()
}

/// Whether the request may read the metrics.
fn allowed(state: &AppState, request: &Request) -> bool {
    let settings = &state.settings.observability;
    if let Some(token) = &settings.metrics_token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if bool::from(presented.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
            return true;
        }
    }
    // Behind a trusted proxy on loopback, the client it names is who is asking.
    settings.metrics_loopback
        && request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| {
                crate::web::client_ip::client_ip(
                    peer.ip(),
                    request.headers(),
                    &state.settings.server.trusted_proxies,
                )
                .is_loopback()
            })
}

async fn show_metrics(State(state): State<AppState>, request: Request) -> Response {
    if !allowed(&state, &request) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body = async {
        let gauges = state.store.queue_gauges().await?;
        state
            .observability
            .metrics
            .encode(gauges, &state.breakers.snapshot(), state.clock().now_millis())
    }
    .await;
    match body {
        Ok(text) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "metrics could not be read");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
