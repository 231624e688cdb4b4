//! Per-request latency of the Kubewarden module in a wasmtime waPC host, next to the native
//! `policy_core::evaluate_request` on the same AdmissionReviews, in the same run.
//!
//! Two ways to run the module: one instance reused for every request (what `kwctl bench`
//! measures; the module's settings cache hits), and a **fresh instance per request**, as
//! policy-server 1.31 runs a policy (instantiate the pre-compiled module, `wapc_init`,
//! `validate`): the settings are compiled on every request. The fresh-instance cases run with
//! default settings and with the Kubewarden README's example settings
//! (`policy-core/benches/settings/readme.json`). With `CKS_UPSTREAM_WASM` naming another waPC
//! policy (upstream `pod-privileged`, built from source), it runs the same way with `{}`
//! settings, in the same process, for comparison.
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

use cks_policy_kubewarden_host::{compile_module, compiled, Instance, Table};
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

/// The host table for `request`: its namespace is known, as in a cluster that granted the
/// lookup.
fn table_for(request: &Value) -> Table {
    let mut table = Table::default();
    if let Some(ns) = request.get("namespace").and_then(Value::as_str) {
        table.namespaces.insert(ns.to_owned(), Default::default());
    }
    table
}

fn readme_settings() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../policy-core/benches/settings/readme.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn fresh(c: &mut Criterion) {
    let ours = compiled().unwrap();
    let upstream = std::env::var_os("CKS_UPSTREAM_WASM")
        .map(|p| compile_module(std::path::Path::new(&p)).unwrap());
    for (name, bytes) in inputs() {
        let review: Value = serde_json::from_slice(&bytes).unwrap();
        let request = review.get("request").unwrap_or(&review).clone();
        let mut g = c.benchmark_group(format!("{name} fresh instance"));
        // What instantiating costs before any request is judged (the floor of the rows below).
        g.bench_function("cks-policy, instantiate only", |b| {
            b.iter(|| Instance::of(ours, table_for(&request)).unwrap())
        });
        if let Some(up) = &upstream {
            g.bench_function("upstream pod-privileged, instantiate only", |b| {
                b.iter(|| Instance::of(up, Table::default()).unwrap())
            });
        }
        for (label, settings) in [
            ("default settings", json!({})),
            ("README settings", readme_settings()),
        ] {
            let payload =
                serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap();
            // The answer is a real answer, not an error.
            let first = Instance::of(ours, table_for(&request)).unwrap();
            first.validate_raw(&payload).unwrap();
            g.bench_function(format!("cks-policy, {label}"), |b| {
                b.iter(|| {
                    let m = Instance::of(ours, table_for(&request)).unwrap();
                    m.call("validate", black_box(&payload)).unwrap()
                })
            });
        }
        if let Some(up) = &upstream {
            let payload = serde_json::to_vec(&json!({"request": request, "settings": {}})).unwrap();
            let answer: Value = serde_json::from_slice(
                &Instance::of(up, Table::default())
                    .unwrap()
                    .call("validate", &payload)
                    .unwrap(),
            )
            .unwrap();
            assert!(answer.get("accepted").is_some(), "{name}: {answer}");
            g.bench_function("upstream pod-privileged, {} settings", |b| {
                b.iter(|| {
                    let m = Instance::of(up, Table::default()).unwrap();
                    m.call("validate", black_box(&payload)).unwrap()
                })
            });
        }
        g.finish();
    }
}

fn bench(c: &mut Criterion) {
    let settings = json!({});
    let policy = Policy::from_slice(b"{}").unwrap();
    let context = Context::default();
    for (name, bytes) in inputs() {
        let review: Value = serde_json::from_slice(&bytes).unwrap();
        let request = review.get("request").unwrap_or(&review).clone();
        // The host knows the request's namespace, as in a cluster that granted the lookup.
        let module = Instance::new(table_for(&request)).unwrap();
        let payload =
            serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap();
        // Same verdict both ways, so both sides do the same work.
        let (_, verdict) = policy_core::evaluate_request(&policy, &bytes, &context).unwrap();
        let answer = module.validate_raw(&payload).unwrap();
        assert_eq!(answer.accepted, verdict.allowed(), "{name}");

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

criterion_group!(benches, bench, fresh);
criterion_main!(benches);
