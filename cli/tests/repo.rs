//! A first run in a repository: `check .` over a tree with CI workflows, Helm values and other
//! YAML that is not Kubernetes, `--exclude`, a `.cks-policy.yaml` at the repository root,
//! `--fix --write` saying what it wrote, and `review` of a YAML AdmissionReview.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{cks_in, clean_pod, root, scratch, stdout, Scratch};
use serde_json::Value;

fn write(dir: &Scratch, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A repository: one Kubernetes manifest with an error, one mixed file, and YAML of other tools.
fn repo(name: &str) -> Scratch {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    write(
        &dir,
        ".github/workflows/ci.yml",
        "name: ci\non: [push]\njobs:\n  test: {runs-on: ubuntu-latest}\n",
    );
    write(&dir, ".pre-commit-config.yaml", "repos: []\n");
    write(&dir, "chart/values.yaml", "replicaCount: 1\n");
    write(
        &dir,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    write(
        &dir,
        "chart/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n{{- if .Values.x }}\n",
    );
    // Has both keys: judged, and no rule applies to it.
    write(
        &dir,
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [k8s/web.yaml]\n",
    );
    write(&dir, "package.json", "{\"name\": \"app\"}\n");
    write(
        &dir,
        "k8s/web.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: c, image: nginx}\n",
    );
    write(
        &dir,
        "k8s/mixed.yaml",
        &format!("settings: {{a: 1}}\n---\n{}", clean_pod("ok", "team")),
    );
    dir
}

#[test]
fn a_walk_skips_and_counts_what_is_not_kubernetes() {
    let dir = repo("walk-skip");
    let o = cks_in(&dir, &["check", "."], None);
    let out = stdout(&o);
    // Only the real error fails the run: nothing else is input-invalid.
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(!out.contains("input-invalid"), "{out}");
    assert!(
        out.contains("./k8s/web.yaml:6: error image-mutable-tag"),
        "{out}"
    );
    assert!(
        out.contains("6 files were not Kubernetes manifests (no `apiVersion` or `kind`, a Helm `Chart.yaml`, or a template that is YAML only once rendered), skipped: name a file to judge it anyway\n"),
        "{out}"
    );
    assert!(
        out.contains("1 document in a file with manifests was not a Kubernetes manifest (no `apiVersion` or `kind`, or a template that is YAML only once rendered), skipped\n"),
        "{out}"
    );
    let v: Value =
        serde_json::from_slice(&cks_in(&dir, &["check", "--format", "json", "."], None).stdout)
            .unwrap();
    assert_eq!(v["summary"]["notManifests"], 6, "{v}");
    assert_eq!(v["summary"]["skippedDocuments"], 1, "{v}");
    assert_eq!(v["summary"]["documents"], 3, "{v}");
    assert_eq!(v["summary"]["invalid"], 0, "{v}");
    // The GitHub format says it as a notice.
    let github = stdout(&cks_in(&dir, &["check", "--format", "github", "."], None));
    assert!(
        github.contains("::notice title=cks-policy::6 files were not Kubernetes manifests (no `apiVersion` or `kind`, a Helm `Chart.yaml`, or a template that is YAML only once rendered), skipped: name a file to judge it anyway\n"),
        "{github}"
    );
    // Without a skip, the counts are not in the JSON at all.
    let v: Value = serde_json::from_slice(
        &cks_in(&dir, &["check", "--format", "json", "k8s/web.yaml"], None).stdout,
    )
    .unwrap();
    assert!(v["summary"].get("notManifests").is_none(), "{v}");
}

#[test]
fn a_file_named_is_judged_strictly() {
    let dir = repo("walk-named");
    let o = cks_in(
        &dir,
        &["check", "--format", "json", "chart/values.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let message = common::invalid(&v, "chart/values.yaml");
    assert!(
        message.contains("`apiVersion` and `kind` are required"),
        "{message}"
    );
    // So are a chart's metadata and templates named.
    for file in ["chart/Chart.yaml", "chart/templates/pod.yaml"] {
        let o = cks_in(&dir, &["check", file], None);
        assert_eq!(o.status.code(), Some(1), "{file}");
        assert!(stdout(&o).contains("input-invalid"), "{}", stdout(&o));
    }
    // A document with `apiVersion` alone that is not a chart's metadata stays input-invalid in
    // a walk: it may be a manifest whose `kind` was mistyped.
    write(
        &dir,
        "k8s/typo.yaml",
        "apiVersion: v1\nKind: Pod\nmetadata: {name: a}\n",
    );
    let o = cks_in(&dir, &["check", "k8s"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("k8s/typo.yaml:1: error input-invalid"),
        "{}",
        stdout(&o)
    );
    // And so is a mixed file named: its foreign document is input-invalid.
    let o = cks_in(&dir, &["check", "k8s/mixed.yaml"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("input-invalid"), "{}", stdout(&o));
}

#[test]
fn exclude_leaves_out_paths_relative_to_the_walked_directory() {
    let dir = repo("exclude");
    // A directory matched is not entered; `*` matches across `/`.
    let o = cks_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--exclude",
            ".github",
            "--exclude",
            "*values.yaml",
            "--exclude",
            "k8s/web.*",
            "--exclude",
            "kustomization.yaml",
            ".",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sources: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["./k8s/mixed.yaml"], "{v}");
    assert_eq!(v["summary"]["notManifests"], 4, "{v}");
    // Relative to the directory named, not to the current directory.
    let o = cks_in(
        &dir,
        &["check", "--format", "json", "--exclude", "web.yaml", "k8s"],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["documents"], 1, "{v}");
    // A file named is judged whatever --exclude says; a bad glob is a usage error.
    let o = cks_in(
        &dir,
        &["check", "--exclude", "k8s/**", "k8s/web.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let o = cks_in(&dir, &["check", "--exclude", "a[", "."], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--exclude `a[`"));
}

#[test]
fn settings_are_found_at_the_repository_root() {
    let dir = repo("settings-found");
    // `mode: warn`: the error becomes a warning, so the run passes.
    write(&dir, ".cks-policy.yaml", "mode: warn\n");
    std::fs::create_dir_all(dir.join("k8s/sub")).unwrap();
    let o = cks_in(&dir.join("k8s/sub"), &["check", "../web.yaml"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let err = String::from_utf8(o.stderr).unwrap();
    let found = dir.join(".cks-policy.yaml");
    assert_eq!(err, format!("cks-policy: settings: {}\n", found.display()));
    // In the directory itself, the path is the file's name.
    let o = cks_in(&dir, &["check", "k8s/web.yaml"], None);
    assert_eq!(
        String::from_utf8(o.stderr).unwrap(),
        "cks-policy: settings: .cks-policy.yaml\n"
    );
    // --settings wins, and nothing is said.
    write(&dir, "strict.yaml", "mode: enforce\n");
    let o = cks_in(
        &dir,
        &["check", "--settings", "strict.yaml", "k8s/web.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stderr.is_empty(), "{o:?}");
}

#[test]
fn settings_are_not_looked_for_above_the_repository_root() {
    let outer = scratch("settings-outer");
    write(&outer, ".cks-policy.yaml", "mode: warn\n");
    std::fs::create_dir_all(outer.join("repo/.git")).unwrap();
    std::fs::write(
        outer.join("repo/web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: c, image: nginx}\n",
    )
    .unwrap();
    let o = cks_in(&outer.join("repo"), &["check", "web.yaml"], None);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(o.stderr.is_empty(), "{o:?}");
}

#[test]
fn fix_write_says_what_it_wrote_and_what_still_fails() {
    let dir = repo("fix-write");
    let o = cks_in(&dir, &["check", "--fix", "--write", "k8s"], None);
    let err = String::from_utf8(o.stderr.clone()).unwrap();
    let out = stdout(&o);
    // The toleration CKS admission adds was written; the mutable tag has no automatic fix.
    assert_eq!(err, "k8s/web.yaml: wrote 1 fix\n", "{out}");
    assert!(std::fs::read_to_string(dir.join("k8s/web.yaml"))
        .unwrap()
        .contains("is_cpu_compute"));
    assert!(
        out.contains("k8s/web.yaml:6: error image-mutable-tag"),
        "{out}"
    );
    assert!(!out.contains("cpu-compute-toleration"), "{out}");
    assert_eq!(o.status.code(), Some(1));
    // Once written, nothing is left to write: it says so.
    let o = cks_in(&dir, &["check", "--fix", "--write", "k8s"], None);
    assert_eq!(
        String::from_utf8(o.stderr).unwrap(),
        "cks-policy: nothing to fix: no file was rewritten\n"
    );
    // The remaining findings in the format asked.
    let o = cks_in(
        &dir,
        &[
            "check",
            "--fix",
            "--write",
            "--format",
            "json",
            "k8s/web.yaml",
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["errors"], 1, "{v}");
}

#[test]
fn review_reads_a_yaml_admission_review() {
    let json = std::fs::read_to_string(
        root().join("fixtures/cases/accelerator-access-bypass-update-new/input.json"),
    )
    .unwrap();
    let dir = scratch("review-yaml");
    let value: Value = serde_json::from_str(&json).unwrap();
    // JSON is a subset of YAML, but write it as block YAML, as `kubectl … -o yaml` would.
    let yaml = to_yaml(&value, 0);
    std::fs::write(dir.join("review.yaml"), &yaml).unwrap();
    std::fs::write(dir.join("review.json"), &json).unwrap();
    let from_yaml = cks_in(&dir, &["review", "review.yaml"], None);
    let from_json = cks_in(&dir, &["review", "review.json"], None);
    assert_eq!(
        from_yaml.status.code(),
        from_json.status.code(),
        "{from_yaml:?}"
    );
    assert_eq!(stdout(&from_yaml), stdout(&from_json), "{yaml}");
    // Two documents are not one review.
    std::fs::write(dir.join("two.yaml"), format!("{yaml}---\n{yaml}")).unwrap();
    let o = cks_in(&dir, &["review", "two.yaml"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("one document"),
        "{o:?}"
    );
}

/// Block YAML for a JSON value (strings quoted as JSON, which YAML reads the same).
fn to_yaml(v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| match v {
                Value::Object(c) if !c.is_empty() => {
                    format!("{pad}{k}:\n{}", to_yaml(v, indent + 2))
                }
                Value::Array(a) if !a.is_empty() => format!("{pad}{k}:\n{}", to_yaml(v, indent)),
                _ => format!("{pad}{k}: {v}\n"),
            })
            .collect(),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|item| {
                let inner = to_yaml(item, indent + 2);
                match item {
                    Value::Object(c) if !c.is_empty() => {
                        format!("{pad}- {}", inner.trim_start())
                    }
                    _ => format!("{pad}- {item}\n"),
                }
            })
            .collect(),
        _ => format!("{pad}{v}\n"),
    }
}
