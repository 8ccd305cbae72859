//! `tuesday langid-bench`: Tuesday's language detector against whatlang alone and lingua alone,
//! on the shared lingua test files and on our own chat set. Run it on a release build.

use crate::eval::langid::{self, Contender, SampleSet, SetScore};
use crate::pipeline::language::{self, Detector, Method};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LangidBenchArgs {
    /// Folder of the shared test files (`es-single-words.txt` …): a sibling of the checkout.
    #[arg(long, default_value = "../shared/data/langid")]
    pub data: PathBuf,
    /// Our WhatsApp-style set, `language<TAB>text` a line.
    #[arg(long, default_value = "data/langid/chat.tsv")]
    pub chat: PathBuf,
    /// Timed passes over each set; the fastest counts.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Print the scores as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &LangidBenchArgs) -> anyhow::Result<()> {
    let shared = langid::read_shared(&args.data)?;
    let chat_source = std::fs::read_to_string(&args.chat)
        .with_context(|| format!("while reading {}", args.chat.display()))?;
    let chat =
        langid::read_tsv("chat", &chat_source).with_context(|| format!("in {}", args.chat.display()))?;

    let tuesday = Detector::new();
    let whatlang = language::whatlang_allowlist();
    let lingua = language::lingua_three();
    let ours = |t: &str| Some(tuesday.detect(t, None, None).language);
    let whatlang_alone = |t: &str| whatlang.detect_lang(t).map(language::from_whatlang);
    let lingua_alone = |t: &str| lingua.detect_language_of(t).and_then(language::from_lingua);
    let contenders = [
        Contender {
            name: "tuesday",
            detect: &ours,
        },
        Contender {
            name: "whatlang",
            detect: &whatlang_alone,
        },
        Contender {
            name: "lingua",
            detect: &lingua_alone,
        },
    ];
    let shared_scores = langid::run(&shared, &contenders, args.passes);
    let chat_scores = langid::run(&chat, &contenders, args.passes);
    let paths = method_shares(&tuesday, shared.iter().chain(&chat));

    if args.json {
        let report = serde_json::json!({
            "shared": shared_scores,
            "chat": chat_scores,
            "tuesday_methods": paths,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    if cfg!(debug_assertions) {
        println!("warning: a debug build; timings mean little (use cargo run --release)\n");
    }
    let names: Vec<&str> = contenders.iter().map(|c| c.name).collect();
    println!(
        "Shared data ({}), best of {} passes:",
        args.data.display(),
        args.passes
    );
    print_table(&names, &shared_scores, "all shared");
    println!("\nChat set ({}):", args.chat.display());
    print_table(&names, &chat_scores, "all chat");
    println!("\nSpeed-up of tuesday over lingua (lingua ns / tuesday ns):");
    for kind in langid::SHARED_KINDS {
        let of = |name: &str| {
            langid::totals(
                shared_scores
                    .iter()
                    .filter(|s| s.detector == name && s.set.ends_with(kind)),
            )
            .1
        };
        println!("  {kind:<14} {:>6.1}x", of("lingua") / of("tuesday"));
    }
    let all = |name: &str| langid::totals(shared_scores.iter().filter(|s| s.detector == name)).1;
    println!("  {:<14} {:>6.1}x", "all shared", all("lingua") / all("tuesday"));
    println!("\nHow tuesday decided (share of messages per set):");
    for (set, methods) in &paths {
        let parts: Vec<String> = methods
            .iter()
            .map(|(m, share)| format!("{m} {:.1}%", share * 100.0))
            .collect();
        println!("  {set:<18} {}", parts.join(", "));
    }
    Ok(())
}

fn print_table(names: &[&str], scores: &[SetScore], total_label: &str) {
    let mut header = format!("  {:<18} {:>5}", "set", "n");
    for name in names {
        header.push_str(&format!(" {:>9}", format!("{name} %")));
    }
    for name in names {
        header.push_str(&format!(" {:>11}", format!("{name} ns")));
    }
    println!("{header}");
    let mut sets: Vec<&str> = Vec::new();
    for score in scores {
        if !sets.contains(&score.set.as_str()) {
            sets.push(&score.set);
        }
    }
    let row = |label: &str, pick: &dyn Fn(&SetScore) -> bool| {
        let mut line = String::new();
        let mut times = String::new();
        let mut messages = 0;
        for name in names {
            let (accuracy, ns) = langid::totals(scores.iter().filter(|s| s.detector == *name && pick(s)));
            messages = scores
                .iter()
                .filter(|s| s.detector == *name && pick(s))
                .map(|s| s.messages)
                .sum();
            line.push_str(&format!(" {:>9.1}", accuracy * 100.0));
            times.push_str(&format!(" {ns:>11.0}"));
        }
        println!("  {label:<18} {messages:>5}{line}{times}");
    };
    for set in &sets {
        row(set, &|s: &SetScore| s.set == *set);
    }
    row(total_label, &|_: &SetScore| true);
}

/// For each set, the share of messages each of tuesday's methods decided.
fn method_shares<'a>(
    detector: &Detector,
    sets: impl Iterator<Item = &'a SampleSet>,
) -> BTreeMap<String, Vec<(String, f64)>> {
    let mut out = BTreeMap::new();
    for set in sets {
        let mut counts: Vec<(Method, usize)> = Vec::new();
        for text in &set.texts {
            let method = detector.detect(text, None, None).method;
            match counts.iter_mut().find(|(m, _)| *m == method) {
                Some(entry) => entry.1 += 1,
                None => counts.push((method, 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        let total = set.texts.len().max(1) as f64;
        out.insert(
            set.name.clone(),
            counts
                .into_iter()
                .map(|(m, n)| (format!("{m:?}").to_lowercase(), n as f64 / total))
                .collect(),
        );
    }
    out
}
