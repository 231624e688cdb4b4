//! Exceptions: settings entries, and the object's own annotation, that silence named rules for
//! matching objects.
//!
//! A silenced finding is never dropped: it is reported with `suppressed` (who silenced it and
//! why), does not deny, does not count in the summary's severities, and a silenced mutation
//! does not patch. Two sources, settings first:
//!
//! - settings `exceptions.list`: `{rules, namespaces, kinds, names, reason}`, globs compiled
//!   once in [`crate::Policy`]; an absent (or empty) glob list matches anything, and an object
//!   without a namespace (cluster-scoped, or a manifest that names none) matches only an entry
//!   without `namespaces`;
//! - the annotation [`ANNOTATION`] on the object's own `metadata` (not on pod templates),
//!   honoured as settings `exceptions.annotations` says: `files` (the default) for manifests
//!   read from text ([`crate::model::object::Origin::is_manifest`]: `check`, `audit`) but not for AdmissionRequests
//!   (`review`, the Kubewarden module, a typed [`Request`]), so that by default an object
//!   cannot exempt itself from admission; `always`; or `never`, for a strict gate. On UPDATE it is read from the new object (what is submitted), on
//!   DELETE from `oldObject` (what is judged).
//!
//! The annotation's value is one clause per line, `<rule>[,<rule>…]: <reason>`: rule ids
//! separated by commas (spaces around them allowed), a colon, and a non-empty reason (which may
//! itself hold colons). Blank lines are skipped. A value that does not parse, or names an
//! unknown rule, `input-invalid`, `exception-annotation-invalid` or a rule that judges a change
//! (who may change reserved labels or control-plane objects: the object cannot vouch for its
//! own requester, even with `exceptions.annotations`), silences nothing and is reported as an
//! `exception-annotation-invalid` finding at the annotation's path.

pub use crate::judge::verdict::{SuppressedBy, Suppression};
use crate::model::catalogue::{Judges, RuleId, RULES};
use crate::model::object::{Object, Request};
use crate::settings::exceptions::exceptable_rule;
use crate::settings::policy::Policy;
use crate::settings::AnnotationScope;

/// The annotation an object carries to name the rules it may break and why. The project's own
/// domain (this repository lives at `example.invalid/cks-policy`), never a CoreWeave one.
pub const ANNOTATION: &str = "cks-policy.example.invalid/exceptions";

/// Whether `request`'s object may exempt itself with [`ANNOTATION`].
pub(crate) fn annotation_honoured(policy: &Policy, request: &Request) -> bool {
    match policy.exceptions.annotations {
        AnnotationScope::Files => request.origin.is_manifest(),
        AnnotationScope::Always => true,
        AnnotationScope::Never => false,
    }
}

pub(crate) fn annotation(object: &Object) -> Option<&str> {
    object
        .metadata
        .annotations
        .as_ref()?
        .get(ANNOTATION)
        .map(String::as_str)
}

/// One clause of the annotation: the rules it names and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    rules: Vec<RuleId>,
    reason: String,
}

/// Parses the annotation's value; `Err` lists every problem (with its line when the value has
/// several).
pub(crate) fn parse_annotation(value: &str) -> Result<Vec<Clause>, Vec<String>> {
    let mut clauses = Vec::new();
    let mut problems = Vec::new();
    let lines: Vec<&str> = value.lines().collect();
    let numbered = lines.iter().filter(|l| !l.trim().is_empty()).count() > 1;
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = if numbered {
            format!("line {}: ", n + 1)
        } else {
            String::new()
        };
        let Some((ids, reason)) = line.split_once(':') else {
            problems.push(format!("{at}`{}` has no `:` before a reason", line.trim()));
            continue;
        };
        let mut rules = Vec::new();
        for id in ids.split(',').map(str::trim) {
            if id.is_empty() {
                problems.push(format!("{at}an empty rule id in `{}`", ids.trim()));
                continue;
            }
            match exceptable_rule(id) {
                Ok(r) if r.info().judges == Judges::Change => problems.push(format!(
                    "{at}`{id}` judges who may change an object, which the object cannot vouch for itself (use settings `exemptions` or `exceptions.list`)"
                )),
                Ok(r) => rules.push(r),
                Err(m) => problems.push(format!("{at}{m}")),
            }
        }
        let reason = reason.trim();
        if reason.is_empty() {
            problems.push(format!("{at}the reason after `:` is empty"));
        }
        clauses.push(Clause {
            rules,
            reason: reason.to_owned(),
        });
    }
    if clauses.is_empty() && problems.is_empty() {
        problems.push(String::from("the value is empty"));
    }
    if problems.is_empty() {
        Ok(clauses)
    } else {
        Err(problems)
    }
}

/// For each rule (by [`RuleId::index`]), what silences it on `object`: the first matching
/// settings entry that names it, else the object's annotation when honoured. Empty when
/// nothing could apply (no settings entries, no honoured annotation).
pub(crate) fn suppressions(
    policy: &Policy,
    request: &Request,
    object: &Object,
) -> Vec<Option<Suppression>> {
    let ex = &policy.exceptions;
    let annotated = annotation(object).filter(|_| annotation_honoured(policy, request));
    if ex.entries.is_empty() && annotated.is_none() {
        return Vec::new();
    }
    let mut table: Vec<Option<Suppression>> = vec![None; RULES.len()];
    for e in ex.entries.iter().filter(|e| e.matches(request, object)) {
        for r in &e.rules {
            table[r.index()].get_or_insert_with(|| Suppression {
                by: SuppressedBy::Settings,
                reason: e.reason.clone(),
            });
        }
    }
    if let Some(Ok(clauses)) = annotated.map(parse_annotation) {
        for c in clauses {
            for r in &c.rules {
                table[r.index()].get_or_insert_with(|| Suppression {
                    by: SuppressedBy::Annotation,
                    reason: c.reason.clone(),
                });
            }
        }
    }
    table
}

/// Adds findings a host made while judging `request` (a failed namespace or digest lookup in
/// the Kubewarden module) to `verdict`: the exceptions that apply to the judged object silence
/// them as they would the rule's own, and `allowed` is recomputed.
pub fn add_host_findings(
    policy: &Policy,
    request: &Request,
    verdict: &mut crate::judge::verdict::Verdict,
    extra: Vec<crate::judge::verdict::Finding>,
) {
    let object = match request.operation {
        crate::model::object::Operation::Delete => {
            request.old_object.as_ref().or(request.object.as_ref())
        }
        _ => request.object.as_ref(),
    };
    let table = object.map_or_else(Vec::new, |o| suppressions(policy, request, o));
    let mut extra = extra;
    for f in &mut extra {
        if let Some(Some(s)) = table.get(f.rule().index()) {
            f.suppress(s);
        }
    }
    verdict.add_findings(extra, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::exceptions::SETTINGS_SCHEMA;

    fn problems(settings: &str) -> Vec<(String, String)> {
        match Policy::from_slice(settings.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .problems()
                .iter()
                .map(|p| (p.path.clone(), p.message.clone()))
                .collect(),
        }
    }

    #[test]
    fn annotation_scope_reads_words_and_booleans() {
        let scope = |v: &str| {
            Policy::from_slice(format!(r#"{{"exceptions": {{"annotations": {v}}}}}"#).as_bytes())
                .map(|p| p.exceptions.annotations)
                .ok()
        };
        assert_eq!(scope(r#""files""#), Some(AnnotationScope::Files));
        assert_eq!(scope(r#""always""#), Some(AnnotationScope::Always));
        assert_eq!(scope(r#""never""#), Some(AnnotationScope::Never));
        assert_eq!(scope("true"), Some(AnnotationScope::Always));
        assert_eq!(scope("false"), Some(AnnotationScope::Files));
        let bad = problems(r#"{"exceptions": {"annotations": "sometimes"}}"#);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].0, "/exceptions/annotations");
        assert!(bad[0].1.contains("`files`, `always` or `never`"), "{bad:?}");
        assert_eq!(
            Policy::default().exceptions.annotations,
            AnnotationScope::Files
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(problems(
            r#"{"exceptions": {"list": [{"rules": ["broad-toleration"], "namespaces": ["bench-*"], "reason": "benchmarks"}]}}"#
        )
        .is_empty());
        assert_eq!(
            problems(
                r#"{"exceptions": {"list": [{"rules": ["image-digest-requird", "input-invalid", "nope"], "kinds": [], "names": ["["], "reason": "  "}]}}"#
            ),
            vec![
                (
                    "/exceptions/list/0/rules/0".to_owned(),
                    "unknown rule id `image-digest-requird` (did you mean `image-digest-required`?)"
                        .to_owned()
                ),
                (
                    "/exceptions/list/0/rules/1".to_owned(),
                    "`input-invalid` cannot be excepted".to_owned()
                ),
                (
                    "/exceptions/list/0/rules/2".to_owned(),
                    "unknown rule id `nope` (run `cks-policy rules` for the list)".to_owned()
                ),
                (
                    "/exceptions/list/0/reason".to_owned(),
                    "is required: say why these objects may break these rules".to_owned()
                ),
                (
                    "/exceptions/list/0/names/0".to_owned(),
                    "`[` is not a valid glob: unclosed character class; missing ']'".to_owned()
                ),
            ]
        );
        // A missing `reason` or `rules` is reported at its own path, with the entry's other
        // problems, not by dropping the entry.
        assert_eq!(
            problems(r#"{"exceptions": {"list": [{"names": ["x"]}, {"rules": ["nope"]}]}}"#),
            vec![
                (
                    "/exceptions/list/0/rules".to_owned(),
                    "is required: name at least one rule".to_owned()
                ),
                (
                    "/exceptions/list/0/reason".to_owned(),
                    "is required: say why these objects may break these rules".to_owned()
                ),
                (
                    "/exceptions/list/1/rules/0".to_owned(),
                    "unknown rule id `nope` (run `cks-policy rules` for the list)".to_owned()
                ),
                (
                    "/exceptions/list/1/reason".to_owned(),
                    "is required: say why these objects may break these rules".to_owned()
                ),
            ]
        );
        assert_eq!(
            problems(r#"{"exceptions": {"list": [{"rules": [], "reason": "r"}]}}"#),
            vec![(
                "/exceptions/list/0/rules".to_owned(),
                "is required: name at least one rule".to_owned()
            )]
        );
        assert_eq!(
            problems(r#"{"exceptions": {"annotation": true}}"#)[0].0,
            "/exceptions/annotation"
        );
    }

    #[test]
    fn annotation_grammar() {
        use RuleId::*;
        let ok = |v: &str| parse_annotation(v).unwrap();
        assert_eq!(
            ok("image-digest-required, image-mutable-tag :  pinned by CI: see RUNBOOK"),
            vec![Clause {
                rules: vec![ImageDigestRequired, ImageMutableTag],
                reason: "pinned by CI: see RUNBOOK".to_owned()
            }]
        );
        assert_eq!(
            ok("broad-toleration: benchmark\n\nimage-mutable-tag: vendor image\n").len(),
            2
        );
        let err = |v: &str| parse_annotation(v).unwrap_err();
        assert_eq!(err(""), vec!["the value is empty"]);
        assert_eq!(
            err("broad-toleration"),
            vec!["`broad-toleration` has no `:` before a reason"]
        );
        assert_eq!(
            err("broad-toleration:  "),
            vec!["the reason after `:` is empty"]
        );
        assert_eq!(
            err("broad-toleration,,image-mutable-tag: r"),
            vec!["an empty rule id in `broad-toleration,,image-mutable-tag`"]
        );
        assert_eq!(
            err("a: r\nbroad-tolerations: r"),
            vec![
                "line 1: unknown rule id `a` (run `cks-policy rules` for the list)",
                "line 2: unknown rule id `broad-tolerations` (did you mean `broad-toleration`?)"
            ]
        );
        assert_eq!(
            err("exception-annotation-invalid, input-invalid: r"),
            vec![
                "`exception-annotation-invalid` cannot be excepted",
                "`input-invalid` cannot be excepted"
            ]
        );
        assert_eq!(
            err("control-plane-namespace: r"),
            vec!["`control-plane-namespace` judges who may change an object, which the object cannot vouch for itself (use settings `exemptions` or `exceptions.list`)"]
        );
        // Ids are exact: no case folding, no globs.
        assert!(parse_annotation("Broad-Toleration: r").is_err());
        assert!(parse_annotation("*: r").is_err());
    }

    #[test]
    fn schema_is_the_settings_shape() {
        let schema: serde_json::Value = serde_json::from_str(SETTINGS_SCHEMA).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let full = crate::settings::ExceptionSettings {
            annotations: AnnotationScope::Always,
            list: vec![crate::settings::Exception {
                rules: vec!["a".into()],
                namespaces: vec!["a".into()],
                kinds: vec!["a".into()],
                names: vec!["a".into()],
                reason: "r".into(),
            }],
        };
        let value = serde_json::to_value(&full).unwrap();
        assert_eq!(keys(&schema["properties"]), keys(&value));
        assert_eq!(
            keys(&schema["properties"]["list"]["items"]["properties"]),
            keys(&value["list"][0])
        );
        assert_eq!(
            schema["default"],
            serde_json::to_value(crate::settings::ExceptionSettings::default()).unwrap()
        );
        // It is what the settings schema holds.
        let settings: serde_json::Value =
            serde_json::from_str(&crate::settings::schema_json()).unwrap();
        assert_eq!(
            settings["properties"]["exceptions"]["properties"],
            schema["properties"]
        );
    }

    #[test]
    fn annotation_key_is_a_valid_kubernetes_key_outside_coreweave_domains() {
        // Annotation keys follow the label key syntax (IsQualifiedName, checked by
        // `label_syntax`); the domain must not be CoreWeave's.
        assert!(crate::model::label_syntax::is_valid_key(ANNOTATION));
        assert!(!crate::model::label_syntax::is_coreweave_key(ANNOTATION));
    }
}
