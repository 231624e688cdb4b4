//! `fits`: which nodes can take a pod, and why the others cannot, for every surface.

use serde::Serialize;
use serde_json::Value;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;

use crate::judge::eval::{evaluate, Context};
use crate::judge::verdict::PatchOp;
use crate::model::input::{parse_values, value_doc};
use crate::model::object::{Doc, Object, PodTemplate, Request};
use crate::scheduling::fit::{reasons, NodeView, Reason};
use crate::scheduling::resources::{pod_requests, resource_reasons, NodeUsage};
use crate::settings::policy::Policy;

/// The answer for one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeFit {
    /// The node's name.
    pub name: String,
    /// True when the pod can be scheduled there.
    pub fits: bool,
    /// Every reason it cannot, in check order.
    pub reasons: Vec<Reason>,
    /// What was not judged and why (a node without `status.allocatable` is not judged on
    /// resources); left out of the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The note on a node that has no `status.allocatable`.
pub const NO_ALLOCATABLE: &str = "not judged on resources: the node has no `status.allocatable`";

/// The answer for a pod and a set of nodes, as `cks-policy fits --format json` prints it:
/// `{"pod":"train","nodes":[{"name":"gpu-1","fits":true,"reasons":[]},…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FitsReport {
    /// The pod's (or workload's) name.
    pub pod: Option<String>,
    /// The pod is judged as CKS admission lets it through: this is the policy's own patch
    /// (what admission adds, such as the `is_cpu_compute` toleration), applied before any node
    /// is judged; empty when admission changes nothing.
    pub admission_patch: Vec<PatchOp>,
    /// One entry per node, in input order.
    pub nodes: Vec<NodeFit>,
}

impl FitsReport {
    /// True when at least one node can take the pod.
    pub fn any_fits(&self) -> bool {
        self.nodes.iter().any(|n| n.fits)
    }
}

/// Input `fits` cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitsError {
    /// The pod text holds no pod spec.
    #[error("pod: {0}")]
    Pod(String),
    /// A nodes document is not a Node (or a list of Nodes).
    #[error("nodes document {document}: {message}")]
    Nodes {
        /// 0-based document index in the nodes text.
        document: usize,
        /// What is wrong.
        message: String,
    },
    /// A document of already-running pods is not a Pod (or a list of Pods), or a request in it
    /// does not parse.
    #[error("pods document {document}: {message}")]
    Pods {
        /// 0-based document index in the pods text.
        document: usize,
        /// What is wrong.
        message: String,
    },
}

fn objects(policy: &Policy, v: &Value) -> Result<Vec<Object>, String> {
    match value_doc(policy.reading(), v) {
        Ok(Doc::Object(o)) => Ok(vec![*o]),
        Ok(Doc::List(items)) => Ok(items),
        Ok(Doc::Review(r) | Doc::Request(r)) => Ok(r.object.into_iter().collect()),
        Err(p) => Err(match p.line {
            Some(l) => format!("{} (line {l})", p.message),
            None => p.message,
        }),
    }
}

fn text(bytes: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| format!("{what} is not UTF-8: {e}"))
}

/// Judges which of `nodes` can take the pod in `pod`, without pods already running on them.
///
/// `pod` is YAML or JSON of a Pod, or of a workload (its first pod template is used); `nodes` is
/// a multi-document YAML/JSON text or a `kind: List` (what `kubectl get nodes -o yaml` prints).
/// Settings `orgId`, when set, adds the CKS lifecycle check for that org.
pub fn fits_report(policy: &Policy, pod: &[u8], nodes: &[u8]) -> Result<FitsReport, FitsError> {
    fits_report_with_pods(policy, pod, nodes, None)
}

/// What each node's already-running pods request, by node name: every Pod with a
/// `spec.nodeName` that is not in phase `Succeeded` or `Failed` (the scheduler's cache drops
/// terminal pods).
fn usage_by_node(policy: &Policy, pods: &[u8]) -> Result<BTreeMap<String, NodeUsage>, FitsError> {
    let pods_text = text(pods, "the pods").map_err(|message| FitsError::Pods {
        document: 0,
        message,
    })?;
    let mut out: BTreeMap<String, NodeUsage> = BTreeMap::new();
    for (document, v) in parse_values(&pods_text).into_iter().enumerate() {
        let v = v.map_err(|p| FitsError::Pods {
            document,
            message: p.message,
        })?;
        let objs = objects(policy, &v).map_err(|message| FitsError::Pods { document, message })?;
        for o in &objs {
            if !o.is("", "Pod") {
                return Err(FitsError::Pods {
                    document,
                    message: format!("expected Pods, found a {}", o.kind),
                });
            }
            let Some(p) = o.pods.first() else { continue };
            let Some(node) = p.spec.node_name.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            let phase = o.captured("/status/phase").and_then(Value::as_str);
            if matches!(phase, Some("Succeeded" | "Failed")) {
                continue;
            }
            let requests = pod_requests(&p.spec).map_err(|e| FitsError::Pods {
                document,
                message: format!("pod `{}`: {e}", o.name().unwrap_or("")),
            })?;
            out.entry(node.to_owned()).or_default().add_pod(&requests);
        }
    }
    Ok(out)
}

/// Judges which of `nodes` can take the pod in `pod`, counting the requests of the pods in
/// `pods` against the node each is bound to.
///
/// As [`fits_report`], plus: `pods` (what `kubectl get pods -A -o yaml` prints: multi-document
/// YAML/JSON or a `kind: List`) are the pods already running; each counts against the node in
/// its `spec.nodeName` unless it is in phase `Succeeded` or `Failed`. Every node with a
/// `status.allocatable` is judged on resources as kube-scheduler's NodeResourcesFit filter does
/// (`scheduling::resources`), giving `resources` reasons; a node without one is not, and its entry
/// carries the note `NO_ALLOCATABLE` in `notes` (absent from the JSON when empty).
pub fn fits_report_with_pods(
    policy: &Policy,
    pod: &[u8],
    nodes: &[u8],
    pods: Option<&[u8]>,
) -> Result<FitsReport, FitsError> {
    let pod_text = text(pod, "the pod").map_err(FitsError::Pod)?;
    let mut pod_obj = None;
    for v in parse_values(&pod_text) {
        let v = v.map_err(|p| FitsError::Pod(p.message))?;
        let objs = objects(policy, &v).map_err(FitsError::Pod)?;
        if let Some(o) = objs.into_iter().find(|o| !o.pods.is_empty()) {
            pod_obj = Some(o);
            break;
        }
    }
    let pod_obj =
        pod_obj.ok_or_else(|| FitsError::Pod(String::from("no Pod or pod template found")))?;
    let Some(template) = pod_obj.pods.first() else {
        return Err(FitsError::Pod(String::from("no pod template found")));
    };
    let (spec, admission_patch) = admitted(policy, &pod_obj, template)?;
    let requests = pod_requests(&spec).map_err(FitsError::Pod)?;
    let usage = match pods {
        Some(p) => usage_by_node(policy, p)?,
        None => BTreeMap::new(),
    };
    let no_usage = NodeUsage::default();
    let nodes_text = text(nodes, "the nodes").map_err(|message| FitsError::Nodes {
        document: 0,
        message,
    })?;
    let org_id = policy.settings().org_id.as_deref();
    let mut out = Vec::new();
    for (document, v) in parse_values(&nodes_text).into_iter().enumerate() {
        let v = v.map_err(|p| FitsError::Nodes {
            document,
            message: p.message,
        })?;
        let objs = objects(policy, &v).map_err(|message| FitsError::Nodes { document, message })?;
        for node in &objs {
            if node.kind != "Node" || node.group() != "" {
                return Err(FitsError::Nodes {
                    document,
                    message: format!("expected Nodes, found a {}", node.kind),
                });
            }
            let view = NodeView {
                metadata: &node.metadata,
                spec: node.node.as_deref(),
            };
            let name = node.metadata.name.clone().unwrap_or_default();
            let mut reasons = reasons(&spec, view, org_id);
            let mut notes = Vec::new();
            match &node.node_allocatable {
                Some(allocatable) => reasons.extend(resource_reasons(
                    &requests,
                    allocatable,
                    usage.get(&name).unwrap_or(&no_usage),
                )),
                None => notes.push(String::from(NO_ALLOCATABLE)),
            }
            out.push(NodeFit {
                name,
                fits: reasons.is_empty(),
                reasons,
                notes,
            });
        }
    }
    Ok(FitsReport {
        pod: pod_obj.name().map(str::to_owned),
        admission_patch,
        nodes: out,
    })
}

/// The pod as CKS admission lets it through, and the patch admission applied to it. The pod
/// that is scheduled is a Pod: a workload's controller creates it from the template, and
/// admission judges that Pod at its CREATE (the `cpu-compute-toleration` mutation adds its
/// toleration to Pods only). So the template becomes a Pod (its metadata, the workload's
/// namespace), is judged as a CREATE by this policy, and the patch is applied to it.
fn admitted(
    policy: &Policy,
    object: &Object,
    template: &PodTemplate,
) -> Result<(PodSpec, Vec<PatchOp>), FitsError> {
    let mut metadata = template
        .metadata
        .clone()
        .unwrap_or_else(|| object.metadata.clone());
    if metadata.namespace.is_none() {
        metadata.namespace.clone_from(&object.metadata.namespace);
    }
    let mut pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.spec,
    });
    let read = |v: &Value| match value_doc(policy.reading(), v) {
        Ok(Doc::Object(o)) => Ok(o),
        Ok(_) => Err(FitsError::Pod(String::from(
            "the pod is not a single object",
        ))),
        Err(p) => Err(FitsError::Pod(p.message)),
    };
    let request = Request::create(*read(&pod)?);
    let patch = evaluate(policy, &request, &Context::default()).into_patch();
    if patch.is_empty() {
        return Ok((template.spec.clone(), patch));
    }
    crate::answer::patch::apply(&mut pod, &patch)
        .map_err(|e| FitsError::Pod(format!("the admission patch does not apply: {e}")))?;
    let spec = read(&pod)?
        .pods
        .into_iter()
        .next()
        .map(|p| p.spec)
        .ok_or_else(|| FitsError::Pod(String::from("no pod spec after admission")))?;
    Ok((spec, patch))
}
