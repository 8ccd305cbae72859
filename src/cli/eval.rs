//! `tuesday eval`: runs the pipeline's stages on labelled messages (the local classifier, then
//! the configured model cascade when there is one) and reports intent
//! accuracy, macro-F1, language-ID accuracy, the confusion matrix, tier shares, the
//! coverage-versus-accuracy curve and the calibrated escalation threshold τ0.

use crate::config::Settings;
use crate::domain::{Currency, Money};
use crate::domain::{Intent, Language};
use crate::eval::gate::{self, AutoSendGate};
use crate::eval::run::{Prediction, Stages};
use crate::eval::{EvalReport, dataset};
use crate::pipeline::classify::{self, Classifier, Example};
use crate::pipeline::language::Detector;
use crate::routing::{ModelRouter, Subject};
use crate::store::Store;
use crate::text;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Labelled messages: JSONL, or CSV (by extension) with columns text, language, intent.
    /// Repeat the flag to evaluate several files as one set.
    #[arg(long, required = true)]
    pub dataset: Vec<PathBuf>,
    /// A model written by `tuesday train`. Default: `pipeline.classifier_model`, else the demo
    /// model trained on the shipped train split.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The precision τ0 must reach on the messages the local tier answers.
    #[arg(long, default_value_t = 0.93)]
    pub target_precision: f64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not store the run in the database (it is stored by default, for the Evaluation page
    /// and the auto-send gate).
    #[arg(long)]
    pub no_store: bool,
}

pub async fn run(args: &EvalArgs, settings: &Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.target_precision),
        "--target-precision must be between 0 and 1"
    );
    let taxonomy = settings.taxonomy()?;
    let mut examples = Vec::new();
    for path in &args.dataset {
        examples.extend(dataset::read(path, &taxonomy)?);
    }
    anyhow::ensure!(!examples.is_empty(), "the dataset has no messages");
    let model = args
        .model
        .clone()
        .or_else(|| settings.pipeline.classifier_model.clone());
    let classifier = Classifier::configured(model.as_deref(), &taxonomy)?;
    let classifier_name = match &model {
        Some(path) => format!("model {}", path.display()),
        None if taxonomy.is_default() => "demo (trained on data/demo/*-train.jsonl)".to_owned(),
        None => "taxonomy (trained on data/demo/*-train.jsonl and [taxonomy] examples)".to_owned(),
    };
    if model.is_none() {
        warn_about_training_overlap(&examples);
    }
    let detector = Detector::new();
    let stages = Stages {
        detector: &detector,
        classifier: &classifier,
    };
    let progress = ProgressBar::new(examples.len() as u64).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta} left)")?.progress_chars("=> "),
    );
    progress.set_message("evaluating");
    let router = ModelRouter::new(&settings.routing)?.with_taxonomy(taxonomy.clone());
    // The cascade's calls are recorded and counted against the budget like any others.
    let store = if router.has_models() || !args.no_store {
        Some(Store::open(&settings.database_url).await?)
    } else {
        None
    };
    let mut predictions: Vec<Prediction> = Vec::with_capacity(examples.len());
    for example in &examples {
        let mut prediction = stages.predict(example);
        if let Some(store) = store.as_ref().filter(|_| router.has_models()) {
            let local = classifier.classify(&example.text);
            let routed = router
                .classify(
                    store,
                    Subject::default(),
                    prediction.language,
                    &example.text,
                    local,
                )
                .await
                .context("while routing a classification")?;
            prediction.intent = routed.classification.intent;
            prediction.confidence = routed.classification.confidence;
            prediction.tier = routed.tier;
            prediction.cost = Money::new(routed.cost, Currency::Usd);
        }
        predictions.push(prediction);
        progress.inc(1);
    }
    progress.finish_and_clear();
    let datasets = args.dataset.iter().map(|p| p.display().to_string()).collect();
    let report = EvalReport::build(datasets, classifier_name, &predictions, args.target_precision);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    if let Some(store) = store.filter(|_| !args.no_store) {
        let note = store_run(&store, &report, &examples, &classifier, settings).await?;
        eprintln!("{note}");
    }
    Ok(())
}

/// Stores the run and says what it means for the auto-send gate.
async fn store_run(
    store: &Store,
    report: &EvalReport,
    examples: &[Example],
    classifier: &Classifier,
    settings: &Settings,
) -> anyhow::Result<String> {
    let holdout = gate::fingerprint(examples);
    let id = store
        .record_eval_run(report, &holdout, &classifier.fingerprint())
        .await?;
    let gate = AutoSendGate::new(
        &settings.pipeline,
        &settings.taxonomy()?,
        classifier.fingerprint(),
    )?;
    let verdict = if gate.holdout == holdout {
        gate.status(store).await?.describe()
    } else {
        format!(
            "These messages are not the configured held-out set ({}), so the run does not open auto-send.",
            gate.holdout_name
        )
    };
    Ok(format!("Stored as evaluation run #{id}. {verdict}"))
}

/// The demo model was trained on the shipped train split: scoring it on those messages would
/// flatter it, so say so.
fn warn_about_training_overlap(examples: &[Example]) {
    let seen: HashSet<String> = classify::DEMO_TRAIN
        .iter()
        .filter_map(|source| classify::read_jsonl(source).ok())
        .flatten()
        .map(|e| text::fold(&e.text))
        .collect();
    let overlap = examples
        .iter()
        .filter(|e| seen.contains(&text::fold(&e.text)))
        .count();
    if overlap > 0 {
        eprintln!(
            "warning: {overlap} of {} messages are in the demo model's training data; \
             their scores are not held-out figures",
            examples.len()
        );
    }
}

fn percent(x: f64) -> String {
    format!("{:5.1} %", x * 100.0)
}

/// The human-readable report.
pub fn render(r: &EvalReport) -> String {
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    line(format!(
        "Evaluated {} messages from {} with the {} classifier.",
        r.messages,
        r.datasets.join(", "),
        r.classifier
    ));
    line(String::new());
    line(format!("Intent accuracy   {}", percent(r.intent_accuracy)));
    line(format!("Macro-F1          {:7.3}", r.macro_f1));
    line(format!("Language-ID       {}", percent(r.language_accuracy)));
    line(String::new());
    line(format!(
        "{:<10} {:>8} {:>11} {:>9} {:>12}",
        "language", "messages", "intent acc", "macro-F1", "language-ID"
    ));
    for (language, score) in &r.per_language {
        line(format!(
            "{:<10} {:>8} {:>11} {:>9.3} {:>12}",
            language.code(),
            score.messages,
            percent(score.intent_accuracy),
            score.macro_f1,
            percent(score.language_accuracy)
        ));
    }
    line(String::new());
    line(format!(
        "{:<14} {:>7} {:>9} {:>9} {:>6}",
        "intent", "support", "precision", "recall", "F1"
    ));
    for c in &r.per_intent {
        line(format!(
            "{:<14} {:>7} {:>9} {:>9} {:>6.3}",
            c.label.as_str(),
            c.support,
            percent(c.precision),
            percent(c.recall),
            c.f1
        ));
    }
    line(String::new());
    line("Confusion matrix (rows: gold intent, columns: predicted)".to_owned());
    let mut header = format!("{:<14}", "");
    for intent in &r.confusion.labels {
        header.push_str(&format!(" {:>5}", short(*intent)));
    }
    line(header);
    for (intent, row) in r.confusion.labels.iter().zip(&r.confusion.counts) {
        let mut text = format!("{:<14}", intent.as_str());
        for count in row {
            text.push_str(&format!(" {count:>5}"));
        }
        line(text);
    }
    line(String::new());
    line("Language confusion (rows: gold, columns: detected)".to_owned());
    let mut header = format!("{:<6}", "");
    for language in &r.language_confusion.labels {
        header.push_str(&format!(" {:>5}", language.code()));
    }
    line(header);
    for (language, row) in r
        .language_confusion
        .labels
        .iter()
        .zip(&r.language_confusion.counts)
    {
        let mut text = format!("{:<6}", Language::code(*language));
        for count in row {
            text.push_str(&format!(" {count:>5}"));
        }
        line(text);
    }
    line(String::new());
    line(format!(
        "{:<8} {:>8} {:>8} {:>9} {:>10}",
        "tier", "share", "messages", "accuracy", "cost"
    ));
    for t in &r.tiers {
        line(format!(
            "{:<8} {:>8} {:>8} {:>9} {:>10}",
            t.tier.as_str(),
            percent(t.share),
            t.messages,
            percent(t.accuracy),
            t.cost.to_string()
        ));
    }
    line(String::new());
    line("Coverage vs accuracy (answer only when confidence >= threshold)".to_owned());
    line(format!("{:>9} {:>9} {:>9}", "threshold", "answered", "accuracy"));
    for p in &r.coverage {
        let accuracy = p.accuracy.map_or_else(|| "-".to_owned(), percent);
        line(format!(
            "{:>9.2} {:>9} {:>9}",
            p.threshold,
            percent(p.share),
            accuracy
        ));
    }
    line(String::new());
    let c = &r.calibration;
    match (c.threshold, c.precision) {
        (Some(threshold), Some(precision)) => line(format!(
            "τ0 for {} precision: {threshold:.3}. The local tier keeps {} ({} of {}) at {} \
             precision; the rest escalate.",
            percent(c.target_precision).trim(),
            percent(c.coverage).trim(),
            c.answered,
            c.messages,
            percent(precision).trim()
        )),
        _ => line(format!(
            "τ0: no threshold reaches {} precision on the local tier's {} messages.",
            percent(c.target_precision).trim(),
            c.messages
        )),
    }
    s
}

/// Five-letter column heads for the confusion matrix.
fn short(intent: Intent) -> &'static str {
    match intent {
        Intent::Pricing => "price",
        Intent::CourseInfo => "info",
        Intent::Enrollment => "enrol",
        Intent::Objection => "objec",
        Intent::Support => "supp",
        Intent::Complaint => "compl",
        Intent::OptOut => "optout",
        Intent::HumanRequest => "human",
        Intent::Greeting => "greet",
        Intent::Other => "other",
        // A label the workspace added: its first six characters.
        other => other.as_str().get(..6).unwrap_or(other.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Money};
    use crate::pipeline::language::Method;
    use crate::pipeline::route::Tier;

    #[test]
    fn the_text_report_shows_every_section() {
        let prediction = |gold: Intent, got: Intent, confidence: f64| Prediction {
            gold_language: Language::Es,
            gold_intent: gold,
            language: Language::Es,
            language_method: Method::Lexicon,
            intent: got,
            confidence,
            tier: Tier::Local,
            cost: Money::new(rust_decimal::Decimal::ZERO, Currency::Usd),
        };
        let predictions = [
            prediction(Intent::Pricing, Intent::Pricing, 0.9),
            prediction(Intent::Greeting, Intent::Other, 0.3),
        ];
        let report = EvalReport::build(vec!["a.jsonl".into()], "demo".into(), &predictions, 0.9);
        let text = render(&report);
        for needle in [
            "Intent accuracy    50.0 %",
            "Language-ID       100.0 %",
            "Confusion matrix",
            "local     100.0 %        2",
            "US$ 0",
            "Coverage vs accuracy",
            "τ0 for 90.0 % precision: 0.900",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }
}
