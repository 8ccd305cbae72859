//! Turns an askama template into a response, and carries what every page's layout needs.

use crate::store::SessionUser;
use crate::web::error::AppError;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};

/// What `base.html` shows around every page.
pub struct Layout {
    pub title: String,
    pub username: String,
    pub role: String,
    pub csrf: String,
    pub flash: Option<String>,
    pub is_manager: bool,
    pub is_admin: bool,
}

impl Layout {
    pub fn new(title: impl Into<String>, user: &SessionUser, flash: Option<String>) -> Layout {
        Layout {
            title: title.into(),
            username: user.username.clone(),
            role: user.role.as_str().to_owned(),
            csrf: user.csrf_token.clone(),
            flash,
            is_manager: user.role >= crate::domain::Role::Manager,
            is_admin: user.role == crate::domain::Role::Admin,
        }
    }
}

pub struct Page<T>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                AppError::Internal(anyhow::anyhow!(e).context("while rendering a page")).into_response()
            }
        }
    }
}
