//! The bytes entry point for manifests: any input must yield a report, never a crash.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use policy_core::{audit, check, Context, Policy};

/// Compiled once per process: compiling builds the glob sets, and doing it per input made the
/// target spend nearly all its time there.
static POLICY: OnceLock<Policy> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let policy = POLICY.get_or_init(Policy::default);
    let report = check(policy, Some("fuzz"), data, &Context::default());
    // Every result is judged; a report is always serializable.
    assert!(!report.to_json().is_empty());
    let _ = audit(policy, Some("fuzz"), data, &Context::default());
});
