//! The bytes entry point for manifests: any input must yield a report, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_core::{check, Context, Policy};

fuzz_target!(|data: &[u8]| {
    let policy = Policy::default();
    let report = check(&policy, Some("fuzz"), data, &Context::default());
    // Every result is judged; a report is always serializable.
    assert!(!report.to_json().is_empty());
});
