//! Runs every golden case through the Rust core and compares with `expected.json`.
//!
//! To add or update a case: `UPDATE_FIXTURES=1 cargo test -p cks-policy-tests --test golden`,
//! then review `git diff fixtures/` (the snapshot of findings below is reviewed with insta).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cks_policy_tests::{cases, minify, pretty};

#[test]
fn golden_cases_match_expected() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    let mut failures = Vec::new();
    let all = cases();
    assert!(!all.is_empty(), "no fixtures found");
    for case in &all {
        let got = case.run();
        let want = case.expected_pretty();
        match want {
            Some(w) if minify(&w) == got => {
                assert_eq!(
                    pretty(&got),
                    w,
                    "{}: expected.json is not in canonical pretty form",
                    case.name
                );
            }
            _ if update => {
                std::fs::write(case.dir.join("expected.json"), pretty(&got)).unwrap();
            }
            Some(_) => failures.push(format!(
                "{}: output differs from expected.json:\n{}",
                case.name,
                pretty(&got)
            )),
            None => failures.push(format!(
                "{}: no expected.json (run with UPDATE_FIXTURES=1)",
                case.name
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One line per finding across every case: a compact, reviewable snapshot of what each rule says.
#[test]
fn findings_snapshot() {
    let mut lines = Vec::new();
    for case in cases() {
        let v: serde_json::Value = serde_json::from_str(&case.run()).unwrap();
        for r in v["results"].as_array().unwrap() {
            for f in r["findings"].as_array().unwrap() {
                lines.push(format!(
                    "{} #{} {} {} {} :: {}",
                    case.name,
                    r["document"],
                    f["severity"].as_str().unwrap(),
                    f["rule"].as_str().unwrap(),
                    f["path"].as_str().unwrap(),
                    f["message"].as_str().unwrap()
                ));
            }
            for p in r["patch"].as_array().unwrap() {
                lines.push(format!("{} #{} patch {}", case.name, r["document"], p));
            }
        }
    }
    insta::assert_snapshot!("findings", lines.join("\n"));
}

#[test]
fn every_rule_has_failing_and_passing_cases() {
    // Each rule id must appear in at least one case's findings; passing cases are named `*-ok*`.
    let mut seen = std::collections::BTreeSet::new();
    let mut ok_cases = 0;
    let mut names = Vec::new();
    for case in cases() {
        names.push(case.name.clone());
        let v: serde_json::Value = serde_json::from_str(&case.run()).unwrap();
        for r in v["results"].as_array().unwrap() {
            for f in r["findings"].as_array().unwrap() {
                seen.insert(f["rule"].as_str().unwrap().to_owned());
            }
        }
        if case.name.contains("-ok") {
            ok_cases += 1;
        }
    }
    let missing: Vec<_> = policy_core::rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| !seen.contains(*id))
        .collect();
    assert!(ok_cases > 0);
    let no_ok: Vec<_> = policy_core::rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| !names.iter().any(|n| n.starts_with(&format!("{id}-ok"))))
        .collect();
    assert!(
        no_ok.is_empty(),
        "rules without a passing (`<rule>-ok…`) fixture: {no_ok:?}"
    );
    assert!(
        missing.is_empty(),
        "rules without a failing fixture: {missing:?}"
    );
}
