//! Label rules: reserved CoreWeave domains on Nodes and NodePools, unknown CoreWeave pod labels,
//! and Kubernetes label syntax.
//!
//! A CoreWeave-domain key is one whose prefix is `coreweave.cloud`, `coreweave.com`, or a
//! subdomain of either, by whole DNS labels and ignoring case ([`crate::model::label_syntax`]).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Taint;

use crate::judge::eval::{Input, Out};
use crate::model::label_diff::{coreweave_label_changes, Change};
use crate::model::label_syntax::{self, is_coreweave_key, show};
use crate::model::object::Operation;
use crate::model::text::distance_within;
use crate::read::pointer;
use crate::settings::policy::Policy;

/// CoreWeave-domain pod labels CKS documents for workloads (CKS "Workload scheduling":
/// <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>).
pub const KNOWN_WORKLOAD_LABELS: [&str; 4] = [
    "qos.coreweave.cloud/interruptable",
    "qos.coreweave.com/graceful-interruptible",
    "qos.coreweave.cloud/graceful-interruptible",
    "metadata.coreweave.cloud/job",
];

fn taint_value(t: &Taint) -> &str {
    t.value.as_deref().unwrap_or("")
}

/// Taint changes for CoreWeave-domain keys; a taint is identified by key and effect (as the API
/// server does). Paths are `base/<index>` in the new list, or in the old list for removals.
fn taint_changes(
    new: Option<&Vec<Taint>>,
    old: Option<&Vec<Taint>>,
    base: &str,
    what: &str,
    out: &mut Vec<(String, String)>,
) {
    let same = |a: &Taint, b: &Taint| a.key == b.key && a.effect == b.effect;
    for (i, t) in new.into_iter().flatten().enumerate() {
        if !is_coreweave_key(&t.key) {
            continue;
        }
        let change = match old.and_then(|o| o.iter().find(|x| same(x, t))) {
            None => Change::Added {
                key: &t.key,
                value: taint_value(t),
            },
            Some(o) if taint_value(o) != taint_value(t) => Change::Changed {
                key: &t.key,
                old: taint_value(o),
                new: taint_value(t),
            },
            Some(_) => continue,
        };
        let mut path = base.to_owned();
        pointer::push_index(&mut path, i);
        out.push((path, taint_message(what, t, &change)));
    }
    for (i, t) in old.into_iter().flatten().enumerate() {
        if is_coreweave_key(&t.key) && !new.is_some_and(|n| n.iter().any(|x| same(x, t))) {
            let change = Change::Removed {
                key: &t.key,
                old: taint_value(t),
            };
            let mut path = base.to_owned();
            pointer::push_index(&mut path, i);
            out.push((path, taint_message(what, t, &change)));
        }
    }
}

fn taint_message(what: &str, t: &Taint, change: &Change<'_>) -> String {
    format!(
        "{what} `{}` (effect `{}`) {}",
        show(change.key()),
        t.effect,
        change.describe()
    )
}

fn label_changes(
    new: Option<&BTreeMap<String, String>>,
    old: Option<&BTreeMap<String, String>>,
    base: &str,
    what: &str,
    out: &mut Vec<(String, String)>,
) {
    for c in coreweave_label_changes(new, old) {
        out.push((
            pointer::join(base, &[c.key()]),
            format!("{what} `{}` {}", show(c.key()), c.describe()),
        ));
    }
}

/// `reserved-node-label`: on a Node (labels and `spec.taints`), or in a CoreWeave NodePool's
/// `spec.nodeLabels` and `spec.nodeTaints`, a CoreWeave-domain key is added, changed or removed.
/// On UPDATE only keys that differ from `oldObject` count, so a user may relabel a Node whose CKS
/// labels stay as they were; a removed key is reported at its path in `oldObject`. On CREATE
/// every CoreWeave-domain key counts as added.
///
/// Decisions of this project where neither Kubernetes nor the CKS documentation settles the case: a Node's own `spec.taints` are guarded like a NodePool's
/// `nodeTaints` (CKS sets `node.coreweave.cloud/reserved` and SUNK sets
/// `sunk.coreweave.com/lock`; their service accounts belong in `exemptions`); taints are matched
/// by key and effect, and a missing value equals an empty one; an UPDATE without `oldObject` is
/// judged like a CREATE.
pub fn check_reserved_node_label(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let old = match input.operation() {
        Operation::Update => input.old_object(),
        _ => None,
    };
    let mut found = Vec::new();
    if obj.is("", "Node") {
        label_changes(
            obj.labels(),
            old.and_then(|o| o.labels()),
            "/metadata/labels",
            "node label",
            &mut found,
        );
        taint_changes(
            obj.node.as_ref().and_then(|n| n.taints.as_ref()),
            old.and_then(|o| o.node.as_ref())
                .and_then(|n| n.taints.as_ref()),
            "/spec/taints",
            "node taint",
            &mut found,
        );
    } else if obj.is("compute.coreweave.com", "NodePool") {
        let pool = obj.node_pool.as_deref();
        let old_pool = old.and_then(|o| o.node_pool.as_deref());
        label_changes(
            pool.and_then(|p| p.node_labels.as_ref()),
            old_pool.and_then(|p| p.node_labels.as_ref()),
            "/spec/nodeLabels",
            "NodePool node label",
            &mut found,
        );
        taint_changes(
            pool.and_then(|p| p.node_taints.as_ref()),
            old_pool.and_then(|p| p.node_taints.as_ref()),
            "/spec/nodeTaints",
            "NodePool node taint",
            &mut found,
        );
    }
    for (path, msg) in found {
        out.report(path, msg, None);
    }
}

/// Every known CoreWeave-domain pod label: built-in, then `labels.knownWorkload` in order.
fn known_labels(policy: &Policy) -> impl Iterator<Item = &str> {
    KNOWN_WORKLOAD_LABELS.iter().copied().chain(
        policy
            .settings()
            .labels
            .known_workload
            .iter()
            .map(String::as_str),
    )
}

/// The nearest known key within a few edits (up to 3, fewer for short keys), first on ties.
pub(crate) fn nearest_known<'p>(policy: &'p Policy, key: &str) -> Option<&'p str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known_labels(policy) {
        let limit = (k.chars().count() / 5).clamp(1, 3);
        let Some(d) = distance_within(key, k, limit) else {
            continue;
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

/// `unknown-coreweave-label`: a Pod or pod template label in a CoreWeave domain that is not a
/// known workload label (the interruption labels, `metadata.coreweave.cloud/job`, and
/// `labels.knownWorkload`). The nearest known key within a few edits (case-insensitive) is
/// suggested. Workload metadata, Nodes and Namespaces are not pods and are not judged here.
/// Interruption near misses are reported here too (README, rule `unknown-coreweave-label`); the interruption rules
/// may add their own finding.
pub fn check_unknown_coreweave_label(input: &Input<'_>, out: &mut Out<'_>) {
    let policy = input.policy;
    let mut found = Vec::new();
    for pod in input.object.pod_refs() {
        for (k, _) in pod.labels() {
            if !is_coreweave_key(k)
                || KNOWN_WORKLOAD_LABELS.contains(&k)
                || policy.labels.known_workload.contains(k)
            {
                continue;
            }
            let path = pointer::join(&pod.metadata_path(), &["labels", k]);
            let (msg, fix) = match nearest_known(policy, k) {
                Some(s) => (
                    format!(
                        "pod label `{}` is not a CoreWeave label CKS knows, so it has no effect; rename it to `{s}` if that is what you meant",
                        show(k)
                    ),
                    Some(format!("rename the label to `{s}`")),
                ),
                None => (
                    format!(
                        "pod label `{}` is in a CoreWeave domain but is not a workload label CKS documents; remove it, or list it in `labels.knownWorkload` if your cluster uses it",
                        show(k)
                    ),
                    None,
                ),
            };
            found.push((path, msg, fix));
        }
    }
    for (path, msg, fix) in found {
        out.report(path, msg, fix);
    }
}

fn syntax_findings(
    labels: Option<&BTreeMap<String, String>>,
    base: &str,
    what: &str,
    out: &mut Vec<(String, String)>,
) {
    for (k, v) in labels.into_iter().flatten() {
        let kp = label_syntax::key_problems(k);
        let vp = label_syntax::value_problems(v);
        if kp.is_empty() && vp.is_empty() {
            continue;
        }
        let path = pointer::join(base, &[k]);
        if !kp.is_empty() {
            out.push((
                path.clone(),
                format!("{what} key `{}` is invalid: {}", show(k), kp.join("; ")),
            ));
        }
        if !vp.is_empty() {
            out.push((
                path,
                format!(
                    "{what} `{}` has an invalid value: {}",
                    show(k),
                    vp.join("; ")
                ),
            ));
        }
    }
}

/// `label-syntax`: a label key or value Kubernetes would reject, on the object's metadata, on
/// every pod template's metadata, and in a CoreWeave NodePool's `spec.nodeLabels`. One finding
/// per bad key and one per bad value, at the label's path, listing every rule it breaks.
/// Annotations, selectors and taint keys are out of scope.
pub fn check_label_syntax(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let mut found = Vec::new();
    syntax_findings(obj.labels(), "/metadata/labels", "label", &mut found);
    for pod in obj.pod_refs().filter(|p| p.is_template) {
        let base = pointer::join(&pod.metadata_path(), &["labels"]);
        syntax_findings(
            pod.metadata.labels.as_ref(),
            &base,
            "pod template label",
            &mut found,
        );
    }
    if obj.is("compute.coreweave.com", "NodePool") {
        syntax_findings(
            obj.node_pool.as_ref().and_then(|p| p.node_labels.as_ref()),
            "/spec/nodeLabels",
            "NodePool node label",
            &mut found,
        );
    }
    for (path, msg) in found {
        out.report(path, msg, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn changes_only_count_coreweave_keys_that_differ() {
        let old = map(&[
            ("node.coreweave.cloud/state", "production"),
            ("node.coreweave.cloud/reserved", "org"),
            ("ib.coreweave.cloud/x", "1"),
            ("team", "a"),
        ]);
        let new = map(&[
            ("node.coreweave.cloud/state", "production"),
            ("node.coreweave.cloud/reserved", "control-plane"),
            ("foo.coreweave.com/bar", "x"),
            ("team", "b"),
        ]);
        let got = coreweave_label_changes(Some(&new), Some(&old));
        assert_eq!(
            got,
            vec![
                Change::Added {
                    key: "foo.coreweave.com/bar",
                    value: "x"
                },
                Change::Changed {
                    key: "node.coreweave.cloud/reserved",
                    old: "org",
                    new: "control-plane"
                },
                Change::Removed {
                    key: "ib.coreweave.cloud/x",
                    old: "1"
                },
            ]
        );
        assert!(coreweave_label_changes(Some(&old), Some(&old)).is_empty());
        assert_eq!(coreweave_label_changes(Some(&old), None).len(), 3);
        assert_eq!(coreweave_label_changes(None, Some(&old)).len(), 3);
    }

    #[test]
    fn edit_distance() {
        use crate::model::text::distance;
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ABC", "abc"), 0);
    }

    #[test]
    fn suggestions() {
        let p =
            Policy::from_slice(br#"{"labels": {"knownWorkload": ["team.coreweave.com/owner"]}}"#)
                .unwrap();
        let cases = [
            (
                "qos.coreweave.cloud/interruptible",
                Some("qos.coreweave.cloud/interruptable"),
            ),
            (
                "qos.coreweave.com/interruptable",
                Some("qos.coreweave.cloud/interruptable"),
            ),
            (
                "qos.coreweave.com/graceful-interruptable",
                Some("qos.coreweave.com/graceful-interruptible"),
            ),
            (
                "qos.coreweave.cloud/graceful-interruptable",
                Some("qos.coreweave.cloud/graceful-interruptible"),
            ),
            (
                "metadata.coreweave.cloud/jobs",
                Some("metadata.coreweave.cloud/job"),
            ),
            (
                "team.coreweave.com/owners",
                Some("team.coreweave.com/owner"),
            ),
            (
                "QOS.coreweave.cloud/interruptable",
                Some("qos.coreweave.cloud/interruptable"),
            ),
            ("foo.coreweave.cloud/bar", None),
            ("node.coreweave.cloud/type", None),
        ];
        for (key, want) in cases {
            assert_eq!(nearest_known(&p, key), want, "{key}");
        }
    }
}
