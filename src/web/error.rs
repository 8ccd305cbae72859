//! The one error type at the HTTP edge. Internal errors become a generic 500 and are logged once,
//! with their whole chain.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or wrong credentials or signature.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but not allowed; or a failed CSRF or verification check.
    #[error("{0}")]
    Forbidden(String),
    /// 404
    #[error("not found")]
    NotFound,
    /// 422: well-formed, but refers to something we do not serve.
    #[error("{0}")]
    Unprocessable(String),
    /// 503: a part Tuesday needs is not configured.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else. The body says nothing about the cause.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
            }
        };
        (status, format!("{self}\n")).into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;
