//! Language detection with criterion: each set of the shared language-ID data (1,000 texts per
//! language and length) and each language of our chat set (`data/langid/chat.tsv`) is one
//! batch; criterion's throughput line gives messages per second, and ns per message is the
//! batch time over its size. `TUESDAY_LANGID_DATA` points at the shared data (default
//! `../shared/data/langid`); without it, only the chat set runs.
//!
//!     cargo bench --bench langid

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;
use tuesday::eval::langid::{SampleSet, read_shared, read_tsv};
use tuesday::pipeline::language::Detector;

fn sets() -> Vec<SampleSet> {
    let shared = std::env::var_os("TUESDAY_LANGID_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/langid"));
    let mut sets = match read_shared(&shared) {
        Ok(sets) => sets,
        Err(e) => {
            eprintln!("shared language-ID data left out: {e:#}");
            Vec::new()
        }
    };
    let chat = std::fs::read_to_string("data/langid/chat.tsv").expect("data/langid/chat.tsv");
    sets.extend(read_tsv("chat", &chat).expect("the chat set parses"));
    sets
}

fn langid(c: &mut Criterion) {
    let detector = Detector::new();
    let mut group = c.benchmark_group("langid");
    for set in sets() {
        group.throughput(Throughput::Elements(set.texts.len() as u64));
        group.bench_function(&set.name, |b| {
            b.iter(|| {
                for text in &set.texts {
                    black_box(detector.detect(black_box(text), None, None));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, langid);
criterion_main!(benches);
