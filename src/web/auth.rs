//! Login, logout and the signed-in user. Passwords are argon2 hashes; the session cookie is a
//! random token stored only as its SHA-256 hash; every form carries the session's CSRF token.

use crate::domain::Role;
use crate::state::AppState;
use crate::store::SessionUser;
use crate::web::client_ip::ClientIp;
use crate::web::error::{AppError, AppResult};
use crate::web::login_limit;
use crate::web::templates::Page;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "tuesday_session";
const LOGIN_CSRF_COOKIE: &str = "tuesday_login_csrf";
const FLASH_COOKIE: &str = "tuesday_flash";
/// A session's last-seen time is written at most this often, so pages stay read-only.
const SESSION_TOUCH_MILLIS: i64 = 60_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(show_login).post(log_in))
        .route("/logout", post(log_out))
        .route("/account", get(show_account))
        .route("/account/password", post(change_password))
        .route("/account/logout-everywhere", post(log_out_everywhere))
}

/// Refuses passwords too short to survive a guess.
pub fn check_password_strength(password: &str) -> AppResult<()> {
    if password.chars().count() < 10 {
        return Err(AppError::Unprocessable(
            "a password needs at least 10 characters".to_owned(),
        ));
    }
    if password.chars().count() > 200 {
        return Err(AppError::Unprocessable(
            "a password may have at most 200 characters".to_owned(),
        ));
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: crate::web::templates::Layout,
}

async fn show_account(user: CurrentUser, jar: CookieJar) -> impl IntoResponse {
    let (jar, flash) = take_flash(jar);
    (
        jar,
        Page(AccountPage {
            layout: crate::web::templates::Layout::new("Your account", &user.0, flash),
        }),
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
}

/// Changes the signed-in user's password and ends every other session of theirs.
#[tracing::instrument(skip_all, fields(user = user.0.id))]
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    user.check_csrf(&form.csrf)?;
    let row = state.store.user(user.0.id).await?.ok_or(AppError::NotFound)?;
    let (current, hash) = (form.current.clone(), row.password_hash.clone());
    let valid = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let message = if !valid {
        "Not changed: the current password is wrong."
    } else if form.new != form.repeat {
        "Not changed: the two new passwords differ."
    } else {
        check_password_strength(&form.new)?;
        state
            .store
            .set_password_hash(user.0.id, &hash_password(&form.new)?)
            .await?;
        state.store.delete_sessions_of(user.0.id).await?;
        tracing::info!("password changed; every session ended");
        return Ok((
            jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
            Redirect::to("/login"),
        )
            .into_response());
    };
    Ok((flash(jar, message), Redirect::to("/account")).into_response())
}

async fn log_out_everywhere(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    let ended = state.store.delete_sessions_of(user.0.id).await?;
    tracing::info!(user = user.0.id, ended, "signed out everywhere");
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        Redirect::to("/login"),
    ))
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("while hashing a password: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so both paths take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown users").unwrap_or_default())
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.server.secure_cookies)
        .build()
}

/// The signed-in user. Pages that need one redirect anonymous visitors to the login page.
pub struct CurrentUser(pub SessionUser);

pub struct LoginRedirect;

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(LoginRedirect.into_response());
        };
        let now = state.clock().now_millis();
        let idle = i64::from(state.settings.server.session_idle_minutes) * 60_000;
        let seen = state
            .store
            .session_user(&token_hash(&token), now - idle, now - SESSION_TOUCH_MILLIS)
            .await;
        match seen {
            Ok(Some(user)) => Ok(CurrentUser(user)),
            Ok(None) => Err(LoginRedirect.into_response()),
            Err(e) => Err(AppError::Internal(e).into_response()),
        }
    }
}

impl CurrentUser {
    /// Refuses users below `role`.
    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.0.role >= role {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this page needs the {} role",
                role.as_str()
            )))
        }
    }

    /// Checks a form's CSRF token against the session's, in constant time.
    pub fn check_csrf(&self, token: &str) -> AppResult<()> {
        if bool::from(self.0.csrf_token.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "the form expired or did not come from Tuesday; reload and try again".to_owned(),
            ))
        }
    }
}

/// Sets a one-time message shown on the next page.
pub fn flash(jar: CookieJar, message: impl Into<String>) -> CookieJar {
    jar.add(
        Cookie::build((FLASH_COOKIE, urlencode(&message.into())))
            .path("/")
            .http_only(true)
            .build(),
    )
}

/// Takes the one-time message, if any.
pub fn take_flash(jar: CookieJar) -> (CookieJar, Option<String>) {
    let message = jar.get(FLASH_COOKIE).map(|c| urldecode(c.value()));
    let jar = if message.is_some() {
        jar.remove(Cookie::build(FLASH_COOKIE).path("/"))
    } else {
        jar
    };
    (jar, message)
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn urldecode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    username: String,
}

/// The login form again, with a fresh CSRF token and `error` shown.
fn login_page_again(
    state: &AppState,
    jar: CookieJar,
    username: String,
    error: String,
) -> (CookieJar, Page<LoginPage>) {
    let csrf = random_token();
    let jar = jar.add(cookie(state, LOGIN_CSRF_COOKIE, csrf.clone()));
    let page = LoginPage {
        csrf,
        error: Some(error),
        username,
    };
    (jar, Page(page))
}

async fn show_login(State(state): State<AppState>, jar: CookieJar) -> impl IntoResponse {
    let csrf = random_token();
    let jar = jar.add(cookie(&state, LOGIN_CSRF_COOKIE, csrf.clone()));
    (
        jar,
        Page(LoginPage {
            csrf,
            error: None,
            username: String::new(),
        }),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

#[tracing::instrument(skip_all, fields(username = %form.username, ip = %ip.0))]
async fn log_in(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let expected = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.csrf.as_bytes())) {
        return Err(AppError::Forbidden(
            "the login form expired; reload the page and try again".to_owned(),
        ));
    }
    let attempt = login_limit::Attempt::new(&form.username, ip.0);
    // Refused before any password is checked: the right one gets the same answer.
    if let Some(lockout) = login_limit::lockout(&state, &attempt).await? {
        login_limit::note_refusal(&state, &attempt, &lockout);
        let (jar, page) = login_page_again(&state, jar, form.username, lockout.message());
        let retry_after = [(header::RETRY_AFTER, lockout.retry_after_secs.to_string())];
        return Ok((StatusCode::TOO_MANY_REQUESTS, retry_after, jar, page).into_response());
    }
    let user = state.store.user_by_name(form.username.trim()).await?;
    let hash = user
        .as_ref()
        .map_or(decoy_hash(), |u| u.password_hash.as_str())
        .to_owned();
    let password = form.password.clone();
    let valid = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let Some(user) = user.as_ref().filter(|_| valid) else {
        tracing::warn!("failed login");
        login_limit::record_failure(&state, &attempt, user.as_ref()).await?;
        let (jar, page) = login_page_again(
            &state,
            jar,
            form.username,
            "Wrong username or password.".to_owned(),
        );
        return Ok((StatusCode::UNAUTHORIZED, jar, page).into_response());
    };
    login_limit::record_success(&state, &attempt).await?;

    let token = random_token();
    let hours = i64::from(state.settings.server.session_hours);
    state
        .store
        .create_session(
            &token_hash(&token),
            user.id,
            &random_token(),
            state.clock().now_millis() + hours * 3_600_000,
        )
        .await?;
    // A fresh token on every login: a session id planted before login is worthless after it.
    if let Some(old) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(&token_hash(old.value())).await?;
    }
    tracing::info!(user = user.id, "signed in");
    let jar =
        jar.remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/"))
            .add(cookie(&state, SESSION_COOKIE, token));
    Ok((jar, Redirect::to("/inbox")).into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn log_out(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    if let Some(token) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(&token_hash(token.value())).await?;
    }
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        Redirect::to("/login"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("Correct horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn flash_messages_survive_the_cookie() {
        let message = "Aprobado: ¿enviado? ✓ 100%";
        assert_eq!(urldecode(&urlencode(message)), message);
    }
}
