//! Per-request latency of the Kubewarden module in a wasmtime waPC host, next to the native
//! `policy_core::evaluate_request` on the same AdmissionReviews, in the same run.
//!
//! Inputs: `../shared/bench-inputs/*.json` from the repository root (override with
//! `CKS_BENCH_INPUTS`). The module: `CKS_KUBEWARDEN_WASM`.
//!
//! ```console
//! CKS_KUBEWARDEN_WASM=$PWD/target/kubewarden/policy.wasm \
//!   cargo bench -p cks-policy-kubewarden-host --features module --bench module -- --warm-up-time 1 --measurement-time 3
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use cks_policy_kubewarden_host::{Instance, Table};
use criterion::{criterion_group, criterion_main, Criterion};
use policy_core::{Context, Policy};
use serde_json::{json, Value};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let dir = std::env::var_os("CKS_BENCH_INPUTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench-inputs")
        });
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no *.json in {}", dir.display());
    out
}

fn bench(c: &mut Criterion) {
    let settings = json!({});
    let policy = Policy::from_slice(b"{}").unwrap();
    let context = Context::default();
    for (name, bytes) in inputs() {
        let review: Value = serde_json::from_slice(&bytes).unwrap();
        let request = review.get("request").unwrap_or(&review).clone();
        // The host knows the request's namespace, as in a cluster that granted the lookup.
        let mut table = Table::default();
        if let Some(ns) = request.get("namespace").and_then(Value::as_str) {
            table.namespaces.insert(ns.to_owned(), Default::default());
        }
        let module = Instance::new(table).unwrap();
        let payload =
            serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap();
        // Same verdict both ways, so both sides do the same work.
        let (_, verdict) = policy_core::evaluate_request(&policy, &bytes, &context).unwrap();
        let answer = module.validate_raw(&payload).unwrap();
        assert_eq!(answer.accepted, verdict.allowed, "{name}");

        let mut g = c.benchmark_group(&name);
        g.bench_function("native evaluate_request", |b| {
            b.iter(|| policy_core::evaluate_request(&policy, black_box(&bytes), &context))
        });
        g.bench_function("kubewarden module (wasmtime)", |b| {
            b.iter(|| module.call("validate", black_box(&payload)).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
