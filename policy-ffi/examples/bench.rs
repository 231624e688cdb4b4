//! Native per-call time of `review` and `check` (with their JSON serialization, as the C ABI
//! returns them) on the bench inputs, for comparison with the Go and Python bindings in the
//! same run (`policy-ffi/bench.sh`).
//!
//! `cargo run -p cks-policy-ffi --profile ffi --example bench -- DIR [SECONDS_PER_CASE]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use policy_core::{check, review, Context, Policy};

/// Best-of-rounds per-call time in microseconds (the least disturbed by other work).
fn per_call_us(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let rounds = 5;
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < budget / rounds || n < 5 {
            f();
            n += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    best
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: bench DIR [SECONDS_PER_CASE]");
    let secs: f64 = args.next().map_or(1.0, |s| s.parse().unwrap());
    let budget = Duration::from_secs_f64(secs);
    let policy = Policy::from_slice(b"").unwrap();
    let ctx = Context::default();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    // An empty input: the core does almost nothing, so a binding's time over this is its
    // per-call overhead.
    let e = per_call_us(budget, || {
        black_box(check(&policy, Some("input.json"), black_box(b""), &ctx).to_json());
    });
    println!("native evaluate (empty) {e:.3}");
    for path in files {
        let input = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let r = per_call_us(budget, || {
            let resp = review(&policy, black_box(&input), &ctx).unwrap();
            black_box(serde_json::to_string(&resp).unwrap());
        });
        println!("native review {name} {r:.2}");
        let c = per_call_us(budget, || {
            black_box(check(&policy, Some("input.json"), black_box(&input), &ctx).to_json());
        });
        println!("native evaluate {name} {c:.2}");
    }
}
