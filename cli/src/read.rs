//! `cks-policy read` (hidden): what the reader built from each input, as JSON lines, for the
//! kubectl differential test (`e2e/kubectl-diff`). It only marshals what
//! [`Call::judge_objects`] returns; nothing here reads manifests.

use policy_core::call::Call;
use policy_core::{Object, Report};
use serde_json::{json, Value};

/// One JSON line for one input: every result with its `input-invalid` messages and the object
/// the reader built for it (`null` when there is none: an unreadable document, or an
/// AdmissionReview).
pub fn line(source: &str, report: &Report, objects: &[Option<Object>]) -> String {
    let results: Vec<Value> = report
        .results
        .iter()
        .zip(objects.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(r, o)| {
            let invalid: Vec<&str> = r.input_problems().collect();
            json!({
                "document": r.document,
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "invalid": invalid,
                // The outer object of a document kubectl reads as a list: never built.
                "readAsList": r.is_read_as_list(),
                "object": o.and_then(Option::as_ref).map(object),
            })
        })
        .collect();
    let mut s = json!({"source": source, "results": results}).to_string();
    s.push('\n');
    s
}

/// Reads one input's bytes and returns its line.
pub fn read(call: &Call<'_>, source: &str, bytes: &[u8]) -> String {
    let (report, objects) = call.judge_objects(bytes, Some(source));
    line(source, &report, &objects)
}

/// The fields of an object the rules read: identity, metadata, every pod spec with where it
/// sits, a Node's and NodePool's spec, the values captured at table locations, and the KServe
/// `oci://` storage URIs.
fn object(o: &Object) -> Value {
    let pods: Vec<Value> = o
        .pods
        .iter()
        .map(|p| {
            json!({
                "pointer": p.pointer,
                "specPointer": p.spec_pointer,
                "metadata": p.metadata.as_ref().map(|m| serde_json::to_value(m).unwrap_or(Value::Null)),
                "spec": serde_json::to_value(&p.spec).unwrap_or(Value::Null),
                // Assembled from a kind's own fields (Argo, TrainJob): not a pod spec verbatim.
                "assembled": !p.remap.is_empty(),
            })
        })
        .collect();
    json!({
        "apiVersion": o.api_version,
        "kind": o.kind,
        "metadata": serde_json::to_value(&o.metadata).unwrap_or(Value::Null),
        "pods": pods,
        "node": o.node.as_deref().map(|n| serde_json::to_value(n).unwrap_or(Value::Null)),
        "nodeAllocatable": o.node_allocatable.as_ref().map(|n| serde_json::to_value(n).unwrap_or(Value::Null)),
        "nodePool": o.node_pool.as_deref().map(|n| serde_json::to_value(n).unwrap_or(Value::Null)),
        "captured": o.captured,
        "unjudgedContainers": o.unjudged_containers.pointers,
        "ociModels": o.oci_models,
    })
}
