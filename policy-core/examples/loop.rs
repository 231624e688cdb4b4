//! Runs one operation N times on one input, for instruction counts under
//! `valgrind --tool=callgrind` (repeatable on a noisy machine, unlike wall time).
//!
//! `cargo run --release -p policy-core --example loop -- <parse|evaluate|review|check|compile|policy-default> FILE [N]`
//!
//! `check` judges the bytes as manifest text, as `cks-policy check` does; `compile` compiles
//! FILE as settings (`Policy::from_slice`; an empty file is the defaults); `policy-default`
//! compiles `Settings::default()` with `Policy::new` (FILE is not read).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use policy_core::{Context, Policy};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let op = args.get(1).map(String::as_str).unwrap_or("evaluate");
    let path = args.get(2).expect("input file");
    let bytes = if op == "policy-default" {
        Vec::new()
    } else {
        std::fs::read(path).expect("read input")
    };
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let policy = Policy::default();
    let ctx = Context::default();
    for _ in 0..n {
        match op {
            "parse" => {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap());
            }
            "evaluate" => {
                black_box(policy_core::evaluate_request(&policy, black_box(&bytes), &ctx).unwrap());
            }
            "review" => {
                black_box(policy_core::review(&policy, black_box(&bytes), &ctx).unwrap());
            }
            "check" => {
                black_box(policy_core::check(&policy, None, black_box(&bytes), &ctx));
            }
            "compile" => {
                // Refused settings are measured too: their problems are part of the cost.
                let _ = black_box(Policy::from_slice(black_box(&bytes)));
            }
            "policy-default" => {
                black_box(Policy::new(black_box(policy_core::Settings::default())).unwrap());
            }
            other => panic!("unknown op {other}"),
        }
    }
}
