//! A panic inside an export is caught at the boundary and reported as `CKS_POLICY_PANIC`.
//! Runs only with `--features test-panic` (the export does not exist otherwise).
#![cfg(feature = "test-panic")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ptr;

use cks_policy::{cks_policy_buffer_free, cks_policy_test_panic, CksPolicyBuffer, CksPolicyResult};

#[test]
fn panic_becomes_an_error_code() {
    let mut err = CksPolicyBuffer {
        data: ptr::null_mut(),
        len: 0,
    };
    // SAFETY: valid out pointer.
    let rc = unsafe { cks_policy_test_panic(&mut err) };
    assert_eq!(rc, CksPolicyResult::CKS_POLICY_PANIC);
    // SAFETY: the library wrote `len` bytes at `data`.
    let text = unsafe { std::slice::from_raw_parts(err.data.cast::<u8>(), err.len) };
    let text = String::from_utf8(text.to_vec()).unwrap();
    assert!(text.contains("deliberate panic"), "{text}");
    assert!(text.contains("cks_policy_test_panic"), "{text}");
    // SAFETY: a buffer the library wrote, freed once.
    unsafe { cks_policy_buffer_free(&mut err) };
    // And again with no error buffer: still a code, still no abort.
    // SAFETY: NULL out_error is allowed.
    let rc = unsafe { cks_policy_test_panic(ptr::null_mut()) };
    assert_eq!(rc, CksPolicyResult::CKS_POLICY_PANIC);
}
