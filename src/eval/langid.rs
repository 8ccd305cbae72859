//! The language-ID benchmark: accuracy per labelled set and time per message, for any number
//! of detectors, on the same samples in the same order.

use crate::domain::Language;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// One labelled set: a file of the shared data (`es-word-pairs`) or one language of the chat set.
#[derive(Debug, Clone)]
pub struct SampleSet {
    pub name: String,
    pub language: Language,
    pub texts: Vec<String>,
}

/// A detector under test: its name and how it answers.
pub struct Contender<'a> {
    pub name: &'a str,
    pub detect: &'a dyn Fn(&str) -> Option<Language>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetScore {
    pub set: String,
    pub detector: String,
    pub messages: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Wall-clock time per message, the best of `passes` timed passes.
    pub ns_per_message: f64,
}

/// Runs every contender on every set. Each timing is the fastest of `passes` full passes, after
/// one untimed pass that also counts the correct answers (and warms caches and lazy models).
pub fn run(sets: &[SampleSet], contenders: &[Contender<'_>], passes: usize) -> Vec<SetScore> {
    let mut scores = Vec::new();
    for set in sets {
        for contender in contenders {
            let correct = set
                .texts
                .iter()
                .filter(|t| (contender.detect)(t) == Some(set.language))
                .count();
            let mut best = f64::INFINITY;
            for _ in 0..passes.max(1) {
                let start = Instant::now();
                for text in &set.texts {
                    std::hint::black_box((contender.detect)(std::hint::black_box(text)));
                }
                best = best.min(start.elapsed().as_nanos() as f64);
            }
            let messages = set.texts.len();
            scores.push(SetScore {
                set: set.name.clone(),
                detector: contender.name.to_owned(),
                messages,
                correct,
                accuracy: ratio(correct, messages),
                ns_per_message: best / messages.max(1) as f64,
            });
        }
    }
    scores
}

/// The three files per language of the shared language-ID data, shortest texts first.
pub const SHARED_KINDS: [&str; 3] = ["single-words", "word-pairs", "sentences"];

/// Reads the shared language-ID data: `<language>-<kind>.txt` in `dir`, one text a line.
pub fn read_shared(dir: &Path) -> anyhow::Result<Vec<SampleSet>> {
    let mut sets = Vec::new();
    for language in Language::ALL {
        for kind in SHARED_KINDS {
            let path = dir.join(format!("{language}-{kind}.txt"));
            let source = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "while reading {} (pass --data to point at the shared langid folder)",
                    path.display()
                )
            })?;
            sets.push(SampleSet {
                name: format!("{language}-{kind}"),
                language,
                texts: source
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
        }
    }
    Ok(sets)
}

/// Reads `language<TAB>text` lines into one set per language, named `<prefix>-<language>`.
/// Blank lines and lines starting with `#` are skipped; anything else malformed is an error
/// naming its line.
pub fn read_tsv(prefix: &str, source: &str) -> anyhow::Result<Vec<SampleSet>> {
    let mut sets: Vec<SampleSet> = Language::ALL
        .iter()
        .map(|language| SampleSet {
            name: format!("{prefix}-{language}"),
            language: *language,
            texts: Vec::new(),
        })
        .collect();
    for (n, line) in source.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (code, text) = line
            .split_once('\t')
            .ok_or_else(|| anyhow::anyhow!("line {}: expected language<TAB>text", n + 1))?;
        let language: Language = code.parse().map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?;
        anyhow::ensure!(!text.trim().is_empty(), "line {}: empty text", n + 1);
        if let Some(set) = sets.iter_mut().find(|s| s.language == language) {
            set.texts.push(text.to_owned());
        }
    }
    Ok(sets)
}

/// Correct answers over all `sets`, and the mean time per message weighted by set size.
pub fn totals<'a>(scores: impl Iterator<Item = &'a SetScore>) -> (f64, f64) {
    let (mut messages, mut correct, mut nanos) = (0, 0, 0.0);
    for score in scores {
        messages += score.messages;
        correct += score.correct;
        nanos += score.ns_per_message * score.messages as f64;
    }
    (ratio(correct, messages), nanos / messages.max(1) as f64)
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_each_contender_on_each_set() {
        let sets = vec![SampleSet {
            name: "toy".into(),
            language: Language::Pt,
            texts: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        }];
        let always_pt = |_: &str| Some(Language::Pt);
        let only_a = |t: &str| (t == "a").then_some(Language::Pt);
        let contenders = [
            Contender {
                name: "pt",
                detect: &always_pt,
            },
            Contender {
                name: "a",
                detect: &only_a,
            },
        ];
        let scores = run(&sets, &contenders, 1);
        assert_eq!(scores.len(), 2);
        assert_eq!((scores[0].correct, scores[0].accuracy), (4, 1.0));
        assert_eq!((scores[1].correct, scores[1].accuracy), (1, 0.25));
        let (accuracy, _) = totals(scores.iter().filter(|s| s.detector == "a"));
        assert_eq!(accuracy, 0.25);
    }

    #[test]
    fn reads_tab_separated_sets_and_names_bad_lines() {
        let sets = read_tsv("chat", "# comment\nes\thola\npt\toi\n\nen\thi\npt\tvaleu\n").expect("parses");
        let sizes: Vec<(String, usize)> = sets.iter().map(|s| (s.name.clone(), s.texts.len())).collect();
        assert_eq!(
            sizes,
            [
                ("chat-es".into(), 1),
                ("chat-pt".into(), 2),
                ("chat-en".into(), 1)
            ]
        );
        let err = read_tsv("chat", "es\thola\nfr\tbonjour\n").expect_err("fr is unknown");
        assert!(err.to_string().starts_with("line 2:"), "{err}");
        let err = read_tsv("chat", "es hola\n").expect_err("no tab");
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }

    #[test]
    fn the_chat_set_is_complete_and_the_detector_keeps_its_level_on_it() {
        let sets = read_tsv("chat", include_str!("../../data/langid/chat.tsv")).expect("parses");
        let detector = crate::pipeline::language::Detector::shared();
        let detect = |t: &str| Some(detector.detect(t, None, None).language);
        let scores = run(
            &sets,
            &[Contender {
                name: "tuesday",
                detect: &detect,
            }],
            1,
        );
        for score in &scores {
            assert!(score.messages >= 100, "{}: {}", score.set, score.messages);
        }
        // 98.3 % when this was written (docs/BENCHMARKS.md); fail on a real regression only.
        let (accuracy, _) = totals(scores.iter());
        assert!(accuracy >= 0.95, "chat-set accuracy fell to {accuracy:.3}");
    }
}
