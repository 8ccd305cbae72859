//! Conversions: sales reported by a CRM or payment system through a signed webhook, or marked by
//! a rep, attributed to the contact's conversations in the days before and to the agent's replies
//! in them. Parsing and validation here are pure; the store records and attributes.

mod payload;
mod webhook;

pub use payload::{ConversionPayload, PayloadError, contact_key};
pub use webhook::router;

use crate::domain::Millis;
use crate::state::AppState;
use crate::store::{NewConversion, Recorded};

/// Records a conversion the webhook received, attributing it over the configured window.
pub async fn record_reported(state: &AppState, payload: &ConversionPayload) -> anyhow::Result<Recorded> {
    let window = attribution_window(state);
    state
        .store
        .record_conversion(&NewConversion {
            external_id: Some(payload.external_id.clone()),
            source: "webhook",
            contact_key: payload.contact.clone(),
            value: payload.value.normalize().to_string(),
            currency: payload.currency.clone(),
            product: payload.product.clone(),
            occurred_at: payload.occurred_at,
            recorded_by: None,
            conversation_id: None,
            window_start: payload.occurred_at - window,
        })
        .await
}

/// A rep marks a conversation converted: the sale happened now, attributed to this
/// conversation and the contact's others in the window.
pub async fn record_marked(
    state: &AppState,
    conversation_id: i64,
    contact: &str,
    value: rust_decimal::Decimal,
    currency: &str,
    product: &str,
    user_id: i64,
) -> anyhow::Result<Recorded> {
    let now = state.clock().now_millis();
    state
        .store
        .record_conversion(&NewConversion {
            external_id: None,
            source: "rep",
            contact_key: contact.to_owned(),
            value: value.normalize().to_string(),
            currency: currency.to_owned(),
            product: product.to_owned(),
            occurred_at: now,
            recorded_by: Some(user_id),
            conversation_id: Some(conversation_id),
            window_start: now - attribution_window(state),
        })
        .await
}

fn attribution_window(state: &AppState) -> Millis {
    i64::from(state.settings.conversions.attribution_days) * 86_400_000
}
