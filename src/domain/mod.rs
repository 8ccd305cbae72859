//! The vocabulary of Tuesday: small types that are valid by construction.

mod intent;
mod language;
mod money;
mod role;

pub use intent::Intent;
pub use language::Language;
pub use money::{Currency, Money};
pub use role::Role;

/// Milliseconds since the Unix epoch: the one time representation in the store, portable across
/// database backends.
pub type Millis = i64;

/// The current time in epoch milliseconds.
pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}
