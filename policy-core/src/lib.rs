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
//! assert!(!report.results[0].allowed());
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

// Every module is private: the contract is the short list of re-exports below (in the manner
// of cedar-policy's `api.rs` and regorus's `lib.rs`). The folders are the stages data flows
// through, in this order (ARCHITECTURE.md): `read` (bytes → trees), `model` (typed objects and
// what CKS knows of them), `settings` (compiled `Policy`), `scheduling`, `judge` (rules →
// verdict), `answer` (reports, admission responses, patches, `--fix`, native policies).
// `call` (the call layer every wrapper goes through: caller bytes in, report out), `kubewarden`
// (the waPC protocol) and `yaml` (kubectl's YAML reading, for tools that need the same reader)
// are namespaces of the façade, themselves small.
mod answer;
mod judge;
mod model;
mod read;
mod scheduling;
mod settings;

pub use answer::call;
pub use answer::kubewarden;
#[cfg(feature = "yaml")]
pub use model::kubectl_yaml as yaml;

pub use answer::admission::{AdmissionResponse, AdmissionReviewResponse};
pub use answer::fits::{fits_report, fits_report_with_pods, FitsError, FitsReport, NodeFit};
#[cfg(feature = "yaml")]
pub use answer::fix_text::apply as fix_text;
pub use answer::native::{support as native_support, Native, NativeSupport};
pub use answer::patch::{apply as apply_patch, PatchError};
pub use answer::source::{unreadable, SourceProblem};
pub use judge::eval::{evaluate, Context};
pub use judge::exceptions::{
    add_host_findings, SuppressedBy, Suppression, ANNOTATION as EXCEPTION_ANNOTATION,
};
pub use judge::verdict::{
    DocumentResult, Finding, Fixed, Outcome, PatchOp, Report, Severity, Summary, Verdict,
};
pub use model::catalogue::{Judges, RuleId, RuleInfo, RuleKind, RULES};
pub use model::object::{Judgement, Object, Operation, Origin, PodRef, Request, UserInfo};
pub use model::templates::{Location, LOCATIONS as POD_TEMPLATE_LOCATIONS};
pub use settings::error::{FixError, ReviewError, SettingsError, SettingsProblem};
pub use settings::policy::Policy;
pub use settings::{AnnotationScope, Settings, DEFAULT_CONTROL_PLANE_NAMESPACES};

use serde_json::Value;

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Native Kubernetes policies for the rules CEL expresses: `ValidatingAdmissionPolicy` and
/// binding manifests for Kubernetes 1.`minor` (and from 1.36 the `MutatingAdmissionPolicy` of
/// `cpu-compute-toleration`), honouring `policy`'s settings (README, "Native
/// policies").
pub fn native_policies(policy: &Policy, minor: u32) -> Native {
    answer::native::manifests(policy, minor)
}

/// The rule catalogue in run order.
pub fn rules() -> &'static [RuleInfo] {
    &RULES
}

/// README's table of which rules run natively (`| id | native | how, or what CEL lacks |`),
/// generated from the catalogue's `native` column; a test keeps README in step.
pub fn native_rules_markdown() -> String {
    answer::native::markdown_table()
}

/// The rule catalogue in run order, each rule with whether `cks-policy vap` emits it as a native
/// policy (and how, or what CEL lacks).
pub fn rules_with_native() -> impl Iterator<Item = (&'static RuleInfo, NativeSupport)> {
    RuleId::ALL
        .iter()
        .map(|&r| (r.info(), answer::native::support(r)))
}

/// The rule table of README and the Kubewarden USAGE.md as Markdown, generated from the
/// catalogue (`cks-policy rules --format markdown`; a test keeps both files in step).
pub fn rules_markdown() -> String {
    model::catalogue::markdown_table()
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
    answer::check::check_as(policy, source, bytes, context, false)
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
    answer::check::check_objects(policy, source, bytes, context)
}

/// Judges manifest text as existing cluster state (what `kubectl get -A -o yaml` prints): like
/// [`check`], but every object is judged with [`Judgement::Audit`]: change rules do not fire
/// and nothing is patched; mutations are reported as what CKS admission would have added. An
/// AdmissionReview is still judged by its `operation`.
pub fn audit(policy: &Policy, source: Option<&str>, bytes: &[u8], context: &Context) -> Report {
    answer::check::check_as(policy, source, bytes, context, true)
}

/// Judges a parsed manifest or AdmissionReview value; the `Value` entry point.
pub fn evaluate_value(policy: &Policy, value: &Value, context: &Context) -> Report {
    answer::check::evaluate_value(policy, value, context)
}

/// Parses AdmissionReview (or bare AdmissionRequest) bytes into a typed request: JSON, or (with
/// the `yaml` feature) one YAML document, read as [`check`] reads YAML and within the same limits.
/// The objects' pod specs and metadata hold only the fields the rules read (README, "Admission
/// reads only what the rules read").
pub fn parse_request(policy: &Policy, bytes: &[u8]) -> Result<Request, ReviewError> {
    answer::review::parse_request(policy, bytes)
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
    answer::review::evaluate_request(policy, bytes, context)
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
    answer::review::review(policy, bytes, context)
}
