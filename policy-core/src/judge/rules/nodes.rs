//! Node rules: the lifecycle labels of Nodes, and how pods select instance types (CKS
//! "Workload scheduling", "Node type selection labels" and "Node lifecycle labels":
//! <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>).
//!
//! A pod *selects* a node label through `spec.nodeSelector`, or through a `matchExpressions`
//! requirement of its node affinity, required (`nodeSelectorTerms`) or preferred. The rules read
//! every such selection of every pod template; `matchFields` select node names, not labels, and
//! are not read.
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - `legacy-node-type` reports a selection on `node.kubernetes.io/type` only when it names a
//!   value that is not a known Instance ID (a legacy value such as
//!   `H100_NVLINK_80GB.8.xeon.128`). CKS nodes carry the Instance ID in that key too (CKS "Workload scheduling":
//!   the label "has also been updated to reference the new Node Instance ID"), so a selection
//!   whose values are all known Instance IDs, or an `Exists`/`DoesNotExist`, works and gets no
//!   warning; severities are per rule, so the info that `node.kubernetes.io/instance-type` is
//!   the documented key comes from the `migrate-node-type` mutation (when enabled), not from
//!   this rule.
//! - `migrate-node-type` rewrites a selection when every value it names has a known Instance ID:
//!   a published legacy mapping (built-in or `nodeTypes.legacy`), or a value that already is a
//!   known Instance ID (the identity mapping). `Exists`/`DoesNotExist` are rewritten to the same
//!   operator on `node.kubernetes.io/instance-type`. Guessed ("likely") mappings are never
//!   rewritten. A `nodeSelector` that already holds `node.kubernetes.io/instance-type` with
//!   another value is left alone (the pod can never schedule; the finding says so).
//! - `unknown-instance-type` checks the values of `nodeSelector` and of `In`/`NotIn`
//!   requirements on `node.kubernetes.io/instance-type` and `node.coreweave.cloud/type`, and
//!   the `instanceType` of a CoreWeave NodePool; `Gt`/`Lt` are not read (their values are
//!   integers, never Instance IDs).
//! - `legacy-node-selector` reports every selection on a pre-CKS key. A positive selection
//!   (`nodeSelector`, `In`, `Exists`, `Gt`, `Lt`) in a required term matches no CKS node; a
//!   negative or preferred one has no effect. The message says which. The GPU labels
//!   `gpu.nvidia.com/class`, `/model`, `/count`, `/vram` are current CKS node labels
//!   (`kubectl describe node` on CKS): only a required `nodeSelector`/`In` value of `class` or
//!   `model` that names a GPU class CKS does not offer ([`crate::model::nodetypes::RETIRED_GPU_CLASSES`]
//!   and `nodeTypes.retiredGpuClasses`, less `nodeTypes.gpuClasses`) is reported, by this rule:
//!   such a value is a label value of the pre-CKS Cloud, which is what the rule is about, while
//!   `unknown-instance-type` judges Instance IDs only.
//! - `node-lifecycle-inconsistent` judges Nodes only (NodePools do not carry lifecycle labels)
//!   and judges the object as it will be, on CREATE and UPDATE alike.

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, PodSpec};
use serde_json::{json, Value};

use crate::judge::eval::{Input, Out};
use crate::judge::verdict::PatchOp;
use crate::model::catalogue::RuleId;
use crate::model::nodetypes::{
    GPU_CLASSES, GPU_CLASS_KEYS, LEGACY_CLASS_LIKELY, LEGACY_SELECTOR_KEYS, NODE_CLASS,
    NODE_CLASS_VALUES,
};
use crate::model::object::PodRef;
use crate::model::text::distance_within;
use crate::read::pointer;
use crate::scheduling::lifecycle::{NodeLifecycle, RESERVED, STATE};
use crate::settings::policy::Policy;

/// The legacy node type key.
pub const LEGACY_TYPE: &str = "node.kubernetes.io/type";
/// The current instance type key.
pub const INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
/// CoreWeave's own instance type key, used by CoreWeave's current manifests.
pub const COREWEAVE_TYPE: &str = "node.coreweave.cloud/type";

/// Where a selection sits in a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// `nodeSelector[key]`.
    NodeSelector,
    /// `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[term].matchExpressions[expr]`.
    Required { term: usize, expr: usize },
    /// `affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[term].preference.matchExpressions[expr]`.
    Preferred { term: usize, expr: usize },
}

/// One node label selection of a pod spec, borrowed.
pub(crate) struct Selection<'a> {
    place: Place,
    key: &'a str,
    /// `None` for a `nodeSelector` entry (equality), the operator otherwise.
    operator: Option<&'a str>,
    /// The `nodeSelector` value, or the requirement's values.
    values: Vec<&'a str>,
}

impl Selection<'_> {
    /// Pointer to the selection: the `nodeSelector` entry or the requirement.
    fn path(&self, spec_path: &str) -> String {
        match self.place {
            Place::NodeSelector => pointer::join(spec_path, &["nodeSelector", self.key]),
            Place::Required { term, expr } => format!(
                "{spec_path}/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/{term}/matchExpressions/{expr}"
            ),
            Place::Preferred { term, expr } => format!(
                "{spec_path}/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution/{term}/preference/matchExpressions/{expr}"
            ),
        }
    }

    /// How the selection reads in a message: ``nodeSelector `k: v` `` or ``node affinity `k In [a, b]` ``.
    fn describe(&self) -> String {
        match self.operator {
            None => format!(
                "nodeSelector `{}: {}`",
                self.key,
                self.values.first().copied().unwrap_or("")
            ),
            Some(op) => {
                let kind = match self.place {
                    Place::Preferred { .. } => "preferred node affinity",
                    _ => "node affinity",
                };
                if self.values.is_empty() {
                    format!("{kind} `{} {op}`", self.key)
                } else {
                    format!("{kind} `{} {op} [{}]`", self.key, self.values.join(", "))
                }
            }
        }
    }

    /// True when the selection only admits nodes that carry the key (and the place is required).
    fn requires_label(&self) -> bool {
        !matches!(self.place, Place::Preferred { .. })
            && !matches!(self.operator, Some("NotIn" | "DoesNotExist"))
    }

    /// Each value a required selection asks for that `misses` says no node carries, with the
    /// pointer to it (the `nodeSelector` entry, or the value in the requirement's `values`).
    /// Only a selection that requires one of its values (`In` or equality) can miss every node.
    fn required_misses<'s>(
        &'s self,
        spec_path: &'s str,
        misses: impl Fn(&str) -> bool + 's,
    ) -> impl Iterator<Item = (String, &'s str)> + 's {
        let applies = matches!(self.operator, None | Some("In")) && self.requires_label();
        self.values
            .iter()
            .enumerate()
            .filter(move |(_, v)| applies && misses(v))
            .map(move |(i, v)| {
                let mut path = self.path(spec_path);
                if self.operator.is_some() {
                    path.push_str("/values");
                    pointer::push_index(&mut path, i);
                }
                (path, *v)
            })
    }

    /// True for an equality or set selection whose values name label values.
    fn names_values(&self) -> bool {
        matches!(self.operator, None | Some("In" | "NotIn"))
    }
}

fn requirement<'a>(place: Place, r: &'a NodeSelectorRequirement) -> Selection<'a> {
    Selection {
        place,
        key: &r.key,
        operator: Some(&r.operator),
        values: r.values.iter().flatten().map(String::as_str).collect(),
    }
}

/// Calls `f` for every selection of `spec` whose key satisfies `wanted` (checked before any
/// allocation, so specs that select nothing of interest cost nothing).
fn for_each_selection<'a>(
    spec: &'a PodSpec,
    wanted: impl Fn(&str) -> bool,
    mut f: impl FnMut(Selection<'a>),
) {
    for (k, v) in spec.node_selector.iter().flatten() {
        if wanted(k) {
            f(Selection {
                place: Place::NodeSelector,
                key: k,
                operator: None,
                values: vec![v.as_str()],
            });
        }
    }
    let Some(na) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
    else {
        return;
    };
    if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
        for (term, t) in req.node_selector_terms.iter().enumerate() {
            for (expr, r) in t.match_expressions.iter().flatten().enumerate() {
                if wanted(&r.key) {
                    f(requirement(Place::Required { term, expr }, r));
                }
            }
        }
    }
    for (term, p) in na
        .preferred_during_scheduling_ignored_during_execution
        .iter()
        .flatten()
        .enumerate()
    {
        for (expr, r) in p.preference.match_expressions.iter().flatten().enumerate() {
            if wanted(&r.key) {
                f(requirement(Place::Preferred { term, expr }, r));
            }
        }
    }
}

/// Calls `f` for every wanted selection of every pod of `obj`, with the pod and the pointer to
/// its spec (built only for pods that have such a selection).
/// Every node label selection of every pod in the object, walked once per evaluation and shared
/// by the four selector rules: `(pod index, the pod's spec pointer, selection)`.
pub(crate) struct Selections<'a> {
    spec_paths: Vec<String>,
    items: Vec<(usize, Selection<'a>)>,
}

fn selections<'a>(input: &Input<'a>) -> &'a Selections<'a> {
    let facts: &'a crate::judge::eval::Facts<'a> = input.facts;
    facts.selections.get_or_init(|| {
        let mut items = Vec::new();
        let mut spec_paths = Vec::new();
        for (i, pod) in input.object.pod_refs().enumerate() {
            spec_paths.push(pod.spec_path());
            for_each_selection(pod.spec, |_| true, |sel| items.push((i, sel)));
        }
        Selections { spec_paths, items }
    })
}

/// Calls `f` for every selection of every pod whose key satisfies `wanted`, with the pod and
/// the pod's spec pointer.
fn for_each_pod_selection<'a>(
    input: &Input<'a>,
    wanted: impl Fn(&str) -> bool,
    mut f: impl FnMut(PodRef<'a>, &str, &Selection<'a>),
) {
    let all = selections(input);
    let mut pods = input.object.pod_refs().enumerate().peekable();
    for (i, sel) in &all.items {
        if !wanted(sel.key) {
            continue;
        }
        // Items are in pod order: advance the pod iterator to this one.
        while pods.peek().is_some_and(|(j, _)| j < i) {
            pods.next();
        }
        let Some((_, pod)) = pods.peek().copied() else {
            continue;
        };
        f(pod, &all.spec_paths[*i], sel);
    }
}

/// The Instance ID a legacy `node.kubernetes.io/type` value stands for, when known for sure: a
/// published mapping, or the value itself when it already is a known Instance ID.
fn known_instance_id<'p>(policy: &'p Policy, value: &'p str) -> Option<&'p str> {
    policy.node_types.legacy.get(value).or_else(|| {
        policy
            .node_types
            .instance_ids
            .contains(value)
            .then_some(value)
    })
}

/// Whether a `node.kubernetes.io/type` selection works on CKS as it is: an `Exists` /
/// `DoesNotExist` (every CKS node carries the key), or values that are all known Instance IDs
/// (CKS nodes carry the Instance ID in that key too: CKS "Workload scheduling").
fn is_current_type_selection(policy: &Policy, sel: &Selection<'_>) -> bool {
    match sel.operator {
        Some("Exists" | "DoesNotExist") => true,
        None | Some("In" | "NotIn") => sel
            .values
            .iter()
            .all(|v| policy.node_types.instance_ids.contains(v)),
        Some(_) => false,
    }
}

/// The likely (unpublished) Instance ID for an old GPU class, or a legacy type value that starts
/// with one (`H100_NVLINK_80GB.8.xeon.128`).
fn likely_instance_id(value: &str) -> Option<&'static str> {
    let class = value.split('.').next().unwrap_or(value);
    LEGACY_CLASS_LIKELY
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, id)| *id)
}

/// The nearest known Instance ID within two edits, first in sorted order on ties.
fn nearest_instance_id<'p>(policy: &'p Policy, value: &str) -> Option<&'p str> {
    let mut best: Option<(usize, &str)> = None;
    for id in policy.node_types.instance_ids.iter() {
        let Some(d) = distance_within(value, id, 2) else {
            continue;
        };
        if best.is_none_or(|(bd, b)| d < bd || (d == bd && id < b)) {
            best = Some((d, id));
        }
    }
    best.map(|(_, id)| id)
}

/// `node-lifecycle-inconsistent`: a Node whose lifecycle labels contradict the model (not
/// production but reserved ≠ state; production but reserved empty or missing).
pub fn check_lifecycle(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if !obj.is("", "Node") {
        return;
    }
    let lifecycle = NodeLifecycle::from_labels(obj.labels());
    for message in lifecycle.inconsistencies() {
        let key = if lifecycle.reserved.is_some() {
            RESERVED
        } else {
            STATE
        };
        out.report(pointer::join("/metadata/labels", &[key]), message, None);
    }
}

/// The rewrite of one `node.kubernetes.io/type` selection, when every value has a known Instance ID.
fn migration(policy: &Policy, sel: &Selection<'_>) -> Option<Vec<String>> {
    match sel.operator {
        None | Some("In" | "NotIn") => sel
            .values
            .iter()
            .map(|v| known_instance_id(policy, v).map(str::to_owned))
            .collect(),
        Some("Exists" | "DoesNotExist") => Some(Vec::new()),
        Some(_) => None,
    }
}

/// The selection rewritten to the current key: `node.kubernetes.io/instance-type: id` for a
/// `nodeSelector` entry, `node.kubernetes.io/instance-type In [a, b]` for a requirement.
fn target(sel: &Selection<'_>, ids: &[String]) -> String {
    match (sel.operator, ids) {
        (None, [id]) => format!("{INSTANCE_TYPE}: {id}"),
        (Some(op), []) => format!("{INSTANCE_TYPE} {op}"),
        (Some(op), _) => format!("{INSTANCE_TYPE} {op} [{}]", ids.join(", ")),
        (None, _) => INSTANCE_TYPE.to_owned(),
    }
}

/// Whether a `nodeSelector` rewrite is blocked by an `instance-type` entry with another value.
fn selector_conflict<'a>(spec: &'a PodSpec, id: &str) -> Option<&'a str> {
    spec.node_selector
        .as_ref()
        .and_then(|s| s.get(INSTANCE_TYPE))
        .map(String::as_str)
        .filter(|v| *v != id)
}

/// `legacy-node-type`: a pod selects nodes by `node.kubernetes.io/type` with a legacy value (one
/// that is not a known Instance ID). The message names the Instance ID to select with
/// `node.kubernetes.io/instance-type` when it is known.
pub fn check_legacy_node_type(input: &Input<'_>, out: &mut Out<'_>) {
    let policy = input.policy;
    let migrating = policy.enabled(RuleId::MigrateNodeType);
    let mut found = Vec::new();
    for_each_pod_selection(
        input,
        |k| k == LEGACY_TYPE,
        |pod, spec_path, sel| {
            if is_current_type_selection(policy, sel) {
                return;
            }
            let path = sel.path(spec_path);
            let what = sel.describe();
            let rewrite = migration(policy, sel);
            let conflict = match (&sel.place, rewrite.as_deref()) {
                (Place::NodeSelector, Some([id])) => selector_conflict(pod.spec, id),
                _ => None,
            };
            let (message, fix) = match (rewrite, conflict) {
            (_, Some(other)) => (
                format!(
                    "{what} selects nodes by the legacy key `{LEGACY_TYPE}`, and the nodeSelector also asks for `{INSTANCE_TYPE}: {other}`; no node has both, so the pod cannot schedule: keep only `{INSTANCE_TYPE}`"
                ),
                None,
            ),
            (Some(ids), None) => (
                    format!(
                        "{what} selects nodes by the legacy key `{LEGACY_TYPE}`, whose old values no CKS node carries; select `{}` instead{}",
                        target(sel, &ids),
                        if migrating { " (`migrate-node-type` rewrites it)" } else { "" }
                    ),
                    Some(target(sel, &ids)),
                ),
            (None, None) => {
                let hint = sel
                    .values
                    .iter()
                    .find_map(|v| likely_instance_id(v).map(|id| (*v, id)));
                (
                    format!(
                        "{what} selects nodes by the legacy key `{LEGACY_TYPE}` with a value that has no published Instance ID; select `{INSTANCE_TYPE}` with an Instance ID{}",
                        match hint {
                            Some((v, id)) => format!(" (for `{v}`, likely `{id}`)"),
                            None => String::new(),
                        }
                    ),
                    None,
                )
            }
        };
            found.push((path, message, fix));
        },
    );
    for (path, message, fix) in found {
        out.report(path, message, fix);
    }
}

/// Mutation `migrate-node-type`: rewrites `node.kubernetes.io/type` selections to
/// `node.kubernetes.io/instance-type` when every value has a known Instance ID.
pub fn migrate_node_type(input: &Input<'_>, out: &mut Out<'_>) {
    if !input.policy.enabled(RuleId::MigrateNodeType) {
        return;
    }
    let policy = input.policy;
    let mut ops = Vec::new();
    let mut notes = Vec::new();
    for_each_pod_selection(
        input,
        |k| k == LEGACY_TYPE,
        |pod, spec_path, sel| {
            let Some(ids) = migration(policy, sel) else {
                return;
            };
            if sel.place == Place::NodeSelector {
                match ids.as_slice() {
                    [id] if selector_conflict(pod.spec, id).is_none() => {}
                    _ => return,
                }
            }
            let path = sel.path(spec_path);
            let note = if is_current_type_selection(policy, sel) {
                format!(
                    "{} works (CKS nodes carry the Instance ID in `{LEGACY_TYPE}` too), but `{INSTANCE_TYPE}` is the documented key: rewritten to `{}`",
                    sel.describe(),
                    target(sel, &ids)
                )
            } else {
                format!("{} rewritten to `{}`", sel.describe(), target(sel, &ids))
            };
            notes.push((path.clone(), note));
            match sel.place {
                Place::NodeSelector => {
                    let has_current = pod
                        .spec
                        .node_selector
                        .as_ref()
                        .is_some_and(|s| s.contains_key(INSTANCE_TYPE));
                    if let (false, [id]) = (has_current, ids.as_slice()) {
                        ops.push(PatchOp::add(
                            pointer::join(spec_path, &["nodeSelector", INSTANCE_TYPE]),
                            Value::String(id.clone()),
                        ));
                    }
                    ops.push(PatchOp::remove(path));
                }
                Place::Required { .. } | Place::Preferred { .. } => {
                    ops.push(PatchOp::replace(
                        format!("{path}/key"),
                        json!(INSTANCE_TYPE),
                    ));
                    if sel.values.iter().zip(&ids).any(|(v, id)| v != id) {
                        ops.push(PatchOp::replace(format!("{path}/values"), json!(ids)));
                    }
                }
            }
        },
    );
    for (path, message) in notes {
        out.report(path, message, None);
    }
    for op in ops {
        out.patch(op);
    }
}

/// The message for an unknown Instance ID, with a near miss when there is one.
fn unknown_type_message(policy: &Policy, what: &str, value: &str) -> (String, Option<String>) {
    let near = nearest_instance_id(policy, value);
    (
        format!(
            "{what}: `{value}` is not a known CKS Instance ID{}; no node may carry it (if it is new, add it to `nodeTypes.instanceIds`)",
            match near {
                Some(n) => format!(" (did you mean `{n}`?)"),
                None => String::new(),
            }
        ),
        near.map(str::to_owned),
    )
}

/// `unknown-instance-type`: a pod selects `node.kubernetes.io/instance-type` or
/// `node.coreweave.cloud/type` with a value that is not a known Instance ID (built-in and
/// `nodeTypes.instanceIds`); also a NodePool whose `instanceType` is not one.
pub fn check_unknown_instance_type(input: &Input<'_>, out: &mut Out<'_>) {
    let policy = input.policy;
    let mut found = Vec::new();
    if let Some(pool) = input.object.node_pool.as_deref() {
        if input.object.is("compute.coreweave.com", "NodePool") {
            if let Some(t) = pool.instance_type.as_deref() {
                if !policy.node_types.instance_ids.contains(t) {
                    let (message, fix) = unknown_type_message(policy, "NodePool `instanceType`", t);
                    found.push((String::from("/spec/instanceType"), message, fix));
                }
            }
        }
    }
    for_each_pod_selection(
        input,
        |k| k == INSTANCE_TYPE || k == COREWEAVE_TYPE,
        |_, spec_path, sel| {
            if !sel.names_values() {
                return;
            }
            for (i, v) in sel.values.iter().enumerate() {
                if policy.node_types.instance_ids.contains(v) {
                    continue;
                }
                let mut path = sel.path(spec_path);
                if sel.operator.is_some() {
                    path.push_str("/values");
                    pointer::push_index(&mut path, i);
                }
                let (message, fix) = unknown_type_message(policy, &sel.describe(), v);
                found.push((path, message, fix));
            }
        },
    );
    for (path, message, fix) in found {
        out.report(path, message, fix);
    }
}

/// `legacy-node-selector`: a pod selects on a label of the pre-CKS CoreWeave Cloud
/// (`node.coreweave.cloud/cpu`, …) that no CKS node carries, asks `gpu.nvidia.com/class` or
/// `/model` for a GPU class CKS does not offer, or asks for a
/// `node.coreweave.cloud/class` value other than the `cpu` and `gpu` that CKS nodes carry (that
/// label itself is current: see [`NODE_CLASS`]).
pub fn check_legacy_node_selector(input: &Input<'_>, out: &mut Out<'_>) {
    let policy = input.policy;
    let mut found = Vec::new();
    for_each_pod_selection(
        input,
        |k| k == NODE_CLASS || GPU_CLASS_KEYS.contains(&k) || LEGACY_SELECTOR_KEYS.contains(&k),
        |_, spec_path, sel| {
            if GPU_CLASS_KEYS.contains(&sel.key) {
                for (path, v) in
                    sel.required_misses(spec_path, |v| policy.node_types.is_retired_gpu_class(v))
                {
                    found.push((
                        path,
                        format!(
                            "{} asks for `{}={v}`, a GPU class of the pre-CKS CoreWeave Cloud that CKS does not offer, so it matches no CKS node; select a class CKS nodes carry (such as `{}`) or an Instance ID with `{INSTANCE_TYPE}` (if CKS offers `{v}`, list it in `nodeTypes.gpuClasses`)",
                            sel.describe(),
                            sel.key,
                            GPU_CLASSES.join("`, `"),
                        ),
                        None,
                    ));
                }
                return;
            }
            if sel.key == NODE_CLASS {
                for (path, v) in sel.required_misses(spec_path, |v| !NODE_CLASS_VALUES.contains(&v))
                {
                    found.push((
                        path,
                        format!(
                            "{} asks for `{NODE_CLASS}={v}`, but CKS nodes carry only `cpu` or `gpu` for that label, so it matches no CKS node; select `cpu` or `gpu`",
                            sel.describe()
                        ),
                        None,
                    ));
                }
                return;
            }
            let effect = if sel.requires_label() {
                "so it matches no node and the pod cannot schedule there"
            } else {
                "so it has no effect"
            };
            let message = format!(
                "{} uses `{}`, a label of the pre-CKS CoreWeave Cloud that no CKS node carries, {effect}; select the instance type with `{INSTANCE_TYPE}`",
                sel.describe(),
                sel.key,
            );
            found.push((sel.path(spec_path), message, None));
        },
    );
    for (path, message, fix) in found {
        out.report(path, message, fix);
    }
}

#[cfg(test)]
/// Selected label values per key for tests and callers: every `nodeSelector` entry and affinity
/// requirement of `spec`, as `(pointer relative to the spec, key, operator, values)`.
pub fn node_selections(spec: &PodSpec) -> Vec<(String, String, String, Vec<String>)> {
    let mut out = Vec::new();
    for_each_selection(
        spec,
        |_| true,
        |sel| {
            out.push((
                sel.path(""),
                sel.key.to_owned(),
                sel.operator.unwrap_or("=").to_owned(),
                sel.values.iter().map(|v| (*v).to_owned()).collect(),
            ));
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> PodSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn selections_cover_every_place_with_escaped_pointers() {
        let s = spec(json!({
            "containers": [],
            "nodeSelector": {"node.kubernetes.io/type": "x"},
            "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "a", "operator": "Exists"}]},
                    {"matchExpressions": [{"key": "b", "operator": "In", "values": ["1", "2"]}]}
                ]},
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 1, "preference": {"matchExpressions": [{"key": "c", "operator": "NotIn", "values": ["3"]}]}}
                ]
            }}
        }));
        let got = node_selections(&s);
        let paths: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/nodeSelector/node.kubernetes.io~1type",
                "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/0",
                "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1/matchExpressions/0",
                "/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution/0/preference/matchExpressions/0",
            ]
        );
        assert_eq!(got[2].3, ["1", "2"]);
        assert_eq!(got[0].2, "=");
    }

    #[test]
    fn legacy_values_map_only_when_known() {
        let p = Policy::default();
        assert_eq!(
            known_instance_id(&p, "H100_NVLINK_80GB.8.xeon.128"),
            Some("gd-8xh100ib-i128")
        );
        assert_eq!(
            known_instance_id(&p, "gd-8xa100-i128"),
            Some("gd-8xa100-i128")
        );
        assert_eq!(known_instance_id(&p, "A100_NVLINK_80GB.8.xeon.128"), None);
        assert_eq!(
            likely_instance_id("A100_NVLINK_80GB.8.xeon.128"),
            Some("gd-8xa100-i128")
        );
        assert_eq!(likely_instance_id("RTX_A5000"), None);
    }

    #[test]
    fn gpu_classes_are_judged_by_value() {
        let d = Policy::default();
        for current in ["H100_NVLINK_80GB", "A100_NVLINK_80GB", "H200"] {
            assert!(!d.node_types.is_retired_gpu_class(current), "{current}");
        }
        assert!(d.node_types.is_retired_gpu_class("A40"));
        assert!(d.node_types.is_retired_gpu_class("Tesla_V100_NVLINK"));
        let s = Policy::from_slice(
            br#"{"nodeTypes":{"gpuClasses":["A40"],"retiredGpuClasses":["L4_24GB"]}}"#,
        )
        .unwrap();
        assert!(!s.node_types.is_retired_gpu_class("A40"));
        assert!(s.node_types.is_retired_gpu_class("L4_24GB"));
        assert!(s.node_types.is_retired_gpu_class("RTX_A4000"));
    }

    #[test]
    fn current_instance_ids_in_the_legacy_key_work() {
        let p = Policy::default();
        let mk = |operator, values: Vec<&'static str>| Selection {
            place: Place::NodeSelector,
            key: LEGACY_TYPE,
            operator,
            values,
        };
        assert!(is_current_type_selection(
            &p,
            &mk(None, vec!["gd-8xh200ib-i128"])
        ));
        assert!(is_current_type_selection(&p, &mk(Some("Exists"), vec![])));
        assert!(!is_current_type_selection(
            &p,
            &mk(
                Some("In"),
                vec!["gd-8xh100ib-i128", "H100_NVLINK_80GB.8.xeon.128"]
            )
        ));
        assert!(!is_current_type_selection(&p, &mk(Some("Gt"), vec!["1"])));
    }

    #[test]
    fn near_misses_are_suggested() {
        let p = Policy::default();
        assert_eq!(
            nearest_instance_id(&p, "gd-8xh100ib-i12"),
            Some("gd-8xh100ib-i128")
        );
        assert_eq!(nearest_instance_id(&p, "b200-8X"), Some("b200-8x"));
        assert_eq!(nearest_instance_id(&p, "something-else"), None);
    }

    #[test]
    fn requires_label_by_place_and_operator() {
        let mk = |place, operator| Selection {
            place,
            key: "k",
            operator,
            values: Vec::new(),
        };
        assert!(mk(Place::NodeSelector, None).requires_label());
        assert!(mk(Place::Required { term: 0, expr: 0 }, Some("In")).requires_label());
        assert!(mk(Place::Required { term: 0, expr: 0 }, Some("Gt")).requires_label());
        assert!(!mk(Place::Required { term: 0, expr: 0 }, Some("NotIn")).requires_label());
        assert!(!mk(Place::Required { term: 0, expr: 0 }, Some("DoesNotExist")).requires_label());
        assert!(!mk(Place::Preferred { term: 0, expr: 0 }, Some("In")).requires_label());
    }
}
