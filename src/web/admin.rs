//! Admin pages: users and their roles, and webhook deliveries we stored but could not understand.

use crate::domain::Role;
use crate::state::AppState;
use crate::web::auth::{CurrentUser, check_password_strength, flash, hash_password, take_flash};
use crate::web::error::{AppError, AppResult};
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/deliveries", get(show_unparsed_deliveries))
        .route("/admin/users", get(show_users).post(create_user))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/logout", post(end_sessions))
}

pub struct UserView {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub created: String,
    pub sessions: i64,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserView>,
    roles: Vec<&'static str>,
}

async fn show_users(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Admin)?;
    let (jar, flash) = take_flash(jar);
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserView {
            is_me: u.id == user.0.id,
            id: u.id,
            username: u.username,
            role: u.role,
            created: timestamp(u.created_at),
            sessions: u.sessions,
        })
        .collect();
    Ok((
        jar,
        Page(UsersPage {
            layout: Layout::new("Users", &user.0, flash),
            users,
            roles: vec!["rep", "manager", "admin"],
        }),
    ))
}

#[derive(Deserialize)]
struct NewUserForm {
    csrf: String,
    username: String,
    role: String,
    password: String,
}

/// A username people can type: 2 to 40 letters, digits, dots, dashes or underscores.
fn valid_username(name: &str) -> bool {
    (2..=40).contains(&name.chars().count()) && name.chars().all(|c| c.is_alphanumeric() || "._-".contains(c))
}

async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<NewUserForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let name = form.username.trim();
    if !valid_username(name) {
        return Err(AppError::Unprocessable(
            "a username is 2 to 40 letters, digits, dots, dashes or underscores".to_owned(),
        ));
    }
    let role: Role = form
        .role
        .parse()
        .map_err(|_| AppError::Unprocessable(format!("{:?} is not a role", form.role)))?;
    check_password_strength(&form.password)?;
    let hash = hash_password(&form.password)?;
    let message = match state.store.create_user(name, role, &hash).await? {
        Some(_) => format!("Created {name} ({}).", role.as_str()),
        None => format!("Not created: {name} already exists."),
    };
    Ok((flash(jar, message), Redirect::to("/admin/users")))
}

#[derive(Deserialize)]
struct RoleForm {
    csrf: String,
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| AppError::Unprocessable(format!("{:?} is not a role", form.role)))?;
    if id == user.0.id && role != Role::Admin {
        return Err(AppError::Unprocessable(
            "you cannot take the admin role from yourself; ask another admin".to_owned(),
        ));
    }
    let target = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    state.store.set_role(id, role).await?;
    // A new role takes effect at once: their open sessions end.
    state.store.delete_sessions_of(id).await?;
    Ok((
        flash(jar, format!("{} is now {}.", target.username, role.as_str())),
        Redirect::to("/admin/users"),
    ))
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn end_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<impl IntoResponse> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let target = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    let ended = state.store.delete_sessions_of(id).await?;
    Ok((
        flash(
            jar,
            format!("Signed {} out of {ended} session(s).", target.username),
        ),
        Redirect::to("/admin/users"),
    ))
}

pub struct DeliveryView {
    pub id: i64,
    pub channel: String,
    pub received: String,
    pub note: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    layout: Layout,
    deliveries: Vec<DeliveryView>,
}

async fn show_unparsed_deliveries(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Admin)?;
    let deliveries = state
        .store
        .deliveries(Some("unparsed"), 100)
        .await?
        .into_iter()
        .map(|d| DeliveryView {
            id: d.id,
            channel: d.channel,
            received: timestamp(d.received_at),
            note: d.note.unwrap_or_default(),
            body: d.body.chars().take(4000).collect(),
        })
        .collect();
    Ok(Page(DeliveriesPage {
        layout: Layout::new("Unparsed deliveries", &user.0, None),
        deliveries,
    }))
}
