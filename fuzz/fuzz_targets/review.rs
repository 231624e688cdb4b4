//! The bytes entry point for AdmissionReviews: an answer or an error, never a crash.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use policy_core::{review, Context, Policy};

/// Compiled once per process (see `check.rs`).
static POLICY: OnceLock<Policy> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let policy = POLICY.get_or_init(Policy::default);
    let _ = review(policy, data, &Context::default());
});
