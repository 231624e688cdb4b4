//! Ratcheting over every golden vector (issue 10): each manifest document of every case, sent as
//! an UPDATE whose `oldObject` is the same object, keeps every state-rule finding it has as a
//! CREATE, each marked `preexisting` and at most a warning; none of them denies. The same UPDATE
//! with `update.preexisting: deny` keeps the CREATE's severities.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cks_policy_tests::cases;
use policy_core::{check, Context, Policy, Severity};
use policy_core::{Judges, RuleKind};

/// The case's documents that are single manifests (not Lists, not AdmissionReviews).
fn manifest_documents(text: &str) -> Vec<String> {
    text.split("\n---")
        .map(|d| d.trim_start_matches("---").to_owned())
        .filter(|d| {
            // A top-level `items` makes any document a list, whatever its kind.
            d.contains("kind:")
                && !d.contains("AdmissionReview")
                && !d.contains("kind: List")
                && !d.contains("\nitems:")
        })
        .collect()
}

fn indent(doc: &str) -> String {
    doc.lines().map(|l| format!("    {l}\n")).collect()
}

fn update_of(doc: &str) -> String {
    format!(
        "apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  uid: ratchet\n  operation: UPDATE\n  userInfo: {{username: alice}}\n  object:\n{}  oldObject:\n{}",
        indent(doc),
        indent(doc)
    )
}

#[test]
fn unchanged_state_findings_are_preexisting_and_do_not_deny() {
    let deny = Policy::from_slice(br#"{"update": {"preexisting": "deny"}}"#).unwrap();
    let mut judged = 0;
    let mut preexisting = 0;
    for case in cases().into_iter().filter(|c| c.input_name == "input.yaml") {
        let policy = Policy::from_slice(&case.settings).unwrap();
        let context: Context = serde_json::from_slice(&case.context).unwrap();
        // A case that is not UTF-8 on purpose has no manifest to update.
        let Ok(text) = String::from_utf8(case.input.clone()) else {
            continue;
        };
        // A manifest's own exception annotation counts in `check` but not in admission (it is
        // off there by default), so such documents are judged differently on purpose; ratcheting
        // with exceptions is tested in `exceptions.rs`.
        for doc in manifest_documents(&text)
            .into_iter()
            .filter(|d| !d.contains(policy_core::EXCEPTION_ANNOTATION))
        {
            let created = check(&policy, None, doc.as_bytes(), &context);
            if created.results.len() != 1
                || created.results[0]
                    .findings()
                    .iter()
                    .any(|f| f.rule() == "input-invalid")
            {
                continue;
            }
            // Mutations describe what CREATE admission adds, so they are not compared; nor are
            // the findings about how a file is read (`read-as-list`, `server-set-metadata`),
            // which an AdmissionRequest never gets.
            let state = |f: &&policy_core::Finding| {
                f.rule().info().judges == Judges::State
                    && f.rule().info().kind != RuleKind::Mutate
                    && !matches!(f.rule().as_str(), "read-as-list" | "server-set-metadata")
            };
            let want: Vec<_> = created.results[0].findings().iter().filter(state).collect();
            let update = update_of(&doc);
            let got = check(&policy, None, update.as_bytes(), &context);
            assert_eq!(got.results.len(), 1, "{}", case.name);
            let have: Vec<_> = got.results[0].findings().iter().filter(state).collect();
            assert_eq!(have.len(), want.len(), "{}: {doc}\n{have:?}", case.name);
            for (h, w) in have.iter().zip(&want) {
                assert_eq!((h.rule(), h.path()), (w.rule(), w.path()), "{}", case.name);
                assert!(h.preexisting(), "{}: {h:?}", case.name);
                assert_ne!(h.severity(), Severity::Error, "{}: {h:?}", case.name);
                preexisting += 1;
            }
            // Turned off, the same findings keep their severities.
            if context.namespaces.is_empty() && case.settings == b"{}" {
                let strict = check(&deny, None, update.as_bytes(), &context);
                let sev: Vec<_> = strict.results[0]
                    .findings()
                    .iter()
                    .filter(state)
                    .map(|f| (f.rule(), f.severity(), f.preexisting()))
                    .collect();
                let want_sev: Vec<_> = want
                    .iter()
                    .map(|f| (f.rule(), f.severity(), false))
                    .collect();
                assert_eq!(sev, want_sev, "{}", case.name);
            }
            judged += 1;
        }
    }
    assert!(judged > 50, "only {judged} documents judged");
    assert!(preexisting > 50, "only {preexisting} findings ratcheted");
}

/// The generated UPDATE vectors (`fixtures/update-vectors.py`) say what their names say: in
/// `<rule>-update-preexisting` every finding of the rule predates the update and the request
/// is allowed; in `<rule>-update-new` none does and it is denied.
#[test]
fn generated_update_vectors_keep_their_promise() {
    let mut pairs = 0;
    for case in cases() {
        let (rule, preexisting) = match case.name.rsplit_once("-update-") {
            Some((rule, "preexisting")) => (rule, true),
            Some((rule, "new")) => (rule, false),
            _ => continue,
        };
        if !case.dir.join("settings.json").exists() || !case.dir.join("README.md").exists() {
            continue;
        }
        let readme = std::fs::read_to_string(case.dir.join("README.md")).unwrap();
        if !readme.starts_with("Generated by `fixtures/update-vectors.py`") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&case.run()).unwrap();
        let r = &v["results"][0];
        let of_rule: Vec<_> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .collect();
        assert!(!of_rule.is_empty(), "{}: no `{rule}` finding", case.name);
        for f in &of_rule {
            assert_eq!(f["preexisting"] == true, preexisting, "{}: {f}", case.name);
            let want = if preexisting { "warning" } else { "error" };
            assert_eq!(f["severity"], want, "{}: {f}", case.name);
        }
        assert_eq!(r["allowed"], preexisting, "{}", case.name);
        pairs += usize::from(preexisting);
    }
    assert!(
        pairs >= 20,
        "expected a generated pair per state rule, found {pairs}"
    );
}
