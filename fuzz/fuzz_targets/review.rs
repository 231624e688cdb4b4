//! The bytes entry point for AdmissionReviews: an answer or an error, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_core::{review, Context, Policy};

fuzz_target!(|data: &[u8]| {
    let policy = Policy::default();
    let _ = review(&policy, data, &Context::default());
});
