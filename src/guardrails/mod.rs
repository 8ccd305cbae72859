//! The policy engine every outbound draft passes through. Each rule answers pass, hold or block
//! with a machine-readable reason and, where it has one, the offending span of text.

mod amounts;
mod confidence;
mod prices;

pub use amounts::{FoundAmount, find_amounts};

use crate::catalog::Catalog;
use crate::domain::Currency;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Hold,
    Block,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub verdict: Verdict,
    /// Machine-readable: `price_not_in_catalog`, `low_confidence`, …
    pub reason: &'static str,
    /// For people: what was wrong, in English.
    pub message: String,
    /// Byte range of the offending text in the draft.
    pub span: Option<(usize, usize)>,
}

/// What the rules may look at besides the draft itself.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    /// The currency a bare `$` means for this contact.
    pub currency: Currency,
    /// The customer's side of the thread: products named there may be quoted.
    pub thread: &'a str,
    pub confidence: f64,
    pub confidence_threshold: f64,
}

/// Runs every rule. The result has one finding per rule that passed, and one per problem found.
pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let mut findings = prices::check(draft, context);
    findings.extend(confidence::check(context));
    findings
}

/// The strictest verdict among the findings.
pub fn overall(findings: &[Finding]) -> Verdict {
    findings.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Pass)
}
