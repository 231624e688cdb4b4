//! The CKS rule catalogue as a Kubewarden policy: a waPC module for `wasm32-wasip1`.
//!
//! This crate only marshals. Every verdict comes from [`policy_core`]; the module adds what only
//! a policy running inside Kubewarden can do, through the host:
//!
//! - `control-plane-namespace` needs the labels of the request's namespace: the module asks the
//!   host (`kubernetes`/`get_resource`, declared in `contextAwareResources`) and passes them as
//!   [`Context::namespaces`]. When the host refuses or fails, the core falls back to the
//!   `controlPlaneNamespaces` settings and the answer carries a warning saying so.
//! - with `images.resolveDigests`, the references the core could not pin from the lock map are
//!   resolved through the host's OCI manifest-digest capability and passed as
//!   [`Context::digests`], so `pin-digests` rewrites `repo:tag` to `repo:tag@digest`. A failed
//!   lookup is an error naming the image.
//!
//! Nothing here may trap: the size profile aborts on panic, so every fallible step is guarded
//! and bad input becomes a rejection (or an invalid-settings answer).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use policy_core::eval::is_exempt;
use policy_core::object::Operation;
use policy_core::settings::Mode;
use policy_core::{admission, patch, Context, Finding, Policy, Request, RuleId, Severity, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// Kubewarden's answer to `validate` (policy protocol `v1`); the host computes the JSON Patch
/// from `mutated_object` itself.
#[derive(Serialize)]
struct ValidationResponse {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    mutated_object: Option<Value>,
    audit_annotations: Option<BTreeMap<String, String>>,
    warnings: Option<Vec<String>>,
}

/// Kubewarden's answer to `validate_settings`.
#[derive(Serialize)]
struct SettingsValidationResponse {
    valid: bool,
    message: Option<String>,
}

/// Kubewarden's answer to `protocol_version`: this module speaks protocol `v1`.
pub const PROTOCOL_VERSION: &[u8] = b"\"v1\"";

/// The cluster, as the policy sees it through Kubewarden's host capabilities.
pub trait Host {
    /// The raw JSON answer of `kubernetes`/`get_resource` for the Namespace `name`.
    fn get_namespace(&self, request: &[u8]) -> Result<Vec<u8>, String>;
    /// The raw JSON answer of `oci`/`v1/manifest_digest` for a JSON-quoted image reference.
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

/// The parts of a Namespace the module reads.
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

/// What Kubewarden sends to `validate`.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    request: &'a RawValue,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

/// The request's object, read again only when a patch must be applied to it.
#[derive(Deserialize)]
struct ObjectOnly {
    #[serde(default)]
    object: Option<Value>,
}

/// The last compiled settings: Kubewarden sends the same settings bytes with every request.
static POLICY_CACHE: Mutex<Option<(Vec<u8>, Arc<Policy>)>> = Mutex::new(None);

fn compile(settings: &[u8]) -> Result<Arc<Policy>, String> {
    if let Ok(guard) = POLICY_CACHE.lock() {
        if let Some((bytes, policy)) = guard.as_ref() {
            if bytes.as_slice() == settings {
                return Ok(Arc::clone(policy));
            }
        }
    }
    let policy = Arc::new(Policy::from_slice(settings).map_err(|e| e.to_string())?);
    if let Ok(mut guard) = POLICY_CACHE.lock() {
        *guard = Some((settings.to_vec(), Arc::clone(&policy)));
    }
    Ok(policy)
}

/// Serializes a response; the fallback bytes are a valid rejection, so the host never sees
/// garbage even if serialization were to fail.
fn to_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| {
        br#"{"accepted":false,"message":"input-invalid: cannot serialize the policy's answer","code":500}"#
            .to_vec()
    })
}

fn reject(message: String, code: u16) -> ValidationResponse {
    ValidationResponse {
        accepted: false,
        message: Some(message),
        code: Some(code),
        mutated_object: None,
        audit_annotations: None,
        warnings: None,
    }
}

/// `validate_settings`: every problem in one message.
pub fn validate_settings(payload: &[u8]) -> Vec<u8> {
    let answer = match Policy::from_slice(payload) {
        Ok(_) => SettingsValidationResponse {
            valid: true,
            message: None,
        },
        Err(e) => SettingsValidationResponse {
            valid: false,
            message: Some(e.to_string()),
        },
    };
    to_bytes(&answer)
}

/// `validate`: judges `{request, settings}` and answers a Kubewarden `ValidationResponse`.
pub fn validate(payload: &[u8], host: &dyn Host) -> Vec<u8> {
    to_bytes(&validate_response(payload, host))
}

fn input_invalid(message: impl std::fmt::Display) -> String {
    format!("{}: {message}", RuleId::InputInvalid.as_str())
}

fn validate_response(payload: &[u8], host: &dyn Host) -> ValidationResponse {
    let parsed: Payload<'_> = match serde_json::from_slice(payload) {
        Ok(p) => p,
        Err(e) => {
            return reject(
                input_invalid(format_args!(
                    "the validation request is not a JSON `{{request, settings}}` map: {e}"
                )),
                400,
            )
        }
    };
    let settings = parsed.settings.map_or("{}", RawValue::get);
    let policy = match compile(settings.as_bytes()) {
        Ok(p) => p,
        Err(e) => return reject(e, 400),
    };
    let request_bytes = parsed.request.get().as_bytes();
    let request = match policy_core::parse_request(&policy, request_bytes) {
        Ok(r) => r,
        Err(e) => {
            let message = match e {
                policy_core::ReviewError::Invalid(m) => m,
                other => other.to_string(),
            };
            return reject(input_invalid(message), 400);
        }
    };

    let mut extra = Vec::new();
    let mut context = Context::default();
    lookup_namespace(&policy, &request, host, &mut context, &mut extra);
    resolve_digests(&policy, &request, host, &mut context, &mut extra);

    let mut verdict = policy_core::evaluate(&policy, &request, &context);
    if !extra.is_empty() {
        policy_core::exceptions::add_host_findings(&policy, &request, &mut verdict, extra);
    }
    answer(&verdict, request_bytes)
}

fn answer(verdict: &Verdict, request_bytes: &[u8]) -> ValidationResponse {
    let warnings = admission::warnings(verdict);
    let warnings = (!warnings.is_empty()).then_some(warnings);
    if !verdict.allowed {
        let code = if verdict
            .findings
            .iter()
            .any(|f| f.rule == RuleId::InputInvalid.as_str())
        {
            400
        } else {
            403
        };
        let mut r = reject(admission::error_messages(verdict).join("; "), code);
        r.warnings = warnings;
        return r;
    }
    let mut mutated_object = None;
    if !verdict.patch.is_empty() {
        let object = serde_json::from_slice::<ObjectOnly>(request_bytes)
            .ok()
            .and_then(|o| o.object);
        let Some(mut object) = object else {
            let mut r = reject(
                input_invalid("the request has no `object` to apply the policy's patch to"),
                400,
            );
            r.warnings = warnings;
            return r;
        };
        if let Err(e) = patch::apply(&mut object, &verdict.patch) {
            // A patch the engine emitted does not apply: refuse rather than admit the object
            // without the mutations the settings ask for.
            let mut r = reject(
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

/// The namespace the request's object lives in, if any.
fn request_namespace(request: &Request) -> Option<&str> {
    request
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            request
                .object
                .as_ref()
                .or(request.old_object.as_ref())
                .and_then(|o| o.namespace())
                .filter(|n| !n.is_empty())
        })
}

/// The warning added when the namespace's labels cannot be read from the cluster.
pub fn namespace_fallback_message(namespace: &str, reason: &str) -> String {
    format!(
        "labels of namespace `{namespace}` unavailable, judged by `controlPlaneNamespaces` only (grant the policy `v1/Namespace` in `contextAwareResources`): {reason}"
    )
}

fn lookup_namespace(
    policy: &Policy,
    request: &Request,
    host: &dyn Host,
    context: &mut Context,
    extra: &mut Vec<Finding>,
) {
    if !policy.enabled(RuleId::ControlPlaneNamespace)
        || request.operation == Operation::Connect
        || is_exempt(policy, request)
    {
        return;
    }
    let Some(namespace) = request_namespace(request) else {
        return;
    };
    let result = serde_json::to_vec(&GetResourceRequest {
        api_version: "v1",
        kind: "Namespace",
        name: namespace,
        namespace: None,
        disable_cache: false,
        field_masks: Some(["metadata.labels"]),
    })
    .map_err(|e| e.to_string())
    .and_then(|req| host.get_namespace(&req))
    .and_then(|answer| {
        serde_json::from_slice::<NamespaceAnswer>(&answer)
            .map_err(|e| format!("unreadable answer: {e}"))
    });
    match result {
        Ok(ns) => {
            context
                .namespaces
                .insert(namespace.to_owned(), ns.metadata.labels.unwrap_or_default());
        }
        Err(reason) => extra.push(Finding {
            rule: RuleId::ControlPlaneNamespace,
            severity: Severity::Warning,
            path: String::from("/metadata/namespace"),
            message: namespace_fallback_message(namespace, &reason),
            fix: None,
            line: None,
            preexisting: false,
            suppressed: None,
        }),
    }
}

/// The message of a failed digest lookup.
pub fn digest_failure_message(image: &str, reason: &str) -> String {
    format!(
        "cannot resolve the digest of `{image}` through the registry ({reason}); pin the image by digest or add it to `images.digests`"
    )
}

fn resolve_digests(
    policy: &Policy,
    request: &Request,
    host: &dyn Host,
    context: &mut Context,
    extra: &mut Vec<Finding>,
) {
    if !policy.settings().images.resolve_digests || !policy.enabled(RuleId::PinDigests) {
        return;
    }
    // A failed lookup denies, like the unpinned image it leaves behind, unless errors are only
    // warnings (`mode: warn`) or the requester is exempt from validation.
    let severity = if policy.settings().mode == Mode::Warn || is_exempt(policy, request) {
        Severity::Warning
    } else {
        Severity::Error
    };
    for image in policy_core::images_to_resolve(policy, request, context) {
        let result = serde_json::to_vec(&image)
            .map_err(|e| e.to_string())
            .and_then(|req| host.manifest_digest(&req))
            .and_then(|answer| {
                serde_json::from_slice::<DigestAnswer>(&answer)
                    .map_err(|e| format!("unreadable answer: {e}"))
            })
            .and_then(|a| {
                policy_core::image_ref::validate_digest(&a.digest)
                    .map(|()| a.digest.clone())
                    .map_err(|e| format!("the registry answered `{}`: {e}", a.digest))
            });
        match result {
            Ok(digest) => {
                context.digests.insert(image, digest);
            }
            Err(reason) => extra.push(Finding {
                rule: RuleId::PinDigests,
                severity,
                path: String::new(),
                message: digest_failure_message(&image, &reason),
                fix: None,
                line: None,
                preexisting: false,
                suppressed: None,
            }),
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod wapc {
    //! The waPC glue: exports and host calls.
    use wapc_guest::{host_call, register_function, CallResult};

    struct WapcHost;

    /// The host's own words, without the guest library's `Host error: ` prefix.
    fn reason(e: Box<dyn std::error::Error + Send + Sync>) -> String {
        let s = e.to_string();
        s.strip_prefix("Host error: ")
            .map(str::to_owned)
            .unwrap_or(s)
    }

    impl super::Host for WapcHost {
        fn get_namespace(&self, request: &[u8]) -> Result<Vec<u8>, String> {
            host_call("kubewarden", "kubernetes", "get_resource", request).map_err(reason)
        }
        fn manifest_digest(&self, request: &[u8]) -> Result<Vec<u8>, String> {
            host_call("kubewarden", "oci", "v1/manifest_digest", request).map_err(reason)
        }
    }

    fn validate(payload: &[u8]) -> CallResult {
        Ok(super::validate(payload, &WapcHost))
    }

    fn validate_settings(payload: &[u8]) -> CallResult {
        Ok(super::validate_settings(payload))
    }

    fn protocol_version(_payload: &[u8]) -> CallResult {
        Ok(super::PROTOCOL_VERSION.to_vec())
    }

    /// Registers the policy's waPC functions; called by the host once per instance.
    // waPC finds its entry point by this exact, unmangled name.
    #[allow(unsafe_code)]
    #[unsafe(no_mangle)]
    pub extern "C" fn wapc_init() {
        register_function("validate", validate);
        register_function("validate_settings", validate_settings);
        register_function("protocol_version", protocol_version);
    }
}
