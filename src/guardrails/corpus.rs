//! The labelled corpus the guardrails are measured on, and the precision and recall report
//! per rule and per language that `tuesday guard-report` prints.

use super::{Context, History, Policy, RULES, Verdict, check, overall};
use crate::catalog::Catalog;
use crate::domain::Language;
use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Every case is judged at this instant unless it says otherwise: Tuesday 2027-01-12 17:00
/// UTC, when all four markets are open and the new-year promotion runs.
pub const DEFAULT_NOW: &str = "2027-01-12T17:00:00Z";
/// The canary planted in every case's context.
pub const CANARY: &str = "AUR-CANARY-7Q2";

/// One labelled draft.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub language: Language,
    pub draft: String,
    /// The customer's side of the conversation.
    #[serde(default)]
    pub thread: String,
    pub market: String,
    pub expect: Verdict,
    /// The rule that should catch it; `null` for drafts that should pass.
    pub rule: Option<String>,
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub timezone: Option<chrono_tz::Tz>,
    /// Hours since the contact last wrote; 0.1 (six minutes) unless given.
    #[serde(default)]
    pub hours_since_inbound: Option<f64>,
    #[serde(default)]
    pub opted_out: bool,
    #[serde(default)]
    pub opt_out_confirmed: bool,
    #[serde(default)]
    pub outbound_today: u32,
    #[serde(default)]
    pub previous: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    /// The classifier's confidence; 0.9 unless given, against a threshold of 0.6.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Why the case is hard, for people reading the file.
    #[serde(default)]
    pub note: Option<String>,
}

pub fn parse(jsonl: &str) -> anyhow::Result<Vec<Case>> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).with_context(|| format!("while reading corpus line {}", i + 1))
        })
        .collect()
}

/// What the engine said about one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Rules that answered hold or block.
    pub flagged: BTreeSet<&'static str>,
}

pub fn run_case(case: &Case, catalog: &Catalog, policy: &Policy) -> anyhow::Result<Outcome> {
    let market = catalog
        .market(&case.market)
        .with_context(|| format!("no market {} in the catalog", case.market))?;
    let now = match case.now {
        Some(now) => now,
        None => DEFAULT_NOW.parse()?,
    };
    let since = Duration::seconds((case.hours_since_inbound.unwrap_or(0.1) * 3600.0) as i64);
    let history = History {
        last_inbound: Some(now - since),
        outbound_today: case.outbound_today,
        previous_outbound: case.previous.as_deref(),
        opted_out: case.opted_out,
        opt_out_confirmed: case.opt_out_confirmed,
    };
    let mut context = Context::new(catalog, policy, market, case.language, now)
        .with_thread(&case.thread)
        .with_confidence(case.confidence.unwrap_or(0.9), 0.6)
        .with_history(history)
        .with_canary(CANARY);
    if let Some(phone) = &case.phone {
        context = context.with_phone(phone);
    }
    if let Some(timezone) = case.timezone {
        context = context.with_timezone(timezone);
    }
    if let Some(template) = &case.template {
        context = context.with_template(template);
    }
    let findings = check(&case.draft, &context);
    Ok(Outcome {
        verdict: overall(&findings),
        flagged: findings
            .iter()
            .filter(|f| f.verdict != Verdict::Pass)
            .map(|f| f.rule)
            .collect(),
    })
}

/// Counts for one line of the report.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Score {
    pub scope: String,
    pub name: String,
    pub cases: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Score {
    fn new(scope: &str, name: &str) -> Score {
        Score {
            scope: scope.to_owned(),
            name: name.to_owned(),
            ..Score::default()
        }
    }

    fn add(&mut self, actual: bool, predicted: bool) {
        self.cases += 1;
        match (actual, predicted) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (true, false) => self.false_negatives += 1,
            (false, false) => {}
        }
    }

    /// `None` when nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        let flagged = self.true_positives + self.false_positives;
        (flagged > 0).then(|| self.true_positives as f64 / flagged as f64)
    }

    /// `None` when there was nothing to find.
    pub fn recall(&self) -> Option<f64> {
        let positives = self.true_positives + self.false_negatives;
        (positives > 0).then(|| self.true_positives as f64 / positives as f64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cases: usize,
    pub should_pass: usize,
    /// Cases whose overall verdict (pass, hold or block) was exactly the expected one.
    pub exact_verdicts: usize,
    pub rules: Vec<Score>,
    pub languages: Vec<Score>,
    pub overall: Score,
    /// Case numbers (1-based lines of non-empty input) the engine got wrong, for debugging.
    pub misses: Vec<Miss>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub case: usize,
    pub language: Language,
    pub draft: String,
    pub expected: Option<String>,
    pub flagged: Vec<&'static str>,
}

/// Scores every rule (did the expected rule, and only it, flag the case?) and every language
/// (was a draft that should not pass stopped, and one that should pass let through?).
pub fn evaluate(cases: &[Case], catalog: &Catalog, policy: &Policy) -> anyhow::Result<Report> {
    let mut rules: Vec<Score> = RULES.iter().map(|r| Score::new("rule", r)).collect();
    let mut languages: Vec<Score> = Language::ALL
        .iter()
        .map(|l| Score::new("language", l.code()))
        .collect();
    let mut all = Score::new("overall", "all");
    let mut exact = 0;
    let mut misses = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Some(rule) = &case.rule {
            anyhow::ensure!(
                RULES.contains(&rule.as_str()),
                "case {}: unknown rule {rule:?}",
                i + 1
            );
        }
        let outcome = run_case(case, catalog, policy).with_context(|| format!("case {}", i + 1))?;
        for score in &mut rules {
            score.add(
                case.rule.as_deref() == Some(score.name.as_str()),
                outcome.flagged.contains(score.name.as_str()),
            );
        }
        let actual = case.expect != Verdict::Pass;
        let predicted = outcome.verdict != Verdict::Pass;
        for score in languages.iter_mut().filter(|s| s.name == case.language.code()) {
            score.add(actual, predicted);
        }
        all.add(actual, predicted);
        if outcome.verdict == case.expect {
            exact += 1;
        }
        let expected_rules: BTreeSet<&str> = case.rule.as_deref().into_iter().collect();
        let flagged: BTreeSet<&str> = outcome.flagged.iter().copied().collect();
        if expected_rules != flagged || outcome.verdict != case.expect {
            misses.push(Miss {
                case: i + 1,
                language: case.language,
                draft: case.draft.clone(),
                expected: case.rule.clone(),
                flagged: outcome.flagged.into_iter().collect(),
            });
        }
    }
    Ok(Report {
        cases: cases.len(),
        should_pass: cases.iter().filter(|c| c.expect == Verdict::Pass).count(),
        exact_verdicts: exact,
        rules,
        languages,
        overall: all,
        misses,
    })
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

impl Report {
    /// The report as a Markdown table, the way docs/BENCHMARKS.md records it.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} cases ({} should pass, {} should not); exact verdict (pass/hold/block) on {}.\n\n",
            self.cases,
            self.should_pass,
            self.cases - self.should_pass,
            self.exact_verdicts
        );
        out.push_str("| scope | name | cases | TP | FP | FN | precision | recall |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for score in self
            .rules
            .iter()
            .chain(&self.languages)
            .chain(std::iter::once(&self.overall))
        {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                score.scope,
                score.name,
                score.cases,
                score.true_positives,
                score.false_positives,
                score.false_negatives,
                percent(score.precision()),
                percent(score.recall())
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::testing::{CATALOG, POLICY};

    #[test]
    fn scores_count_what_they_should() {
        let jsonl = r#"
{"language":"es","draft":"Análisis de Datos cuesta 1.100 €.","market":"ES","expect":"pass","rule":null}
{"language":"es","draft":"Análisis de Datos cuesta 999 €.","market":"ES","expect":"block","rule":"prices"}
{"language":"en","draft":"Hi!","thread":"STOP","market":"US","expect":"block","rule":"opt_out"}
"#;
        let cases = parse(jsonl).expect("parses");
        let report = evaluate(&cases, &CATALOG, &POLICY).expect("runs");
        let prices = report.rules.iter().find(|s| s.name == "prices").expect("prices");
        assert_eq!(
            (
                prices.true_positives,
                prices.false_positives,
                prices.false_negatives
            ),
            (1, 0, 0)
        );
        assert_eq!(report.overall.recall(), Some(1.0));
        assert_eq!(report.exact_verdicts, 3, "{:?}", report.misses);
        assert!(
            report
                .table()
                .contains("| rule | prices | 3 | 1 | 0 | 0 | 100.0% | 100.0% |")
        );
    }

    #[test]
    fn unknown_rules_and_bad_lines_are_errors() {
        assert!(parse("{\"language\":\"xx\"}").is_err());
        let cases = parse(r#"{"language":"es","draft":"x","market":"ES","expect":"hold","rule":"vibes"}"#)
            .expect("parses");
        assert!(evaluate(&cases, &CATALOG, &POLICY).is_err());
    }
}
