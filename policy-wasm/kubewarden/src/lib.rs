//! The CKS rule catalogue as a Kubewarden policy: a waPC module for `wasm32-wasip1`.
//!
//! This crate only moves bytes. Every answer comes from [`policy_core::kubewarden`]: which
//! namespace and image lookups a request needs, what a failed lookup means, the verdict, the
//! HTTP code, the bounded warnings and the mutated object. The module adds the waPC exports,
//! the host calls (`kubernetes`/`get_resource`, `oci`/`v1/manifest_digest`) and a cache of the
//! last compiled settings.
//!
//! Nothing here may trap: the size profile aborts on panic, so every fallible step is guarded
//! and bad input becomes a rejection (or an invalid-settings answer).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::sync::{Arc, Mutex};

use policy_core::kubewarden::{self, ValidationResponse};
use policy_core::{Policy, SettingsError};
use serde::Deserialize;
use serde_json::value::RawValue;

pub use policy_core::kubewarden::{Host, PROTOCOL_VERSION};

/// What Kubewarden sends to `validate`.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    request: &'a RawValue,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

/// The last compiled settings: Kubewarden sends the same settings bytes with every request to
/// one instance.
static POLICY_CACHE: Mutex<Option<(Vec<u8>, Arc<Policy>)>> = Mutex::new(None);

fn compile(settings: &[u8]) -> Result<Arc<Policy>, SettingsError> {
    if let Ok(guard) = POLICY_CACHE.lock() {
        if let Some((bytes, policy)) = guard.as_ref() {
            if bytes.as_slice() == settings {
                return Ok(Arc::clone(policy));
            }
        }
    }
    let policy = Arc::new(Policy::from_slice(settings)?);
    if let Ok(mut guard) = POLICY_CACHE.lock() {
        *guard = Some((settings.to_vec(), Arc::clone(&policy)));
    }
    Ok(policy)
}

/// `validate_settings`: every problem in one message.
pub fn validate_settings(payload: &[u8]) -> Vec<u8> {
    kubewarden::validate_settings(payload).to_bytes()
}

/// `validate`: judges `{request, settings}` and answers a Kubewarden `ValidationResponse`.
pub fn validate(payload: &[u8], host: &dyn Host) -> Vec<u8> {
    validate_response(payload, host).to_bytes()
}

fn validate_response(payload: &[u8], host: &dyn Host) -> ValidationResponse {
    let parsed: Payload<'_> = match serde_json::from_slice(payload) {
        Ok(p) => p,
        Err(e) => return ValidationResponse::invalid_payload(e),
    };
    let settings = parsed.settings.map_or("{}", RawValue::get);
    match compile(settings.as_bytes()) {
        Ok(policy) => kubewarden::validate(&policy, parsed.request.get().as_bytes(), host),
        Err(e) => ValidationResponse::invalid_settings(&e),
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
        fn get_resource(&self, request: &[u8]) -> Result<Vec<u8>, String> {
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
