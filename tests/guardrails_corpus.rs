//! The guardrails' targets on the labelled corpus (issue 5): 100% recall on prices, opt-out
//! and sending hours, and at least 95% precision overall, in Spanish, Portuguese and English.

use tuesday::catalog::Catalog;
use tuesday::guardrails::{Policy, Verdict, corpus};

const CORPUS: &str = include_str!("data/guardrails/corpus.jsonl");

#[test]
fn the_corpus_meets_the_targets() {
    let catalog = Catalog::demo().expect("the demo catalog loads");
    let policy = Policy::demo(&catalog).expect("the demo policy loads");
    let cases = corpus::parse(CORPUS).expect("the corpus parses");

    assert!(cases.len() >= 300, "{} cases", cases.len());
    let passing = cases.iter().filter(|c| c.expect == Verdict::Pass).count();
    let share = passing as f64 / cases.len() as f64;
    assert!(
        (0.4..=0.6).contains(&share),
        "{passing} of {} should pass",
        cases.len()
    );

    let report = corpus::evaluate(&cases, &catalog, &policy).expect("every case runs");
    let table = report.table();
    for language in ["es", "pt", "en"] {
        let score = report
            .languages
            .iter()
            .find(|s| s.name == language)
            .expect("a language line");
        assert!(score.cases >= 80, "only {} {language} cases", score.cases);
    }
    for rule in ["prices", "opt_out", "sending_hours"] {
        let score = report.rules.iter().find(|s| s.name == rule).expect("a rule line");
        assert!(score.true_positives > 0, "no {rule} cases\n{table}");
        assert_eq!(score.recall(), Some(1.0), "{rule} recall\n{table}");
    }
    let precision = report.overall.precision().expect("something was flagged");
    assert!(precision >= 0.95, "overall precision {precision:.3}\n{table}");
}
