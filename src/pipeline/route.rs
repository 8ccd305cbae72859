//! Which tier classifies a message, and at what cost. Only the local classifier exists today;
//! hosted-model tiers will slot in here, taking the messages whose local confidence is below the
//! escalation threshold τ0, and `eval` will report their share and cost with no other change.

use crate::domain::{Currency, Money};
use crate::pipeline::classify::{Classification, Classifier};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The local softmax classifier: no network, no cost.
    Local,
}

impl Tier {
    pub const ALL: [Tier; 1] = [Tier::Local];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Local => "local",
        }
    }
}

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
