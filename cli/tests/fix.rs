//! `check --fix` edits text (issue 11, item 3): only the patched nodes change, and what it
//! writes reads back, in an independent YAML 1.1 reader (PyYAML, which reads `yes` and `0755`
//! the way kubectl's go-yaml v2 does), as the patched object.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{cks, scratch, stdout, tool};
use serde_json::Value;

const DIGEST: &str = "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";

const MANIFEST: &str = r#"# Kept by GitOps: comments, quoting and key order must survive --fix.
apiVersion: v1
kind: Pod
metadata:
  name: "n"        # quoted on purpose: unquoted n is false to kubectl
  labels:
    enabled: "yes"
    mode: "0755"
    off: "off"
spec:
  containers:
  - name: web
    image: nginx:1.25   # pinned by --fix
    args: ["on", "y"]
  volumes:
  - name: conf
    configMap: {name: conf, defaultMode: 0755}
  # trailing comment
---
apiVersion: v1
kind: Pod
metadata: {name: flow}
spec:
  tolerations:
  - key: a
    operator: Exists
  containers: [{name: c, image: "nginx:1.25"}]
"#;

/// Every document of YAML text as JSON, read by PyYAML (YAML 1.1).
fn pyyaml(text: &str) -> Value {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML could not read:\n{text}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fix_keeps_every_line_and_reads_back_in_yaml_1_1() {
    if !tool(
        "the --fix read-back test",
        "python3",
        &["-c", "import yaml"],
    ) {
        return;
    }
    let dir = scratch("fix-yaml11");
    let f = dir.join("m.yaml");
    std::fs::write(&f, MANIFEST).unwrap();
    let settings = dir.join("s.json");
    std::fs::write(
        &settings,
        format!(r#"{{"images":{{"digests":{{"docker.io/library/nginx:1.25":"{DIGEST}"}}}}}}"#),
    )
    .unwrap();
    let s = settings.to_str().unwrap();
    let fixed = stdout(&cks(&[
        "check",
        "--settings",
        s,
        "--fix",
        f.to_str().unwrap(),
    ]));
    // Only added lines and the edited image values differ: every other line is kept.
    for line in MANIFEST.lines().filter(|l| !l.contains("nginx:1.25")) {
        assert!(
            fixed.lines().any(|l| l == line),
            "lost {line:?} in:\n{fixed}"
        );
    }
    assert!(fixed.contains(&format!("image: nginx:1.25@{DIGEST}   # pinned by --fix")));
    // The patched objects, as the engine means them, equal what a YAML 1.1 reader reads.
    let report: Value = serde_json::from_str(&stdout(&cks(&[
        "check",
        "--settings",
        s,
        "--format",
        "json",
        f.to_str().unwrap(),
    ])))
    .unwrap();
    let back = pyyaml(&fixed);
    let first = &back[0];
    assert_eq!(first["metadata"]["name"], "n");
    assert_eq!(first["metadata"]["labels"]["enabled"], "yes");
    assert_eq!(first["metadata"]["labels"]["mode"], "0755");
    assert_eq!(first["metadata"]["labels"]["false"], "off");
    assert_eq!(
        first["spec"]["containers"][0]["args"],
        serde_json::json!(["on", "y"])
    );
    assert_eq!(first["spec"]["volumes"][0]["configMap"]["defaultMode"], 493);
    assert_eq!(
        first["spec"]["containers"][0]["image"],
        format!("nginx:1.25@{DIGEST}")
    );
    let tolerations = |d: &Value| d["spec"]["tolerations"].as_array().unwrap().clone();
    assert!(tolerations(first)
        .iter()
        .any(|t| t["key"] == "is_cpu_compute"));
    assert_eq!(tolerations(&back[1]).len(), 2);
    assert_eq!(back[1]["spec"]["tolerations"][0]["key"], "a");
    // Judged again, the fixed text needs no patch.
    std::fs::write(&f, &fixed).unwrap();
    let again: Value = serde_json::from_str(&stdout(&cks(&[
        "check",
        "--settings",
        s,
        "--format",
        "json",
        f.to_str().unwrap(),
    ])))
    .unwrap();
    for r in again["results"].as_array().unwrap() {
        assert_eq!(r["patch"], serde_json::json!([]), "{again}");
    }
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
}

#[test]
fn fix_write_refuses_what_it_cannot_edit_in_place() {
    let dir = scratch("fix-alias");
    let f = dir.join("alias.yaml");
    let text = "shared: &s\n  containers:\n  - {name: c, image: nginx}\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: *s\n";
    std::fs::write(&f, text).unwrap();
    let o = cks(&["check", "--fix", "--write", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("alias") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
}
