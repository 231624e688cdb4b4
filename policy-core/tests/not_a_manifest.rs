//! Which documents are not Kubernetes manifests at all (`DocumentResult::is_not_a_manifest`):
//! a directory walk skips them, a file named on the command line is still judged strictly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use policy_core::{check, Context, Policy};

/// Each document's (kind, is input-invalid, is not a manifest).
fn marks(text: &str) -> Vec<(Option<String>, bool, bool)> {
    let report = check(
        &Policy::default(),
        Some("x.yaml"),
        text.as_bytes(),
        &Context::default(),
    );
    report
        .results
        .iter()
        .map(|r| {
            (
                r.kind.clone(),
                r.input_problems().next().is_some(),
                r.is_not_a_manifest(),
            )
        })
        .collect()
}

#[test]
fn documents_naming_neither_api_version_nor_kind_are_not_manifests() {
    for text in [
        // A GitHub Actions workflow (`on` is a YAML 1.1 boolean key).
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        // A pre-commit config, a Helm values file.
        "repos:\n- repo: https://github.com/pre-commit/pre-commit-hooks\n",
        "replicaCount: 1\nimage: {repository: nginx}\n",
        // Not a map at all.
        "- a\n- b\n",
        "just text\n",
        // JSON, read by the JSON reader.
        "{\"name\": \"app\", \"version\": \"1.0.0\"}",
        "{\"apiVersion\": \"\", \"items\": 3}",
        // A top-level `items` without a kind is still not a manifest.
        "items:\n- a\n",
    ] {
        let got = marks(text);
        assert_eq!(got, vec![(None, true, true)], "{text}");
    }
}

#[test]
fn helm_chart_metadata_and_unrendered_templates_are_not_manifests() {
    for text in [
        // A chart's `Chart.yaml` (helm `pkg/chart/metadata.go`: name and version required).
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies: []\n",
        "apiVersion: v1\nname: old\nversion: 1.2.3\n",
        // A template that does not parse until rendered.
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n",
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n",
        "{% for x in xs %}\n- {{ x }}\n{% endfor %}\n",
    ] {
        assert_eq!(marks(text), vec![(None, true, true)], "{text}");
    }
    // A template that parses is judged as what it is.
    let quoted = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{ .Values.name }}\"\n";
    assert_eq!(
        marks(quoted),
        vec![(Some("ConfigMap".to_owned()), false, false)]
    );
    // A document that does not parse for another reason stays input-invalid.
    assert_eq!(marks("a: [b\n"), vec![(None, true, false)]);
}

#[test]
fn documents_naming_either_are_judged_as_ever() {
    // Only one of the two: a broken manifest, not a foreign file.
    assert_eq!(
        marks("apiVersion: v2\nname: chart\n"),
        vec![(None, true, false)]
    );
    // `kind` missing from something versioned like a chart but not one (no `version`).
    assert_eq!(
        marks("apiVersion: v1\nname: x\nmetadata: {}\n"),
        vec![(None, true, false)]
    );
    assert_eq!(
        marks("kind: Pod\nmetadata: {name: p}\n"),
        vec![(None, true, false)]
    );
    assert_eq!(
        marks("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}"),
        vec![(None, true, false)]
    );
    // A manifest with a syntax error is not a foreign file either.
    assert_eq!(marks("kind: [\n"), vec![(None, true, false)]);
    // Several documents: each is marked on its own.
    let got = marks("a: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    assert_eq!(
        got,
        vec![
            (None, true, true),
            (Some(String::from("ConfigMap")), false, false)
        ]
    );
}
