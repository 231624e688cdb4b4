//! # cks-policy-web
//!
//! The CKS rule catalogue for the browser: a `wasm32-unknown-unknown` module built with
//! wasm-bindgen that the offline manifest checker page (`www/`) loads. It only marshals strings
//! to and from `policy-core`; every rule, line lookup and patch lives in the core, so the page
//! gives the same answer, byte for byte, as the CLI, the Kubewarden module and the C ABI.
//!
//! Exports (JS names):
//! - `evaluate(text, settings, source?, context?)` → [`Evaluation`]: the report JSON and the
//!   fixed manifest, in one call;
//! - `Checker` (settings compiled once) with `evaluate(text, source?, context?)`;
//! - `validateSettings(settings)` → JSON `{"valid", "problems": [{"path", "message", "line"?}]}`;
//! - `rules()` → the rule catalogue as JSON, `settingsSchema()` → the settings JSON Schema,
//!   `version()`.
//!
//! The plain Rust functions ([`compile`], [`run`], [`settings_report`]) carry the logic and are
//! tested natively; they judge, read the context and fix through [`policy_core::call`], as every
//! surface does. The `#[wasm_bindgen]` items only convert errors.

use policy_core::call::{self, CallError};
use policy_core::{Judgement, Policy, SettingsProblem};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The source name echoed in reports when the caller gives none.
pub const DEFAULT_SOURCE: &str = "manifest";

/// The answer of [`settings_report`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsReport {
    /// Whether the settings compile.
    pub valid: bool,
    /// Every problem found (empty when valid), each with the line of its field in the
    /// settings text when the core finds it there.
    pub problems: Vec<SettingsProblem>,
}

/// Settings text as the core reads it: blank text means the defaults (`{}`).
fn settings_bytes(settings: &str) -> &[u8] {
    if settings.trim().is_empty() {
        b"{}"
    } else {
        settings.as_bytes()
    }
}

/// Compiles settings (YAML or JSON; blank means defaults) into a policy.
pub fn compile(settings: &str) -> Result<Policy, SettingsReport> {
    Policy::from_slice(settings_bytes(settings)).map_err(|e| SettingsReport {
        valid: false,
        problems: e.problems().to_vec(),
    })
}

/// Validates settings and lists every problem with its line in `settings`.
pub fn settings_report(settings: &str) -> SettingsReport {
    match compile(settings) {
        Ok(_) => SettingsReport {
            valid: true,
            problems: Vec::new(),
        },
        Err(r) => r,
    }
}

/// The result of judging one manifest text.
#[wasm_bindgen]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    report: String,
    fixed: Option<String>,
    changed: bool,
    fix_error: Option<String>,
}

#[wasm_bindgen]
impl Evaluation {
    /// The compact report JSON, byte for byte what `cks-policy check --format json` prints.
    #[wasm_bindgen(getter)]
    pub fn report(&self) -> String {
        self.report.clone()
    }

    /// The manifest with every document's patch applied (unpatched documents kept as typed);
    /// absent when the patch could not be applied (see `fixError`).
    #[wasm_bindgen(getter)]
    pub fn fixed(&self) -> Option<String> {
        self.fixed.clone()
    }

    /// Whether any document was patched.
    #[wasm_bindgen(getter)]
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Why the fixed manifest could not be produced, if it could not.
    #[wasm_bindgen(getter, js_name = fixError)]
    pub fn fix_error(&self) -> Option<String> {
        self.fix_error.clone()
    }
}

/// Judges manifest bytes with a compiled policy and caller context (JSON text as the page gave
/// it; the core says what blank text means) and applies the resulting patches.
pub fn run(
    policy: &Policy,
    bytes: &[u8],
    source: &str,
    context: Option<&str>,
    judgement: Judgement,
) -> Result<Evaluation, CallError> {
    let judged = call::judge(
        policy,
        bytes,
        Some(source),
        context.map(str::as_bytes),
        judgement,
        true,
    )?;
    let (fixed, changed, fix_error) = match judged.fixed {
        Some(Ok(f)) => (Some(f.text), f.changed, None),
        Some(Err(e)) => (None, false, Some(e.to_string())),
        None => (None, false, None),
    };
    Ok(Evaluation {
        report: judged.report.to_json(),
        fixed,
        changed,
        fix_error,
    })
}

/// Settings compiled once, for judging text after text as the user types.
#[wasm_bindgen]
pub struct Checker {
    policy: Policy,
}

#[wasm_bindgen]
impl Checker {
    /// Compiles settings (YAML or JSON; blank means defaults). Throws an `Error` whose message
    /// lists every problem; `validateSettings` gives them as data with lines.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: &str) -> Result<Checker, JsError> {
        compile(settings)
            .map(|policy| Checker { policy })
            .map_err(|r| JsError::new(&problems_message(&r)))
    }

    /// Judges manifest text (YAML or JSON, multi-document, `kind: List`, AdmissionReviews).
    /// `source` (default `"manifest"`) is echoed in the report; `context` is optional cluster
    /// context JSON (`{"namespaces": {...}, "digests": {...}}`).
    pub fn evaluate(
        &self,
        text: &str,
        source: Option<String>,
        context: Option<String>,
    ) -> Result<Evaluation, JsError> {
        self.evaluate_bytes(text.as_bytes(), source, context)
    }

    /// Judges raw bytes (a `Uint8Array`), for input that is not UTF-8 or must keep its exact
    /// line endings; otherwise as `evaluate`.
    #[wasm_bindgen(js_name = evaluateBytes)]
    pub fn evaluate_bytes(
        &self,
        bytes: &[u8],
        source: Option<String>,
        context: Option<String>,
    ) -> Result<Evaluation, JsError> {
        self.judge(bytes, source, context, Judgement::Admission)
    }

    /// Judges manifest text as existing cluster state (`cks-policy audit`): change rules do not
    /// fire and nothing is patched; otherwise as `evaluate`.
    pub fn audit(
        &self,
        text: &str,
        source: Option<String>,
        context: Option<String>,
    ) -> Result<Evaluation, JsError> {
        self.judge(text.as_bytes(), source, context, Judgement::Audit)
    }

    fn judge(
        &self,
        bytes: &[u8],
        source: Option<String>,
        context: Option<String>,
        judgement: Judgement,
    ) -> Result<Evaluation, JsError> {
        run(
            &self.policy,
            bytes,
            source.as_deref().unwrap_or(DEFAULT_SOURCE),
            context.as_deref(),
            judgement,
        )
        .map_err(|e| JsError::new(&e.to_string()))
    }
}

fn problems_message(r: &SettingsReport) -> String {
    let parts: Vec<String> = r
        .problems
        .iter()
        .map(|p| {
            if p.path.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.path, p.message)
            }
        })
        .collect();
    format!("invalid settings: {}", parts.join("; "))
}

/// One-shot: compiles `settings` and judges `text` (see [`Checker::evaluate`]).
#[wasm_bindgen]
pub fn evaluate(
    text: &str,
    settings: &str,
    source: Option<String>,
    context: Option<String>,
) -> Result<Evaluation, JsError> {
    Checker::new(settings)?.evaluate(text, source, context)
}

/// Validates settings: JSON `{"valid": bool, "problems": [{"path", "message", "line"?}]}`.
#[wasm_bindgen(js_name = validateSettings)]
pub fn validate_settings(settings: &str) -> String {
    serde_json::to_string(&settings_report(settings)).unwrap_or_default()
}

/// The rule catalogue in run order, as JSON (`[{"id", "severity", "enabled", "kind",
/// "description"}]`).
#[wasm_bindgen]
pub fn rules() -> String {
    serde_json::to_string(policy_core::rules()).unwrap_or_default()
}

/// The JSON Schema of the settings.
#[wasm_bindgen(js_name = settingsSchema)]
pub fn settings_schema() -> String {
    policy_core::settings_schema()
}

/// The engine version.
#[wasm_bindgen]
pub fn version() -> String {
    policy_core::VERSION.to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n";

    #[test]
    fn blank_settings_are_the_defaults() {
        assert!(compile("").is_ok());
        assert!(compile("  \n").is_ok());
        assert!(settings_report("mode: warn\n").valid);
    }

    #[test]
    fn settings_problems_carry_lines() {
        let r = settings_report("mode: enforce\nimages:\n  mutableTags: 3\n");
        assert!(!r.valid);
        assert!(!r.problems.is_empty());
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.starts_with(r#"{"valid":false,"problems":[{"#),
            "{json}"
        );
        // The core found the line; the page only passes it on.
        assert_eq!(r.problems[0].path, "/images/mutableTags");
        assert_eq!(r.problems[0].line, Some(3), "{json}");
    }

    #[test]
    fn evaluation_matches_the_core_and_fixes() {
        let policy = compile("").unwrap();
        let e = run(
            &policy,
            POD.as_bytes(),
            DEFAULT_SOURCE,
            None,
            Judgement::Admission,
        )
        .unwrap();
        let core = policy_core::check(
            &policy,
            Some("manifest"),
            POD.as_bytes(),
            &policy_core::Context::default(),
        );
        assert_eq!(e.report(), core.to_json());
        assert!(e.changed());
        assert!(e.fixed().unwrap().contains("is_cpu_compute"));
        assert_eq!(e.fix_error(), None);
    }

    #[test]
    fn garbage_is_a_finding_not_a_failure() {
        let policy = compile("").unwrap();
        let nested = "[".repeat(200);
        for junk in ["{{{", nested.as_str(), "\u{0}\u{1}\u{fffd}", ": : :\n\t- ["] {
            let e = run(
                &policy,
                junk.as_bytes(),
                DEFAULT_SOURCE,
                None,
                Judgement::Admission,
            )
            .unwrap();
            assert!(
                e.report().contains("input-invalid"),
                "{junk:?}: {}",
                e.report()
            );
        }
        let e = run(
            &policy,
            b"\xff\xfe\x00junk",
            DEFAULT_SOURCE,
            None,
            Judgement::Admission,
        )
        .unwrap();
        assert!(e.report().contains("input-invalid"));
        assert_eq!(e.fixed(), None);
        assert!(e.fix_error().is_some());
    }

    #[test]
    fn audit_judges_existing_state() {
        let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n  labels: {node.coreweave.cloud/state: production}\n";
        let checker = Checker::new("").unwrap();
        let audited = checker
            .judge(node.as_bytes(), None, None, Judgement::Audit)
            .unwrap();
        let want = policy_core::audit(
            &Policy::default(),
            Some(DEFAULT_SOURCE),
            node.as_bytes(),
            &policy_core::Context::default(),
        );
        assert_eq!(audited.report, want.to_json());
        assert!(!audited.report.contains("reserved-node-label"));
        let checked = checker
            .judge(node.as_bytes(), None, None, Judgement::Admission)
            .unwrap();
        assert!(checked.report.contains("reserved-node-label"));
    }

    #[test]
    fn context_parses_or_explains() {
        let policy = compile("").unwrap();
        let judge = |context| {
            run(
                &policy,
                POD.as_bytes(),
                DEFAULT_SOURCE,
                context,
                Judgement::Admission,
            )
        };
        let none = judge(None).unwrap();
        assert_eq!(judge(Some("")).unwrap(), none);
        assert_eq!(judge(Some(" \n")).unwrap(), none);
        assert!(judge(Some(r#"{"namespaces": {"a": {"k": "v"}}}"#)).is_ok());
        let e = judge(Some("{nope")).unwrap_err();
        assert!(e.to_string().starts_with("invalid context: "), "{e}");
    }

    #[test]
    fn catalogue_and_schema_are_json() {
        let rules: serde_json::Value = serde_json::from_str(&rules()).unwrap();
        assert!(rules.as_array().is_some_and(|a| !a.is_empty()));
        let schema: serde_json::Value = serde_json::from_str(&settings_schema()).unwrap();
        assert!(schema.is_object());
    }
}
