//! The `openreports` format: `openreports.io/v1alpha1` reports (the CRDs of
//! github.com/openreports/reports-api, kept in `cli/tests/schemas/openreports/`), which
//! Kubewarden's audit scanner and Policy Reporter read. The output is a `v1` `List`, as JSON
//! (which is YAML too), so `kubectl apply -f` takes it as it is.
//!
//! One `Report` per namespace (named `cks-policy`, its `scope` the Namespace) and one
//! `ClusterReport` for the objects without a namespace (cluster-scoped objects, and objects of
//! a manifest that names none: the CLI cannot know which namespace `kubectl apply` would
//! choose). Each finding is one result: `policy` and `rule` the rule id, `resources` the
//! object, `properties` the file, line and JSON Pointer. `result` and `severity` from the
//! finding's severity: error → `fail`/`high` (`input-invalid` → `error`: the object could not
//! be judged), warning → `warn`/`medium`, info → `pass`/`info` (an info does not fail or warn;
//! it is kept for its message). An object without findings gets one `pass` result with
//! `policy: cks-policy`. `summary` counts the results by `result`; no timestamps, so the same
//! input gives the same output.

use std::collections::BTreeMap;

use policy_core::{DocumentResult, Finding, Outcome, Report};
use serde_json::{json, Map, Value};

/// The `source` of every report and result.
pub const SOURCE: &str = "cks-policy";

/// The CRD's `result` and `severity` enums for a finding's outcome (the core decides it).
fn outcome(f: &Finding) -> (&'static str, &'static str) {
    match f.outcome() {
        Outcome::Invalid => ("error", "high"),
        Outcome::Denies => ("fail", "high"),
        Outcome::Warns => ("warn", "medium"),
        Outcome::Informs => ("pass", "info"),
        Outcome::Suppressed => ("skip", "info"),
    }
}

fn resource(r: &DocumentResult) -> Option<Value> {
    let kind = r.kind.as_deref()?;
    let mut o = Map::new();
    o.insert("kind".into(), json!(kind));
    if let Some(name) = &r.name {
        o.insert("name".into(), json!(name));
    }
    if let Some(ns) = namespace(r) {
        o.insert("namespace".into(), json!(ns));
    }
    Some(Value::Object(o))
}

fn namespace(r: &DocumentResult) -> Option<&str> {
    r.namespace.as_deref().filter(|ns| !ns.is_empty())
}

fn properties(r: &DocumentResult, f: Option<&Finding>) -> Value {
    let mut p = Map::new();
    p.insert("file".into(), json!(r.source.as_deref().unwrap_or("-")));
    p.insert("document".into(), json!(r.document.to_string()));
    if let Some(f) = f {
        if let Some(l) = f.line() {
            p.insert("line".into(), json!(l.to_string()));
        }
        if !f.path().is_empty() {
            p.insert("path".into(), json!(f.path()));
        }
    }
    Value::Object(p)
}

fn results_of(r: &DocumentResult) -> Vec<Value> {
    let with = |mut v: Value| {
        if let Some(res) = resource(r) {
            v["resources"] = json!([res]);
        }
        v
    };
    if r.findings().is_empty() {
        return vec![with(json!({
            "source": SOURCE,
            "policy": SOURCE,
            "result": "pass",
            "message": "no findings",
            "properties": properties(r, None),
        }))];
    }
    r.findings()
        .iter()
        .map(|f| {
            let (result, severity) = outcome(f);
            with(json!({
                "source": SOURCE,
                "policy": f.rule(),
                "rule": f.rule(),
                "result": result,
                "severity": severity,
                "message": f.message(),
                "properties": properties(r, Some(f)),
            }))
        })
        .collect()
}

fn report(kind: &str, namespace: Option<&str>, results: Vec<Value>) -> Value {
    let mut summary = json!({"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0});
    for r in &results {
        if let Some(k) = r["result"].as_str() {
            summary[k] = json!(summary[k].as_u64().unwrap_or(0) + 1);
        }
    }
    let mut metadata = json!({
        "name": SOURCE,
        "labels": {"app.kubernetes.io/managed-by": SOURCE},
    });
    let mut doc = json!({
        "apiVersion": "openreports.io/v1alpha1",
        "kind": kind,
    });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
        doc["scope"] = json!({"apiVersion": "v1", "kind": "Namespace", "name": ns});
    }
    doc["metadata"] = metadata;
    doc["source"] = json!(SOURCE);
    doc["summary"] = summary;
    doc["results"] = Value::Array(results);
    doc
}

/// The report as a `List` of one `ClusterReport` (when some object has no namespace) and one
/// `Report` per namespace, sorted by namespace.
pub fn render(report_in: &Report) -> String {
    let mut cluster = Vec::new();
    let mut by_ns: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for r in &report_in.results {
        let results = results_of(r);
        match namespace(r) {
            Some(ns) => by_ns.entry(ns).or_default().extend(results),
            None => cluster.extend(results),
        }
    }
    let mut items = Vec::new();
    if !cluster.is_empty() {
        items.push(report("ClusterReport", None, cluster));
    }
    for (ns, results) in by_ns {
        items.push(report("Report", Some(ns), results));
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    format!(
        "{}\n",
        serde_json::to_string_pretty(&list).unwrap_or_default()
    )
}
