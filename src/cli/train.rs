//! `tuesday train`: trains the local classifier on labelled messages, reports its accuracy on a
//! deterministic held-out part, and writes the model for `pipeline.classifier_model`.

use crate::config::Settings;
use crate::domain::Language;
use crate::eval::metrics::Confusion;
use crate::eval::{dataset, split};
use crate::pipeline::classify::{self, Classifier, Example, TrainOptions};
use crate::text;
use std::collections::HashSet;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Labelled messages: JSONL, or CSV (by extension) with columns text, language, intent.
    /// Repeat the flag to train on several files.
    #[arg(long, required = true)]
    pub dataset: Vec<PathBuf>,
    /// Where to write the model.
    #[arg(long, default_value = "classifier.bin")]
    pub out: PathBuf,
    /// The share of messages held out to measure the model (0 trains on everything).
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
}

pub fn run(args: &TrainArgs, settings: &Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..1.0).contains(&args.holdout),
        "--holdout must be at least 0 and below 1"
    );
    let taxonomy = settings.taxonomy()?;
    let mut examples = Vec::new();
    for path in &args.dataset {
        examples.extend(dataset::read(path, &taxonomy)?);
    }
    refuse_the_demo_test_split(&examples)?;
    let (train, held) = split::holdout(&examples, args.holdout);
    anyhow::ensure!(!train.is_empty(), "nothing left to train on");
    println!(
        "Training on {} messages ({}), holding out {}.",
        train.len(),
        by_language(&train),
        held.len()
    );
    let labels = taxonomy.labels();
    let model = Classifier::train(&labels, &train, TrainOptions::default());
    if !held.is_empty() {
        let confusion = Confusion::tally(
            &labels,
            held.iter().map(|e| (e.intent, model.classify(&e.text).intent)),
        );
        println!(
            "Held-out accuracy {:.1} % ({} of {}), macro-F1 {:.3}.",
            confusion.accuracy() * 100.0,
            confusion.correct(),
            confusion.total(),
            confusion.macro_f1()
        );
    }
    model.save(&args.out)?;
    println!(
        "Wrote {}. Use it with pipeline.classifier_model = {:?} in tuesday.toml, or \
         `tuesday eval --model {}`.",
        args.out.display(),
        args.out.display().to_string(),
        args.out.display()
    );
    Ok(())
}

/// The shipped test split is the project's held-out yardstick: training on any of it would make
/// every later figure on it meaningless.
fn refuse_the_demo_test_split(examples: &[Example]) -> anyhow::Result<()> {
    let test: HashSet<String> = classify::DEMO_TEST
        .iter()
        .filter_map(|source| classify::read_jsonl(source).ok())
        .flatten()
        .map(|e| text::fold(&e.text))
        .collect();
    let leaked = examples
        .iter()
        .filter(|e| test.contains(&text::fold(&e.text)))
        .count();
    anyhow::ensure!(
        leaked == 0,
        "{leaked} messages of the dataset are in the shipped test split \
         (data/demo/*-test.jsonl), which is never used for training"
    );
    Ok(())
}

fn by_language(examples: &[Example]) -> String {
    Language::ALL
        .iter()
        .map(|l| {
            let n = examples.iter().filter(|e| e.language == *l).count();
            format!("{l} {n}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
