//! The auto-send gate (shadow mode): nothing is sent without a person until the classifier
//! in use has scored at least the configured accuracy on the configured held-out set. Until
//! then drafts are made and held, and the pages say why.
//!
//! A run counts only if it scored this very model (by the fingerprint of its weights) on this
//! very data (by the fingerprint of its labelled messages, in any order), so retraining the
//! model or changing the held-out file closes the gate until a new evaluation.

use crate::config::PipelineSettings;
use crate::domain::Taxonomy;
use crate::pipeline::classify::{self, Example};
use crate::store::{EvalRunSummary, Store};
use anyhow::Context;
use sha2::{Digest, Sha256};

/// A fingerprint of labelled messages that does not depend on their order.
pub fn fingerprint(examples: &[Example]) -> String {
    let mut lines: Vec<[u8; 32]> = examples
        .iter()
        .map(|e| {
            let line = format!("{}\t{}\t{}", e.language, e.intent, e.text.trim());
            Sha256::digest(line.as_bytes()).into()
        })
        .collect();
    lines.sort_unstable();
    let mut hash = Sha256::new();
    for line in &lines {
        hash.update(line);
    }
    hex::encode(&hash.finalize()[..8])
}

/// What the gate compares runs against, fixed at start-up.
#[derive(Debug, Clone)]
pub struct AutoSendGate {
    /// Fingerprint of the held-out set.
    pub holdout: String,
    /// Where it came from, for people.
    pub holdout_name: String,
    /// Fingerprint of the classifier in use.
    pub classifier: String,
    /// 0 turns the gate off.
    pub min_accuracy: f64,
}

/// Whether drafts may be sent without a person, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum GateStatus {
    /// `pipeline.auto_send_min_accuracy` is 0.
    Off,
    Open {
        run_id: i64,
        accuracy: f64,
    },
    Closed {
        why: String,
    },
}

impl GateStatus {
    pub fn allows_auto_send(&self) -> bool {
        !matches!(self, GateStatus::Closed { .. })
    }

    /// For the pages: one sentence.
    pub fn describe(&self) -> String {
        match self {
            GateStatus::Off => {
                "Auto-send does not wait for an evaluation (pipeline.auto_send_min_accuracy = 0).".to_owned()
            }
            GateStatus::Open { run_id, accuracy } => format!(
                "Auto-send is on: evaluation run #{run_id} scored {:.1}% on the held-out set.",
                accuracy * 100.0
            ),
            GateStatus::Closed { why } => format!("Auto-send is off: {why}"),
        }
    }
}

impl AutoSendGate {
    /// Reads the held-out set named in the settings (the shipped demo test split when none is).
    pub fn new(
        settings: &PipelineSettings,
        taxonomy: &Taxonomy,
        classifier_fingerprint: String,
    ) -> anyhow::Result<AutoSendGate> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&settings.auto_send_min_accuracy),
            "pipeline.auto_send_min_accuracy must be between 0 and 1"
        );
        if settings.holdout_datasets.is_empty() && !taxonomy.is_default() {
            tracing::warn!(
                "the taxonomy is not the default one, but the held-out set is the demo's: set \
                 pipeline.holdout_datasets to messages labelled with your intents, or auto-send \
                 never opens"
            );
        }
        let (examples, holdout_name) = if settings.holdout_datasets.is_empty() {
            let mut examples = Vec::new();
            for source in classify::DEMO_TEST {
                examples.extend(classify::read_jsonl(source)?);
            }
            (examples, "data/demo/{es,pt,en}-test.jsonl".to_owned())
        } else {
            let mut examples = Vec::new();
            for path in &settings.holdout_datasets {
                examples.extend(
                    super::dataset::read(path, taxonomy)
                        .with_context(|| format!("while reading the held-out set {}", path.display()))?,
                );
            }
            let names: Vec<String> = settings
                .holdout_datasets
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            (examples, names.join(", "))
        };
        Ok(AutoSendGate {
            holdout: fingerprint(&examples),
            holdout_name,
            classifier: classifier_fingerprint,
            min_accuracy: settings.auto_send_min_accuracy,
        })
    }

    /// The gate's answer now, from the newest stored run.
    pub async fn status(&self, store: &Store) -> anyhow::Result<GateStatus> {
        if self.min_accuracy <= 0.0 {
            return Ok(GateStatus::Off);
        }
        let latest = store.latest_eval_run(&self.holdout, &self.classifier).await?;
        Ok(self.judge(latest.as_ref()))
    }

    /// The gate's answer given the newest run of this model on this held-out set.
    pub fn judge(&self, latest: Option<&EvalRunSummary>) -> GateStatus {
        if self.min_accuracy <= 0.0 {
            return GateStatus::Off;
        }
        let min = self.min_accuracy * 100.0;
        match latest {
            None => GateStatus::Closed {
                why: format!(
                    "the classifier in use has not been evaluated on the held-out set ({}); run `tuesday eval` on it. It must reach {min:.1}%.",
                    self.holdout_name
                ),
            },
            Some(run) if run.intent_accuracy < self.min_accuracy => GateStatus::Closed {
                why: format!(
                    "the latest evaluation (run #{}) scored {:.1}% on the held-out set, below the {min:.1}% required.",
                    run.id,
                    run.intent_accuracy * 100.0
                ),
            },
            Some(run) => GateStatus::Open {
                run_id: run.id,
                accuracy: run.intent_accuracy,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Intent, Language};

    fn example(text: &str, language: Language, intent: Intent) -> Example {
        Example {
            text: text.to_owned(),
            language,
            intent,
        }
    }

    fn run(id: i64, accuracy: f64) -> EvalRunSummary {
        EvalRunSummary {
            id,
            at: 0,
            datasets: "[]".into(),
            holdout: "h".into(),
            classifier: "c".into(),
            classifier_name: "demo".into(),
            messages: 360,
            intent_accuracy: accuracy,
            macro_f1: accuracy,
            language_accuracy: 0.9,
        }
    }

    #[test]
    fn the_fingerprint_ignores_order_but_not_labels_or_text() {
        let a = example("cuanto cuesta el curso? 🤔", Language::Es, Intent::Pricing);
        let b = example("quero me inscrever hj", Language::Pt, Intent::Enrollment);
        let c = example("talk to a human pls", Language::En, Intent::HumanRequest);
        let base = fingerprint(&[a.clone(), b.clone(), c.clone()]);
        assert_eq!(base, fingerprint(&[c.clone(), a.clone(), b.clone()]));
        let relabelled = example("talk to a human pls", Language::En, Intent::Support);
        assert_ne!(base, fingerprint(&[a.clone(), b.clone(), relabelled]));
        let retyped = example("cuánto cuesta el curso? 🤔", Language::Es, Intent::Pricing);
        assert_ne!(base, fingerprint(&[retyped, b, c]));
    }

    #[test]
    fn the_gate_opens_only_at_the_required_accuracy() {
        let gate = AutoSendGate {
            holdout: "h".into(),
            holdout_name: "test split".into(),
            classifier: "c".into(),
            min_accuracy: 0.93,
        };
        let never = gate.judge(None);
        assert!(!never.allows_auto_send());
        assert!(
            never.describe().contains("not been evaluated"),
            "{}",
            never.describe()
        );
        let low = gate.judge(Some(&run(4, 0.772)));
        assert!(!low.allows_auto_send());
        assert!(
            low.describe().contains("77.2%") && low.describe().contains("93.0%"),
            "{}",
            low.describe()
        );
        assert_eq!(
            gate.judge(Some(&run(5, 0.93))),
            GateStatus::Open {
                run_id: 5,
                accuracy: 0.93
            }
        );
        let off = AutoSendGate {
            min_accuracy: 0.0,
            ..gate
        };
        assert_eq!(off.judge(None), GateStatus::Off);
        assert!(off.judge(None).allows_auto_send());
    }

    #[test]
    fn the_demo_held_out_set_is_the_default() {
        let settings = PipelineSettings::default();
        let gate = AutoSendGate::new(&settings, &Taxonomy::default(), "c".into()).expect("gate");
        let mut examples = Vec::new();
        for source in classify::DEMO_TEST {
            examples.extend(classify::read_jsonl(source).expect("demo test split"));
        }
        assert_eq!(gate.holdout, fingerprint(&examples));
        assert_eq!(gate.min_accuracy, 0.93);
    }
}
