//! The C ABI driven from Rust: every golden fixture byte for byte, NULL arguments, bad
//! settings, error JSON, buffer ownership, and one handle shared by many threads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use cks_policy::*;
use CksPolicyResult::*;

fn empty() -> CksPolicyBuffer {
    CksPolicyBuffer {
        data: ptr::null_mut(),
        len: 0,
    }
}

/// Takes a buffer's text and frees it.
fn take(mut buf: CksPolicyBuffer) -> String {
    assert!(!buf.data.is_null());
    // SAFETY: the library wrote `len` bytes plus a NUL at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(buf.data.cast::<u8>(), buf.len) };
    let s = String::from_utf8(bytes.to_vec()).unwrap();
    // SAFETY: `data` is NUL-terminated right after `len` bytes.
    assert_eq!(unsafe { *buf.data.add(buf.len) }, 0);
    // SAFETY: a buffer the library wrote, freed once.
    unsafe { cks_policy_buffer_free(&mut buf) };
    assert!(buf.data.is_null());
    s
}

fn new_policy(settings: &[u8]) -> Result<*mut CksPolicy, (CksPolicyResult, String)> {
    let mut p: *mut CksPolicy = ptr::null_mut();
    let mut err = empty();
    // SAFETY: valid pointers for the duration of the call.
    let rc = unsafe { cks_policy_new(settings.as_ptr(), settings.len(), &mut p, &mut err) };
    if rc == CKS_POLICY_OK {
        assert!(err.data.is_null(), "out_error is written only on failure");
        Ok(p)
    } else {
        assert!(p.is_null(), "out_policy is written only on success");
        Err((rc, take(err)))
    }
}

fn evaluate(
    p: *const CksPolicy,
    source: Option<&str>,
    input: &[u8],
    context: &[u8],
) -> Result<String, (CksPolicyResult, String)> {
    let source = source.map(|s| CString::new(s).unwrap());
    let mut out = empty();
    let mut err = empty();
    // SAFETY: valid pointers for the duration of the call.
    let rc = unsafe {
        cks_policy_evaluate(
            p,
            source.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            input.as_ptr(),
            input.len(),
            context.as_ptr(),
            context.len(),
            &mut out,
            &mut err,
        )
    };
    if rc == CKS_POLICY_OK {
        Ok(take(out))
    } else {
        assert!(out.data.is_null());
        Err((rc, take(err)))
    }
}

#[test]
fn every_fixture_matches_expected_byte_for_byte() {
    let cases = cks_policy_tests::cases();
    assert!(!cases.is_empty(), "no fixture cases found");
    let mut failures = Vec::new();
    for case in &cases {
        let Some(expected) = case.expected_pretty() else {
            continue;
        };
        let p = new_policy(&case.settings).unwrap_or_else(|e| panic!("{}: {e:?}", case.name));
        let got = evaluate(p, Some(&case.input_name), &case.input, &case.context).unwrap();
        // SAFETY: live handle, freed once.
        unsafe { cks_policy_free(p) };
        if got != cks_policy_tests::minify(&expected) {
            failures.push(case.name.clone());
        }
    }
    assert!(failures.is_empty(), "cases differ: {failures:?}");
}

fn fits(
    p: *const CksPolicy,
    pod: &[u8],
    nodes: &[u8],
) -> Result<String, (CksPolicyResult, String)> {
    fits_with_pods(p, pod, nodes, None)
}

/// `cks_policy_fits` without pods, `cks_policy_fits_with_pods` with them.
fn fits_with_pods(
    p: *const CksPolicy,
    pod: &[u8],
    nodes: &[u8],
    pods: Option<&[u8]>,
) -> Result<String, (CksPolicyResult, String)> {
    let mut out = empty();
    let mut err = empty();
    // SAFETY: valid pointers for the duration of the call.
    let rc = unsafe {
        match pods {
            None => cks_policy_fits(
                p,
                pod.as_ptr(),
                pod.len(),
                nodes.as_ptr(),
                nodes.len(),
                &mut out,
                &mut err,
            ),
            Some(pods) => cks_policy_fits_with_pods(
                p,
                pod.as_ptr(),
                pod.len(),
                nodes.as_ptr(),
                nodes.len(),
                pods.as_ptr(),
                pods.len(),
                &mut out,
                &mut err,
            ),
        }
    };
    if rc == CKS_POLICY_OK {
        Ok(take(out))
    } else {
        assert!(out.data.is_null());
        Err((rc, take(err)))
    }
}

/// `fixtures/fits/<name>/{pod.yaml,nodes.yaml,settings.json?,expected.json}`, byte for byte.
/// A case's `pods.yaml` (pods already running) goes through `cks_policy_fits_with_pods`.
#[test]
fn every_fits_fixture_matches_expected_byte_for_byte() {
    let dir = cks_policy_tests::root().join("fixtures/fits");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let d = e.unwrap().path();
        if !d.is_dir() {
            continue;
        }
        let settings = std::fs::read(d.join("settings.json")).unwrap_or_default();
        let p = new_policy(&settings).unwrap();
        let pods = std::fs::read(d.join("pods.yaml")).ok();
        let got = fits_with_pods(
            p,
            &std::fs::read(d.join("pod.yaml")).unwrap(),
            &std::fs::read(d.join("nodes.yaml")).unwrap(),
            pods.as_deref(),
        )
        .unwrap();
        let expected = std::fs::read_to_string(d.join("expected.json")).unwrap();
        assert_eq!(got, cks_policy_tests::minify(&expected), "{}", d.display());
        // SAFETY: live handle, freed once.
        unsafe { cks_policy_free(p) };
        n += 1;
    }
    assert!(n > 0, "no fits fixtures");
}

#[test]
fn fits_rejects_what_it_cannot_read() {
    let p = new_policy(b"").unwrap();
    let pod = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n";
    let (rc, msg) = fits(
        p,
        pod,
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_INPUT);
    assert!(msg.contains("nodes document 0"), "{msg}");
    let (rc, msg) = fits(p, b"kind: [", b"").unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_INPUT);
    assert!(msg.contains("pod"), "{msg}");
    let (rc, msg) = fits_with_pods(
        p,
        pod,
        b"",
        Some(b"apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"),
    )
    .unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_INPUT);
    assert!(msg.contains("pods document 0"), "{msg}");
    // Empty pods text: no running pods, the same answer as without pods.
    assert_eq!(fits_with_pods(p, pod, b"", Some(b"")), fits(p, pod, b""));
    let mut out = empty();
    // SAFETY: NULL pods with a non-zero length is refused before it is read.
    let rc = unsafe {
        cks_policy_fits_with_pods(
            p,
            pod.as_ptr(),
            pod.len(),
            ptr::null(),
            0,
            ptr::null(),
            3,
            &mut out,
            ptr::null_mut(),
        )
    };
    assert_eq!(rc, CKS_POLICY_NULL_ARGUMENT);
    // SAFETY: live handle, freed once.
    unsafe { cks_policy_free(p) };
}

#[test]
fn evaluate_equals_core_check() {
    let input = b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx}\n";
    let p = new_policy(b"").unwrap();
    let got = evaluate(p, Some("pod.yaml"), input, b"").unwrap();
    let policy = policy_core::Policy::from_slice(b"").unwrap();
    let want = policy_core::check(
        &policy,
        Some("pod.yaml"),
        input,
        &policy_core::Context::default(),
    )
    .to_json();
    assert_eq!(got, want);
    // No source: `null` in every result.
    let got = evaluate(p, None, input, b"").unwrap();
    assert!(got.contains(r#""source":null"#), "{got}");
    // SAFETY: live handle, freed once.
    unsafe { cks_policy_free(p) };
}

#[test]
fn bad_settings_list_every_problem() {
    let (rc, err) =
        new_policy(br#"{"mdoe": "enforce", "images": {"allow": ["[bad"]}}"#).unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_SETTINGS);
    let v: serde_json::Value = serde_json::from_str(&err).unwrap();
    let problems = v["problems"].as_array().unwrap();
    let want = match policy_core::Policy::from_slice(
        br#"{"mdoe": "enforce", "images": {"allow": ["[bad"]}}"#,
    ) {
        Err(e) => e.problems().len(),
        Ok(_) => panic!("settings should not validate"),
    };
    assert_eq!(problems.len(), want);
    assert!(problems.len() >= 2, "{err}");
    for p in problems {
        assert!(p["path"].is_string() && p["message"].is_string(), "{p}");
    }
    // Not even JSON.
    let (rc, _) = new_policy(b"{").unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_SETTINGS);
    // A NULL out_error is allowed: the code alone.
    let mut p: *mut CksPolicy = ptr::null_mut();
    // SAFETY: valid pointers; out_error NULL is documented.
    let rc = unsafe { cks_policy_new(b"{".as_ptr(), 1, &mut p, ptr::null_mut()) };
    assert_eq!(rc, CKS_POLICY_INVALID_SETTINGS);
    assert!(p.is_null());
}

#[test]
fn null_arguments_are_rejected() {
    let mut p: *mut CksPolicy = ptr::null_mut();
    let mut err = empty();
    // SAFETY: each call passes NULL where the contract allows checking it.
    unsafe {
        assert_eq!(
            cks_policy_new(ptr::null(), 0, ptr::null_mut(), &mut err),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert!(take(err).contains("out_policy"));
        assert_eq!(
            cks_policy_new(ptr::null(), 3, &mut p, ptr::null_mut()),
            CKS_POLICY_NULL_ARGUMENT
        );
        // (NULL, 0) settings are the defaults.
        assert_eq!(
            cks_policy_new(ptr::null(), 0, &mut p, ptr::null_mut()),
            CKS_POLICY_OK
        );
    }
    let mut out = empty();
    let mut err = empty();
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            cks_policy_evaluate(
                ptr::null(),
                ptr::null(),
                ptr::null(),
                0,
                ptr::null(),
                0,
                &mut out,
                &mut err
            ),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert!(take(err).contains("`policy`"));
        assert_eq!(
            cks_policy_evaluate(
                p,
                ptr::null(),
                ptr::null(),
                0,
                ptr::null(),
                0,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert_eq!(
            cks_policy_evaluate(
                p,
                ptr::null(),
                ptr::null(),
                5,
                ptr::null(),
                0,
                &mut out,
                ptr::null_mut()
            ),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert_eq!(
            cks_policy_review(
                p,
                ptr::null(),
                0,
                ptr::null(),
                0,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert_eq!(
            cks_policy_review(
                ptr::null(),
                ptr::null(),
                0,
                ptr::null(),
                0,
                &mut out,
                ptr::null_mut()
            ),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert_eq!(
            cks_policy_fits(
                p,
                ptr::null(),
                0,
                ptr::null(),
                0,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert_eq!(cks_policy_rules(ptr::null_mut()), CKS_POLICY_NULL_ARGUMENT);
        assert_eq!(
            cks_policy_settings_schema(ptr::null_mut()),
            CKS_POLICY_NULL_ARGUMENT
        );
        assert!(out.data.is_null(), "nothing written on failure");
        // Frees of NULL are no-ops.
        cks_policy_buffer_free(ptr::null_mut());
        cks_policy_buffer_free(&mut out);
        cks_policy_free(ptr::null_mut());
        cks_policy_free(p);
    }
}

#[test]
fn bad_source_and_context() {
    let p = new_policy(b"{}").unwrap();
    let mut out = empty();
    let mut err = empty();
    let bad: &[u8] = b"\xff\xfe\0";
    // SAFETY: valid pointers; `bad` is NUL-terminated.
    let rc = unsafe {
        cks_policy_evaluate(
            p,
            bad.as_ptr().cast::<c_char>(),
            b"{}".as_ptr(),
            2,
            ptr::null(),
            0,
            &mut out,
            &mut err,
        )
    };
    assert_eq!(rc, CKS_POLICY_INVALID_UTF8);
    assert!(take(err).contains("UTF-8"));
    let (rc, msg) = evaluate(p, None, b"{}", br#"{"namespaces": 3}"#).unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_CONTEXT);
    // The core's words, as every surface says them.
    assert!(msg.contains(r#""message":"invalid context: "#), "{msg}");
    // Unreadable input is a finding, not an error code.
    let report = evaluate(p, Some("x"), b"\xff", b"").unwrap();
    assert!(report.contains("input-invalid"), "{report}");
    // SAFETY: live handle, freed once.
    unsafe { cks_policy_free(p) };
}

fn review(p: *const CksPolicy, input: &[u8]) -> Result<String, (CksPolicyResult, String)> {
    let mut out = empty();
    let mut err = empty();
    // SAFETY: valid pointers for the duration of the call.
    let rc = unsafe {
        cks_policy_review(
            p,
            input.as_ptr(),
            input.len(),
            ptr::null(),
            0,
            &mut out,
            &mut err,
        )
    };
    if rc == CKS_POLICY_OK {
        Ok(take(out))
    } else {
        Err((rc, take(err)))
    }
}

#[test]
fn review_answers_an_admission_review() {
    let p = new_policy(b"").unwrap();
    let input = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"abc-123","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}"#;
    let got = review(p, input).unwrap();
    let policy = policy_core::Policy::from_slice(b"").unwrap();
    let want = serde_json::to_string(
        &policy_core::review(&policy, input, &policy_core::Context::default()).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    assert!(got.contains(r#""uid":"abc-123""#));
    let (rc, msg) = review(p, b"[1,2]").unwrap_err();
    assert_eq!(rc, CKS_POLICY_INVALID_INPUT);
    assert!(!msg.is_empty());
    // SAFETY: live handle, freed once.
    unsafe { cks_policy_free(p) };
}

#[test]
fn rules_schema_version_and_names() {
    let mut out = empty();
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { cks_policy_rules(&mut out) }, CKS_POLICY_OK);
    let rules: serde_json::Value = serde_json::from_str(&take(out)).unwrap();
    assert_eq!(rules.as_array().unwrap().len(), policy_core::rules().len());
    let mut out = empty();
    // SAFETY: valid out pointer.
    let rc = unsafe { cks_policy_settings_schema(&mut out) };
    assert_eq!(rc, CKS_POLICY_OK);
    assert_eq!(take(out), policy_core::settings_schema());
    // SAFETY: static strings.
    unsafe {
        assert_eq!(
            CStr::from_ptr(cks_policy_version()).to_str().unwrap(),
            policy_core::VERSION
        );
        assert_eq!(
            CStr::from_ptr(cks_policy_result_name(7006))
                .to_str()
                .unwrap(),
            "CKS_POLICY_PANIC"
        );
        assert_eq!(
            CStr::from_ptr(cks_policy_result_name(0)).to_str().unwrap(),
            "CKS_POLICY_OK"
        );
        assert_eq!(
            CStr::from_ptr(cks_policy_result_name(42)).to_str().unwrap(),
            "CKS_POLICY_UNKNOWN"
        );
    }
}

struct Shared(*mut CksPolicy);
// SAFETY: the handle is Send + Sync (immutable policy); this test shares it by pointer as C would.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    fn get(&self) -> *mut CksPolicy {
        self.0
    }
}

#[test]
fn one_handle_many_threads() {
    let p = Shared(new_policy(b"").unwrap());
    let input = b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx}\n";
    let want = evaluate(p.0, Some("t"), input, b"").unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..200 {
                    assert_eq!(evaluate(p.get(), Some("t"), input, b"").unwrap(), want);
                }
            });
        }
    });
    // SAFETY: every thread has joined; freed once.
    unsafe { cks_policy_free(p.0) };
}

/// `cks_policy_audit` is `policy_core::audit` byte for byte: existing state, no change rules.
#[test]
fn audit_judges_existing_state() {
    let p = new_policy(b"{}").unwrap();
    let node = b"apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n  labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n";
    let mut out = empty();
    let mut err = empty();
    // SAFETY: valid pointers for the duration of the call.
    let rc = unsafe {
        cks_policy_audit(
            p,
            ptr::null(),
            node.as_ptr(),
            node.len(),
            ptr::null(),
            0,
            &mut out,
            &mut err,
        )
    };
    assert_eq!(rc, CKS_POLICY_OK);
    let audited = take(out);
    let want = policy_core::audit(
        &policy_core::Policy::default(),
        None,
        node,
        &policy_core::Context::default(),
    )
    .to_json();
    assert_eq!(audited, want);
    assert!(!audited.contains("reserved-node-label") && audited.contains("\"existing\":true"));
    let checked = evaluate(p, None, node, b"").unwrap();
    assert!(checked.contains("reserved-node-label"));
    // SAFETY: a live handle, freed once.
    unsafe { cks_policy_free(p) };
}
