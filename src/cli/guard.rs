//! `tuesday guard`: runs every guardrail on one draft and prints the findings as JSON, so
//! people can try the policy offline, against the demo catalog.

use crate::catalog::Catalog;
use crate::domain::Language;
use crate::guardrails::{self, Context, Policy};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GuardArgs {
    /// The conversation's language: es, pt or en.
    #[arg(long)]
    pub language: Language,
    /// Market code (ES, BR, MX, US); defaults to the phone's, else the language's.
    #[arg(long)]
    pub market: Option<String>,
    /// What the customer wrote, for products named, opt-outs and steering attempts.
    #[arg(long, default_value = "")]
    pub thread: String,
    /// The contact's phone in international form; sets their time zone.
    #[arg(long)]
    pub phone: Option<String>,
    /// The contact's time zone, overriding the phone's (e.g. America/Los_Angeles).
    #[arg(long)]
    pub timezone: Option<chrono_tz::Tz>,
    /// Judge as if it were this instant (RFC 3339); defaults to now.
    #[arg(long)]
    pub now: Option<DateTime<Utc>>,
    /// The approved WhatsApp template the message goes out as, if any.
    #[arg(long)]
    pub template: Option<String>,
    /// A policy file to try instead of the built-in data/demo/policy.toml.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// The draft to check.
    pub draft: String,
}

/// What `tuesday guard` prints, verdict first.
#[derive(Serialize)]
struct Verdicts<'a> {
    verdict: guardrails::Verdict,
    language: Language,
    market: &'a str,
    timezone: &'static str,
    now: DateTime<Utc>,
    findings: Vec<guardrails::Finding>,
}

/// Reads the policy to use: a file, or the embedded demo one.
pub fn load_policy(path: Option<&PathBuf>, catalog: &Catalog) -> anyhow::Result<Policy> {
    match path {
        Some(path) => {
            let source =
                std::fs::read_to_string(path).with_context(|| format!("while reading {}", path.display()))?;
            Policy::from_toml(&source, catalog).with_context(|| format!("in {}", path.display()))
        }
        None => Policy::demo(catalog),
    }
}

pub fn run(args: GuardArgs) -> anyhow::Result<()> {
    let catalog = Catalog::demo()?;
    let policy = load_policy(args.policy.as_ref(), &catalog)?;
    let market = match &args.market {
        Some(code) => catalog
            .market(&code.to_uppercase())
            .with_context(|| format!("no market {code}: try ES, BR, MX or US"))?,
        None => args
            .phone
            .as_deref()
            .and_then(|p| guardrails::sending_hours::market_for_phone(&catalog, p))
            .unwrap_or_else(|| catalog.default_market(args.language)),
    };
    let now = args.now.unwrap_or_else(Utc::now);
    let mut context = Context::new(&catalog, &policy, market, args.language, now).with_thread(&args.thread);
    if let Some(phone) = &args.phone {
        context = context.with_phone(phone);
    }
    if let Some(timezone) = args.timezone {
        context = context.with_timezone(timezone);
    }
    if let Some(template) = &args.template {
        context = context.with_template(template);
    }
    let findings = guardrails::check(&args.draft, &context);
    let report = Verdicts {
        verdict: guardrails::overall(&findings),
        language: args.language,
        market: &market.code,
        timezone: context.timezone().name(),
        now,
        findings,
    };
    super::print(&serde_json::to_string_pretty(&report)?)
}
