//! Exceptions on the command line: exit status, human counts and SARIF `suppressions`
//! (issue 13, item 2), over the golden cases that exercise them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn cks(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cks-policy"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

const BY_ANNOTATION: &str =
    "fixtures/cases/exception-annotation-invalid-ok-honoured-by-check/input.yaml";
const BY_SETTINGS: &str = "fixtures/cases/exceptions-settings-silence-named-rule";

#[test]
fn suppressed_errors_do_not_set_the_exit_status() {
    let o = cks(&["check", BY_ANNOTATION]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let human = stdout(&o);
    // Counted per document, not printed one by one.
    assert!(
        human.contains(": 2 findings suppressed by exceptions [Deployment/vendor]\n"),
        "{human}"
    );
    assert!(!human.contains("image-mutable-tag"), "{human}");
    assert!(
        human.ends_with("1 document (1 passed, 0 with warnings, 0 denied, 0 invalid): 0 errors, 0 warnings, 0 infos (2 suppressed by exceptions)\n"),
        "{human}"
    );

    // Audit honours the annotation too.
    let o = cks(&["audit", BY_ANNOTATION]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn sarif_marks_suppressions_in_source_and_external() {
    let o = cks(&["check", "--format", "sarif", BY_ANNOTATION]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(
            r["suppressions"],
            serde_json::json!([{
                "kind": "inSource",
                "status": "accepted",
                "justification": "the vendor publishes only `stable`; pinned by our mirror job"
            }])
        );
    }

    let settings = format!("{BY_SETTINGS}/settings.json");
    let input = format!("{BY_SETTINGS}/input.yaml");
    let o = cks(&[
        "check",
        "--settings",
        &settings,
        "--format",
        "sarif",
        &input,
    ]);
    assert_eq!(o.status.code(), Some(1), "the other objects still deny");
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "image-mutable-tag");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(results.len(), 8);
}
