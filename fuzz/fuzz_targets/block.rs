//! Differential: whatever YAML the block reader (`policy-core/src/read/block.rs`) reads, it
//! reads exactly as yaml-rust2 does; what it does not read it leaves to yaml-rust2.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (fast, full) = policy_core::yaml::read_both(text);
    if let Some(fast) = fast {
        assert_eq!(fast, full, "the block reader and yaml-rust2 disagree on {text:?}");
    }
});
