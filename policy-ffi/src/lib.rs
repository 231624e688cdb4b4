//! # cks-policy-ffi
//!
//! The C ABI over [`policy_core`], for Go (cgo, static library) and Python (cffi, shared
//! library). The header `include/cks_policy.h` is generated from this file by a pinned cbindgen
//! and checked in; a test regenerates it and fails on any difference.
//!
//! ## Conventions
//! - Every export returns a [`CksPolicyResult`]; `CKS_POLICY_OK` is 0 and every failure has a
//!   distinctive value (7001…), so a stray integer is never mistaken for one.
//! - Outputs are written only on success. On failure the optional `out_error` receives
//!   `{"problems":[{"path":…,"message":…}]}` (settings problems, or one problem for any other
//!   failure) and the outputs are left untouched.
//! - Every pointer is checked: a NULL required pointer is `CKS_POLICY_NULL_ARGUMENT`. A byte
//!   range given as `(NULL, 0)` is an empty input; `(NULL, n > 0)` is `CKS_POLICY_NULL_ARGUMENT`.
//! - Every export runs inside `catch_unwind`: a panic becomes `CKS_POLICY_PANIC`, never an
//!   abort of the host (the library is built with the workspace `ffi` profile, which unwinds).
//! - Rust allocates and Rust frees: each [`CksPolicyBuffer`] returned goes back through
//!   [`cks_policy_buffer_free`], each handle through [`cks_policy_free`].
//! - A [`CksPolicy`] handle is immutable after [`cks_policy_new`]: it is `Send + Sync`, and any
//!   number of threads may use one handle at once. Only [`cks_policy_free`] needs exclusive
//!   access (no call on that handle may run concurrently with or after it).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use policy_core::call::{self, CallError};
use policy_core::{Judgement, Policy, SettingsProblem};

/// The library version as a NUL-terminated string (equal to `CKS_POLICY_VERSION`).
const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The outcome of every call. `CKS_POLICY_OK` is 0; failures start at 7001.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CksPolicyResult {
    /// Success: the outputs were written.
    CKS_POLICY_OK = 0,
    /// A required pointer was NULL (or a `(NULL, n > 0)` byte range was given).
    CKS_POLICY_NULL_ARGUMENT = 7001,
    /// A C string argument (the source name) is not UTF-8.
    CKS_POLICY_INVALID_UTF8 = 7002,
    /// The settings do not validate; `out_error` lists every problem.
    CKS_POLICY_INVALID_SETTINGS = 7003,
    /// The input cannot be judged at all (e.g. `review` bytes that are not an AdmissionReview).
    /// Unreadable manifests given to `evaluate` are findings, not this code.
    CKS_POLICY_INVALID_INPUT = 7004,
    /// The context JSON does not validate.
    CKS_POLICY_INVALID_CONTEXT = 7005,
    /// The library panicked; the panic was caught at the boundary and the host is unharmed.
    CKS_POLICY_PANIC = 7006,
}

use CksPolicyResult::*;

/// A byte buffer allocated by the library, holding UTF-8 JSON followed by a NUL byte (so `data`
/// is also a C string). `len` does not count the NUL. Release it with
/// [`cks_policy_buffer_free`]; a zeroed buffer (`data == NULL`) is valid to free and is a no-op.
#[repr(C)]
#[derive(Debug)]
pub struct CksPolicyBuffer {
    /// The bytes, NUL-terminated; NULL only for an empty (zeroed) buffer.
    pub data: *mut c_char,
    /// Number of bytes before the terminating NUL.
    pub len: usize,
}

impl CksPolicyBuffer {
    fn from_string(s: String) -> Self {
        let mut bytes = s.into_bytes();
        bytes.push(0);
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len() - 1;
        CksPolicyBuffer {
            data: Box::into_raw(boxed).cast::<c_char>(),
            len,
        }
    }
}

/// A compiled policy: settings validated, globs compiled, tables indexed. Opaque to C.
///
/// Immutable after creation, hence `Send + Sync`: share one handle across threads.
pub struct CksPolicy {
    policy: Policy,
}

// The handle is shared across threads by Go and Python; keep that a compile-time fact.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CksPolicy>();
};

/// Why a call failed: the code and the problems written to `out_error`.
struct Failure {
    code: CksPolicyResult,
    problems: Vec<SettingsProblem>,
}

impl Failure {
    fn new(code: CksPolicyResult, message: impl Into<String>) -> Self {
        Failure {
            code,
            problems: vec![SettingsProblem::new("", message)],
        }
    }

    fn null(argument: &str) -> Self {
        Failure::new(CKS_POLICY_NULL_ARGUMENT, format!("`{argument}` is NULL"))
    }
}

/// `{"problems":[{"path":…,"message":…}]}`, fields in that order (the struct's order; a
/// `json!` map would sort them).
fn problems_json(problems: &[SettingsProblem]) -> String {
    let list = serde_json::to_string(problems).unwrap_or_else(|_| String::from("[]"));
    format!("{{\"problems\":{list}}}")
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| String::from("unknown panic payload"))
}

/// Runs `body` inside the panic boundary, writing `out_error` on failure.
fn guard(
    function: &str,
    out_error: *mut CksPolicyBuffer,
    body: impl FnOnce() -> Result<(), Failure>,
) -> CksPolicyResult {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return CKS_POLICY_OK,
        Ok(Err(f)) => f,
        Err(payload) => Failure::new(
            CKS_POLICY_PANIC,
            format!(
                "internal error in `{function}`: {}",
                panic_message(payload.as_ref())
            ),
        ),
    };
    let code = failure.code;
    if !out_error.is_null() {
        // Building the error text allocates; keep even that inside a boundary.
        let written = catch_unwind(AssertUnwindSafe(|| {
            CksPolicyBuffer::from_string(problems_json(&failure.problems))
        }));
        if let Ok(buf) = written {
            // SAFETY: `out_error` is non-NULL and, by the documented contract, points to a
            // writable `cks_policy_buffer`.
            unsafe { out_error.write(buf) };
        }
    }
    code
}

/// Borrows a `(pointer, length)` byte range from C.
///
/// # Safety
/// `ptr` must be NULL or valid for reads of `len` bytes for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(name))
        };
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            CKS_POLICY_INVALID_INPUT,
            format!("`{name}` length {len} is too large"),
        ));
    }
    // SAFETY: non-NULL, length bounded by isize::MAX, validity guaranteed by the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows the policy behind a handle.
///
/// # Safety
/// `policy` must be NULL or a live handle from [`cks_policy_new`].
unsafe fn policy_ref<'a>(policy: *const CksPolicy) -> Result<&'a Policy, Failure> {
    // SAFETY: the caller guarantees a NULL or live handle.
    unsafe { policy.as_ref() }
        .map(|p| &p.policy)
        .ok_or_else(|| Failure::null("policy"))
}

/// Borrows the optional context JSON for the call layer, which says what it means (`(NULL, 0)`,
/// like any empty or blank text, is no context).
///
/// # Safety
/// As for [`bytes`].
unsafe fn context<'a>(ptr: *const u8, len: usize) -> Result<Option<&'a [u8]>, Failure> {
    // SAFETY: forwarded caller contract.
    unsafe { bytes(ptr, len, "context") }.map(Some)
}

/// The failure of a call the core could not answer: an unreadable context, or bytes that are
/// no AdmissionReview.
fn call_failure(e: CallError) -> Failure {
    let code = match e {
        CallError::Context(_) => CKS_POLICY_INVALID_CONTEXT,
        CallError::Review(_) => CKS_POLICY_INVALID_INPUT,
    };
    Failure::new(code, e.to_string())
}

fn check_out(out: *mut CksPolicyBuffer, name: &str) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(())
    }
}

/// Writes a successful output.
///
/// # Safety
/// `out` must be non-NULL and point to a writable `cks_policy_buffer`.
unsafe fn put(out: *mut CksPolicyBuffer, json: String) {
    // SAFETY: checked non-NULL before the work started; writable by contract.
    unsafe { out.write(CksPolicyBuffer::from_string(json)) };
}

/// The library version, a static NUL-terminated string such as `"0.1.0"` (equal to the
/// `CKS_POLICY_VERSION` macro of the header the program was compiled with, if they match).
///
/// Never fails; the string is static: do not free it.
///
/// Thread safety: may be called from any thread at any time.
#[no_mangle]
pub extern "C" fn cks_policy_version() -> *const c_char {
    VERSION_NUL.as_ptr().cast::<c_char>()
}

/// [`cks_policy_version`] under a name that carries the version,
/// `cks_policy_version_<major>_<minor>_<patch>` (the header's `CKS_POLICY_VERSION_SYMBOL`).
/// A program that calls it through its header's macro fails to link against a library of
/// another version ("undefined reference to `cks_policy_version_0_1_0`") instead of running
/// against a mismatched ABI; the Go package does.
///
/// Thread safety: may be called from any thread at any time.
#[export_name = concat!(
    "cks_policy_version_",
    env!("CARGO_PKG_VERSION_MAJOR"),
    "_",
    env!("CARGO_PKG_VERSION_MINOR"),
    "_",
    env!("CARGO_PKG_VERSION_PATCH")
)]
pub extern "C" fn cks_policy_versioned() -> *const c_char {
    cks_policy_version()
}

/// Compiles settings (JSON or YAML, `settings_len` bytes; empty means the CKS defaults) into a
/// policy handle written to `*out_policy`.
///
/// On `CKS_POLICY_INVALID_SETTINGS`, `*out_error` (when `out_error` is not NULL) receives
/// `{"problems":[{"path":"/images/allow/0","message":"…","line":3},…]}` listing every problem
/// (`line`, the problem's line in the settings text, only when it is found there); free it
/// with [`cks_policy_buffer_free`]. `*out_policy` is written only on success; release the
/// handle with [`cks_policy_free`].
///
/// Thread safety: may be called from any thread; handles are independent.
///
/// # Safety
/// `settings` must be NULL with `settings_len == 0`, or valid for reads of `settings_len`
/// bytes. `out_policy` must point to writable storage for a pointer. `out_error` must be NULL
/// or point to a writable `cks_policy_buffer`.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_new(
    settings: *const u8,
    settings_len: usize,
    out_policy: *mut *mut CksPolicy,
    out_error: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_new", out_error, || {
        if out_policy.is_null() {
            return Err(Failure::null("out_policy"));
        }
        // SAFETY: caller contract above.
        let raw = unsafe { bytes(settings, settings_len, "settings") }?;
        let policy = Policy::from_slice(raw).map_err(|e| Failure {
            code: CKS_POLICY_INVALID_SETTINGS,
            problems: e.problems().to_vec(),
        })?;
        let handle = Box::into_raw(Box::new(CksPolicy { policy }));
        // SAFETY: `out_policy` is non-NULL and writable by contract.
        unsafe { out_policy.write(handle) };
        Ok(())
    })
}

/// Judges manifest text (YAML or JSON, one or many documents, `kind: List`, or an
/// AdmissionReview) and writes the report JSON to `*out_json`: byte for byte the compact JSON
/// of `cks-policy check --format json` (`{"summary":…,"results":[…]}`).
///
/// `source` (NUL-terminated UTF-8, or NULL for none) is echoed as each result's `source`.
/// `context` (JSON, `context_len` bytes; NULL/0 for none) supplies cluster state:
/// `{"namespaces":{"ns":{"label":"value"}},"digests":{"repo:tag":"sha256:…"}}`.
/// Unreadable documents are `input-invalid` findings in the report, not an error code.
/// Free `*out_json` with [`cks_policy_buffer_free`].
///
/// Thread safety: the handle is only read; any number of threads may evaluate with one handle
/// at once.
///
/// # Safety
/// `policy` must be a live handle from [`cks_policy_new`]; `source` NULL or a NUL-terminated
/// string; `input` and `context` NULL with a zero length or valid for reads of their lengths;
/// `out_json` (and `out_error` unless NULL) must point to a writable `cks_policy_buffer`.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_evaluate(
    policy: *const CksPolicy,
    source: *const c_char,
    input: *const u8,
    input_len: usize,
    context: *const u8,
    context_len: usize,
    out_json: *mut CksPolicyBuffer,
    out_error: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_evaluate", out_error, || {
        // SAFETY: the caller's contract above is the one `judge_text` needs.
        unsafe {
            judge_text(
                policy,
                source,
                input,
                input_len,
                context,
                context_len,
                out_json,
                Judgement::Admission,
            )
        }
    })
}

/// Judges manifest text as existing cluster state, as `cks-policy audit --format json` does
/// (what `kubectl get -A -o yaml` prints): change rules do not fire, nothing is patched, and
/// mutations are reported as what CKS admission would have added. Arguments, output, errors,
/// ownership and thread safety are those of [`cks_policy_evaluate`].
///
/// # Safety
/// As for [`cks_policy_evaluate`].
#[no_mangle]
pub unsafe extern "C" fn cks_policy_audit(
    policy: *const CksPolicy,
    source: *const c_char,
    input: *const u8,
    input_len: usize,
    context: *const u8,
    context_len: usize,
    out_json: *mut CksPolicyBuffer,
    out_error: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_audit", out_error, || {
        // SAFETY: the caller's contract above is the one `judge_text` needs.
        unsafe {
            judge_text(
                policy,
                source,
                input,
                input_len,
                context,
                context_len,
                out_json,
                Judgement::Audit,
            )
        }
    })
}

/// The body of [`cks_policy_evaluate`] and [`cks_policy_audit`]: checks the arguments, judges
/// as `judgement` says through the call layer and writes the report.
///
/// # Safety
/// The contract of [`cks_policy_evaluate`].
#[allow(clippy::too_many_arguments)]
unsafe fn judge_text(
    policy: *const CksPolicy,
    source: *const c_char,
    input: *const u8,
    input_len: usize,
    context: *const u8,
    context_len: usize,
    out_json: *mut CksPolicyBuffer,
    judgement: Judgement,
) -> Result<(), Failure> {
    // SAFETY: caller contract, for each pointer.
    let policy = unsafe { policy_ref(policy) }?;
    check_out(out_json, "out_json")?;
    let source = if source.is_null() {
        None
    } else {
        // SAFETY: non-NULL and NUL-terminated by contract.
        let s = unsafe { CStr::from_ptr(source) };
        Some(s.to_str().map_err(|e| {
            Failure::new(
                CKS_POLICY_INVALID_UTF8,
                format!("`source` is not UTF-8: {e}"),
            )
        })?)
    };
    // SAFETY: caller contract.
    let input = unsafe { bytes(input, input_len, "input") }?;
    // SAFETY: caller contract.
    let context = unsafe { self::context(context, context_len) }?;
    let json = call::judge(policy, input, source, context, judgement, false)
        .map_err(call_failure)?
        .report
        .to_json();
    // SAFETY: checked non-NULL above.
    unsafe { put(out_json, json) };
    Ok(())
}

/// Judges an `admission.k8s.io/v1` AdmissionReview (or a bare AdmissionRequest, JSON) and
/// writes the AdmissionReview response a webhook returns (same `uid`; errors deny, warnings
/// become `warnings`, the patch is a base64 `JSONPatch`) to `*out_json`.
///
/// A request whose `object` cannot be read is denied (`input-invalid`), not an error; bytes
/// that are no request at all are `CKS_POLICY_INVALID_INPUT` with the reason in `*out_error`.
/// `context` is as for [`cks_policy_evaluate`]. Free `*out_json` with
/// [`cks_policy_buffer_free`].
///
/// Thread safety: the handle is only read; any number of threads may review with one handle at
/// once.
///
/// # Safety
/// As for [`cks_policy_evaluate`], with `review`/`review_len` in place of the input.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_review(
    policy: *const CksPolicy,
    review: *const u8,
    review_len: usize,
    context: *const u8,
    context_len: usize,
    out_json: *mut CksPolicyBuffer,
    out_error: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_review", out_error, || {
        // SAFETY: caller contract above, for each pointer.
        let policy = unsafe { policy_ref(policy) }?;
        check_out(out_json, "out_json")?;
        // SAFETY: caller contract above.
        let review = unsafe { bytes(review, review_len, "review") }?;
        // SAFETY: caller contract above.
        let context = unsafe { self::context(context, context_len) }?;
        let response = call::review(policy, review, context).map_err(call_failure)?;
        let json = serde_json::to_string(&response)
            .map_err(|e| Failure::new(CKS_POLICY_INVALID_INPUT, e.to_string()))?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out_json, json) };
        Ok(())
    })
}

/// Says which nodes can take a pod and why the others cannot, writing the fits JSON
/// (`{"pod":"train","nodes":[{"name":"gpu-1","fits":true,"reasons":[]},…]}`, reason kinds
/// `nodeName`, `nodeSelector`, `nodeAffinity`, `taint`, `unschedulable`, `lifecycle`,
/// `resources`; a node without `status.allocatable` is not judged on resources and carries a
/// `notes` entry saying so) to `*out_json`. Pods already running on the nodes are not counted;
/// [`cks_policy_fits_with_pods`] counts them.
///
/// `pod` is one Pod (or pod-bearing workload) as YAML or JSON; `nodes` is a multi-document
/// file or a `kind: List` (what `kubectl get nodes -o yaml` prints). Input that cannot be read
/// is `CKS_POLICY_INVALID_INPUT` with the reason in `*out_error`. Free `*out_json` with
/// [`cks_policy_buffer_free`].
///
/// Thread safety: the handle is only read; any number of threads may call this with one handle
/// at once.
///
/// # Safety
/// As for [`cks_policy_evaluate`], with the two byte ranges `pod` and `nodes`.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_fits(
    policy: *const CksPolicy,
    pod: *const u8,
    pod_len: usize,
    nodes: *const u8,
    nodes_len: usize,
    out_json: *mut CksPolicyBuffer,
    out_error: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_fits", out_error, || {
        // SAFETY: caller contract above, for each pointer.
        let policy = unsafe { policy_ref(policy) }?;
        check_out(out_json, "out_json")?;
        // SAFETY: caller contract above.
        let pod = unsafe { bytes(pod, pod_len, "pod") }?;
        // SAFETY: caller contract above.
        let nodes = unsafe { bytes(nodes, nodes_len, "nodes") }?;
        let json = fits_json(policy, pod, nodes)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out_json, json) };
        Ok(())
    })
}

/// As [`cks_policy_fits`], counting the requests of the pods already running on the nodes.
///
/// `pods` is what `kubectl get pods -A -o yaml` prints (a multi-document file or a `kind:
/// List`); each pod counts against the node in its `spec.nodeName` unless it is in phase
/// `Succeeded` or `Failed`. NULL with `pods_len` 0 (or empty text) means no running pods. Pods
/// text that cannot be read is `CKS_POLICY_INVALID_INPUT` naming the document.
///
/// Thread safety: as for [`cks_policy_fits`].
///
/// # Safety
/// As for [`cks_policy_evaluate`], with the three byte ranges `pod`, `nodes` and `pods`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn cks_policy_fits_with_pods(
    policy: *const CksPolicy,
    pod: *const u8,
    pod_len: usize,
    nodes: *const u8,
    nodes_len: usize,
    pods: *const u8,
    pods_len: usize,
    out_json: *mut CksPolicyBuffer,
    out_error: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_fits_with_pods", out_error, || {
        // SAFETY: caller contract above, for each pointer.
        let policy = unsafe { policy_ref(policy) }?;
        check_out(out_json, "out_json")?;
        // SAFETY: caller contract above.
        let pod = unsafe { bytes(pod, pod_len, "pod") }?;
        // SAFETY: caller contract above.
        let nodes = unsafe { bytes(nodes, nodes_len, "nodes") }?;
        // SAFETY: caller contract above.
        let pods = unsafe { bytes(pods, pods_len, "pods") }?;
        let json = fits_json_with_pods(policy, pod, nodes, Some(pods))?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out_json, json) };
        Ok(())
    })
}

fn fits_json(policy: &Policy, pod: &[u8], nodes: &[u8]) -> Result<String, Failure> {
    fits_json_with_pods(policy, pod, nodes, None)
}

fn fits_json_with_pods(
    policy: &Policy,
    pod: &[u8],
    nodes: &[u8],
    pods: Option<&[u8]>,
) -> Result<String, Failure> {
    let report = policy_core::fits_report_with_pods(policy, pod, nodes, pods)
        .map_err(|e| Failure::new(CKS_POLICY_INVALID_INPUT, e.to_string()))?;
    serde_json::to_string(&report)
        .map_err(|e| Failure::new(CKS_POLICY_INVALID_INPUT, e.to_string()))
}

/// Writes the rule catalogue (`[{"id","severity","enabled","kind","description"},…]`, in run
/// order) to `*out_json`. Free it with [`cks_policy_buffer_free`].
///
/// Thread safety: may be called from any thread at any time.
///
/// # Safety
/// `out_json` must point to a writable `cks_policy_buffer`.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_rules(out_json: *mut CksPolicyBuffer) -> CksPolicyResult {
    guard("cks_policy_rules", ptr::null_mut(), || {
        check_out(out_json, "out_json")?;
        let json = serde_json::to_string(policy_core::rules())
            .map_err(|e| Failure::new(CKS_POLICY_INVALID_INPUT, e.to_string()))?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out_json, json) };
        Ok(())
    })
}

/// Writes the JSON Schema of the settings to `*out_json`. Free it with
/// [`cks_policy_buffer_free`].
///
/// Thread safety: may be called from any thread at any time.
///
/// # Safety
/// `out_json` must point to a writable `cks_policy_buffer`.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_settings_schema(
    out_json: *mut CksPolicyBuffer,
) -> CksPolicyResult {
    guard("cks_policy_settings_schema", ptr::null_mut(), || {
        check_out(out_json, "out_json")?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out_json, policy_core::settings_schema()) };
        Ok(())
    })
}

/// A static, NUL-terminated name for a result code (`"CKS_POLICY_NULL_ARGUMENT"`), or
/// `"CKS_POLICY_UNKNOWN"` for a value that is not a code. Do not free it.
///
/// Thread safety: may be called from any thread at any time.
#[no_mangle]
pub extern "C" fn cks_policy_result_name(result: u32) -> *const c_char {
    let name: &'static str = match result {
        0 => "CKS_POLICY_OK\0",
        7001 => "CKS_POLICY_NULL_ARGUMENT\0",
        7002 => "CKS_POLICY_INVALID_UTF8\0",
        7003 => "CKS_POLICY_INVALID_SETTINGS\0",
        7004 => "CKS_POLICY_INVALID_INPUT\0",
        7005 => "CKS_POLICY_INVALID_CONTEXT\0",
        7006 => "CKS_POLICY_PANIC\0",
        _ => "CKS_POLICY_UNKNOWN\0",
    };
    name.as_ptr().cast::<c_char>()
}

/// Releases a buffer returned by this library and zeroes it. Passing a zeroed buffer, or the
/// same (now zeroed) buffer twice, is a no-op; passing NULL is a no-op.
///
/// Thread safety: a buffer is owned by one caller; free it once, from any thread.
///
/// # Safety
/// `buffer` must be NULL, or point to a zeroed `cks_policy_buffer`, or to one this library
/// wrote and that was not freed since (with `data`/`len` unchanged).
#[no_mangle]
pub unsafe extern "C" fn cks_policy_buffer_free(buffer: *mut CksPolicyBuffer) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: NULL or a valid buffer pointer by contract.
        let Some(buf) = (unsafe { buffer.as_mut() }) else {
            return;
        };
        if buf.data.is_null() {
            return;
        }
        let slice = ptr::slice_from_raw_parts_mut(buf.data.cast::<u8>(), buf.len + 1);
        // SAFETY: `data`/`len + 1` are exactly the boxed slice `from_string` leaked.
        drop(unsafe { Box::from_raw(slice) });
        buf.data = ptr::null_mut();
        buf.len = 0;
    }));
}

/// Releases a policy handle. NULL is a no-op.
///
/// Thread safety: needs exclusive access: no other call may use the handle concurrently with
/// or after this one (a use after free is undefined behaviour).
///
/// # Safety
/// `policy` must be NULL or a live handle from [`cks_policy_new`], freed at most once.
#[no_mangle]
pub unsafe extern "C" fn cks_policy_free(policy: *mut CksPolicy) {
    if policy.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a live handle created by `Box::into_raw` in `cks_policy_new`.
        drop(unsafe { Box::from_raw(policy) });
    }));
}

/// Test-only (cargo feature `test-panic`, off by default, not in the header): panics inside
/// the boundary, which must return `CKS_POLICY_PANIC` and fill `out_error`.
///
/// Thread safety: may be called from any thread.
///
/// # Safety
/// `out_error` must be NULL or point to a writable `cks_policy_buffer`.
#[cfg(feature = "test-panic")]
#[no_mangle]
#[allow(clippy::panic)]
pub unsafe extern "C" fn cks_policy_test_panic(out_error: *mut CksPolicyBuffer) -> CksPolicyResult {
    guard("cks_policy_test_panic", out_error, || {
        panic!("deliberate panic to test the boundary")
    })
}
