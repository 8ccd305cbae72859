//! The policy gate: loads what the guardrails need about a reply's contact (their market, time
//! zone, last message, replies sent today, opt-out) and runs every rule. Drafting, approval and
//! the outbox at send time all go through it, so no outbound path skips the policy.

use crate::catalog::{Catalog, Market};
use crate::domain::{Language, Millis};
use crate::guardrails::{self, Finding, History, Verdict};
use crate::state::AppState;
use crate::store::{ContactHistory, InboundContext};
use chrono::{DateTime, TimeZone, Utc};

/// Rules whose hold no review can lift: the reply must wait, or not go at all.
const HARD_RULES: [&str; 4] = ["sending_hours", "whatsapp_window", "opt_out", "rate"];

/// Rules a manager may override, with a reason, when they block an approved reply.
pub const OVERRIDABLE: [&str; 6] = [
    "prices",
    "discounts",
    "promises",
    "competitors",
    "language",
    "personal_data",
];

/// The reply being checked.
pub struct Reply<'a> {
    /// The inbound message it answers.
    pub message_id: i64,
    pub body: &'a str,
    pub language: Option<Language>,
    /// The classifier's confidence and the threshold, when a model's judgement is at stake.
    pub confidence: Option<(f64, f64)>,
}

/// The market a contact is known to belong to: as recorded, else by phone prefix.
pub fn known_market<'c>(catalog: &'c Catalog, ctx: &InboundContext) -> Option<&'c Market> {
    ctx.market
        .as_deref()
        .and_then(|code| catalog.market(code))
        .or_else(|| catalog.market_for_phone(&ctx.contact_address))
}

/// The market a contact belongs to: as known, else the first market speaking their language.
pub fn market_of<'c>(catalog: &'c Catalog, ctx: &InboundContext, language: Option<Language>) -> &'c Market {
    known_market(catalog, ctx).unwrap_or_else(|| catalog.default_market(language.unwrap_or(Language::En)))
}

/// Runs every rule on `reply` with the contact's history. `None` when the inbound message is
/// gone.
pub async fn check(
    state: &AppState,
    reply: &Reply<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Vec<Finding>>> {
    let prepared = prepare(state, reply.message_id, reply.language, now).await?;
    Ok(prepared.map(|gate| gate.check(state, reply.body, reply.confidence, None)))
}

/// What the rules know about the contact a reply goes to, loaded once so that several candidate
/// drafts (a template, then a model's, then a flagship's) are judged against the same facts.
pub struct Prepared {
    ctx: InboundContext,
    history: ContactHistory,
    language: Option<Language>,
    /// A time zone set by hand on the contact, when it differs from their market's.
    timezone: Option<chrono_tz::Tz>,
    now: DateTime<Utc>,
    /// The business's email signature, which email drafts must carry.
    signature: String,
}

impl Prepared {
    /// Whether the WhatsApp window has closed: more than the policy's hours since the contact
    /// last wrote, on a channel that has the window.
    pub fn window_closed(&self, policy: &guardrails::Policy) -> bool {
        let hours = i64::from(policy.file.whatsapp_window.hours);
        crate::channels::is_whatsapp(&self.ctx.channel)
            && self
                .history
                .last_inbound_at
                .and_then(DateTime::from_timestamp_millis)
                .is_some_and(|last| self.now - last >= chrono::Duration::hours(hours))
    }
}

/// Loads the contact behind `message_id` and their history. `None` when the message is gone.
pub async fn prepare(
    state: &AppState,
    message_id: i64,
    language: Option<Language>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Prepared>> {
    let Some(ctx) = state.store.inbound_context(message_id).await? else {
        return Ok(None);
    };
    prepare_with(state, ctx, language, now).await.map(Some)
}

/// [`prepare`] for a message whose context the caller has read already.
pub async fn prepare_with(
    state: &AppState,
    ctx: InboundContext,
    language: Option<Language>,
    now: DateTime<Utc>,
) -> anyhow::Result<Prepared> {
    let market = market_of(&state.catalog, &ctx, language);
    let language_of_reply = language.unwrap_or(market.language);
    let default_tz = guardrails::Context::new(&state.catalog, &state.policy, market, language_of_reply, now)
        .with_phone(&ctx.contact_address)
        .timezone();
    let mut history = state
        .store
        .contact_history(ctx.contact_id, local_day_start(now, default_tz))
        .await?;
    // A time zone set by hand on the contact moves their day: count again from its midnight.
    let timezone = history
        .timezone
        .as_deref()
        .and_then(|tz| tz.parse::<chrono_tz::Tz>().ok())
        .filter(|tz| *tz != default_tz);
    if let Some(tz) = timezone {
        history = state
            .store
            .contact_history(ctx.contact_id, local_day_start(now, tz))
            .await?;
    }
    let signature =
        crate::channels::email::signature(state.settings.email.signature.as_deref(), &state.catalog);
    Ok(Prepared {
        ctx,
        history,
        language,
        timezone,
        now,
        signature,
    })
}

impl Prepared {
    /// The reply as it goes out on the contact's channel: an email draft becomes a letter
    /// (greeting, sign-off, signature); other channels take the text as it is.
    pub fn for_channel(&self, body: &str, language: Language) -> String {
        if self.ctx.channel == crate::channels::EMAIL {
            crate::channels::email::dress(body, language, self.ctx.contact_name.as_deref(), &self.signature)
        } else {
            body.to_owned()
        }
    }

    /// Runs every rule on `body`. `confidence` is the classifier's and its threshold, when a
    /// model's judgement is at stake; `canary` the token planted in the model's instructions.
    pub fn check(
        &self,
        state: &AppState,
        body: &str,
        confidence: Option<(f64, f64)>,
        canary: Option<&str>,
    ) -> Vec<Finding> {
        let market = market_of(&state.catalog, &self.ctx, self.language);
        let language = self.language.unwrap_or(market.language);
        let mut context = guardrails::Context::new(&state.catalog, &state.policy, market, language, self.now)
            .with_thread(&self.ctx.body)
            .with_phone(&self.ctx.contact_address)
            .with_channel(&self.ctx.channel)
            .with_signature(&self.signature);
        if let Some(tz) = self.timezone {
            context = context.with_timezone(tz);
        }
        if let Some((confidence, threshold)) = confidence {
            context = context.with_confidence(confidence, threshold);
        }
        if let Some(canary) = canary {
            context = context.with_canary(canary);
        }
        let history = &self.history;
        let context = context.with_history(History {
            last_inbound: history.last_inbound_at.and_then(DateTime::from_timestamp_millis),
            outbound_today: u32::try_from(history.outbound_today).unwrap_or(u32::MAX),
            previous_outbound: history.previous_outbound.as_deref(),
            opted_out: history.opted_out_at.is_some(),
            opt_out_confirmed: history.sent_since_opt_out > 0,
        });
        guardrails::check(body, &context)
    }
}

/// What the outbox does with a reply a person or the pipeline already let through.
#[derive(Debug, Clone, PartialEq)]
pub enum AtSend {
    Send,
    /// Not yet: outside the contact's sending hours, or over today's limit.
    Wait(DateTime<Utc>, String),
    /// Must not go: a block, or a hard rule no review lifts.
    Stop(String),
}

/// Judges the findings at send time. Review-level holds (confidence, promises…) were settled by
/// the decision or the reviewer; blocks and the hard rules still apply. A manager's override
/// lifts blocks from the overridable rules only.
pub fn at_send(findings: &[Finding], overridden: bool) -> AtSend {
    let mut stops = Vec::new();
    let mut wait: Option<(DateTime<Utc>, String)> = None;
    for finding in findings.iter().filter(|f| f.verdict != Verdict::Pass) {
        if let Some(until) = finding.hold_until {
            if wait.as_ref().is_none_or(|(at, _)| until > *at) {
                wait = Some((until, format!("{}: {}", finding.rule, finding.message)));
            }
            continue;
        }
        let lifted = overridden && OVERRIDABLE.contains(&finding.rule);
        let binding = finding.verdict == Verdict::Block || HARD_RULES.contains(&finding.rule);
        if binding && !lifted {
            stops.push(format!("{}: {}", finding.rule, finding.message));
        }
    }
    match (stops.is_empty(), wait) {
        (false, _) => AtSend::Stop(stops.join("; ")),
        (true, Some((until, why))) => AtSend::Wait(until, why),
        (true, None) => AtSend::Send,
    }
}

/// Midnight of `now`'s day on the contact's clock, in epoch milliseconds.
fn local_day_start(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Millis {
    let local = now.with_timezone(&tz).date_naive();
    local
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map_or(now.timestamp_millis(), |start| start.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn finding(rule: &'static str, verdict: Verdict) -> Finding {
        Finding::new(rule, verdict, "r", "m")
    }

    #[test]
    fn send_time_judgement() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        assert_eq!(at_send(&[finding("prices", Verdict::Pass)], false), AtSend::Send);
        // A promise hold was for the reviewer, who approved it.
        assert_eq!(
            at_send(&[finding("promises", Verdict::Hold)], false),
            AtSend::Send
        );
        assert!(matches!(
            at_send(&[finding("whatsapp_window", Verdict::Hold)], false),
            AtSend::Stop(_)
        ));
        assert!(matches!(
            at_send(&[finding("prices", Verdict::Block)], false),
            AtSend::Stop(_)
        ));
        assert_eq!(at_send(&[finding("prices", Verdict::Block)], true), AtSend::Send);
        assert!(matches!(
            at_send(&[finding("opt_out", Verdict::Block)], true),
            AtSend::Stop(_)
        ));
        let later = finding("sending_hours", Verdict::Hold).until(now);
        assert!(matches!(at_send(std::slice::from_ref(&later), false), AtSend::Wait(at, _) if at == now));
        assert!(matches!(
            at_send(&[later, finding("prices", Verdict::Block)], false),
            AtSend::Stop(_)
        ));
    }

    #[test]
    fn the_day_starts_at_local_midnight() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap();
        // 02:00 UTC is still 23:00 on Dec 2 in São Paulo: the day began at 03:00 UTC on Dec 2.
        let start = local_day_start(now, chrono_tz::America::Sao_Paulo);
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
    }
}
