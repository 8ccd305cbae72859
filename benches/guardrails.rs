//! The guardrail engine with criterion: every case of the labelled corpus
//! (`tests/data/guardrails/corpus.jsonl`, es, pt and en) checked against the demo catalog and
//! policy, as one batch per language and one for the whole corpus. Each case builds its
//! context and runs every rule, as the pipeline does for a draft. ns per draft is the batch
//! time over its size.
//!
//!     cargo bench --bench guardrails

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tuesday::catalog::Catalog;
use tuesday::domain::Language;
use tuesday::guardrails::Policy;
use tuesday::guardrails::corpus::{self, Case};

fn guardrails(c: &mut Criterion) {
    let catalog = Catalog::demo().expect("the demo catalog loads");
    let policy = Policy::demo(&catalog).expect("the demo policy loads");
    let text = std::fs::read_to_string("tests/data/guardrails/corpus.jsonl").expect("the guardrail corpus");
    let cases = corpus::parse(&text).expect("the guardrail corpus parses");
    let mut group = c.benchmark_group("guardrails");
    let mut batches: Vec<(String, Vec<&Case>)> = Language::ALL
        .iter()
        .map(|language| {
            let of_language = cases.iter().filter(|case| case.language == *language).collect();
            (language.to_string(), of_language)
        })
        .collect();
    batches.push(("all".to_owned(), cases.iter().collect()));
    for (name, batch) in batches {
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for case in &batch {
                    black_box(corpus::run_case(black_box(case), &catalog, &policy).expect("runs"));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, guardrails);
criterion_main!(benches);
