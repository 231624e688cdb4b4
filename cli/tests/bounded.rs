//! Inputs are read with a bound (issue 18, item 3): nothing past `limits.maxBytes` plus one
//! read buffer is ever held, whatever the input is — a huge (sparse) file, `/dev/zero` named on
//! the command line, an endless stdin — and the refusal is one `input-invalid` finding naming
//! the limit while the rest of the batch is judged.
//!
//! Memory is bounded with the address-space limit (`ulimit -v`, which bounds resident memory
//! too): the smallest limit a run on a small file needs is found by bisection, and the runs on
//! huge inputs must succeed within it plus `maxBytes` and 1 MiB; an allocation past it fails
//! and kills the run. No wall-clock time is asserted (`BENCHMARKS.md` has RSS figures).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::scratch;
use serde_json::Value;

const DEFAULT_MAX_BYTES_KIB: u64 = 4 * 1024;
const MIB: u64 = 1024 * 1024;

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `cks-policy args` in `dir` with at most `kib` KiB of address space;
/// with `endless_stdin`, stdin is `y\n` for ever (`yes |`), written until the CLI closes it.
/// Killed after 20 s: a run that never ends is a failure.
fn run_limited(dir: &Path, kib: u64, args: &[&str], endless_stdin: bool) -> Run {
    let limit = kib.to_string();
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -v \"$1\" && shift && exec \"$@\"",
            "sh",
            &limit,
        ])
        .arg(env!("CARGO_BIN_EXE_cks-policy"))
        .args(args)
        .current_dir(dir)
        .stdin(if endless_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            let block = b"y\n".repeat(32 * 1024);
            // Ends when the CLI exits (broken pipe).
            while stdin.write_all(&block).is_ok() {}
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("cks-policy {args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if let Some(w) = writer {
        w.join().unwrap();
    }
    Run {
        code: status.code(),
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// A run capped at 512 MiB of address space: a CLI that reads without a bound fails here
/// quickly instead of taking the machine's memory.
fn run(dir: &Path, args: &[&str], endless_stdin: bool) -> Run {
    run_limited(dir, 512 * 1024, args, endless_stdin)
}

/// The smallest address-space limit (KiB, to 128 KiB) under which `args` exit with `code`.
fn smallest_limit(dir: &Path, args: &[&str], code: i32) -> u64 {
    let (mut lo, mut hi) = (1024, 1024 * 1024);
    let r = run_limited(dir, hi, args, false);
    assert_eq!(r.code, Some(code), "{args:?} under 1 GiB: {}", r.stderr);
    while hi - lo > 128 {
        let mid = (lo + hi) / 2;
        if run_limited(dir, mid, args, false).code == Some(code) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

fn report(r: &Run) -> Value {
    serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

/// The single `input-invalid` message of the result for `source`: its only finding.
fn refusal(v: &Value, source: &str) -> String {
    let message = common::invalid(v, source);
    let findings = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == source)
        .map(|r| r["findings"].as_array().unwrap().len());
    assert_eq!(findings, Some(1), "{v}");
    message
}

fn judged_clean(v: &Value, source: &str) -> bool {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["source"] == source && r["kind"] == "Pod" && r["allowed"] == true)
}

/// A 1 GiB sparse file, `/dev/zero` and an endless stdin are each refused with the limit
/// named, within `maxBytes` + 1 MiB of the memory judging one small file takes.
#[test]
fn huge_and_endless_inputs_are_refused_within_max_bytes_of_memory() {
    let dir = scratch("bounded");
    std::fs::write(dir.join("pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    let big = std::fs::File::create(dir.join("big.yaml")).unwrap();
    big.set_len(1024 * MIB).unwrap();
    drop(big);
    let small = smallest_limit(&dir, &["check", "--format", "json", "pod.yaml"], 0);
    let bound = small + DEFAULT_MAX_BYTES_KIB + 1024;

    let r = run_limited(
        &dir,
        bound,
        &["check", "--format", "json", "big.yaml", "pod.yaml"],
        false,
    );
    assert_eq!(
        r.code,
        Some(1),
        "1 GiB file within {bound} KiB: {}",
        r.stderr
    );
    let v = report(&r);
    assert_eq!(
        refusal(&v, "big.yaml"),
        "input is 1073741824 bytes, above the limit of 4194304 (`limits.maxBytes`)"
    );
    assert!(judged_clean(&v, "pod.yaml"), "the rest is judged: {v}");

    // A device named on the command line is read, at the default limit: 4 MiB and one read.
    let r = run_limited(
        &dir,
        bound,
        &["check", "--format", "json", "/dev/zero", "pod.yaml"],
        false,
    );
    assert_eq!(
        r.code,
        Some(1),
        "/dev/zero within {bound} KiB: {}",
        r.stderr
    );
    let v = report(&r);
    assert!(refusal(&v, "/dev/zero").starts_with(
        "input is more than 4194304 bytes, above the limit of 4194304 (`limits.maxBytes`)"
    ));
    assert!(judged_clean(&v, "pod.yaml"), "{v}");

    // `yes | cks-policy audit -` under the default limit, then `check -` under a small one.
    let r = run_limited(&dir, bound, &["audit", "--format", "json", "-"], true);
    assert_eq!(r.code, Some(1), "stdin within {bound} KiB: {}", r.stderr);
    assert!(refusal(&report(&r), "-").starts_with("input is more than 4194304 bytes"));
    std::fs::write(dir.join("small.yaml"), "limits: {maxBytes: 1000}\n").unwrap();
    let r = run(
        &dir,
        &["check", "--settings", "small.yaml", "--format", "json", "-"],
        true,
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(refusal(&report(&r), "-")
        .starts_with("input is more than 1000 bytes, above the limit of 1000 (`limits.maxBytes`)"));
}

/// Every other input has its bound too: `review`, `fits` (pod, nodes, pods) and `--context` at
/// `limits.maxBytes`, `--settings` at a fixed 4 MiB (settings are read before the limits).
/// Each is a usage error (exit 2) naming the input and the limit.
#[test]
fn review_fits_context_and_settings_are_read_with_a_bound() {
    let dir = scratch("bounded-other");
    std::fs::write(dir.join("small.yaml"), "limits: {maxBytes: 1000}\n").unwrap();
    std::fs::write(dir.join("pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["review", "/dev/zero"],
            "`/dev/zero`: input is more than 1000 bytes",
        ),
        (&["review", "-"], "`-`: input is more than 1000 bytes"),
        (
            &["fits", "--nodes", "/dev/zero", "pod.yaml"],
            "nodes `/dev/zero`: input is more than 1000 bytes",
        ),
        (
            &[
                "fits",
                "--nodes",
                "pod.yaml",
                "--pods",
                "/dev/zero",
                "pod.yaml",
            ],
            "pods `/dev/zero`: input is more than 1000",
        ),
        (
            &["fits", "--nodes", "pod.yaml", "/dev/zero"],
            "`/dev/zero`: input is more than 1000 bytes",
        ),
        (
            &["check", "--context", "/dev/zero", "pod.yaml"],
            "context `/dev/zero`: input is more than 1000 bytes",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["--settings", "small.yaml"];
        all.splice(0..0, args[..1].iter().copied());
        all.extend_from_slice(&args[1..]);
        let stdin = args.contains(&"-");
        let r = run(&dir, &all, stdin);
        assert_eq!(r.code, Some(2), "{all:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{all:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("(`limits.maxBytes`)"),
            "{all:?}: {}",
            r.stderr
        );
    }
    let settings = std::fs::File::create(dir.join("huge.yaml")).unwrap();
    settings.set_len(64 * MIB).unwrap();
    drop(settings);
    let r = run(
        &dir,
        &["check", "--settings", "huge.yaml", "pod.yaml"],
        false,
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("settings `huge.yaml` are above the limit of 4194304 bytes for a settings file (67108864 bytes)"),
        "{}",
        r.stderr
    );
    let r = run(
        &dir,
        &["check", "--settings", "/dev/zero", "pod.yaml"],
        false,
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("above the limit of 4194304 bytes for a settings file"),
        "{}",
        r.stderr
    );
}
