//! Admin pages: webhook deliveries we stored but could not understand.

use crate::domain::Role;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/deliveries", get(show_unparsed_deliveries))
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
