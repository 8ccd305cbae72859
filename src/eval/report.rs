//! The result of one evaluation run, in the shape that is printed (`--json`), stored and shown
//! on the Evaluation page. Built from predictions by pure arithmetic.

use super::calibrate::{self, Calibration};
use super::metrics::{self, ClassScore, Confusion, CoveragePoint, ratio};
use super::run::Prediction;
use crate::domain::{Currency, Intent, Language, Money};
use crate::pipeline::route::Tier;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything an evaluation run found. Field names are the stable JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The dataset files, as given on the command line.
    pub datasets: Vec<String>,
    /// Which classifier ran: `demo` (trained on the shipped train split) or a model file.
    pub classifier: String,
    pub messages: usize,
    /// Share of messages whose predicted intent is the gold one.
    pub intent_accuracy: f64,
    /// Unweighted mean F1 over the intents present (gold or predicted).
    pub macro_f1: f64,
    /// Share of messages whose detected language is the gold one.
    pub language_accuracy: f64,
    /// Keyed by gold language: `es`, `pt`, `en` (only those present).
    pub per_language: BTreeMap<Language, LanguageScore>,
    pub per_intent: Vec<ClassScore<Intent>>,
    /// Intents: rows gold, columns predicted, over every intent of the taxonomy.
    pub confusion: Confusion<Intent>,
    /// Languages: rows gold, columns detected.
    pub language_confusion: Confusion<Language>,
    pub tiers: Vec<TierShare>,
    /// Share answered and accuracy on those, at thresholds 0.00, 0.05, …, 0.95.
    pub coverage: Vec<CoveragePoint>,
    /// τ0 for the local tier at the target precision.
    pub calibration: Calibration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageScore {
    pub messages: usize,
    pub intent_accuracy: f64,
    pub macro_f1: f64,
    pub language_accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierShare {
    pub tier: Tier,
    pub messages: usize,
    /// `messages` over all messages.
    pub share: f64,
    /// Intent accuracy on this tier's messages.
    pub accuracy: f64,
    /// What this tier's calls cost over the whole run.
    pub cost: Money,
}

impl EvalReport {
    pub fn build(
        datasets: Vec<String>,
        classifier: String,
        predictions: &[Prediction],
        target_precision: f64,
    ) -> EvalReport {
        let confusion = intent_confusion(predictions.iter());
        let language_confusion = Confusion::tally(
            &Language::ALL,
            predictions.iter().map(|p| (p.gold_language, p.language)),
        );
        let mut per_language = BTreeMap::new();
        for language in Language::ALL {
            let mine: Vec<&Prediction> = predictions
                .iter()
                .filter(|p| p.gold_language == language)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let confusion = intent_confusion(mine.iter().copied());
            let detected = mine.iter().filter(|p| p.language_correct()).count();
            per_language.insert(
                language,
                LanguageScore {
                    messages: mine.len(),
                    intent_accuracy: confusion.accuracy(),
                    macro_f1: confusion.macro_f1(),
                    language_accuracy: ratio(detected, mine.len()),
                },
            );
        }
        let outcomes: Vec<(f64, bool)> = predictions
            .iter()
            .map(|p| (p.confidence, p.intent_correct()))
            .collect();
        let local: Vec<(f64, bool)> = predictions
            .iter()
            .filter(|p| p.tier == Tier::Local)
            .map(|p| (p.confidence, p.intent_correct()))
            .collect();
        EvalReport {
            datasets,
            classifier,
            messages: predictions.len(),
            intent_accuracy: confusion.accuracy(),
            macro_f1: confusion.macro_f1(),
            language_accuracy: language_confusion.accuracy(),
            per_language,
            per_intent: confusion.per_class(),
            confusion,
            language_confusion,
            tiers: tier_shares(predictions),
            coverage: metrics::coverage_curve(&outcomes, &metrics::curve_thresholds()),
            calibration: calibrate::calibrate(&local, target_precision),
        }
    }
}

fn intent_confusion<'a>(predictions: impl Iterator<Item = &'a Prediction>) -> Confusion<Intent> {
    let pairs: Vec<(Intent, Intent)> = predictions.map(|p| (p.gold_intent, p.intent)).collect();
    // Every label that occurs, the default ones in their usual order, then the workspace's own.
    let mut labels: Vec<Intent> = pairs.iter().flat_map(|(g, p)| [*g, *p]).collect();
    labels.sort_by_key(|l| {
        let rank = Intent::DEFAULTS.iter().position(|d| d == l);
        (rank.unwrap_or(usize::MAX), l.as_str())
    });
    labels.dedup();
    Confusion::tally(&labels, pairs)
}

/// Every tier of the routing, even one that answered nothing, so a page can show it at 0 %.
fn tier_shares(predictions: &[Prediction]) -> Vec<TierShare> {
    Tier::ALL
        .iter()
        .map(|tier| {
            let mine: Vec<&Prediction> = predictions.iter().filter(|p| p.tier == *tier).collect();
            let correct = mine.iter().filter(|p| p.intent_correct()).count();
            let cost: Decimal = mine.iter().map(|p| p.cost.amount).sum();
            TierShare {
                tier: *tier,
                messages: mine.len(),
                share: ratio(mine.len(), predictions.len()),
                accuracy: ratio(correct, mine.len()),
                cost: Money::new(cost, Currency::Usd),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::language::Method;
    use Language::*;

    fn p(gold: (Language, Intent), got: (Language, Intent), confidence: f64) -> Prediction {
        Prediction {
            gold_language: gold.0,
            gold_intent: gold.1,
            language: got.0,
            language_method: Method::Lingua,
            intent: got.1,
            confidence,
            tier: Tier::Local,
            cost: Money::new(Decimal::ZERO, Currency::Usd),
        }
    }

    fn sample() -> Vec<Prediction> {
        vec![
            p((Es, Intent::Pricing), (Es, Intent::Pricing), 0.9),
            p((Es, Intent::Greeting), (Pt, Intent::Greeting), 0.8),
            p((Pt, Intent::Pricing), (Pt, Intent::Support), 0.4),
            p((En, Intent::OptOut), (En, Intent::OptOut), 0.7),
        ]
    }

    #[test]
    fn headline_figures_by_hand() {
        let report = EvalReport::build(vec!["x.jsonl".into()], "demo".into(), &sample(), 0.9);
        assert_eq!(report.messages, 4);
        assert_eq!(report.intent_accuracy, 0.75);
        assert_eq!(report.language_accuracy, 0.75);
        // pricing P 1/1 R 1/2 → 2/3; greeting 1; support P 0 → 0; opt_out 1.
        assert!((report.macro_f1 - (2.0 / 3.0 + 1.0 + 0.0 + 1.0) / 4.0).abs() < 1e-12);
        let es = &report.per_language[&Es];
        assert_eq!(
            (es.messages, es.intent_accuracy, es.language_accuracy),
            (2, 1.0, 0.5)
        );
        assert_eq!(report.per_language[&Pt].intent_accuracy, 0.0);
        let at = |l: Intent| {
            report
                .confusion
                .labels
                .iter()
                .position(|x| *x == l)
                .expect("a label that occurs")
        };
        assert_eq!(
            report.confusion.counts[at(Intent::Pricing)][at(Intent::Support)],
            1
        );
        assert_eq!(
            report.confusion.labels,
            [Intent::Pricing, Intent::Support, Intent::OptOut, Intent::Greeting],
            "the labels that occur, in the default order"
        );
        assert_eq!(report.confusion.total(), 4);
    }

    #[test]
    fn tiers_curve_and_calibration() {
        let report = EvalReport::build(vec![], "demo".into(), &sample(), 0.9);
        // Every tier is listed; offline, the local one answers everything.
        assert_eq!(report.tiers.len(), Tier::ALL.len());
        assert_eq!(report.tiers[0].tier, Tier::Local);
        assert_eq!((report.tiers[0].messages, report.tiers[0].share), (4, 1.0));
        assert!(report.tiers[1..].iter().all(|t| t.messages == 0));
        assert!(report.tiers[0].cost.amount.is_zero());
        assert_eq!(report.coverage.len(), 20);
        assert_eq!(report.coverage[0].accuracy, Some(0.75));
        // Everything at or above 0.7 is right: τ0 = 0.7 keeps three of four.
        assert_eq!(report.calibration.threshold, Some(0.7));
        assert_eq!(report.calibration.answered, 3);
    }

    #[test]
    fn json_keys_are_stable_and_round_trip() {
        let report = EvalReport::build(vec!["x".into()], "demo".into(), &sample(), 0.9);
        let json = serde_json::to_value(&report).expect("serialises");
        for key in ["intent_accuracy", "macro_f1", "language_accuracy", "per_language"] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert!(json["per_language"].get("es").is_some());
        assert_eq!(json["tiers"][0]["tier"], "local");
        let back: EvalReport = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, report);
    }
}
