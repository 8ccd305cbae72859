//! The offline evaluation's view of routing: which tier classified a message, and at what cost.
//! Offline, with no store and no providers, that is the local classifier; the live cascade is
//! `routing::ModelRouter`.

use crate::domain::{Currency, Money};
use crate::pipeline::classify::{Classification, Classifier};
pub use crate::routing::Tier;
use rust_decimal::Decimal;

/// A classification and the tier that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub classification: Classification,
    pub tier: Tier,
    /// What the call cost.
    pub cost: Money,
}

/// Classifies `message` with the cheapest tier that may answer it.
pub fn classify(classifier: &Classifier, message: &str) -> Routed {
    Routed {
        classification: classifier.classify(message),
        tier: Tier::Local,
        cost: Money::new(Decimal::ZERO, Currency::Usd),
    }
}
