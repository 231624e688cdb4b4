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

pub mod accelerator;
pub mod admission;
mod cks;
pub mod error;
pub mod eval;
pub mod exceptions;
#[cfg(feature = "yaml")]
pub mod fix;
pub mod image_ref;
mod inline_pods;
pub mod input;
mod json_position;
mod label_diff;
pub mod label_syntax;
pub mod nodetypes;
pub mod object;
pub mod patch;
pub mod pointer;
pub mod policy;
pub mod rules;
pub mod scheduling;
pub mod settings;
pub mod templates;
mod text;
pub mod verdict;
mod view;
#[cfg(feature = "yaml")]
pub mod yaml;

pub use admission::{AdmissionResponse, AdmissionReviewResponse};
pub use error::{ReviewError, SettingsError, SettingsProblem};
pub use eval::{evaluate, Context};
pub use exceptions::{SuppressedBy, Suppression};
pub use object::{Doc, Judgement, Object, Operation, Origin, PodRef, Request, UserInfo};
pub use policy::Policy;
pub use rules::images::images_to_resolve;
pub use rules::{RuleId, RuleInfo, RULES};
pub use scheduling::{fits_report, fits_report_with_pods, FitsError, FitsReport};
pub use settings::Settings;
pub use verdict::{DocumentResult, Finding, PatchOp, Report, Severity, Summary, Verdict};

use input::Problem;
use serde_json::Value;

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The rule catalogue in run order.
pub fn rules() -> &'static [RuleInfo] {
    &RULES
}

/// The JSON Schema of the settings.
pub fn settings_schema() -> String {
    settings::schema_json()
}

/// One object to judge, found in a document.
struct Unit {
    /// Pointer prefix from the document root to the judged object's paths (`/items/3`), used
    /// for patches and findings of list items.
    prefix: String,
    /// Extra prefix used only to find lines (`/request/object` in an AdmissionReview).
    locate_prefix: &'static str,
    judged: Result<Request, Problem>,
}

/// The request a manifest object is judged as: existing cluster state when `existing` says so
/// (`audit`) or when it carries `metadata.resourceVersion` (read back from a cluster, as
/// `kubectl get -o yaml` prints it), else a CREATE.
fn manifest_request(o: Object, existing: bool) -> Request {
    let mut r = if existing || o.metadata.resource_version.is_some() {
        Request::existing(o)
    } else {
        Request::create(o)
    };
    r.origin = object::Origin::Manifest;
    r
}

fn units(doc: Result<Doc, Problem>, existing: bool) -> Vec<Unit> {
    match doc {
        Err(p) => vec![Unit {
            prefix: String::new(),
            locate_prefix: "",
            judged: Err(p),
        }],
        Ok(Doc::Object(o)) => vec![Unit {
            prefix: String::new(),
            locate_prefix: "",
            judged: Ok(manifest_request(*o, existing)),
        }],
        Ok(Doc::List(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, o)| Unit {
                prefix: format!("/items/{i}"),
                locate_prefix: "",
                judged: Ok(manifest_request(o, existing)),
            })
            .collect(),
        Ok(Doc::Review(r)) => {
            let locate_prefix = if r.operation == Operation::Delete {
                "/request/oldObject"
            } else {
                "/request/object"
            };
            vec![Unit {
                prefix: String::new(),
                locate_prefix,
                judged: Ok(*r),
            }]
        }
    }
}

/// A parsed list whose items are judged one by one, so one bad item does not hide the others.
fn list_units(policy: &Policy, v: &Value, existing: bool) -> Option<Vec<Unit>> {
    let m = v.as_object()?;
    let kind = m.get("kind")?.as_str()?;
    if !object::is_list(Some(kind))
        || m.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|av| policy.shapes.get(av, kind).is_some())
    {
        return None;
    }
    let items = m.get("items")?.as_array()?;
    Some(
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let prefix = format!("/items/{i}");
                let judged = match input::value_doc(policy, item) {
                    Ok(Doc::Object(o)) => Ok(manifest_request(*o, existing)),
                    Ok(_) => Err(Problem::new(
                        "a list item must be a single Kubernetes object",
                    )),
                    Err(p) => Err(p),
                };
                Unit {
                    prefix,
                    locate_prefix: "",
                    judged,
                }
            })
            .collect(),
    )
}

fn input_invalid(problem: &Problem) -> Finding {
    let mut message = problem.message.clone();
    if let (Some(l), Some(c)) = (problem.line, problem.column) {
        message.push_str(&format!(" (line {l}, column {c})"));
    }
    Finding {
        rule: RuleId::InputInvalid,
        severity: Severity::Error,
        path: problem.path.clone(),
        message,
        fix: None,
        line: problem.line,
        preexisting: false,
        suppressed: None,
    }
}

fn prefix_paths(v: &mut Verdict, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    for f in &mut v.findings {
        f.path.insert_str(0, prefix);
    }
    for p in &mut v.patch {
        p.path.insert_str(0, prefix);
    }
}

#[allow(unused_variables)]
fn locate_lines(v: &mut Verdict, text: &str, line_offset: u32, locate_prefix: &str) {
    #[cfg(feature = "yaml")]
    for f in &mut v.findings {
        if f.line.is_some() {
            continue;
        }
        let full = format!("{locate_prefix}{}", f.path);
        if let Some(tokens) = pointer::tokens(&full) {
            f.line = yaml::locate(text, &tokens).map(|l| l + line_offset);
        }
    }
}

struct DocText<'a> {
    text: &'a str,
    line_offset: u32,
}

fn judge_units(
    policy: &Policy,
    context: &Context,
    source: Option<&str>,
    document: usize,
    doc_text: &DocText<'_>,
    units: Vec<Unit>,
    out: &mut Vec<DocumentResult>,
) {
    for u in units {
        let mut existing = false;
        let (kind, namespace, name, mut verdict) = match &u.judged {
            Err(p) => (
                None,
                None,
                None,
                Verdict {
                    allowed: false,
                    findings: vec![input_invalid(p)],
                    patch: vec![],
                },
            ),
            Ok(req) => {
                existing = req.judged_as() == Judgement::Audit;
                let obj = req.object.as_ref().or(req.old_object.as_ref());
                let v = evaluate(policy, req, context);
                (
                    obj.map(|o| o.kind.clone()),
                    obj.and_then(|o| o.namespace().map(str::to_owned))
                        .or_else(|| req.namespace.clone()),
                    obj.and_then(|o| o.name().map(str::to_owned))
                        .or_else(|| req.name.clone()),
                    v,
                )
            }
        };
        prefix_paths(&mut verdict, &u.prefix);
        locate_lines(
            &mut verdict,
            doc_text.text,
            doc_text.line_offset,
            u.locate_prefix,
        );
        out.push(DocumentResult {
            source: source.map(str::to_owned),
            document,
            kind,
            namespace,
            name,
            allowed: verdict.allowed,
            findings: verdict.findings,
            patch: verdict.patch,
            existing,
        });
    }
}

/// Judges manifest text: YAML or JSON, one or many documents, `kind: List`, or AdmissionReviews.
///
/// Never fails: unreadable documents become `input-invalid` findings and the rest are judged.
/// `source` is echoed in every result (a file name, `-`, or `None`).
pub fn check(policy: &Policy, source: Option<&str>, bytes: &[u8], context: &Context) -> Report {
    check_as(policy, source, bytes, context, false)
}

/// Judges manifest text as existing cluster state (what `kubectl get -A -o yaml` prints): like
/// [`check`], but every object is judged with [`Judgement::Audit`]: change rules do not fire
/// and nothing is patched; mutations are reported as what CKS admission would have added. An
/// AdmissionReview is still judged by its `operation`.
pub fn audit(policy: &Policy, source: Option<&str>, bytes: &[u8], context: &Context) -> Report {
    check_as(policy, source, bytes, context, true)
}

fn check_as(
    policy: &Policy,
    source: Option<&str>,
    bytes: &[u8],
    context: &Context,
    existing: bool,
) -> Report {
    let mut results = Vec::new();
    let limits = policy.settings().limits;
    let bad = |p: Problem, results: &mut Vec<DocumentResult>| {
        judge_units(
            policy,
            context,
            source,
            0,
            &DocText {
                text: "",
                line_offset: 0,
            },
            vec![Unit {
                prefix: String::new(),
                locate_prefix: "",
                judged: Err(p),
            }],
            results,
        );
    };
    if bytes.len() > limits.max_bytes {
        bad(
            Problem::new(format!(
                "input is {} bytes, above the limit of {} (`limits.maxBytes`)",
                bytes.len(),
                limits.max_bytes
            )),
            &mut results,
        );
        return Report::new(results);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            bad(
                Problem::new(format!("input is not UTF-8 text: {e}")),
                &mut results,
            );
            return Report::new(results);
        }
    };
    if text.trim_start().starts_with('{') || !cfg!(feature = "yaml") {
        let doc = input::json_doc(policy, text.as_bytes());
        // A list is judged item by item (also when one item cannot be read, so the others are
        // still judged).
        let units = match &doc {
            Err(_) | Ok(Doc::List(_)) => serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| list_units(policy, &v, existing))
                .unwrap_or_else(|| units(doc, existing)),
            Ok(_) => units(doc, existing),
        };
        let dt = DocText {
            text,
            line_offset: 0,
        };
        judge_units(policy, context, source, 0, &dt, units, &mut results);
        return Report::new(results);
    }
    #[cfg(feature = "yaml")]
    {
        let mut document = 0usize;
        for chunk in input::split_documents(text) {
            if input::is_blank(chunk.text) {
                continue;
            }
            let dt = DocText {
                text: chunk.text,
                line_offset: chunk.line_offset,
            };
            let aliases = yaml::count_aliases(chunk.text);
            if aliases > limits.max_aliases {
                let mut p = Problem::new(format!(
                    "document uses {aliases} YAML aliases, above the limit of {} (`limits.maxAliases`)",
                    limits.max_aliases
                ));
                p.line = Some(chunk.line_offset + 1);
                judge_units(
                    policy,
                    context,
                    source,
                    document,
                    &dt,
                    vec![Unit {
                        prefix: String::new(),
                        locate_prefix: "",
                        judged: Err(p),
                    }],
                    &mut results,
                );
                document += 1;
                continue;
            }
            for parsed in yaml::parse_documents(chunk.text, chunk.line_offset) {
                let units = match parsed {
                    Ok(Value::Null) => continue,
                    Ok(v) => match list_units(policy, &v, existing) {
                        Some(u) => u,
                        None => units(input::value_doc(policy, &v), existing),
                    },
                    Err(p) => units(Err(p), existing),
                };
                judge_units(policy, context, source, document, &dt, units, &mut results);
                document += 1;
            }
        }
    }
    Report::new(results)
}

/// Judges a parsed manifest or AdmissionReview value; the `Value` entry point.
pub fn evaluate_value(policy: &Policy, value: &Value, context: &Context) -> Report {
    let units = match list_units(policy, value, false) {
        Some(u) => u,
        None => units(input::value_doc(policy, value), false),
    };
    let mut results = Vec::new();
    let dt = DocText {
        text: "",
        line_offset: 0,
    };
    judge_units(policy, context, None, 0, &dt, units, &mut results);
    Report::new(results)
}

/// Parses AdmissionReview (or bare AdmissionRequest) JSON bytes into a typed request.
pub fn parse_request(policy: &Policy, bytes: &[u8]) -> Result<Request, ReviewError> {
    let limit = policy.settings().limits.max_bytes;
    if bytes.len() > limit {
        return Err(ReviewError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    match input::json_doc(policy, bytes) {
        Ok(Doc::Review(r)) => Ok(*r),
        Ok(_) => Err(ReviewError::Invalid(String::from(
            "expected an admission.k8s.io/v1 AdmissionReview or AdmissionRequest",
        ))),
        Err(p) => Err(ReviewError::Invalid(input_invalid(&p).message)),
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
            let uid = uid_of(bytes).ok_or_else(|| ReviewError::Invalid(msg.clone()))?;
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

fn uid_of(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let r = v.get("request").unwrap_or(&v);
    r.get("uid")?.as_str().map(str::to_owned)
}
