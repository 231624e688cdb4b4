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
                let suppressed = match f.get("suppressed") {
                    Some(s) => format!(
                        " [suppressed by {}: {}]",
                        s["by"].as_str().unwrap(),
                        s["reason"].as_str().unwrap()
                    ),
                    None => String::new(),
                };
                lines.push(format!(
                    "{} #{} {} {} {} :: {}{suppressed}",
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

/// The rule a passing case is named for: `<rule-id>-ok…` (the longest id that fits).
fn ok_case_rule(name: &str) -> Option<&'static str> {
    policy_core::rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| {
            name.strip_prefix(id)
                .is_some_and(|rest| rest == "-ok" || rest.starts_with("-ok-"))
        })
        .max_by_key(|id| id.len())
}

/// The rules that a case's report names (findings of every result).
fn rules_found(report: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    let mut out = Vec::new();
    for r in v["results"].as_array().unwrap() {
        for f in r["findings"].as_array().unwrap() {
            out.push(f["rule"].as_str().unwrap().to_owned());
        }
    }
    out
}

#[test]
fn ok_cases_have_no_finding_of_their_rule() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for case in cases() {
        let Some(rule) = ok_case_rule(&case.name) else {
            assert!(
                !case.name.contains("-ok"),
                "{}: a passing case must be named `<rule-id>-ok…` after an existing rule",
                case.name
            );
            continue;
        };
        checked += 1;
        if rules_found(&case.run()).iter().any(|r| r == rule) {
            wrong.push(format!("{}: has a `{rule}` finding", case.name));
        }
    }
    assert!(checked > 0, "no `-ok` cases");
    assert!(
        wrong.is_empty(),
        "passing cases that fail their rule:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn ok_case_rule_reads_the_name() {
    assert_eq!(
        ok_case_rule("image-pull-policy-ok-if-not-present"),
        Some("image-pull-policy")
    );
    assert_eq!(
        ok_case_rule("sunk-pod-scheduler-ok"),
        Some("sunk-pod-scheduler")
    );
    assert_eq!(ok_case_rule("image-pull-policy-always"), None);
    assert_eq!(ok_case_rule("image-pull-policy-okay"), None);
    // A report with a finding of the rule is what makes a passing case fail.
    let bad = r#"{"results":[{"findings":[{"rule":"image-pull-policy"}]}]}"#;
    assert_eq!(rules_found(bad), vec!["image-pull-policy".to_owned()]);
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

/// Every AdmissionRequest among the fixtures names its `resource`, as every real API server
/// sends it: Kubewarden refuses a request without it before any policy runs
/// (kubewarden/policy-evaluator v0.30.4, `src/admission_request.rs` line 7, a field that is
/// neither `Option` nor defaulted; kwctl 1.31 says "missing field `resource`"), so a
/// hand-written vector without it tests a request no cluster sends. `fixtures/complete-requests.py`
/// adds it. The resource name itself is not checked against the kind's plural: Kubewarden's audit
/// scanner sends the kind there (`reserved-node-label-ok-audit-scanner-request`).
#[test]
fn admission_fixtures_name_their_resource() {
    use serde_json::Value;
    let mut requests = 0usize;
    let mut failures = Vec::new();
    for case in cases() {
        let Ok(text) = std::str::from_utf8(&case.input) else {
            continue;
        };
        let docs: Vec<Value> = if case.input_name.ends_with(".json") {
            serde_json::from_str(text).into_iter().collect()
        } else {
            let limits = policy_core::Policy::default().settings().limits;
            policy_core::yaml::parse_documents_within(text, 0, &limits)
                .into_iter()
                .flatten()
                .collect()
        };
        for (i, doc) in docs.iter().enumerate() {
            let request = match doc.get("kind") {
                Some(Value::String(k)) if k == "AdmissionReview" => doc.get("request"),
                // A bare AdmissionRequest: its `kind` is a group/version/kind map.
                Some(Value::Object(_)) if doc.get("operation").is_some() => Some(doc),
                _ => None,
            };
            let Some(request) = request.filter(|r| r.is_object()) else {
                continue;
            };
            requests += 1;
            let kind = &request["kind"];
            let resource = &request["resource"];
            let ok = ["group", "version", "resource"]
                .iter()
                .all(|k| resource.get(*k).is_some_and(Value::is_string))
                && resource["group"] == kind["group"]
                && resource["version"] == kind["version"]
                && resource["resource"].as_str().is_some_and(|r| !r.is_empty());
            if !ok {
                failures.push(format!(
                    "{} document {i}: request.resource is {resource} for kind {kind}: a real API server sends {{group, version, resource}} with the kind's group and version (run fixtures/complete-requests.py)",
                    case.name
                ));
            }
        }
    }
    assert!(
        requests >= 75,
        "only {requests} AdmissionRequests found among the fixtures"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
