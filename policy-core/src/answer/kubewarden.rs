//! The Kubewarden policy protocol (`v1`): the answers to `validate` and `validate_settings`,
//! and the wire shapes of the host capabilities the policy uses. The waPC module
//! (`policy-wasm/kubewarden`) only moves bytes between the host and these functions.
//!
//! Wire formats, from the Kubewarden policy SDK (kubewarden/policy-sdk-rust, `src/response.rs`
//! `ValidationResponse`, `src/settings.rs` `SettingsValidationResponse`,
//! `src/host_capabilities/kubernetes.rs` `GetResourceRequest`): the host computes the JSON Patch
//! from `mutated_object` itself, so a mutation is answered with the whole patched object.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answer::admission::{self, Cluster, LookupError};
use crate::answer::call::Call;
use crate::judge::verdict::Verdict;
use crate::model::catalogue::RuleId;
use crate::settings::policy::Policy;

/// Kubewarden's answer to `validate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationResponse {
    /// Whether the request is admitted.
    pub accepted: bool,
    /// Why it is not: every error, each starting with its rule id.
    pub message: Option<String>,
    /// HTTP-like code of a rejection (400 unreadable input, 403 policy denial, 500 internal).
    pub code: Option<u16>,
    /// The whole object with the policy's mutations applied, when there are any.
    pub mutated_object: Option<Value>,
    /// Audit annotations (this policy sets none).
    pub audit_annotations: Option<BTreeMap<String, String>>,
    /// Warnings for the API client, bounded as the API server keeps them.
    pub warnings: Option<Vec<String>>,
}

/// Kubewarden's answer to `validate_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsValidationResponse {
    /// Whether the settings can be used.
    pub valid: bool,
    /// Every problem, when they cannot.
    pub message: Option<String>,
}

/// The policy's answer to `protocol_version`: it speaks protocol `v1`.
pub const PROTOCOL_VERSION: &[u8] = b"\"v1\"";

/// The host capabilities the policy calls, as raw waPC payloads (`kubewarden` binding).
pub trait Host {
    /// `kubernetes`/`get_resource` with a JSON `GetResourceRequest`; the host's error text on
    /// failure.
    fn get_resource(&self, request: &[u8]) -> Result<Vec<u8>, String>;
    /// `oci`/`v1/manifest_digest` with a JSON-quoted image reference.
    fn manifest_digest(&self, request: &[u8]) -> Result<Vec<u8>, String>;
}

/// The `kubernetes`/`get_resource` request (the SDK's struct is behind its `cluster-context`
/// feature, which would pull in a second copy of the Kubernetes types).
#[derive(Serialize)]
struct GetResourceRequest<'a> {
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    disable_cache: bool,
    field_masks: Option<[&'a str; 1]>,
}

/// The parts of a Namespace the policy reads.
#[derive(Deserialize)]
struct NamespaceAnswer {
    #[serde(default)]
    metadata: NamespaceMeta,
}

#[derive(Deserialize, Default)]
struct NamespaceMeta {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// The `oci`/`v1/manifest_digest` answer.
#[derive(Deserialize)]
struct DigestAnswer {
    digest: String,
}

/// The request's object, read again only when a patch must be applied to it.
#[derive(Deserialize)]
struct ObjectOnly {
    #[serde(default)]
    object: Option<Value>,
}

/// The cluster through a Kubewarden host.
struct HostCluster<'a>(&'a dyn Host);

impl Cluster for HostCluster<'_> {
    fn namespace_labels(&self, name: &str) -> Result<BTreeMap<String, String>, LookupError> {
        let request = serde_json::to_vec(&GetResourceRequest {
            api_version: "v1",
            kind: "Namespace",
            name,
            namespace: None,
            disable_cache: false,
            field_masks: Some(["metadata.labels"]),
        })
        .map_err(|e| LookupError::Failed(e.to_string()))?;
        let answer = self
            .0
            .get_resource(&request)
            .map_err(|e| LookupError::from_host(&e))?;
        serde_json::from_slice::<NamespaceAnswer>(&answer)
            .map(|ns| ns.metadata.labels.unwrap_or_default())
            .map_err(|e| LookupError::Failed(format!("unreadable answer: {e}")))
    }

    fn manifest_digest(&self, reference: &str) -> Result<String, LookupError> {
        let request =
            serde_json::to_vec(reference).map_err(|e| LookupError::Failed(e.to_string()))?;
        let answer = self
            .0
            .manifest_digest(&request)
            .map_err(|e| LookupError::from_host(&e))?;
        serde_json::from_slice::<DigestAnswer>(&answer)
            .map(|a| a.digest)
            .map_err(|e| LookupError::Failed(format!("unreadable answer: {e}")))
    }
}

impl ValidationResponse {
    /// A rejection with `message` and `code`.
    pub fn reject(message: String, code: u16) -> Self {
        ValidationResponse {
            accepted: false,
            message: Some(message),
            code: Some(code),
            mutated_object: None,
            audit_annotations: None,
            warnings: None,
        }
    }

    /// The rejection of a `validate` payload that is not a `{request, settings}` map.
    pub fn invalid_payload(reason: impl std::fmt::Display) -> Self {
        Self::reject(
            format!(
                "{}: the validation request is not a JSON `{{request, settings}}` map: {reason}",
                RuleId::InputInvalid
            ),
            400,
        )
    }

    /// The rejection of a request whose settings do not validate.
    pub fn invalid_settings(error: &crate::settings::error::SettingsError) -> Self {
        Self::reject(error.to_string(), 400)
    }

    /// The JSON bytes sent back to the host. Serialization cannot fail for this type; the
    /// fallback is still a valid rejection, so the host never sees garbage.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| {
            format!(
                r#"{{"accepted":false,"message":"{}: cannot serialize the policy's answer","code":500}}"#,
                RuleId::InputInvalid
            )
            .into_bytes()
        })
    }
}

impl SettingsValidationResponse {
    /// The JSON bytes sent back to the host.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self)
            .unwrap_or_else(|_| br#"{"valid":false,"message":"cannot serialize"}"#.to_vec())
    }
}

/// `validate_settings`: the settings bytes Kubewarden sends (JSON), every problem in one
/// message.
pub fn validate_settings(settings: &[u8]) -> SettingsValidationResponse {
    match Policy::from_slice(settings) {
        Ok(_) => SettingsValidationResponse {
            valid: true,
            message: None,
        },
        Err(e) => SettingsValidationResponse {
            valid: false,
            message: Some(e.to_string()),
        },
    }
}

/// `validate`: judges the AdmissionRequest JSON `request` (the `request` member of the payload,
/// as Kubewarden sent it) with `policy`, making the lookups it needs through `host`.
pub fn validate(policy: &Policy, request: &[u8], host: &dyn Host) -> ValidationResponse {
    let parsed = match crate::answer::review::parse_request(policy, request) {
        Ok(r) => r,
        Err(e) => {
            let message = match e {
                crate::settings::error::ReviewError::Invalid(m) => m,
                other => other.to_string(),
            };
            return ValidationResponse::reject(format!("{}: {message}", RuleId::InputInvalid), 400);
        }
    };
    let verdict = Call::without_context(policy).admit(&parsed, &HostCluster(host));
    answer(&verdict, request)
}

/// The `validate` answer for a verdict on the request JSON `request`: errors reject (400 or
/// 403, `admission::denial_code`), warnings are bounded as the API server keeps them, and a
/// patch is answered as the patched object.
pub fn answer(verdict: &Verdict, request: &[u8]) -> ValidationResponse {
    let warnings = admission::warnings(verdict);
    let warnings = (!warnings.is_empty()).then_some(warnings);
    if let Some(code) = admission::denial_code(verdict) {
        let mut r = ValidationResponse::reject(admission::error_messages(verdict).join("; "), code);
        r.warnings = warnings;
        return r;
    }
    let mut mutated_object = None;
    if !verdict.patch().is_empty() {
        let object = serde_json::from_slice::<ObjectOnly>(request)
            .ok()
            .and_then(|o| o.object);
        let Some(mut object) = object else {
            let mut r = ValidationResponse::reject(
                format!(
                    "{}: the request has no `object` to apply the policy's patch to",
                    RuleId::InputInvalid
                ),
                400,
            );
            r.warnings = warnings;
            return r;
        };
        if let Err(e) = crate::answer::patch::apply(&mut object, verdict.patch()) {
            // A patch the engine emitted does not apply: refuse rather than admit the object
            // without the mutations the settings ask for.
            let mut r = ValidationResponse::reject(
                format!("cks-policy: internal error, the mutation does not apply ({e}); please report it"),
                500,
            );
            r.warnings = warnings;
            return r;
        }
        mutated_object = Some(object);
    }
    ValidationResponse {
        accepted: true,
        message: None,
        code: None,
        mutated_object,
        audit_annotations: None,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// The settings an admin gives Kubewarden meet the same ceilings as every surface's
    /// (`maxAliasNodes: 1000000000` was once accepted).
    #[test]
    fn settings_above_a_ceiling_are_invalid() {
        let a = validate_settings(
            br#"{"limits": {"maxAliasNodes": 1000000000, "maxBytes": 16777217}}"#,
        );
        assert!(!a.valid);
        let msg = a.message.unwrap();
        for needle in [
            "/limits/maxAliasNodes",
            "must be between 0 and 1000000, found 1000000000",
            "/limits/maxBytes",
            "must be between 1 and 16777216, found 16777217",
        ] {
            assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
        }
        let largest = br#"{"limits": {"maxBytes": 16777216, "maxDepth": 128, "maxAliases": 10000, "maxAliasNodes": 1000000}}"#;
        assert!(validate_settings(largest).valid);
    }

    /// A host that answers from fixed results and records what it was asked.
    #[derive(Default)]
    struct FakeHost {
        namespace: Option<Result<Vec<u8>, String>>,
        digest: Option<Result<Vec<u8>, String>>,
        calls: RefCell<Vec<String>>,
    }

    impl Host for FakeHost {
        fn get_resource(&self, request: &[u8]) -> Result<Vec<u8>, String> {
            self.calls
                .borrow_mut()
                .push(String::from_utf8_lossy(request).into_owned());
            self.namespace
                .clone()
                .unwrap_or_else(|| Err(String::from("no namespace")))
        }
        fn manifest_digest(&self, request: &[u8]) -> Result<Vec<u8>, String> {
            self.calls
                .borrow_mut()
                .push(String::from_utf8_lossy(request).into_owned());
            self.digest
                .clone()
                .unwrap_or_else(|| Err(String::from("no digest")))
        }
    }

    const DIGEST: &str = "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";

    fn pod_request(op: &str, namespace: &str, image: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "uid": "u1", "operation": op, "namespace": namespace, "userInfo": {},
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "object": {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web", "namespace": namespace},
                "spec": {"containers": [{"name": "web", "image": image}]}},
        }))
        .unwrap()
    }

    fn namespace_request(op: &str, labels: serde_json::Value) -> Vec<u8> {
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "cw-system", "labels": labels}});
        serde_json::to_vec(&serde_json::json!({
            "uid": "u1", "operation": op, "namespace": "cw-system", "name": "cw-system",
            "userInfo": {"username": "alice"},
            "kind": {"group": "", "version": "v1", "kind": "Namespace"},
            "object": ns, "oldObject": ns,
        }))
        .unwrap()
    }

    #[test]
    fn a_namespace_request_never_looks_up_its_own_namespace() {
        let policy = Policy::default();
        let host = FakeHost::default();
        for op in ["UPDATE", "DELETE"] {
            let a = validate(
                &policy,
                &namespace_request(
                    op,
                    serde_json::json!({"ns.coreweave.cloud/org": "control-plane"}),
                ),
                &host,
            );
            // Judged by its own labels: a control-plane Namespace is denied, with no lookup.
            assert!(!a.accepted, "{op}: {a:?}");
            assert!(a.message.unwrap().starts_with("control-plane-namespace: "));
            let a = validate(
                &policy,
                &namespace_request(op, serde_json::json!({})),
                &host,
            );
            assert!(a.accepted, "{op}: {a:?}");
            assert_eq!(a.warnings, None, "{op}");
        }
        assert!(host.calls.borrow().is_empty(), "{:?}", host.calls.borrow());
    }

    #[test]
    fn lookup_failures_say_why_without_the_raw_text() {
        let policy = Policy::default();
        let refused = FakeHost {
            namespace: Some(Err(String::from(
                "Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported.",
            ))),
            ..FakeHost::default()
        };
        let a = validate(
            &policy,
            &pod_request("CREATE", "team", &format!("nginx@{DIGEST}")),
            &refused,
        );
        let w = a.warnings.unwrap().join("\n");
        assert!(w.contains("not granted `v1/Namespace`"), "{w}");
        let broken = FakeHost {
            namespace: Some(Err(format!("connection reset\x1b[2K{}", "x".repeat(1000)))),
            ..FakeHost::default()
        };
        let a = validate(
            &policy,
            &pod_request("CREATE", "team", &format!("nginx@{DIGEST}")),
            &broken,
        );
        let w = a.warnings.unwrap().join("\n");
        assert!(
            w.contains("the lookup failed: connection reset\\u{1b}[2K"),
            "{w}"
        );
        assert!(!w.contains("not granted") && !w.contains('\x1b'), "{w}");
        assert!(w.len() < 400, "{w}");
    }

    #[test]
    fn the_namespace_is_looked_up_in_the_rules_order() {
        // The object's own namespace wins over the request's.
        let mut v: serde_json::Value =
            serde_json::from_slice(&pod_request("CREATE", "team", &format!("nginx@{DIGEST}")))
                .unwrap();
        v["namespace"] = serde_json::json!("other");
        let host = FakeHost {
            namespace: Some(Ok(br#"{"metadata":{"labels":{}}}"#.to_vec())),
            ..FakeHost::default()
        };
        let a = validate(&Policy::default(), &serde_json::to_vec(&v).unwrap(), &host);
        assert!(a.accepted, "{a:?}");
        let calls = host.calls.borrow();
        assert_eq!(calls.len(), 1);
        assert!(calls[0].contains(r#""name":"team""#), "{calls:?}");
    }

    #[test]
    fn a_failed_digest_lookup_reports_at_the_rules_severity() {
        let image = "docker.io/library/nginx:1.25";
        let host = FakeHost {
            namespace: Some(Ok(br#"{"metadata":{}}"#.to_vec())),
            digest: Some(Err(String::from("registry unreachable"))),
            ..FakeHost::default()
        };
        let request = pod_request("CREATE", "team", "nginx:1.25");
        let with = |sev: &str| {
            Policy::from_slice(
                format!(r#"{{"images": {{"resolveDigests": true}}, "rules": {{"pin-digests": {{"severity": "{sev}"}}, "image-digest-required": {{"enabled": false}}}}}}"#)
                    .as_bytes(),
            )
            .unwrap()
        };
        let a = validate(&with("error"), &request, &host);
        assert!(!a.accepted, "{a:?}");
        assert_eq!(a.code, Some(403));
        let m = a.message.unwrap();
        assert!(
            m.starts_with("pin-digests: ")
                && m.contains(&format!(
                    "the registry lookup of `{image}` failed (registry unreachable)"
                )),
            "{m}"
        );
        let a = validate(&with("warning"), &request, &host);
        assert!(a.accepted, "{a:?}");
        assert!(a.warnings.unwrap()[0].contains("registry unreachable"));
        // The default severity (info) admits the unpinned image and says nothing to the client.
        let policy = Policy::from_slice(br#"{"images": {"resolveDigests": true}}"#).unwrap();
        let a = validate(&policy, &request, &host);
        assert!(a.accepted, "{a:?}");
        // A digest the registry answers that is not a digest is a failure too.
        let bogus = FakeHost {
            namespace: Some(Ok(br#"{"metadata":{}}"#.to_vec())),
            digest: Some(Ok(br#"{"digest":"sha256:nope"}"#.to_vec())),
            ..FakeHost::default()
        };
        let a = validate(&with("error"), &request, &bogus);
        assert!(a
            .message
            .unwrap()
            .contains("the registry answered `sha256:nope`"));
    }

    #[test]
    fn answers_carry_the_patched_object() {
        let host = FakeHost {
            namespace: Some(Ok(br#"{"metadata":{}}"#.to_vec())),
            ..FakeHost::default()
        };
        let a = validate(
            &Policy::default(),
            &pod_request("CREATE", "team", &format!("nginx@{DIGEST}")),
            &host,
        );
        assert!(a.accepted);
        let o = a
            .mutated_object
            .expect("the default mutations patch a bare pod");
        assert_ne!(
            o["spec"],
            serde_json::json!({"containers": [{"name": "web", "image": format!("nginx@{DIGEST}")}]})
        );
        let bad = validate(&Policy::default(), b"{", &host);
        assert_eq!(bad.code, Some(400));
        assert!(bad.message.unwrap().starts_with("input-invalid: "));
    }
}
