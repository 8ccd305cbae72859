//! The policy engine every outbound draft passes through. Each rule answers pass, hold or block
//! with a machine-readable reason and, where it has one, the offending span of text. The rules
//! are pure: everything they look at comes in through `Context`.

mod amounts;
pub mod channel;
mod competitors;
mod confidence;
pub mod corpus;
mod dates;
mod discounts;
mod folded;
mod injection;
mod language;
mod money_words;
pub mod opt_out;
pub mod personal_data;
pub mod policy;
mod prices;
mod promises;
mod rate;
pub mod sending_hours;
mod window;
mod words;

pub use amounts::{FoundAmount, find_amounts};
pub use policy::Policy;

use crate::catalog::{Catalog, Market};
use crate::domain::{Currency, Language};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Every rule, by the name its findings carry.
pub const RULES: [&str; 13] = [
    "prices",
    "discounts",
    "promises",
    "sending_hours",
    "whatsapp_window",
    "opt_out",
    "confidence",
    "prompt_injection",
    "language",
    "personal_data",
    "rate",
    "competitors",
    "channel",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// A hold that only means "not yet": the send waits in the queue until then, with no
    /// person needed (outside sending hours, daily limit reached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<DateTime<Utc>>,
}

impl Finding {
    pub fn new(
        rule: &'static str,
        verdict: Verdict,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            verdict,
            reason,
            message: message.into(),
            span: None,
            hold_until: None,
        }
    }

    pub fn pass(rule: &'static str, reason: &'static str, message: impl Into<String>) -> Finding {
        Finding::new(rule, Verdict::Pass, reason, message)
    }

    pub fn hold(rule: &'static str, reason: &'static str, message: impl Into<String>) -> Finding {
        Finding::new(rule, Verdict::Hold, reason, message)
    }

    pub fn block(rule: &'static str, reason: &'static str, message: impl Into<String>) -> Finding {
        Finding::new(rule, Verdict::Block, reason, message)
    }

    pub fn at(mut self, span: (usize, usize)) -> Finding {
        self.span = Some(span);
        self
    }

    pub fn until(mut self, at: DateTime<Utc>) -> Finding {
        self.hold_until = Some(at);
        self
    }
}

/// What the database knows about the contact's recent messages. The rules that need it say
/// `history_not_supplied` and pass when a caller has none to give.
#[derive(Debug, Clone, Default)]
pub struct History<'a> {
    /// When the contact last wrote to us; `None` if they never did.
    pub last_inbound: Option<DateTime<Utc>>,
    /// Outbound messages to the contact so far in their local day.
    pub outbound_today: u32,
    /// The text of the last message we sent them.
    pub previous_outbound: Option<&'a str>,
    /// The contact opted out (by text or Meta's stop event) and has not opted back in.
    pub opted_out: bool,
    /// The one confirmation after the opt-out has already gone out.
    pub opt_out_confirmed: bool,
}

/// What the rules may look at besides the draft itself. Build one with `Context::new` and the
/// `with_*` methods (a private field keeps struct literals out); every field has a safe
/// default.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub policy: &'a Policy,
    /// The contact's market: business hours, promotions' dates, the currency of a bare `$`.
    pub market: &'a Market,
    /// The currency a bare `$` means for this contact.
    pub currency: Currency,
    /// The language the conversation is in; the draft must be in it too.
    pub language: Language,
    /// The customer's side of the thread: products named there may be quoted, and steering
    /// attempts or opt-outs in it count.
    pub thread: &'a str,
    pub now: DateTime<Utc>,
    pub confidence: f64,
    pub confidence_threshold: f64,
    /// The contact's phone number in international form; it sets their time zone and may be
    /// quoted back to them.
    pub contact_phone: Option<&'a str>,
    /// A time zone set by hand on the contact, which beats the phone's.
    pub timezone_override: Option<Tz>,
    /// The phone's time zone, worked out once by `with_phone`.
    phone_timezone: Option<Tz>,
    pub history: Option<History<'a>>,
    /// The approved WhatsApp template this message is sent as, if any.
    pub template: Option<&'a str>,
    /// A secret planted in the model's instructions; a draft that repeats it leaked them.
    pub canary: Option<&'a str>,
    /// The channel the reply goes out on: `whatsapp` unless told otherwise.
    pub channel: &'a str,
    /// The business's email signature, which every email draft must carry.
    pub signature: Option<&'a str>,
}

impl<'a> Context<'a> {
    pub fn new(
        catalog: &'a Catalog,
        policy: &'a Policy,
        market: &'a Market,
        language: Language,
        now: DateTime<Utc>,
    ) -> Context<'a> {
        Context {
            catalog,
            policy,
            market,
            currency: market.currency,
            language,
            thread: "",
            now,
            confidence: 1.0,
            confidence_threshold: 0.0,
            contact_phone: None,
            timezone_override: None,
            phone_timezone: None,
            history: None,
            template: None,
            canary: None,
            channel: crate::channels::WHATSAPP,
            signature: None,
        }
    }

    pub fn with_thread(mut self, thread: &'a str) -> Self {
        self.thread = thread;
        self
    }

    pub fn with_confidence(mut self, confidence: f64, threshold: f64) -> Self {
        self.confidence = confidence;
        self.confidence_threshold = threshold;
        self
    }

    pub fn with_phone(mut self, phone: &'a str) -> Self {
        self.contact_phone = Some(phone);
        self.phone_timezone = sending_hours::timezone_for_phone(&self, phone);
        self
    }

    pub fn with_timezone(mut self, timezone: Tz) -> Self {
        self.timezone_override = Some(timezone);
        self
    }

    pub fn with_history(mut self, history: History<'a>) -> Self {
        self.history = Some(history);
        self
    }

    pub fn with_template(mut self, template: &'a str) -> Self {
        self.template = Some(template);
        self
    }

    pub fn with_canary(mut self, canary: &'a str) -> Self {
        self.canary = Some(canary);
        self
    }

    pub fn with_channel(mut self, channel: &'a str) -> Self {
        self.channel = channel;
        self
    }

    pub fn with_signature(mut self, signature: &'a str) -> Self {
        self.signature = Some(signature);
        self
    }

    /// The contact's clock: set by hand, else their phone's region, else their market's.
    pub fn timezone(&self) -> Tz {
        self.timezone_override
            .or(self.phone_timezone)
            .unwrap_or(self.market.timezone)
    }
}

/// Runs every rule. The result has one finding per rule that passed, and one per problem found.
pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let mut findings = prices::check(draft, context);
    findings.extend(discounts::check(draft, context));
    findings.extend(promises::check(draft, context));
    findings.push(sending_hours::check(context));
    findings.push(window::check(context));
    findings.push(opt_out::check(draft, context));
    findings.extend(confidence::check(context));
    findings.extend(injection::check(draft, context));
    findings.push(language::check(draft, context));
    findings.extend(personal_data::check(draft, context));
    findings.extend(rate::check(draft, context));
    findings.extend(competitors::check(draft, context));
    findings.extend(channel::check(draft, context));
    findings
}

/// The strictest verdict among the findings.
pub fn overall(findings: &[Finding]) -> Verdict {
    findings.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Pass)
}

#[cfg(test)]
pub(crate) mod testing {
    //! A demo catalog and policy for the rules' tests, built once.

    use super::*;
    use std::sync::LazyLock;

    pub static CATALOG: LazyLock<Catalog> =
        LazyLock::new(|| Catalog::demo().expect("the demo catalog loads"));
    pub static POLICY: LazyLock<Policy> =
        LazyLock::new(|| Policy::demo(&CATALOG).expect("the demo policy loads"));

    /// Tuesday 2027-01-12 17:00 UTC: every market is open and the new-year promotion runs.
    pub fn tuesday() -> DateTime<Utc> {
        "2027-01-12T17:00:00Z".parse().expect("a valid instant")
    }

    pub fn context(market: &str, language: Language) -> Context<'static> {
        let market = CATALOG.market(market).expect("a demo market");
        Context::new(&CATALOG, &POLICY, market, language, tuesday())
    }

    /// The (verdict, reason) pairs a rule gave, without the passes.
    pub fn problems(findings: &[Finding]) -> Vec<(Verdict, &'static str)> {
        findings
            .iter()
            .filter(|f| f.verdict != Verdict::Pass)
            .map(|f| (f.verdict, f.reason))
            .collect()
    }
}
