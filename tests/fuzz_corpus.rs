//! Replays every input the fuzzers kept (`fuzz/corpus/<target>/`) and every crash reproducer
//! (`fuzz/regressions/<target>/`) through the same entry points the fuzzers drive, on stable
//! Rust: a crash once found and fixed stays fixed.

use std::path::Path;

fn inputs(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("a corpus file");
            (p.display().to_string(), bytes)
        })
        .collect()
}

#[test]
fn every_kept_fuzz_input_runs_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, run) in tuesday::fuzz::TARGETS {
        let corpus = inputs(&root.join("corpus").join(target));
        assert!(
            corpus.len() >= 5,
            "fuzz/corpus/{target} holds {} inputs; its seeds are missing",
            corpus.len()
        );
        let regressions = inputs(&root.join("regressions").join(target));
        for (path, bytes) in corpus.iter().chain(&regressions) {
            let outcome = std::panic::catch_unwind(|| run(bytes));
            assert!(outcome.is_ok(), "{target} panicked on {path}");
        }
    }
}

/// The corpora hold real traffic the parsers accept, not only inputs refused at the first
/// byte: the fuzzers started from real requests, and minimising keeps the inputs that reach
/// deep into a parser, which valid ones do.
#[test]
fn each_corpus_holds_inputs_its_parser_accepts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let parsed = |target: &str, accept: &dyn Fn(&[u8]) -> bool| {
        let inputs = inputs(&root.join(target));
        let accepted = inputs.iter().filter(|(_, b)| accept(b)).count();
        assert!(
            accepted >= 5,
            "{target}: {accepted} of {} inputs parse; the real requests it started from are missing",
            inputs.len()
        );
    };
    parsed("whatsapp", &|b| {
        tuesday::channels::whatsapp::parse_delivery(b, &["106540352242922".to_owned()]).is_ok()
    });
    parsed("mime", &|b| tuesday::channels::email::parse_mime(b).is_ok());
    parsed("postmark", &|b| {
        tuesday::channels::email::parse_postmark(b).is_ok()
    });
    parsed("twilio", &|b| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(b).is_ok_and(|params| {
            tuesday::channels::twilio::parse_message(&params, 0).is_ok()
                || tuesday::channels::twilio::parse_status(&params, 0).is_ok_and(|s| s.is_some())
        })
    });
}
