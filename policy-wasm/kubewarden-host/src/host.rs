//! The waPC host and its table (feature `module`).

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::api::authentication::v1::UserInfo;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wapc::WapcHost;
use wasmtime_provider::{WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

/// The environment variable naming the built module.
pub const WASM_ENV: &str = "CKS_KUBEWARDEN_WASM";

/// Anything that went wrong on the host side.
pub type HostError = Box<dyn Error + Send + Sync>;

/// Kubewarden's model of an `admission.k8s.io/v1` AdmissionRequest, field for field: what
/// kwctl 1.31 and policy-server deserialise every request into before a policy sees it
/// (kubewarden/policy-evaluator v0.30.4, the tag kwctl 1.31.0 pins, `src/admission_request.rs`
/// lines 1-30). A field that is neither an `Option` nor defaulted is required: `uid`, `kind`,
/// `resource`, `operation` and `userInfo`; unknown fields are dropped.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// The request's identifier, echoed in the answer.
    pub uid: String,
    /// The kind of the object.
    pub kind: GroupVersionKind,
    /// The resource being requested (the plural, lower-case name of the kind).
    pub resource: GroupVersionResource,
    /// The subresource, if any (`status`, `scale`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    /// The kind the client asked for, before conversion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    /// The resource the client asked for, before conversion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    /// The subresource the client asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    /// The object's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The object's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: String,
    /// Who asked.
    pub user_info: UserInfo,
    /// The object after the operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<RawExtension>,
    /// The object before it (UPDATE, DELETE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_object: Option<RawExtension>,
    /// Whether the request is a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// The operation's options (`CreateOptions`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<RawExtension>,
}

/// Kubewarden's group, version and kind: all three required, `group` empty for the core group
/// (policy-evaluator v0.30.4, `src/admission_request.rs` lines 32-37).
#[derive(Clone, Debug, Default, Serialize, Deserialize, Eq, PartialEq)]
pub struct GroupVersionKind {
    /// API group (`""` for the core group).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

/// Kubewarden's group, version and resource: all three required (policy-evaluator v0.30.4,
/// `src/admission_request.rs` lines 39-44).
#[derive(Clone, Debug, Serialize, Deserialize, Eq, PartialEq)]
pub struct GroupVersionResource {
    /// API group (`""` for the core group).
    pub group: String,
    /// API version.
    pub version: String,
    /// The plural, lower-case resource name (`pods`).
    pub resource: String,
}

/// A request Kubewarden refuses before any policy runs: it does not deserialise into
/// [`AdmissionRequest`]. Worded as kwctl words it (kubewarden/kwctl v1.31.0,
/// `src/command/run/evaluator.rs`, `build_validate_request`).
#[derive(Debug, thiserror::Error)]
#[error("cannot build AdmissionRequest object from given input: {0}")]
pub struct RequestRefused(#[source] pub serde_json::Error);

/// Reads `request` as Kubewarden does and returns what Kubewarden then hands the policy: the
/// request re-serialised from [`AdmissionRequest`] (unknown fields and absent optional ones
/// left out), as policy-evaluator's waPC runtime sends it (`src/runtimes/wapc/runtime.rs`,
/// `Runtime::validate`). A request missing a required field, or with one of the wrong type, is
/// refused with serde's message, e.g. ``missing field `resource` ``.
pub fn kubewarden_request(request: &Value) -> Result<Value, RequestRefused> {
    let parsed: AdmissionRequest =
        serde_json::from_value(request.clone()).map_err(RequestRefused)?;
    serde_json::to_value(&parsed).map_err(RequestRefused)
}

/// The plural resource the API server serves a kind as, guessed the way Kubernetes itself
/// guesses it (k8s.io/apimachinery `pkg/api/meta/restmapper.go`, `UnsafeGuessKindToResource`):
/// lower-cased, `-s` → `-ses`, `-y` → `-ies`, `endpoints` unchanged, otherwise `-s` added. Right
/// for every built-in kind and for CRDs that keep the conventional plural.
pub fn guess_resource(kind: &str) -> String {
    let singular = kind.to_lowercase();
    if singular.is_empty() || singular.ends_with("endpoints") {
        singular
    } else if singular.ends_with('s') {
        singular + "es"
    } else if let Some(stem) = singular.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        singular + "s"
    }
}

/// The module's `validate` answer (Kubewarden's `ValidationResponse`). Unknown fields are an
/// error, so a change of the wire format shows up here.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Whether the request is admitted.
    pub accepted: bool,
    /// Why it is not.
    pub message: Option<String>,
    /// HTTP-like code of a rejection.
    pub code: Option<u16>,
    /// The whole object after the policy's mutations.
    pub mutated_object: Option<Value>,
    /// Audit annotations (the module sets none).
    pub audit_annotations: Option<BTreeMap<String, String>>,
    /// Warnings for the API client.
    pub warnings: Option<Vec<String>>,
}

/// The module's `validate_settings` answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsAnswer {
    /// Whether the settings can be used.
    pub valid: bool,
    /// Every problem, when they cannot.
    pub message: Option<String>,
}

/// One host call the module made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Namespace of the capability (`kubernetes`, `oci`).
    pub namespace: String,
    /// Operation (`get_resource`, `v1/manifest_digest`).
    pub operation: String,
    /// The request payload, as JSON.
    pub payload: Value,
}

/// What the host answers, keyed by what the module asks.
#[derive(Debug, Default)]
pub struct Table {
    /// Namespace name → its labels; a namespace not listed is refused with
    /// [`Table::namespace_error`].
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The error for a namespace that is not in the table.
    pub namespace_error: Option<String>,
    /// Image reference as the module sends it → digest; `Err` is a failed lookup. A reference
    /// not listed fails too.
    pub digests: BTreeMap<String, Result<String, String>>,
    /// Every call made, in order.
    pub calls: Mutex<Vec<Call>>,
}

impl Table {
    /// The default refusal when a namespace is not in the table: what Kubewarden answers when
    /// the policy was not granted the resource (kubewarden/kubewarden-controller,
    /// `crates/policy-evaluator/src/runtimes/callback.rs`, the `get_resource` arm).
    pub const REFUSED: &'static str =
        "Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported.";

    fn answer(&self, ns: &str, op: &str, payload: &[u8]) -> Result<Vec<u8>, HostError> {
        let value: Value = serde_json::from_slice(payload)?;
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(Call {
                namespace: ns.to_owned(),
                operation: op.to_owned(),
                payload: value.clone(),
            });
        }
        match (ns, op) {
            ("kubernetes", "get_resource") => {
                let kind = value.get("kind").and_then(Value::as_str);
                let api_version = value.get("api_version").and_then(Value::as_str);
                let name = value.get("name").and_then(Value::as_str).unwrap_or("");
                if kind != Some("Namespace") || api_version != Some("v1") {
                    return Err(format!("unexpected resource {api_version:?} {kind:?}").into());
                }
                match self.namespaces.get(name) {
                    Some(labels) => Ok(serde_json::to_vec(&json!({
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": name, "labels": labels},
                    }))?),
                    None => Err(self
                        .namespace_error
                        .clone()
                        .unwrap_or_else(|| Self::REFUSED.to_owned())
                        .into()),
                }
            }
            ("oci", "v1/manifest_digest") => {
                let image = value.as_str().ok_or("the image must be a JSON string")?;
                match self.digests.get(image) {
                    Some(Ok(d)) => Ok(serde_json::to_vec(&json!({ "digest": d }))?),
                    Some(Err(e)) => Err(e.clone().into()),
                    None => Err(format!("{image}: manifest unknown").into()),
                }
            }
            // Logging, as policy-server answers it: accepted, nothing returned
            // (kubewarden/kubewarden-controller, crates/policy-evaluator/src/runtimes/callback.rs,
            // the `tracing`/`log` arm of `host_callback`). This policy does not log; other
            // policies run by the benchmark (upstream pod-privileged) do.
            ("tracing", "log") => Ok(Vec::new()),
            _ => Err(format!("unknown capability {ns}/{op}").into()),
        }
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// The path of the built module, from [`WASM_ENV`].
pub fn wasm_path() -> Result<PathBuf, HostError> {
    let p = std::env::var_os(WASM_ENV).ok_or_else(|| {
        format!("{WASM_ENV} is not set: run policy-wasm/kubewarden/test.sh, or point it at the built .wasm")
    })?;
    let p = PathBuf::from(p);
    if !p.is_file() {
        return Err(format!("{WASM_ENV}={} is not a file", p.display()).into());
    }
    Ok(p)
}

/// Compiles any waPC module at `path` (this policy, or another one to compare it with), ready
/// to be instantiated many times, as policy-server keeps one pre-instantiated module per policy.
pub fn compile_module(path: &std::path::Path) -> Result<WasmtimeEngineProviderPre, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read the module {}: {e}", path.display()))?;
    WasmtimeEngineProviderBuilder::new()
        .module_bytes(&bytes)
        .build_pre()
        .map_err(|e| format!("cannot compile the module: {e}"))
}

/// The module, compiled once per process.
pub fn compiled() -> Result<&'static WasmtimeEngineProviderPre, HostError> {
    static PRE: OnceLock<Result<WasmtimeEngineProviderPre, String>> = OnceLock::new();
    PRE.get_or_init(|| compile_module(&wasm_path().map_err(|e| e.to_string())?))
        .as_ref()
        .map_err(|e| e.clone().into())
}

/// One instance of the module with its host table.
pub struct Instance {
    host: WapcHost,
    /// What the host answers, and the calls it saw.
    pub table: Arc<Table>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("table", &self.table)
            .finish()
    }
}

impl Instance {
    /// Instantiates the module (runs `wapc_init`) with a host answering from `table`.
    pub fn new(table: Table) -> Result<Self, HostError> {
        Self::of(compiled()?, table)
    }

    /// Instantiates `module` (runs `wapc_init`) with a host answering from `table`: a fresh
    /// instance, with nothing cached from earlier requests.
    pub fn of(module: &WasmtimeEngineProviderPre, table: Table) -> Result<Self, HostError> {
        let table = Arc::new(table);
        let t = Arc::clone(&table);
        let engine = module.rehydrate(None)?;
        let host = WapcHost::new(
            Box::new(engine),
            Some(Box::new(move |_id, binding, ns, op, payload| {
                if binding != "kubewarden" {
                    return Err(format!("unknown binding {binding}").into());
                }
                t.answer(ns, op, payload)
            })),
        )?;
        Ok(Instance { host, table })
    }

    /// Calls a waPC function with raw bytes; `Err` means the guest failed or trapped.
    pub fn call(&self, op: &str, payload: &[u8]) -> Result<Vec<u8>, HostError> {
        Ok(self.host.call(op, payload)?)
    }

    /// `validate` with raw payload bytes, unchecked: what the module does with bytes Kubewarden
    /// would never send it.
    pub fn validate_raw(&self, payload: &[u8]) -> Result<Answer, HostError> {
        let out = self.call("validate", payload)?;
        Ok(serde_json::from_slice(&out)?)
    }

    /// `validate` of an AdmissionRequest with settings, as Kubewarden sends it: the request is
    /// first read as Kubewarden reads it ([`kubewarden_request`]), and one Kubewarden refuses
    /// never reaches the module (the error is a [`RequestRefused`]).
    pub fn validate(&self, request: &Value, settings: &Value) -> Result<Answer, HostError> {
        let request = kubewarden_request(request)?;
        let payload = serde_json::to_vec(&json!({"request": request, "settings": settings}))?;
        self.validate_raw(&payload)
    }

    /// `validate_settings` with raw settings bytes.
    pub fn validate_settings(&self, settings: &[u8]) -> Result<SettingsAnswer, HostError> {
        let out = self.call("validate_settings", settings)?;
        Ok(serde_json::from_slice(&out)?)
    }
}

/// An AdmissionRequest for a bare manifest, as the spec judges one: a CREATE by an unknown,
/// non-exempt user, with the `resource` the API server would name ([`guess_resource`]).
pub fn create_request(object: &Value) -> Value {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let meta = object.get("metadata");
    let kind = object.get("kind").cloned().unwrap_or(Value::Null);
    let resource = guess_resource(kind.as_str().unwrap_or(""));
    let mut req = json!({
        "uid": "00000000-0000-0000-0000-000000000000",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "operation": "CREATE",
        "userInfo": {},
        "object": object,
        "oldObject": null,
        "dryRun": false,
    });
    for key in ["namespace", "name"] {
        if let Some(v) = meta.and_then(|m| m.get(key)).filter(|v| v.is_string()) {
            req[key] = v.clone();
        }
    }
    req
}
