//! The GPU corpus in `examples/gpu/`: manifests written in the style of public GPU workloads
//! (NCCL MPIJob, PyTorchJob, vLLM, JobSet, DCGM exporter, CPU preprocessing, NodePool, a SUNK
//! notebook) using CKS correctly. The checker must find no warning or error in them (infos and
//! mutations are fine), under default settings and on a SUNK cluster with gang scheduling on.
//! A deliberately wrong copy of the NCCL MPIJob must produce exactly the expected findings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fs;
use std::path::PathBuf;

use policy_core::{apply_patch, check, Context, Policy, Report, Severity};
use serde_json::{json, Value};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/gpu")
}

fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(corpus_dir())
        .expect("examples/gpu")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The settings the corpus is judged under: defaults, and a SUNK cluster with the org's hash
/// and gang scheduling enforced in the training namespace (`research`).
fn settings() -> Vec<(&'static str, Policy)> {
    vec![
        ("default", Policy::default()),
        (
            "sunk+gang",
            Policy::from_slice(
                br#"{"orgIdHash": "3a7bd3e2", "sunk": {"enabled": true},
                     "gang": {"namespaces": ["research"]},
                     "rules": {"gang-scheduling-queue": {"enabled": true}}}"#,
            )
            .unwrap(),
        ),
    ]
}

fn describe(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.results {
        for f in r.findings() {
            out.push_str(&format!(
                "  {} #{} {:?} {} {} (line {:?}): {}\n",
                r.kind.as_deref().unwrap_or("?"),
                r.document,
                f.severity(),
                f.rule(),
                f.path(),
                f.line(),
                f.message()
            ));
        }
    }
    out
}

fn documents(text: &str) -> Vec<Value> {
    policy_core::yaml::parse_documents(text, 0)
        .into_iter()
        .map(|d| d.unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

#[test]
fn corpus_is_large_enough() {
    let n = corpus().len();
    assert!((6..=12).contains(&n), "examples/gpu holds {n} manifests");
}

#[test]
fn correct_cks_usage_has_no_warnings_or_errors() {
    let mut failures = String::new();
    for (label, policy) in settings() {
        for (name, text) in corpus() {
            let report = check(&policy, Some(&name), text.as_bytes(), &Context::default());
            assert!(!report.results.is_empty(), "{name}: no documents");
            let bad = report
                .results
                .iter()
                .flat_map(|r| r.findings())
                .any(|f| f.severity() != Severity::Info);
            if bad {
                failures.push_str(&format!("{name} [{label}]:\n{}", describe(&report)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "findings on correct CKS usage:\n{failures}"
    );
}

#[test]
fn corpus_patches_are_idempotent() {
    for (label, policy) in settings() {
        for (name, text) in corpus() {
            for doc in documents(&text) {
                let raw = serde_json::to_string(&doc).unwrap();
                let first = check(&policy, None, raw.as_bytes(), &Context::default());
                let mut patched = doc.clone();
                apply_patch(&mut patched, &first.results[0].patch).unwrap();
                let again = serde_json::to_string(&patched).unwrap();
                let second = check(&policy, None, again.as_bytes(), &Context::default());
                assert!(
                    second.results[0].patch.is_empty(),
                    "{name} [{label}]: second patch {:?}",
                    second.results[0].patch
                );
            }
        }
    }
}

/// The rules this corpus exercises (the toleration, SUNK, interruption and accelerator families).
const FAMILY: &[&str] = &[
    "cpu-compute-toleration",
    "broad-toleration",
    "gpu-toleration-without-gpu",
    "sunk-daemonset-tolerations",
    "interruptible-stateful",
    "interruption-label-value",
    "interruption-label-placement",
    "interruption-label-spelling",
    "graceful-termination-period",
    "accelerator-access-bypass",
    "privileged-without-accelerator",
    "gang-scheduling-queue",
    "unsupported-gpu-operator",
    "sunk-pod-scheduler",
];

#[test]
fn wrong_copy_of_the_nccl_test_is_caught() {
    let text = fs::read_to_string(corpus_dir().join("nccl-allreduce-mpijob.yaml")).unwrap();
    let mut doc = documents(&text).remove(0);
    let specs = "/spec/mpiReplicaSpecs";
    // The interruptable label on a distributed job, and a misspelled copy on the launcher.
    doc.pointer_mut(&format!("{specs}/Worker/template/metadata/labels"))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("qos.coreweave.cloud/interruptable".into(), json!("true"));
    doc.pointer_mut(&format!("{specs}/Launcher/template/metadata/labels"))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("qos.coreweave.com/interruptible".into(), json!("true"));
    // The launcher is privileged without requesting a GPU (a warning: it may reach GPUs), and
    // may sit on a GPU node.
    let launcher = format!("{specs}/Launcher/template/spec");
    let l = doc.pointer_mut(&launcher).unwrap();
    l["containers"][0]["securityContext"] = json!({"privileged": true});
    l["tolerations"] = json!([{"key": "is_gpu", "operator": "Exists"}]);
    // The workers bypass the device plugin's GPU assignment and tolerate every taint.
    let worker = format!("{specs}/Worker/template/spec");
    let w = doc.pointer_mut(&worker).unwrap();
    w["containers"][0]["env"] = json!([{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]);
    // Privileged while requesting GPUs: it sees every GPU of the node, not only its own (error).
    w["containers"][0]["securityContext"] = json!({"privileged": true});
    w["tolerations"] = json!([{"operator": "Exists"}]);
    w["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "dev", "hostPath": {"path": "/dev/nvidia0"}}));
    w["containers"][0]["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "dev", "mountPath": "/dev/nvidia0"}));

    let policy = Policy::default();
    let report = check(
        &policy,
        None,
        serde_json::to_string(&doc).unwrap().as_bytes(),
        &Context::default(),
    );
    let r = &report.results[0];
    assert!(!r.allowed());
    let got: Vec<(String, Severity, String)> = r
        .findings()
        .iter()
        .filter(|f| FAMILY.contains(&f.rule().as_str()))
        .map(|f| {
            (
                f.rule().as_str().to_owned(),
                f.severity(),
                f.path().to_owned(),
            )
        })
        .collect();
    let s = |rule: &str, sev: Severity, path: String| (rule.to_owned(), sev, path);
    let want = vec![
        s(
            "broad-toleration",
            Severity::Warning,
            format!("{worker}/tolerations/0"),
        ),
        s(
            "gpu-toleration-without-gpu",
            Severity::Info,
            format!("{launcher}/tolerations/0"),
        ),
        s(
            "interruptible-stateful",
            Severity::Error,
            format!("{specs}/Worker/template/metadata/labels/qos.coreweave.cloud~1interruptable"),
        ),
        s(
            "interruption-label-spelling",
            Severity::Warning,
            format!("{specs}/Launcher/template/metadata/labels/qos.coreweave.com~1interruptible"),
        ),
        s(
            "accelerator-access-bypass",
            Severity::Error,
            format!("{worker}/containers/0/env/0"),
        ),
        s(
            "accelerator-access-bypass",
            Severity::Error,
            format!("{worker}/volumes/1"),
        ),
        s(
            "accelerator-access-bypass",
            Severity::Error,
            format!("{worker}/containers/0/securityContext/privileged"),
        ),
        s(
            "privileged-without-accelerator",
            Severity::Warning,
            format!("{launcher}/containers/0/securityContext/privileged"),
        ),
    ];
    assert_eq!(got, want, "findings:\n{}", describe(&report));
    // A workload template is never mutated by `cpu-compute-toleration`.
    assert!(r.patch.is_empty(), "{:?}", r.patch);
}
