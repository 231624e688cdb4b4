//! bytes → verdict on the shared bench inputs, beside the parse floor
//! (`serde_json::from_slice::<Value>` of the same bytes) in the same run.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use policy_core::{Context, Policy};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-inputs");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .expect("shared/bench-inputs beside the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn bench(c: &mut Criterion) {
    let policy = Policy::default();
    let ctx = Context::default();
    for (name, bytes) in inputs() {
        let mut g = c.benchmark_group(&name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("parse_value_floor", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap())
        });
        g.bench_function("evaluate_request", |b| {
            b.iter(|| policy_core::evaluate_request(&policy, black_box(&bytes), &ctx).unwrap())
        });
        g.bench_function("review_response", |b| {
            b.iter(|| policy_core::review(&policy, black_box(&bytes), &ctx).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
