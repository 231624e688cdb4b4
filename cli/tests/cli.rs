//! The `cks-policy` command line contract (SPEC §7), run as a real process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

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

fn cks_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cks-policy"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

const D: &str = "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";

#[test]
fn check_examples_json_is_the_stable_format() {
    let o = cks(&["check", "--format", "json", "examples/"]);
    assert_eq!(o.status.code(), Some(1), "examples hold errors on purpose");
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let results = v["results"].as_array().unwrap();
    assert!(results.len() >= 5);
    assert!(v["summary"]["errors"].as_u64().unwrap() > 0);
    for r in results {
        for key in [
            "source",
            "document",
            "kind",
            "namespace",
            "name",
            "allowed",
            "findings",
            "patch",
        ] {
            assert!(r.get(key).is_some(), "result lacks {key}: {r}");
        }
        assert!(r["source"].as_str().unwrap().starts_with("examples/"));
    }
    // Directory walk is sorted and recursive.
    let sources: Vec<&str> = results
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    let mut sorted = sources.clone();
    sorted.sort();
    assert_eq!(sources, sorted);
}

#[test]
fn human_format_is_file_line_severity_rule_message() {
    let o = cks(&["check", "examples/inference-deployment.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    let re_ok = first.starts_with("examples/inference-deployment.yaml:")
        && first.split(": ").nth(1).is_some_and(|s| {
            s.starts_with("error ") || s.starts_with("warning ") || s.starts_with("info ")
        });
    assert!(re_ok, "unexpected human line: {first}");
    assert!(out.lines().last().unwrap().contains(" error"), "{out}");
}

#[test]
fn clean_input_exits_zero_and_stdin_works() {
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: ok}}\nspec:\n  containers:\n  - name: c\n    image: registry.example.com/app@{D}\n"
    );
    let o = cks_stdin(&["check", "--format", "json", "-"], pod.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["results"][0]["source"], "-");
    assert_eq!(v["results"][0]["allowed"], true);
}

#[test]
fn bad_input_is_a_finding_and_other_documents_survive() {
    let text = format!(
        "kind: [oops\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: ok}}\nspec:\n  containers:\n  - name: c\n    image: registry.example.com/app@{D}\n"
    );
    let o = cks_stdin(&["check", "--format", "json", "-"], text.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["results"][0]["findings"][0]["rule"], "input-invalid");
    assert_eq!(v["results"][1]["kind"], "Pod");
    assert_eq!(v["results"][1]["allowed"], true);
    // The summary counts the documents by outcome, in JSON and in the human line.
    let s = &v["summary"];
    assert_eq!(
        [&s["passed"], &s["warned"], &s["denied"], &s["invalid"]],
        [1, 0, 0, 1]
    );
    let o = cks_stdin(&["check", "-"], text.as_bytes());
    let out = stdout(&o);
    assert!(
        out.lines().last().unwrap().starts_with(
            "2 documents (1 passed, 0 with warnings, 0 denied, 1 invalid): 1 error, 0 warnings"
        ),
        "{out}"
    );
}

#[test]
fn usage_and_io_errors_exit_two() {
    // A missing path is a finding for that path, not an I/O error (issue 11, item 6).
    let missing = cks(&["check", "--format", "json", "no/such/file.yaml"]);
    assert_eq!(missing.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert_eq!(v["results"][0]["source"], "no/such/file.yaml");
    assert_eq!(v["results"][0]["findings"][0]["rule"], "input-invalid");
    assert_eq!(cks(&["check"]).status.code(), Some(2));
    assert_eq!(cks(&["frobnicate"]).status.code(), Some(2));
    let dir = common::scratch("cli");
    let s = dir.join("bad-settings.json");
    std::fs::write(
        &s,
        r#"{"imagez": {}, "mode": "loud", "images": {"allow": ["["]}}"#,
    )
    .unwrap();
    let o = cks(&[
        "check",
        "--settings",
        s.to_str().unwrap(),
        "examples/cpu-pod.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    for want in ["imagez", "/mode", "/images/allow/0"] {
        assert!(err.contains(want), "settings error lacks {want}: {err}");
    }
}

/// Issue 11, item 7: each settings problem at the index written, with its line; a setting that
/// cannot take effect is refused.
#[test]
fn settings_problems_name_their_index_and_line() {
    let dir = common::scratch("cli-settings");
    let s = dir.join("settings.yaml");
    std::fs::write(
        &s,
        "images:\n  allow: [1, 2, \"[\"]\nrules:\n  input-invalid:\n    enabled: false\n",
    )
    .unwrap();
    let o = cks(&[
        "check",
        "--settings",
        s.to_str().unwrap(),
        "examples/cpu-pod.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    let f = s.display();
    for want in [
        format!("{f}:2: /images/allow/0: "),
        format!("{f}:2: /images/allow/1: "),
        format!("{f}:2: /images/allow/2: `[` is not a valid glob"),
        format!("{f}:5: /rules/input-invalid/enabled: `input-invalid` cannot be turned off"),
    ] {
        assert!(err.contains(&want), "lacks {want:?}: {err}");
    }
}

/// Issue 11, item 7: an AdmissionReview without `request.uid` cannot be answered: `review`
/// exits 2 saying why; `check` reports it as `input-invalid`.
#[test]
fn a_review_without_uid_is_an_error() {
    for uid in [serde_json::json!(null), serde_json::json!("")] {
        let mut review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
                "userInfo": {"username": "u"}, "namespace": "ns",
                "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                    "spec": {"containers": [{"name": "c", "image": format!("nginx@{D}")}]}}}});
        if !uid.is_null() {
            review["request"]["uid"] = uid.clone();
        }
        let o = cks_stdin(&["review", "-"], review.to_string().as_bytes());
        assert_eq!(o.status.code(), Some(2), "uid {uid}");
        assert!(o.stdout.is_empty(), "no answer without a uid");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.contains("has no `uid`"), "{err}");
        let o = cks_stdin(
            &["check", "--format", "json", "-"],
            review.to_string().as_bytes(),
        );
        assert_eq!(o.status.code(), Some(1), "uid {uid}");
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let f = &v["results"][0]["findings"][0];
        assert_eq!(f["rule"], "input-invalid", "{v}");
        assert!(
            f["message"].as_str().unwrap().contains("has no `uid`"),
            "{v}"
        );
    }
}

#[test]
fn sarif_is_valid_json_with_results() {
    let o = cks(&["check", "--format", "sarif", "examples/"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results
        .iter()
        .all(|r| r["ruleId"].is_string() && r["message"]["text"].is_string()));
}

#[test]
fn review_answers_create_update_delete() {
    let o = cks(&["review", "examples/node-relabel.json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "5f2c7a4e-1d1b-4c3e-9f5e-2a7b8c9d0e1f");
    assert!(v["response"]["allowed"].is_boolean());

    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"containers": [{"name": "c", "image": format!("registry.example.com/app@{D}")}]}});
    for (op, obj, old) in [
        ("CREATE", pod.clone(), Value::Null),
        ("UPDATE", pod.clone(), pod.clone()),
        ("DELETE", Value::Null, pod.clone()),
    ] {
        let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": format!("uid-{op}"), "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "operation": op, "userInfo": {"username": "u"}, "namespace": "ns", "object": obj, "oldObject": old}});
        let o = cks_stdin(&["review", "-"], review.to_string().as_bytes());
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["response"]["uid"], format!("uid-{op}"));
        assert_eq!(v["response"]["allowed"], true, "{op}: {v}");
        if op == "CREATE" {
            // The CPU toleration mutation, as a base64 JSON Patch.
            assert_eq!(v["response"]["patchType"], "JSONPatch", "{v}");
        }
    }
    assert_eq!(
        cks_stdin(&["review", "-"], b"not json").status.code(),
        Some(2)
    );
}

#[test]
fn rules_lists_every_rule_and_schema_is_checked_in() {
    let out = stdout(&cks(&["rules"]));
    for r in policy_core::rules() {
        assert!(
            out.lines().any(|l| l.starts_with(r.id)),
            "rules lacks {}",
            r.id
        );
    }
    let v: Value = serde_json::from_str(&stdout(&cks(&["rules", "--format", "json"]))).unwrap();
    assert_eq!(v.as_array().unwrap().len(), policy_core::rules().len());
    assert_eq!(
        stdout(&cks(&["rules", "--format", "markdown"])),
        policy_core::rules_markdown(),
        "rules --format markdown prints the catalogue's table"
    );
    let schema = stdout(&cks(&["schema"]));
    let checked_in =
        std::fs::read_to_string(root().join("policy-core/settings.schema.json")).unwrap();
    assert_eq!(schema, checked_in, "settings schema is stale: run `cargo run -p cks-policy-cli -- schema > policy-core/settings.schema.json`");
}

#[test]
fn fix_prints_patched_documents_and_write_keeps_others_intact() {
    let dir = common::scratch("fix");
    let f = dir.join("m.yaml");
    let untouched = "# keep me\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm  # and me\ndata: {a: b}\n";
    let pod = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: registry.example.com/app@{D}\n");
    std::fs::write(&f, format!("{untouched}---\n{pod}")).unwrap();
    let printed = stdout(&cks(&["check", "--fix", f.to_str().unwrap()]));
    assert!(printed.starts_with(untouched), "{printed}");
    assert!(printed.contains("is_cpu_compute"), "{printed}");
    let o = cks(&["check", "--fix", "--write", f.to_str().unwrap()]);
    assert!(o.status.code() == Some(0), "{o:?}");
    let written = std::fs::read_to_string(&f).unwrap();
    assert_eq!(written, printed);
    // Judged again, the fixed file needs no patch.
    let v: Value = serde_json::from_str(&stdout(&cks(&[
        "check",
        "--format",
        "json",
        f.to_str().unwrap(),
    ])))
    .unwrap();
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["patch"].as_array().unwrap().is_empty()),
        "{v}"
    );
}

/// A CPU pod without the `is_cpu_compute` toleration fits a CPU node: it is judged as CKS
/// admission lets it through, and the answer says what admission added.
#[test]
fn fits_judges_the_pod_as_admitted() {
    let o = cks(&[
        "fits",
        "--nodes",
        "fixtures/fits/cpu-pod-admitted/nodes.yaml",
        "fixtures/fits/cpu-pod-admitted/pod.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("  cpu-1: fits\n"), "{out}");
    assert!(
        out.contains("  judged as admitted, with what CKS admission adds:\n    add /spec/tolerations [{\"effect\":\"NoSchedule\",\"key\":\"is_cpu_compute\",\"operator\":\"Exists\"}]\n"),
        "{out}"
    );
    let o = cks(&[
        "fits",
        "--nodes",
        "fixtures/fits/cks-cluster/nodes.yaml",
        "fixtures/fits/cks-cluster/pod.yaml",
    ]);
    assert!(
        stdout(&o).contains("  judged as admitted: CKS admission changes nothing\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn fits_human_and_json() {
    let o = cks(&[
        "fits",
        "--settings",
        "fixtures/fits/cks-cluster/settings.json",
        "--nodes",
        "fixtures/fits/cks-cluster/nodes.yaml",
        "fixtures/fits/cks-cluster/pod.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("gpu-1: fits"), "{out}");
    assert!(
        out.contains(
            "- taint: the pod does not tolerate the taint `sunk.coreweave.com/lock=true:NoExecute`"
        ),
        "{out}"
    );
    let o = cks(&[
        "fits",
        "--format",
        "json",
        "--settings",
        "fixtures/fits/cks-cluster/settings.json",
        "--nodes",
        "fixtures/fits/cks-cluster/nodes.yaml",
        "fixtures/fits/cks-cluster/pod.yaml",
    ]);
    let json = stdout(&o);
    assert!(
        json.starts_with(r#"{"pod":"train","admissionPatch":[],"nodes":[{"name":"gpu-1","fits":true,"reasons":[],"notes":["not judged on resources: the node has no `status.allocatable`"]}"#),
        "{json}"
    );
    // Running pods (`--pods`) count against their node: the 16-GPU pod fits only where the
    // finished pod's GPUs are free again.
    let o = cks(&[
        "fits",
        "--pods",
        "fixtures/fits/gpu-running-pods/pods.yaml",
        "--nodes",
        "fixtures/fits/gpu-running-pods/nodes.yaml",
        "fixtures/fits/gpu-running-pods/pod.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("  gpu-16-busy: does not fit\n    - resources: requests 16 `nvidia.com/gpu`, node has 16 allocatable and 2 pods already on it request 12 (4 free)\n"),
        "{out}"
    );
    assert!(out.contains("  gpu-16-done: fits\n"), "{out}");
    assert!(out.ends_with("1 of 3 nodes can take the pod\n"), "{out}");
    let o = cks(&[
        "fits",
        "--nodes",
        "fixtures/fits/gpu-count/nodes.yaml",
        "fixtures/fits/gpu-count/pod.yaml",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("  no-status: fits\n    note: not judged on resources: the node has no `status.allocatable`\n"),
        "{out}"
    );
    assert!(
        out.contains("    - resources: requests 16 `nvidia.com/gpu`, node has 8 allocatable\n"),
        "{out}"
    );
    // Pods that are not Pods: exit 2, naming the document.
    let o = cks(&[
        "fits",
        "--pods",
        "fixtures/fits/gpu-count/nodes.yaml",
        "--nodes",
        "fixtures/fits/gpu-count/nodes.yaml",
        "fixtures/fits/gpu-count/pod.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pods document 0: expected Pods, found a Node"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // No node fits: exit 1.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeName: nowhere\n  containers: [{name: c, image: x}]\n";
    let o = cks_stdin(
        &[
            "fits",
            "--nodes",
            "fixtures/fits/cks-cluster/nodes.yaml",
            "-",
        ],
        pod.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        cks(&[
            "fits",
            "--nodes",
            "no/such.yaml",
            "fixtures/fits/cks-cluster/pod.yaml"
        ])
        .status
        .code(),
        Some(2)
    );
}

/// `audit` judges existing cluster state; `check` does the same for objects read back from a
/// cluster (`metadata.resourceVersion`), and says so once per file (issue 10).
#[test]
fn audit_and_exported_objects_skip_change_rules() {
    let node = b"apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n  labels:\n    node.coreweave.cloud/state: production\n    node.coreweave.cloud/reserved: org-abc\n";
    // A Node manifest that sets CoreWeave labels is a change someone would make: an error.
    let created = cks_stdin(&["check", "-"], node);
    assert_eq!(created.status.code(), Some(1), "{}", stdout(&created));
    assert!(stdout(&created).contains("reserved-node-label"));
    // The same Node as existing state: no change to judge.
    let audited = cks_stdin(&["audit", "-"], node);
    assert_eq!(audited.status.code(), Some(0), "{}", stdout(&audited));
    assert!(!stdout(&audited).contains("reserved-node-label"));
    assert_eq!(stdout(&audited).matches("judged as existing").count(), 1);
    // Read back from a cluster (resourceVersion), `check` judges it as existing too.
    let exported = b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: g1\n    resourceVersion: \"91\"\n    labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: g2\n    resourceVersion: \"92\"\n    labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n";
    let checked = cks_stdin(&["check", "-"], exported);
    assert_eq!(checked.status.code(), Some(0), "{}", stdout(&checked));
    assert_eq!(stdout(&checked).matches("judged as existing").count(), 1);
    // JSON marks each result, and a pod export gets no patch.
    let pod = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: kube-system}\nspec:\n  containers: [{name: c, image: nginx:1.27}]\n";
    let json = cks_stdin(&["audit", "--format", "json", "-"], pod);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["existing"], true);
    assert_eq!(r["patch"], serde_json::json!([]));
    assert!(!stdout(&json).contains("control-plane-namespace"));
}

/// A blank context is no context, as in the browser build and the C ABI (the core's call layer,
/// `policy_core::call`, decides it for every surface); a context that is not JSON is refused
/// in the core's words, after the file's name.
#[test]
fn a_blank_context_file_is_no_context() {
    let dir = common::scratch("blank-context");
    let pod = dir.join("pod.yaml");
    std::fs::write(&pod, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: nginx}\n").unwrap();
    let blank = dir.join("blank.json");
    std::fs::write(&blank, " \n\t\n").unwrap();
    let pod = pod.to_str().unwrap();
    let without = cks(&["check", "--format", "json", pod]);
    let with = cks(&[
        "check",
        "--format",
        "json",
        "--context",
        blank.to_str().unwrap(),
        pod,
    ]);
    assert_eq!(with.status.code(), without.status.code());
    assert_eq!(stdout(&with), stdout(&without));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "nope").unwrap();
    let refused = cks(&["check", "--context", bad.to_str().unwrap(), pod]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .starts_with(&format!("cks-policy: {}: invalid context: ", bad.display())),
        "{refused:?}"
    );
}

#[test]
fn vap_prints_policies_and_rules_say_which_rules_are_native() {
    let dir = common::scratch("vap");
    let settings = dir.join("s.yaml");
    std::fs::write(
        &settings,
        "rules:\n  broad-toleration: {severity: error}\nexemptions:\n  users: [alice]\n",
    )
    .unwrap();
    let o = cks(&["vap", "--settings", settings.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    let docs: Vec<Value> = policy_core::yaml::parse_documents(&text, 0)
        .into_iter()
        .map(|d| d.unwrap())
        .collect();
    assert!(docs.len() > 4, "{text}");
    let binding = docs
        .iter()
        .find(|d| {
            d["metadata"]["name"] == "cks-policy-broad-toleration-pods"
                && d["kind"] == "ValidatingAdmissionPolicyBinding"
        })
        .expect("a binding for pods");
    assert_eq!(binding["spec"]["validationActions"][0], "Deny");
    assert!(
        text.contains("request.userInfo.username == 'alice'"),
        "{text}"
    );
    // Every native rule off: nothing emitted.
    let off: String = v_native()
        .iter()
        .map(|id| format!("  {id}: {{enabled: false}}\n"))
        .collect();
    std::fs::write(&settings, format!("rules:\n{off}")).unwrap();
    let o = cks(&["vap", "--settings", settings.to_str().unwrap()]);
    assert_eq!(stdout(&o), "");
    assert!(String::from_utf8_lossy(&o.stderr).contains("cpu-compute-toleration"));
    assert_eq!(
        cks(&["vap", "--kubernetes-version", "banana"])
            .status
            .code(),
        Some(2)
    );

    // `rules --format json` carries `native`, and README's table says the same.
    let v: Value = serde_json::from_str(&stdout(&cks(&["rules", "--format", "json"]))).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for r in v.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let native = r["native"]["expressible"].as_bool().unwrap();
        let row = format!("| `{id}` | {} |", if native { "yes" } else { "no" });
        assert!(readme.contains(&row), "README's native table lacks `{row}`");
    }
    assert!(stdout(&cks(&["rules"])).contains("Native policies"));
    // 1.36+: the `is_cpu_compute` mutation is a MutatingAdmissionPolicy, and no note says
    // it needs the webhook.
    let o = cks(&["vap", "--kubernetes-version", "1.37"]);
    assert!(stdout(&o).contains("kind: \"MutatingAdmissionPolicy\""));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("cpu-compute-toleration"));
}

/// The ids of the rules `cks-policy rules --format json` says run natively, but the mutation.
fn v_native() -> Vec<String> {
    let v: Value = serde_json::from_str(&stdout(&cks(&["rules", "--format", "json"]))).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["native"]["expressible"] == true && r["kind"] != "mutate")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}
