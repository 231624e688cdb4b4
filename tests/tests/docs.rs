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

#[test]
fn settings_schema_is_checked_in() {
    let checked_in =
        std::fs::read_to_string(root().join("policy-core/settings.schema.json")).unwrap();
    assert_eq!(
        policy_core::settings_schema(),
        checked_in,
        "stale schema: run `cargo run -p cks-policy-cli -- schema > policy-core/settings.schema.json`"
    );
}
