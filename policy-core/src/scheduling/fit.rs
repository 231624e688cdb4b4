//! Can a pod run on a node: the filters kube-scheduler applies before scoring, with every
//! reason a node is refused.
//!
//! - `spec.nodeName` must equal the node's name.
//! - `nodeSelector`: every pair must equal a node label.
//! - Required node affinity: `nodeSelectorTerms` are ORed; within a term every
//!   `matchExpressions` and `matchFields` requirement must hold (ANDed). An empty term list, or a
//!   term with no requirements, matches no node. Operators `In`, `NotIn` (true when the label is
//!   absent), `Exists`, `DoesNotExist`, `Gt`/`Lt` (exactly one value; both it and the node's label
//!   must parse as 64-bit integers, else no match). `matchFields` supports only `metadata.name`
//!   with `In`/`NotIn`. An invalid requirement matches nothing, as the scheduler refuses it.
//!   Preferred affinity only scores, so it never refuses a node.
//! - Taints: a `NoSchedule` or `NoExecute` taint the pod does not tolerate refuses the node
//!   (a tolerated `NoExecute` taint admits it; `tolerationSeconds` only bounds how long a running
//!   pod stays). `PreferNoSchedule` never refuses.
//! - `spec.unschedulable` (a cordon) refuses the node unless the pod tolerates
//!   `node.kubernetes.io/unschedulable:NoSchedule`, as the NodeUnschedulable plugin does.
//! - CKS lifecycle (not kube-scheduler, but what decides where customer pods may run): a node
//!   with lifecycle labels refuses the pod when it is not in `production`, is pending, or is
//!   reserved for the control plane; with `orgId` in settings, also when it is reserved for another
//!   org. Nodes without lifecycle labels are not judged on lifecycle.
//! - Resources (NodeResourcesFit): the pod's requests against the node's `status.allocatable`,
//!   less what pods already on it request; see [`super::resources`] and
//!   `fits_report_with_pods` (`answer/fits.rs`).

use k8s_openapi::api::core::v1::{
    NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, PodSpec, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::lifecycle::NodeLifecycle;
use super::taints::any_tolerates;

/// Why a node cannot take a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReasonKind {
    /// `spec.nodeName` names another node.
    NodeName,
    /// A `nodeSelector` pair does not match.
    NodeSelector,
    /// No required node affinity term matches.
    NodeAffinity,
    /// An untolerated `NoSchedule`/`NoExecute` taint.
    Taint,
    /// The node is cordoned.
    Unschedulable,
    /// The CKS node lifecycle does not let the pod run there.
    Lifecycle,
    /// The node's allocatable resources cannot hold the pod's requests
    /// ([`super::resources`]).
    Resources,
}

/// One reason, with a message naming exactly what failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// What kind of check failed.
    pub kind: ReasonKind,
    /// What failed, naming the label, expression or taint.
    pub message: String,
}

fn reason(kind: ReasonKind, message: String) -> Reason {
    Reason { kind, message }
}

/// A node as the fit check reads it: metadata and spec.
#[derive(Debug, Clone, Copy)]
pub struct NodeView<'a> {
    /// The node's metadata (name, labels).
    pub metadata: &'a ObjectMeta,
    /// The node's spec (taints, unschedulable); `None` reads as empty.
    pub spec: Option<&'a NodeSpec>,
}

impl NodeView<'_> {
    fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }
    fn label(&self, key: &str) -> Option<&str> {
        self.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .map(String::as_str)
    }
}

/// Every reason `node` refuses `pod`; empty when the pod fits. `org_id` is the customer's Org
/// ID when known (settings `orgId`).
pub fn reasons(pod: &PodSpec, node: NodeView<'_>, org_id: Option<&str>) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(want) = pod.node_name.as_deref().filter(|n| !n.is_empty()) {
        if want != node.name() {
            out.push(reason(
                ReasonKind::NodeName,
                format!("the pod's `spec.nodeName` is `{want}`, not this node"),
            ));
        }
    }
    for (k, v) in pod.node_selector.iter().flatten() {
        match node.label(k) {
            Some(have) if have == v => {}
            Some(have) => out.push(reason(
                ReasonKind::NodeSelector,
                format!("nodeSelector wants `{k}={v}` but the node has `{k}={have}`"),
            )),
            None => out.push(reason(
                ReasonKind::NodeSelector,
                format!("nodeSelector wants `{k}={v}` but the node has no `{k}` label"),
            )),
        }
    }
    if let Some(required) = pod
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    {
        let terms = &required.node_selector_terms;
        let failures: Vec<String> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| term_failure(t, node).map(|why| format!("term {i}: {why}")))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        if terms.is_empty() {
            out.push(reason(
                ReasonKind::NodeAffinity,
                String::from(
                    "required node affinity has no nodeSelectorTerms, which matches no node",
                ),
            ));
        } else if !failures.is_empty() {
            out.push(reason(
                ReasonKind::NodeAffinity,
                format!(
                    "no required node affinity term matches ({})",
                    failures.join("; ")
                ),
            ));
        }
    }
    let tolerations: &[Toleration] = pod.tolerations.as_deref().unwrap_or(&[]);
    let spec = node.spec;
    for t in spec.and_then(|s| s.taints.as_deref()).unwrap_or(&[]) {
        if (t.effect == "NoSchedule" || t.effect == "NoExecute") && !any_tolerates(tolerations, t) {
            out.push(reason(
                ReasonKind::Taint,
                format!("the pod does not tolerate the taint `{}`", show_taint(t)),
            ));
        }
    }
    if spec.and_then(|s| s.unschedulable).unwrap_or(false) {
        let cordon = super::taints::taint("node.kubernetes.io/unschedulable", None, "NoSchedule");
        if !any_tolerates(tolerations, &cordon) {
            out.push(reason(
                ReasonKind::Unschedulable,
                String::from("the node is cordoned (`spec.unschedulable: true`)"),
            ));
        }
    }
    let lc = NodeLifecycle::from_labels(node.metadata.labels.as_ref());
    if lc.is_managed() {
        let why = match org_id {
            Some(org) => lc.why_not(org),
            None if !lc.is_production() || lc.is_pending() => lc.why_not(""),
            None if lc.is_control_plane() => {
                Some(String::from("node is reserved for the CKS control plane"))
            }
            None => None,
        };
        if let Some(why) = why {
            out.push(reason(ReasonKind::Lifecycle, why));
        }
    }
    out
}

/// `key=value:Effect` (or `key:Effect`).
pub fn show_taint(t: &Taint) -> String {
    match t.value.as_deref() {
        Some(v) if !v.is_empty() => format!("{}={v}:{}", t.key, t.effect),
        _ => format!("{}:{}", t.key, t.effect),
    }
}

/// Why a term does not match, or `None` when it does.
fn term_failure(term: &NodeSelectorTerm, node: NodeView<'_>) -> Option<String> {
    let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if exprs.is_empty() && fields.is_empty() {
        return Some(String::from("an empty term matches no node"));
    }
    for r in exprs {
        if let Some(why) = requirement_failure(r, node.label(&r.key), "label") {
            return Some(why);
        }
    }
    for r in fields {
        if r.key != "metadata.name" {
            return Some(format!(
                "matchFields supports only `metadata.name`, not `{}`",
                r.key
            ));
        }
        if !matches!(r.operator.as_str(), "In" | "NotIn") {
            return Some(format!(
                "matchFields on `metadata.name` supports only `In` and `NotIn`, not `{}`",
                r.operator
            ));
        }
        if let Some(why) = requirement_failure(r, Some(node.name()), "field") {
            return Some(why);
        }
    }
    None
}

fn show_values(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

/// Why one requirement fails against the node's value (`None` when the key is absent).
fn requirement_failure(
    r: &NodeSelectorRequirement,
    have: Option<&str>,
    what: &str,
) -> Option<String> {
    let values: &[String] = r.values.as_deref().unwrap_or(&[]);
    let key = &r.key;
    let shown = |h: Option<&str>| match h {
        Some(h) => format!("the node's {what} `{key}` is `{h}`"),
        None => format!("the node has no {what} `{key}`"),
    };
    match r.operator.as_str() {
        "In" => {
            if values.is_empty() {
                return Some(format!("`{key}` In needs at least one value"));
            }
            match have {
                Some(h) if values.iter().any(|v| v == h) => None,
                h => Some(format!(
                    "`{key}` In {} but {}",
                    show_values(values),
                    shown(h)
                )),
            }
        }
        "NotIn" => {
            if values.is_empty() {
                return Some(format!("`{key}` NotIn needs at least one value"));
            }
            match have {
                Some(h) if values.iter().any(|v| v == h) => Some(format!(
                    "`{key}` NotIn {} but {}",
                    show_values(values),
                    shown(have)
                )),
                _ => None,
            }
        }
        "Exists" => match have {
            Some(_) => None,
            None => Some(format!("`{key}` Exists but {}", shown(None))),
        },
        "DoesNotExist" => match have {
            None => None,
            h => Some(format!("`{key}` DoesNotExist but {}", shown(h))),
        },
        op @ ("Gt" | "Lt") => {
            let [v] = values else {
                return Some(format!("`{key}` {op} needs exactly one value"));
            };
            let Ok(bound) = v.parse::<i64>() else {
                return Some(format!("`{key}` {op} `{v}`: the value is not an integer"));
            };
            let Some(h) = have else {
                return Some(format!("`{key}` {op} {bound} but {}", shown(None)));
            };
            let Ok(n) = h.parse::<i64>() else {
                return Some(format!(
                    "`{key}` {op} {bound} but {}, not an integer",
                    shown(have)
                ));
            };
            let ok = if op == "Gt" { n > bound } else { n < bound };
            (!ok).then(|| format!("`{key}` {op} {bound} but {}", shown(have)))
        }
        other => Some(format!("unknown operator `{other}` on `{key}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, NodeSelector};
    use std::collections::BTreeMap;

    fn meta(name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..ObjectMeta::default()
        }
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.to_owned(),
            operator: op.to_owned(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    fn pod_with_terms(terms: Vec<NodeSelectorTerm>) -> PodSpec {
        PodSpec {
            affinity: Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: terms,
                    }),
                    ..NodeAffinity::default()
                }),
                ..Affinity::default()
            }),
            ..PodSpec::default()
        }
    }

    fn exprs(rs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: Some(rs),
            match_fields: None,
        }
    }

    fn fits(pod: &PodSpec, m: &ObjectMeta, spec: Option<&NodeSpec>) -> Vec<ReasonKind> {
        reasons(pod, NodeView { metadata: m, spec }, None)
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }

    #[test]
    fn operator_table() {
        let node = meta("n1", &[("zone", "a"), ("gpus", "8"), ("bad", "x8")]);
        let cases: Vec<(NodeSelectorRequirement, bool)> = vec![
            (req("zone", "In", &["a", "b"]), true),
            (req("zone", "In", &["b"]), false),
            (req("missing", "In", &["a"]), false),
            (req("zone", "In", &[]), false),
            (req("zone", "NotIn", &["b"]), true),
            (req("zone", "NotIn", &["a"]), false),
            (req("missing", "NotIn", &["a"]), true),
            (req("zone", "Exists", &[]), true),
            (req("missing", "Exists", &[]), false),
            (req("missing", "DoesNotExist", &[]), true),
            (req("zone", "DoesNotExist", &[]), false),
            (req("gpus", "Gt", &["4"]), true),
            (req("gpus", "Gt", &["8"]), false),
            (req("gpus", "Lt", &["9"]), true),
            (req("gpus", "Lt", &["-1"]), false),
            (req("gpus", "Gt", &["4", "5"]), false),
            (req("gpus", "Gt", &["four"]), false),
            (req("bad", "Gt", &["1"]), false),
            (req("missing", "Lt", &["1"]), false),
            (req("zone", "Equals", &["a"]), false),
        ];
        for (i, (r, want)) in cases.into_iter().enumerate() {
            let pod = pod_with_terms(vec![exprs(vec![r.clone()])]);
            assert_eq!(fits(&pod, &node, None).is_empty(), want, "case {i}: {r:?}");
        }
    }

    #[test]
    fn terms_or_and_expressions_and() {
        let node = meta("n1", &[("zone", "a"), ("tier", "gpu")]);
        let ok = pod_with_terms(vec![
            exprs(vec![req("zone", "In", &["b"])]),
            exprs(vec![req("tier", "In", &["gpu"])]),
        ]);
        assert!(fits(&ok, &node, None).is_empty());
        let and = pod_with_terms(vec![exprs(vec![
            req("zone", "In", &["a"]),
            req("tier", "In", &["cpu"]),
        ])]);
        assert_eq!(fits(&and, &node, None), vec![ReasonKind::NodeAffinity]);
        assert_eq!(
            fits(&pod_with_terms(vec![]), &node, None),
            vec![ReasonKind::NodeAffinity]
        );
        let empty_term = pod_with_terms(vec![NodeSelectorTerm::default()]);
        assert_eq!(
            fits(&empty_term, &node, None),
            vec![ReasonKind::NodeAffinity]
        );
        let fields = |op: &str, v: &[&str]| {
            pod_with_terms(vec![NodeSelectorTerm {
                match_expressions: None,
                match_fields: Some(vec![req("metadata.name", op, v)]),
            }])
        };
        assert!(fits(&fields("In", &["n1"]), &node, None).is_empty());
        assert!(!fits(&fields("In", &["n2"]), &node, None).is_empty());
        assert!(fits(&fields("NotIn", &["n2"]), &node, None).is_empty());
        assert!(!fits(&fields("Exists", &[]), &node, None).is_empty());
        let other_field = pod_with_terms(vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![req("metadata.uid", "In", &["x"])]),
        }]);
        assert!(!fits(&other_field, &node, None).is_empty());
    }

    #[test]
    fn selector_node_name_taints_cordon() {
        let node = meta("n1", &[("zone", "a")]);
        let mut pod = PodSpec {
            node_selector: Some([("zone".to_owned(), "b".to_owned())].into()),
            ..PodSpec::default()
        };
        assert_eq!(fits(&pod, &node, None), vec![ReasonKind::NodeSelector]);
        pod.node_selector = Some([("zone".to_owned(), "a".to_owned())].into());
        pod.node_name = Some("n2".into());
        assert_eq!(fits(&pod, &node, None), vec![ReasonKind::NodeName]);
        pod.node_name = Some("n1".into());
        assert!(fits(&pod, &node, None).is_empty());

        let t = |k: &str, v: Option<&str>, e: &str| super::super::taints::taint(k, v, e);
        let spec = NodeSpec {
            taints: Some(vec![
                t("is_cpu_compute", None, "NoSchedule"),
                t("is_gpu", Some("true"), "PreferNoSchedule"),
                t("sunk.coreweave.com/lock", Some("true"), "NoExecute"),
            ]),
            unschedulable: Some(true),
            ..NodeSpec::default()
        };
        let pod = PodSpec::default();
        assert_eq!(
            fits(&pod, &node, Some(&spec)),
            vec![
                ReasonKind::Taint,
                ReasonKind::Taint,
                ReasonKind::Unschedulable
            ]
        );
        let tol =
            |k: &str, op: &str, v: Option<&str>, e: Option<&str>, secs: Option<i64>| Toleration {
                key: (!k.is_empty()).then(|| k.to_owned()),
                operator: Some(op.to_owned()),
                value: v.map(str::to_owned),
                effect: e.map(str::to_owned),
                toleration_seconds: secs,
            };
        let pod = PodSpec {
            tolerations: Some(vec![
                tol("is_cpu_compute", "Exists", None, Some("NoSchedule"), None),
                tol(
                    "sunk.coreweave.com/lock",
                    "Equal",
                    Some("true"),
                    Some("NoExecute"),
                    Some(30),
                ),
                tol(
                    "node.kubernetes.io/unschedulable",
                    "Exists",
                    None,
                    None,
                    None,
                ),
            ]),
            ..PodSpec::default()
        };
        assert!(fits(&pod, &node, Some(&spec)).is_empty());
        let everything = PodSpec {
            tolerations: Some(vec![tol("", "Exists", None, None, None)]),
            ..PodSpec::default()
        };
        assert!(fits(&everything, &node, Some(&spec)).is_empty());
    }

    #[test]
    fn lifecycle_reasons() {
        let pod = PodSpec::default();
        let prod = meta(
            "n",
            &[
                ("node.coreweave.cloud/state", "production"),
                ("node.coreweave.cloud/reserved", "acme"),
            ],
        );
        assert!(reasons(
            &pod,
            NodeView {
                metadata: &prod,
                spec: None
            },
            None
        )
        .is_empty());
        assert!(reasons(
            &pod,
            NodeView {
                metadata: &prod,
                spec: None
            },
            Some("acme")
        )
        .is_empty());
        assert_eq!(
            reasons(
                &pod,
                NodeView {
                    metadata: &prod,
                    spec: None
                },
                Some("other")
            )[0]
            .kind,
            ReasonKind::Lifecycle
        );
        let triage = meta(
            "n",
            &[
                ("node.coreweave.cloud/state", "triage"),
                ("node.coreweave.cloud/reserved", "triage"),
            ],
        );
        assert_eq!(
            reasons(
                &pod,
                NodeView {
                    metadata: &triage,
                    spec: None
                },
                None
            )[0]
            .kind,
            ReasonKind::Lifecycle
        );
        let cp = meta(
            "n",
            &[
                ("node.coreweave.cloud/state", "production"),
                ("node.coreweave.cloud/reserved", "control-plane"),
            ],
        );
        assert_eq!(
            reasons(
                &pod,
                NodeView {
                    metadata: &cp,
                    spec: None
                },
                None
            )[0]
            .kind,
            ReasonKind::Lifecycle
        );
    }

    // The property: adding a toleration never reduces the set of nodes a pod fits.
    mod more_tolerations {
        use super::*;
        use k8s_openapi::api::core::v1::{NodeSpec, Taint, Toleration};
        use proptest::prelude::*;

        fn taint() -> impl Strategy<Value = Taint> {
            (
                prop_oneof![
                    Just("is_cpu_compute"),
                    Just("is_gpu"),
                    Just("sunk.coreweave.com/lock"),
                    Just("a")
                ],
                prop::option::of(prop_oneof![Just("true"), Just(""), Just("x")]),
                prop_oneof![
                    Just("NoSchedule"),
                    Just("PreferNoSchedule"),
                    Just("NoExecute")
                ],
            )
                .prop_map(|(k, v, e)| Taint {
                    key: k.into(),
                    value: v.map(Into::into),
                    effect: e.into(),
                    time_added: None,
                })
        }

        fn toleration() -> impl Strategy<Value = Toleration> {
            (
                prop_oneof![
                    Just(""),
                    Just("is_cpu_compute"),
                    Just("is_gpu"),
                    Just("sunk.coreweave.com/lock"),
                    Just("a")
                ],
                prop::option::of(prop_oneof![Just("Exists"), Just("Equal"), Just("Gt")]),
                prop::option::of(prop_oneof![Just("true"), Just(""), Just("x")]),
                prop::option::of(prop_oneof![
                    Just("NoSchedule"),
                    Just("PreferNoSchedule"),
                    Just("NoExecute")
                ]),
                prop::option::of(0i64..100),
            )
                .prop_map(|(k, op, v, e, s)| Toleration {
                    key: (!k.is_empty()).then(|| k.into()),
                    operator: op.map(Into::into),
                    value: v.map(Into::into),
                    effect: e.map(Into::into),
                    toleration_seconds: s,
                })
        }

        proptest! {
            #[test]
            fn adding_a_toleration_never_reduces_fitting_nodes(
                nodes in prop::collection::vec((prop::collection::vec(taint(), 0..4), any::<bool>()), 1..6),
                tolerations in prop::collection::vec(toleration(), 0..3),
                extra in toleration(),
            ) {
                let meta = ObjectMeta { name: Some("n".into()), ..ObjectMeta::default() };
                let specs: Vec<NodeSpec> = nodes.into_iter().map(|(taints, cordon)| NodeSpec {
                    taints: Some(taints), unschedulable: Some(cordon), ..NodeSpec::default()
                }).collect();
                let before = PodSpec { tolerations: Some(tolerations.clone()), ..PodSpec::default() };
                let mut more = tolerations;
                more.push(extra);
                let after = PodSpec { tolerations: Some(more), ..PodSpec::default() };
                for spec in &specs {
                    let view = NodeView { metadata: &meta, spec: Some(spec) };
                    let fit_before = reasons(&before, view, None).is_empty();
                    let fit_after = reasons(&after, view, None).is_empty();
                    prop_assert!(!fit_before || fit_after, "a toleration removed a fitting node: {spec:?}");
                }
            }
        }
    }
}
