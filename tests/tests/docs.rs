//! README stays in step with the code: every rule and every settings key is documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cks_policy_tests::root;

#[test]
fn readme_documents_every_rule_and_setting() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for r in policy_core::rules() {
        assert!(
            readme.contains(&format!("| `{}` |", r.id)),
            "README rule table lacks {}",
            r.id
        );
    }
    let defaults = serde_json::to_value(policy_core::Settings::default()).unwrap();
    for key in defaults.as_object().unwrap().keys() {
        assert!(
            readme.contains(&format!("`{key}")),
            "README settings table lacks {key}"
        );
    }
}

/// The schema the library ships is the one its types generate. To regenerate it:
/// `UPDATE_FIXTURES=1 cargo test -p cks-policy-tests --test docs`.
#[test]
fn shipped_settings_schema_is_current() {
    let generated = policy_core::generate_settings_schema();
    let path = root().join("policy-core/settings.schema.json");
    if std::env::var_os("UPDATE_FIXTURES").is_some() && generated != policy_core::settings_schema()
    {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert_eq!(
        generated,
        policy_core::settings_schema(),
        "stale policy-core/settings.schema.json: run `UPDATE_FIXTURES=1 cargo test -p cks-policy-tests --test docs`"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), generated);
}

#[test]
fn kubewarden_policy_example_passes_webhook_scope() {
    let path = root().join("policy-wasm/kubewarden/examples/cluster-admission-policy.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let report = policy_core::check(
        &policy_core::Policy::default(),
        Some("cluster-admission-policy.yaml"),
        &bytes,
        &policy_core::Context::default(),
    );
    assert_eq!(report.results.len(), 1);
    assert_eq!(
        report.results[0].kind.as_deref(),
        Some("ClusterAdmissionPolicy")
    );
    assert!(
        report.results[0].findings.is_empty(),
        "{:?}",
        report.results[0].findings
    );
    // Without its namespaceSelector the same policy is a webhook-scope error.
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.find("  namespaceSelector:").unwrap();
    let end = text.find("  contextAwareResources:").unwrap();
    let without = format!("{}{}", &text[..cut], &text[end..]);
    let report = policy_core::check(
        &policy_core::Policy::default(),
        None,
        without.as_bytes(),
        &policy_core::Context::default(),
    );
    assert!(report.results[0]
        .findings
        .iter()
        .any(|f| f.rule == "webhook-scope" && f.path == "/spec"));
}
