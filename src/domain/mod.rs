//! The vocabulary of Tuesday: small types that are valid by construction.

mod clock;
mod intent;
mod language;
mod money;
mod role;
pub mod taxonomy;

pub use clock::Clock;
pub use intent::Intent;
pub use language::Language;
pub use money::{Currency, Money};
pub use role::Role;
pub use taxonomy::Taxonomy;

/// Milliseconds since the Unix epoch: the one time representation in the store, portable across
/// database backends.
pub type Millis = i64;
