//! A waPC host for the cks-policy Kubewarden module, as Kubewarden runs it (wasmtime through
//! `wasmtime-provider`), with the host capabilities the module uses answered from a table:
//! namespace lookups (`kubernetes`/`get_resource`) and manifest digests (`oci`/
//! `v1/manifest_digest`). Used by the golden tests and the benchmark.
//!
//! The module is read from the path in `CKS_KUBEWARDEN_WASM` (set by
//! `policy-wasm/kubewarden/test.sh`) and compiled once per process.
//!
//! Everything here needs wasmtime, behind the `module` feature: a plain `cargo test
//! --workspace` has no module to load and does not compile wasmtime; `test.sh` turns it on.

#[cfg(feature = "module")]
mod host;
#[cfg(feature = "module")]
pub use host::*;
