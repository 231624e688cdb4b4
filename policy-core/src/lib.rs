//! # policy-core
//!
//! The pure engine behind cks-policy: the rules of CoreWeave Kubernetes Service (CKS) as
//! functions over typed Kubernetes manifests (k8s-openapi types). No I/O, no clock, no
//! environment, no global state: every surface (CLI, Kubewarden module, browser, C ABI, Go,
//! Python) is a thin wrapper over the entry points here.
//!
//! Three entry points of rising convenience:
//! - typed: [`evaluate`] over a [`Request`] (built from [`Object`]s);
//! - `serde_json::Value`: [`evaluate_value`];
//! - bytes: [`check`] (manifests, YAML or JSON, multi-document, `kind: List`, AdmissionReviews)
//!   and [`review`] (AdmissionReview in, AdmissionReview response out).
//!
//! ```
//! use policy_core::{check, Context, Policy};
//! let policy = Policy::from_slice(br#"{"mode": "enforce"}"#).unwrap();
//! let report = check(&policy, Some("pod.yaml"), b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx}\n", &Context::default());
//! assert!(!report.results[0].allowed);
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

// Every module is private: the contract is the short list of re-exports below (in the manner
// of cedar-policy's `api.rs` and regorus's `lib.rs`). `kubewarden` (the waPC protocol) and
// `yaml` (kubectl's YAML reading, for tools that need the same reader) are namespaces of the
// façade, themselves small.
mod accelerator;
mod admission;
mod cks;
mod error;
mod eval;
mod exceptions;
#[cfg(feature = "yaml")]
mod fix;
mod glob;
mod image_ref;
mod inline_pods;
mod input;
mod json_position;
pub mod kubewarden;
mod label_diff;
mod label_syntax;
mod native;
mod nodetypes;
mod object;
mod patch;
mod pointer;
mod policy;
mod read;
mod rules;
mod scheduling;
mod settings;
mod settings_paths;
mod source;
mod templates;
mod text;
mod verdict;
mod view;
#[cfg(feature = "yaml")]
pub mod yaml;

pub use admission::{AdmissionResponse, AdmissionReviewResponse};
#[cfg(feature = "yaml")]
pub use error::FixError;
pub use error::{ReviewError, SettingsError, SettingsProblem};
pub use eval::{evaluate, Context};
pub use exceptions::{
    add_host_findings, SuppressedBy, Suppression, ANNOTATION as EXCEPTION_ANNOTATION,
};
#[cfg(feature = "yaml")]
pub use fix::{apply as fix_text, Fixed};
pub use native::{support as native_support, Native, NativeSupport};
pub use object::{Doc, Judgement, Object, Operation, Origin, PodRef, Request, UserInfo};
pub use patch::{apply as apply_patch, PatchError};
pub use policy::Policy;
pub use rules::images::images_to_resolve;
pub use rules::{Judges, RuleId, RuleInfo, RuleKind, RULES};
pub use scheduling::{fits_report, fits_report_with_pods, FitsError, FitsReport, NodeFit};
pub use settings::{AnnotationScope, Settings, DEFAULT_CONTROL_PLANE_NAMESPACES};
pub use source::{unreadable, SourceProblem};
pub use templates::{Location, LOCATIONS as POD_TEMPLATE_LOCATIONS};
pub use verdict::{DocumentResult, Finding, Outcome, PatchOp, Report, Severity, Summary, Verdict};

use serde_json::Value;

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Native Kubernetes policies for the rules CEL expresses: `ValidatingAdmissionPolicy` and
/// binding manifests for Kubernetes 1.`minor`, honouring `policy`'s settings (README, "Native
/// policies").
pub fn native_policies(policy: &Policy, minor: u32) -> Native {
    native::manifests(policy, minor)
}

/// The rule catalogue in run order.
pub fn rules() -> &'static [RuleInfo] {
    &RULES
}

/// The JSON Schema of the settings (`policy-core/settings.schema.json`).
pub fn settings_schema() -> String {
    settings::SCHEMA.to_owned()
}

/// The JSON Schema of the settings generated from the types, which [`settings_schema`] must
/// equal (a test in `tests/` checks it and rewrites the file with `UPDATE_FIXTURES=1`).
pub fn generate_settings_schema() -> String {
    settings::schema_json()
}

/// Judges manifest text: YAML or JSON, one or many documents, `kind: List`, or AdmissionReviews.
///
/// Never fails: unreadable documents become `input-invalid` findings and the rest are judged.
/// `source` is echoed in every result (a file name, `-`, or `None`).
pub fn check(policy: &Policy, source: Option<&str>, bytes: &[u8], context: &Context) -> Report {
    read::check_as(policy, source, bytes, context, false)
}

/// [`check`], also returning the manifest object behind each result as the reader built it, in
/// step with `report.results`: `None` where the document could not be read, or was an
/// AdmissionReview or AdmissionRequest. For tools that compare this reader with another (the
/// kubectl differential test in `e2e/kubectl-diff`).
pub fn check_objects(
    policy: &Policy,
    source: Option<&str>,
    bytes: &[u8],
    context: &Context,
) -> (Report, Vec<Option<Object>>) {
    read::check_objects(policy, source, bytes, context)
}

/// Judges manifest text as existing cluster state (what `kubectl get -A -o yaml` prints): like
/// [`check`], but every object is judged with [`Judgement::Audit`]: change rules do not fire
/// and nothing is patched; mutations are reported as what CKS admission would have added. An
/// AdmissionReview is still judged by its `operation`.
pub fn audit(policy: &Policy, source: Option<&str>, bytes: &[u8], context: &Context) -> Report {
    read::check_as(policy, source, bytes, context, true)
}

/// Judges a parsed manifest or AdmissionReview value; the `Value` entry point.
pub fn evaluate_value(policy: &Policy, value: &Value, context: &Context) -> Report {
    read::evaluate_value(policy, value, context)
}

/// Parses AdmissionReview (or bare AdmissionRequest) bytes into a typed request: JSON, or (with
/// the `yaml` feature) one YAML document, read as [`check`] reads YAML and within the same limits.
pub fn parse_request(policy: &Policy, bytes: &[u8]) -> Result<Request, ReviewError> {
    let limit = policy.settings().limits.max_bytes;
    if bytes.len() > limit {
        return Err(ReviewError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let json = review_json(policy, bytes)?;
    match input::json_doc(policy, &json) {
        Ok(Doc::Review(r) | Doc::Request(r)) => Ok(*r),
        Ok(_) => Err(ReviewError::Invalid(String::from(
            "expected an admission.k8s.io/v1 AdmissionReview or AdmissionRequest",
        ))),
        Err(p) => Err(ReviewError::Invalid(read::input_invalid(&p).message)),
    }
}

/// Judges an AdmissionReview (or bare AdmissionRequest) and returns the request and verdict.
///
/// An object that cannot be read is judged as an `input-invalid` error (denied), not an `Err`;
/// `Err` means there is no request at all to answer.
pub fn evaluate_request(
    policy: &Policy,
    bytes: &[u8],
    context: &Context,
) -> Result<(Request, Verdict), ReviewError> {
    let request = parse_request(policy, bytes)?;
    let verdict = evaluate(policy, &request, context);
    Ok((request, verdict))
}

/// Judges an AdmissionReview and returns the AdmissionReview response a webhook would send.
///
/// Bytes that are not a request at all are an `Err`. A request whose `object` cannot be read is
/// denied with an `input-invalid` message, keeping the request's `uid`.
pub fn review(
    policy: &Policy,
    bytes: &[u8],
    context: &Context,
) -> Result<AdmissionReviewResponse, ReviewError> {
    let (request, verdict) = match evaluate_request(policy, bytes, context) {
        Ok(x) => x,
        Err(ReviewError::Invalid(msg)) => {
            // Keep the uid when the envelope is readable even if the object is not.
            let uid = review_json(policy, bytes)
                .ok()
                .and_then(|json| uid_of(&json))
                .ok_or_else(|| ReviewError::Invalid(msg.clone()))?;
            let finding = Finding {
                rule: RuleId::InputInvalid,
                severity: Severity::Error,
                path: String::new(),
                message: msg,
                fix: None,
                line: None,
                preexisting: false,
                suppressed: None,
            };
            let v = Verdict {
                allowed: false,
                findings: vec![finding],
                patch: vec![],
            };
            return Ok(response_review(&uid, &v));
        }
        Err(e) => return Err(e),
    };
    Ok(response_review(&request.uid, &verdict))
}

fn response_review(uid: &str, v: &Verdict) -> AdmissionReviewResponse {
    AdmissionReviewResponse {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: admission::response(uid, v),
    }
}

/// An AdmissionReview's bytes as JSON: JSON text as it is; other text (with the `yaml`
/// feature) read as YAML, which must hold one document, written as JSON.
fn review_json<'b>(
    policy: &Policy,
    bytes: &'b [u8],
) -> Result<std::borrow::Cow<'b, [u8]>, ReviewError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    #[cfg(feature = "yaml")]
    {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ReviewError::Invalid(format!("not UTF-8 text: {e}")))?;
        let limits = policy.settings().limits;
        let mut docs = yaml::parse_documents_within(text, 0, &limits)
            .into_iter()
            .filter(|d| !matches!(d, Ok(Value::Null)));
        let doc = match (docs.next(), docs.next()) {
            (Some(doc), None) => {
                doc.map_err(|p| ReviewError::Invalid(read::input_invalid(&p).message))?
            }
            (None, _) => {
                return Err(ReviewError::Invalid(String::from(
                    "no AdmissionReview: the input holds no document",
                )))
            }
            (Some(_), Some(_)) => {
                return Err(ReviewError::Invalid(String::from(
                    "an AdmissionReview is one document, and this YAML holds more than one",
                )))
            }
        };
        serde_json::to_vec(&doc)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| ReviewError::Invalid(format!("cannot read the document: {e}")))
    }
    #[cfg(not(feature = "yaml"))]
    {
        let _ = policy;
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

fn uid_of(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let r = v.get("request").unwrap_or(&v);
    r.get("uid")?
        .as_str()
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}
