//! The guardrail policy: one TOML file, typed and validated once at start-up, then shared
//! read-only. The phrase lists cover Spanish, Portuguese and English; see `folded.rs` for the
//! little phrase language they are written in.

use super::folded::compile_phrases;
use crate::catalog::{Catalog, Weekdays};
use anyhow::Context;
use chrono::{NaiveDate, NaiveTime};
use regex::Regex;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The demo policy shipped with Tuesday.
pub const DEMO_POLICY: &str = include_str!("../../data/demo/policy.toml");

/// The policy as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub rate: RateLimits,
    pub whatsapp_window: WindowPolicy,
    pub language: LanguagePolicy,
    pub refunds: RefundPolicy,
    pub sending_hours: SendingHoursPolicy,
    #[serde(default)]
    pub promotions: Vec<Promotion>,
    pub promises: PromisesFile,
    pub injection: PerLanguage<Vec<String>>,
    pub opt_out: OptOutFile,
    pub competitors: Competitors,
    pub personal_data: PersonalData,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerLanguage<T> {
    pub es: T,
    pub pt: T,
    pub en: T,
}

impl PerLanguage<Vec<String>> {
    fn all(&self) -> Vec<String> {
        [&self.es, &self.pt, &self.en]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    fn ensure_complete(&self, what: &str) -> anyhow::Result<()> {
        for (code, list) in [("es", &self.es), ("pt", &self.pt), ("en", &self.en)] {
            anyhow::ensure!(!list.is_empty(), "{what} has no {code} phrases");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Outbound messages a contact may receive in one local day.
    pub max_per_day: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowPolicy {
    /// How long after the contact's last message free text is allowed.
    pub hours: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguagePolicy {
    /// Sentences with fewer words are not judged on their own: whatlang needs more to be sure.
    pub min_words: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundPolicy {
    /// Refunds are possible within this many days of the course start, and no later.
    pub days: u32,
    /// Words that make a sentence about refunds, for the days check.
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendingHoursPolicy {
    /// Quiet hours and holidays per market code; business hours live in the catalog.
    pub markets: BTreeMap<String, MarketCalendar>,
    /// Time zones of phone regions outside our markets, by ISO region code.
    #[serde(default)]
    pub timezones: BTreeMap<String, chrono_tz::Tz>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketCalendar {
    #[serde(default)]
    pub quiet: Vec<QuietHours>,
    /// Local dates on which nothing is sent.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// A stretch of the local day with no sends, even inside business hours. `from` after `to`
/// wraps past midnight.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[serde(default = "every_day")]
    pub days: Weekdays,
    #[serde(deserialize_with = "hhmm")]
    pub from: NaiveTime,
    #[serde(deserialize_with = "hhmm")]
    pub to: NaiveTime,
}

fn every_day() -> Weekdays {
    Weekdays {
        first: chrono::Weekday::Mon,
        last: chrono::Weekday::Sun,
    }
}

fn hhmm<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    let s = String::deserialize(d)?;
    NaiveTime::parse_from_str(&s, "%H:%M").map_err(serde::de::Error::custom)
}

/// A promotion: between `starts` and `ends` (local dates, inclusive) the named courses may be
/// discounted up to their percentage. `"*"` stands for every course.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    pub id: String,
    pub starts: NaiveDate,
    pub ends: NaiveDate,
    pub max_percent: BTreeMap<String, Decimal>,
}

impl Promotion {
    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.starts <= today && today <= self.ends
    }

    /// The largest discount allowed on a course, if the promotion covers it.
    pub fn max_for(&self, course_code: &str) -> Option<Decimal> {
        self.max_percent
            .get(course_code)
            .or_else(|| self.max_percent.get("*"))
            .copied()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromisesFile {
    /// Categories of promises the business can't make, each with its phrase lists.
    pub categories: BTreeMap<String, PerLanguage<Vec<String>>>,
    /// Phrases that are fine even though a promise phrase matches inside them ("100% online").
    pub exceptions: PerLanguage<Vec<String>>,
    /// Words that announce a start date, for the dates check.
    pub start_words: PerLanguage<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptOutFile {
    /// Words that opt out when they are the whole message ("STOP", "baja 🙏").
    pub keywords: Vec<String>,
    /// Words that may stand around a keyword without changing it ("por favor", "pls").
    pub filler: Vec<String>,
    /// Phrases that opt out anywhere in a message.
    pub phrases: PerLanguage<Vec<String>>,
    /// Phrases that look like an opt-out but are about something else ("darme de baja del curso").
    pub exceptions: PerLanguage<Vec<String>>,
    /// What the one allowed message after an opt-out says.
    pub confirmations: PerLanguage<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competitors {
    /// Matched as whole words, ignoring case but not accents: "Tera" is a competitor, "terá" a verb.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalData {
    /// The business's own emails and phone numbers, which drafts may quote.
    pub business: Vec<String>,
    /// Email domains of the business.
    pub business_domains: Vec<String>,
}

/// The policy, validated and with every phrase list compiled.
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PolicyFile,
    /// The TOML as written, for people to read.
    pub source: String,
    pub promises: Vec<(String, Regex)>,
    pub promise_exceptions: Regex,
    pub start_words: Regex,
    pub refund_words: Regex,
    pub injection: Regex,
    pub opt_out_phrases: Regex,
    pub opt_out_exceptions: Regex,
    pub opt_out_confirmations: Regex,
    pub competitors: Regex,
}

impl Policy {
    pub fn from_toml(source: &str, catalog: &Catalog) -> anyhow::Result<Policy> {
        let file: PolicyFile = toml::from_str(source)?;
        let compile = |what: &str, phrases: Vec<String>| {
            compile_phrases(&phrases).map_err(|e| anyhow::anyhow!("{what}: {e}"))
        };
        let mut promises = Vec::new();
        for (category, lists) in &file.promises.categories {
            lists.ensure_complete(&format!("promises.{category}"))?;
            promises.push((
                category.clone(),
                compile(&format!("promises.{category}"), lists.all())?,
            ));
        }
        file.injection.ensure_complete("injection")?;
        file.opt_out.phrases.ensure_complete("opt_out.phrases")?;
        file.opt_out
            .confirmations
            .ensure_complete("opt_out.confirmations")?;
        file.promises
            .start_words
            .ensure_complete("promises.start_words")?;
        let policy = Policy {
            promise_exceptions: compile("promises.exceptions", file.promises.exceptions.all())?,
            start_words: compile("promises.start_words", file.promises.start_words.all())?,
            refund_words: compile("refunds.words", file.refunds.words.clone())?,
            injection: compile("injection", file.injection.all())?,
            opt_out_phrases: compile("opt_out.phrases", file.opt_out.phrases.all())?,
            opt_out_exceptions: compile("opt_out.exceptions", file.opt_out.exceptions.all())?,
            opt_out_confirmations: compile("opt_out.confirmations", file.opt_out.confirmations.all())?,
            competitors: competitor_names(&file.competitors.names)?,
            promises,
            source: source.to_owned(),
            file,
        };
        policy.validate(catalog)?;
        Ok(policy)
    }

    pub fn demo(catalog: &Catalog) -> anyhow::Result<Policy> {
        Policy::from_toml(DEMO_POLICY, catalog)
    }

    /// The policy in `file`, or the demo policy when there is none.
    pub fn configured(file: Option<&std::path::Path>, catalog: &Catalog) -> anyhow::Result<Policy> {
        let Some(path) = file else {
            return Policy::demo(catalog);
        };
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("while reading the policy file {}", path.display()))?;
        Policy::from_toml(&source, catalog)
            .with_context(|| format!("while loading the policy file {}", path.display()))
    }

    fn validate(&self, catalog: &Catalog) -> anyhow::Result<()> {
        let file = &self.file;
        anyhow::ensure!(file.rate.max_per_day > 0, "rate.max_per_day must be positive");
        anyhow::ensure!(
            file.whatsapp_window.hours > 0,
            "whatsapp_window.hours must be positive"
        );
        for code in file.sending_hours.markets.keys() {
            anyhow::ensure!(
                catalog.market(code).is_some(),
                "sending_hours.markets.{code}: no such market in the catalog"
            );
        }
        for promotion in &file.promotions {
            anyhow::ensure!(
                promotion.starts <= promotion.ends,
                "promotion {} ends before it starts",
                promotion.id
            );
            for (code, percent) in &promotion.max_percent {
                anyhow::ensure!(
                    code == "*" || catalog.courses.iter().any(|c| &c.code == code),
                    "promotion {}: no course {code} in the catalog",
                    promotion.id
                );
                anyhow::ensure!(
                    *percent > Decimal::ZERO && *percent < Decimal::ONE_HUNDRED,
                    "promotion {}: {code} must be discounted by more than 0% and less than 100%",
                    promotion.id
                );
            }
        }
        anyhow::ensure!(!file.opt_out.keywords.is_empty(), "opt_out.keywords is empty");
        anyhow::ensure!(
            file.competitors.names.iter().all(|n| !n.trim().is_empty()),
            "competitors.names has an empty name"
        );
        Ok(())
    }

    /// The promotions running on a local date.
    pub fn active_promotions(&self, today: NaiveDate) -> impl Iterator<Item = &Promotion> {
        self.file.promotions.iter().filter(move |p| p.is_active(today))
    }

    pub fn calendar(&self, market_code: &str) -> Option<&MarketCalendar> {
        self.file.sending_hours.markets.get(market_code)
    }
}

/// Names as whole words, case-insensitive but accent-sensitive.
fn competitor_names(names: &[String]) -> anyhow::Result<Regex> {
    let alternatives: Vec<String> = names
        .iter()
        .map(|n| {
            n.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .collect();
    let pattern = if alternatives.is_empty() {
        r"[^\s\S]".to_owned()
    } else {
        format!(r"(?i)\b(?:{})\b", alternatives.join("|"))
    };
    Ok(Regex::new(&pattern)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_policy_loads_and_covers_three_languages() {
        let catalog = Catalog::demo().expect("catalog");
        let policy = Policy::demo(&catalog).expect("policy");
        assert!(policy.promises.len() >= 5);
        for market in &catalog.markets {
            assert!(policy.calendar(&market.code).is_some(), "{}", market.code);
        }
    }

    #[test]
    fn a_configured_file_replaces_the_demo_policy_and_names_itself_when_wrong() {
        let catalog = Catalog::demo().expect("catalog");
        let dir = tempfile::tempdir().expect("dir");
        let good = dir.path().join("policy.toml");
        std::fs::write(&good, DEMO_POLICY.replace("max_per_day = 6", "max_per_day = 3")).expect("write");
        let policy = Policy::configured(Some(&good), &catalog).expect("loads");
        assert_eq!(policy.file.rate.max_per_day, 3);
        assert!(policy.source.contains("max_per_day = 3"));

        let missing = dir.path().join("nope.toml");
        let err = Policy::configured(Some(&missing), &catalog).expect_err("missing file");
        assert!(format!("{err:#}").contains("nope.toml"), "{err:#}");

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, DEMO_POLICY.replace("max_per_day = 6", "max_per_day = 0")).expect("write");
        let err = Policy::configured(Some(&bad), &catalog).expect_err("invalid policy");
        let message = format!("{err:#}");
        assert!(
            message.contains("bad.toml") && message.contains("max_per_day"),
            "{message}"
        );
    }

    #[test]
    fn mistakes_in_the_file_are_reported() {
        let catalog = Catalog::demo().expect("catalog");
        let broken = [
            (
                DEMO_POLICY.replace("max_per_day = 6", "max_per_day = 0"),
                "max_per_day",
            ),
            (
                DEMO_POLICY.replace("\"DA-101\" = \"15\"", "\"XX-1\" = \"15\""),
                "XX-1",
            ),
            (DEMO_POLICY.replace("\"ignor* ~ ", "\"ignor* ~ (("), "injection"),
        ];
        for (source, want) in broken {
            let error = Policy::from_toml(&source, &catalog).expect_err("rejected");
            assert!(format!("{error:#}").contains(want), "{error:#}");
        }
    }
}
