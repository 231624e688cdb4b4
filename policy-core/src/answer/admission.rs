//! The admission protocol: which cluster lookups a request needs, how their answers (and
//! failures) enter the verdict, and how a verdict becomes an `admission.k8s.io/v1`
//! AdmissionReview response (`allowed`, the HTTP code, bounded warnings, the patch). Every
//! surface that answers admission (the CLI's `review`, the C ABI, the Kubewarden module through
//! [`crate::answer::kubewarden`]) uses these, so none of them decides anything itself.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::judge::eval::{is_exempt, Context};
use crate::judge::verdict::{Finding, Severity, Verdict};
use crate::model::catalogue::RuleId;
use crate::model::object::{Judgement, Operation, Request};
use crate::settings::policy::Policy;

/// Longest warning the API server keeps whole. The API server's warning recorder truncates
/// each warning to `truncateItemRunes = 256` runes once the total passes
/// `truncateAtTotalRunes = 4 * 1024` (kubernetes/kubernetes,
/// `staging/src/k8s.io/apiserver/pkg/endpoints/filters/warning.go`, the `var` block after
/// `WithWarningRecorder`). Counting bytes, not runes, keeps every warning within both limits.
pub const MAX_WARNING: usize = 256;
/// Most warning bytes the API server keeps in all (`truncateAtTotalRunes`, see
/// [`MAX_WARNING`]).
pub const MAX_WARNINGS_TOTAL: usize = 4096;

/// HTTP-like code of a denial: 400 when the input could not be read (`input-invalid`), 403
/// for a policy denial; `None` when the verdict admits the request.
pub fn denial_code(v: &Verdict) -> Option<u16> {
    if v.allowed() {
        None
    } else if v
        .findings()
        .iter()
        .any(|f| f.rule() == RuleId::InputInvalid)
    {
        Some(400)
    } else {
        Some(403)
    }
}

/// Why a cluster lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The host refused because the policy was not granted the resource or capability.
    NotGranted,
    /// Any other failure, in the host's words (shown escaped and shortened).
    Failed(String),
}

impl LookupError {
    /// Classifies a host's error text. Kubewarden refuses an ungranted lookup with "Policy has
    /// not been granted access to Kubernetes {apiVersion}/{kind} resources. The violation has
    /// been reported." (kubewarden/kubewarden-controller,
    /// `crates/policy-evaluator/src/runtimes/callback.rs`, the `get_resource` arm of
    /// `host_callback`), or "… to the '{namespace}/{operation}' host capability" when the
    /// capability itself is not granted.
    pub fn from_host(text: &str) -> Self {
        if text.contains("has not been granted access") {
            LookupError::NotGranted
        } else {
            LookupError::Failed(text.to_owned())
        }
    }
}

/// The cluster as a policy host sees it: the lookups a request may need. Implemented by each
/// surface that can reach a cluster (the Kubewarden module through its host); the core decides
/// which lookups to make and what their answers mean.
pub trait Cluster {
    /// The labels of the Namespace `name`.
    fn namespace_labels(&self, name: &str) -> Result<BTreeMap<String, String>, LookupError>;
    /// The digest of the image `reference` (normalized `repo:tag`) in its registry.
    fn manifest_digest(&self, reference: &str) -> Result<String, LookupError>;
}

/// The namespace whose labels `control-plane-namespace` needs for `request`, when the context
/// does not already have them: the judged object's namespace, else the request's (the order of
/// [`crate::judge::rules::namespaces`]). `None` when the rule is off, does not run for this request
/// (CONNECT, an exempt requester, an audit of existing state) or the object is cluster-scoped;
/// a Namespace is judged by its own labels (UPDATE/DELETE of a Namespace carry
/// `request.namespace` = its own name, which is never looked up).
pub fn namespace_lookup<'a>(
    policy: &Policy,
    request: &'a Request,
    context: &Context,
) -> Option<&'a str> {
    if !policy.enabled(RuleId::ControlPlaneNamespace)
        || request.judged_as() == Judgement::Audit
        || is_exempt(policy, request)
    {
        return None;
    }
    let object = match request.operation {
        Operation::Connect => None,
        Operation::Delete => request.old_object.as_ref().or(request.object.as_ref()),
        _ => request.object.as_ref(),
    }?;
    crate::judge::rules::namespaces::judged_namespace(object, request)
        .filter(|ns| !context.namespaces.contains_key(*ns))
}

/// The image references to resolve through the registry for `pin-digests`: those it cannot pin
/// from the lock map or the context, when settings `images.resolveDigests` asks for it.
pub fn digest_lookups(policy: &Policy, request: &Request, context: &Context) -> Vec<String> {
    if !policy.settings().images.resolve_digests {
        return Vec::new();
    }
    crate::judge::rules::images::images_to_resolve(policy, request, context)
}

/// A host's error text as it may appear in a message: control characters escaped, at most 160
/// bytes.
fn untrusted(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| {
            let e: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            e
        })
        .collect();
    truncate(&escaped, 160)
}

/// The finding for namespace labels the host could not give: `control-plane-namespace` then
/// falls back to the `controlPlaneNamespaces` globs, so it is a warning (or the rule's severity
/// when that is lower), never a denial.
fn namespace_unavailable(policy: &Policy, namespace: &str, error: &LookupError) -> Finding {
    let why = match error {
        LookupError::NotGranted => String::from(
            "the policy is not granted `v1/Namespace` (add it to `contextAwareResources`)",
        ),
        LookupError::Failed(text) => format!("the lookup failed: {}", untrusted(text)),
    };
    let severity = match policy.severity(RuleId::ControlPlaneNamespace) {
        Severity::Info => Severity::Info,
        _ => Severity::Warning,
    };
    Finding::new(
        RuleId::ControlPlaneNamespace,
        severity,
        "/metadata/namespace",
        format!(
            "labels of namespace `{}` unavailable, judged by `controlPlaneNamespaces` only: {why}",
            crate::model::label_syntax::show(namespace)
        ),
    )
}

/// Judges `request` with what `cluster` answers to the lookups it needs
/// ([`namespace_lookup`], [`digest_lookups`]). A failed namespace lookup adds a warning (the
/// rule falls back to settings); a failed digest lookup leaves the image unpinned, and
/// `pin-digests` reports it at its configured severity (`rules.pin-digests.severity`),
/// naming the reason. A digest the registry answers that is not a valid digest is a failure.
pub fn evaluate_in_cluster(
    policy: &Policy,
    request: &Request,
    context: &Context,
    cluster: &dyn Cluster,
) -> Verdict {
    let mut context = context.clone();
    let mut extra = Vec::new();
    if let Some(ns) = namespace_lookup(policy, request, &context) {
        match cluster.namespace_labels(ns) {
            Ok(labels) => {
                context.namespaces.insert(ns.to_owned(), labels);
            }
            Err(e) => extra.push(namespace_unavailable(policy, ns, &e)),
        }
    }
    for image in digest_lookups(policy, request, &context) {
        let answer = cluster.manifest_digest(&image).and_then(|d| {
            crate::model::image_ref::validate_digest(&d)
                .map(|()| d.clone())
                .map_err(|e| {
                    LookupError::Failed(format!("the registry answered `{}`: {e}", untrusted(&d)))
                })
        });
        match answer {
            Ok(d) => {
                context.digests.insert(image, d);
            }
            Err(LookupError::NotGranted) => {
                context.unresolved.insert(
                    image,
                    String::from(
                        "the policy is not granted the `oci/v1/manifest_digest` capability",
                    ),
                );
            }
            Err(LookupError::Failed(text)) => {
                context.unresolved.insert(image, untrusted(&text));
            }
        }
    }
    let mut verdict = crate::judge::eval::evaluate(policy, request, &context);
    if !extra.is_empty() {
        // Exceptions silence a failed lookup's finding too.
        crate::judge::exceptions::add_host_findings(policy, request, &mut verdict, extra);
    }
    verdict
}

/// The `response` of an AdmissionReview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// Copied from the request.
    pub uid: String,
    /// False when a finding has severity `error`.
    pub allowed: bool,
    /// Why the request was denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Warning findings, each starting with its rule id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `JSONPatch` when there is a patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    /// Base64 of the JSON Patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

/// The status of a denied request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// HTTP-like code: 400 for unreadable input, 403 for a policy denial.
    pub code: u16,
    /// Every error message, each starting with its rule id, joined with `; `.
    pub message: String,
}

/// A whole AdmissionReview carrying a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewResponse {
    /// `admission.k8s.io/v1`.
    pub api_version: &'static str,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The answer.
    pub response: AdmissionResponse,
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let ell = '…';
    let mut end = max - ell.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = s[..end].to_owned();
    out.push(ell);
    out
}

/// Error messages of a verdict, each `rule: message`.
pub fn error_messages(v: &Verdict) -> Vec<String> {
    v.findings()
        .iter()
        .filter(|f| f.denies())
        .map(|f| format!("{}: {}", f.rule(), f.message()))
        .collect()
}

/// Warning findings as API server warnings: each ≤ 256 bytes, 4 KiB in all.
pub fn warnings(v: &Verdict) -> Vec<String> {
    let all: Vec<String> = v
        .findings()
        .iter()
        .filter(|f| f.counted_severity() == Some(Severity::Warning))
        .map(|f| truncate(&format!("{}: {}", f.rule(), f.message()), MAX_WARNING))
        .collect();
    let mut out = Vec::new();
    let mut total = 0;
    for (i, w) in all.iter().enumerate() {
        let rest = all.len() - i;
        let note = format!("and {rest} more warnings");
        if total + w.len() + if rest > 1 { note.len() } else { 0 } > MAX_WARNINGS_TOTAL {
            out.push(note);
            break;
        }
        total += w.len();
        out.push(w.clone());
    }
    out
}

/// Builds the response for `uid` from a verdict.
pub fn response(uid: &str, v: &Verdict) -> AdmissionResponse {
    let status = denial_code(v).map(|code| Status {
        code,
        message: error_messages(v).join("; "),
    });
    let (patch_type, patch) = if v.patch().is_empty() || !v.allowed() {
        (None, None)
    } else {
        let json = serde_json::to_vec(v.patch()).unwrap_or_default();
        (Some(String::from("JSONPatch")), Some(base64(&json)))
    };
    AdmissionResponse {
        uid: uid.to_owned(),
        allowed: v.allowed(),
        status,
        warnings: warnings(v),
        patch_type,
        patch,
    }
}

/// Standard base64 (RFC 4648, padded).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

impl Verdict {
    /// The messages an admission denial carries, each `rule: message` (empty when allowed).
    pub fn error_messages(&self) -> Vec<String> {
        error_messages(self)
    }

    /// The warnings an admission answer carries, bounded as the API server keeps them: each
    /// at most 256 bytes, 4 KiB in all.
    pub fn warnings(&self) -> Vec<String> {
        warnings(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::verdict::Finding;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn warnings_are_bounded() {
        let f = |i: usize| {
            Finding::new(
                crate::RuleId::BroadToleration,
                Severity::Warning,
                "",
                format!("{i} {}", "é".repeat(300)),
            )
        };
        let v = Verdict::new((0..40).map(f).collect(), vec![]);
        let w = warnings(&v);
        assert!(w.iter().all(|s| s.len() <= MAX_WARNING));
        assert!(w[0].starts_with("broad-toleration: 0 "));
        assert!(w.iter().map(String::len).sum::<usize>() <= MAX_WARNINGS_TOTAL);
        assert!(w.last().unwrap().starts_with("and "));
    }
}
