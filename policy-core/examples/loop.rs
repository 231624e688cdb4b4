//! Runs one operation N times on one input, for instruction counts under
//! `valgrind --tool=callgrind` (repeatable on a noisy machine, unlike wall time).
//!
//! `cargo run --release -p policy-core --example loop -- <parse|evaluate|review|check|compile|policy-default> FILE [N]`
//!
//! `check` judges the bytes as manifest text, as `cks-policy check` does; `compile` compiles
//! FILE as settings (`Policy::from_slice`; an empty file is the defaults); `policy-default`
//! compiles `Settings::default()` with `Policy::new` (FILE is not read).
//!
//! `interleave FILE [ROUNDS]` measures the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) of
//! `parse`, `evaluate` and `review` in turn, each round a batch of about 100 KB of input per
//! operation, and prints each operation's median time per call and its ratio to `parse`:
//! the three share the machine's state, so their ratio holds on a noisy machine.
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
    if op == "interleave" {
        interleave(&policy, &ctx, &bytes, n);
        return;
    }
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

/// The calling thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
fn cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn interleave(policy: &Policy, ctx: &Context, bytes: &[u8], rounds: usize) {
    let batch = (100_000 / bytes.len().max(1)).max(1);
    let ops: [(&str, &dyn Fn()); 3] = [
        ("parse", &|| {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap());
        }),
        ("evaluate", &|| {
            black_box(policy_core::evaluate_request(policy, black_box(bytes), ctx).unwrap());
        }),
        ("review", &|| {
            black_box(policy_core::review(policy, black_box(bytes), ctx).unwrap());
        }),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); ops.len()];
    for round in 0..rounds {
        // Rotate the order so no operation always runs right after another.
        for k in 0..ops.len() {
            let i = (round + k) % ops.len();
            let start = cpu_ns();
            for _ in 0..batch {
                (ops[i].1)();
            }
            times[i].push((cpu_ns() - start) as f64 / batch as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = times.iter_mut().map(median).collect();
    println!("rounds {rounds}, {batch} calls a batch");
    for ((name, _), m) in ops.iter().zip(&medians) {
        println!(
            "{name}: {:.1} us/call, {:.2}x parse",
            m / 1000.0,
            m / medians[0]
        );
    }
}
