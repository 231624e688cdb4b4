//! Pod interruption label rules (CKS "Workload scheduling", "Pod interruption and eviction
//! policies": <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>).
//!
//! Pods opt in to eviction with `qos.coreweave.cloud/interruptable: "true"` (immediate) or
//! `qos.coreweave.com/graceful-interruptible: "true"` (graceful; an example of the CKS documentation spells it
//! `qos.coreweave.cloud/graceful-interruptible`, which is recognised too and gets a spelling
//! warning naming the reference spelling).
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - A label counts as set only with the value `"true"` (CKS ignores other values), so
//!   `interruptible-stateful` and `graceful-termination-period` look at `"true"` only.
//! - `interruption-label-value` checks pod labels (a Pod's, or a template's): labels on a
//!   workload's own metadata are not read by CKS and are `interruption-label-placement`'s concern.
//!   The value `"false"` is accepted silently: it is ignored by CKS, which is exactly what it asks.
//! - `interruptible-stateful` reports once per pod, naming the first reason found in this order:
//!   StatefulSet, distributed training job (a Job or CronJob that runs more than one pod at once:
//!   `min(parallelism, completions)` > 1, whatever its `completionMode`; or a kind of
//!   [`crate::model::templates::is_distributed_training`]),
//!   PersistentVolumeClaim or ephemeral volume, database image (regular containers only, not
//!   initContainers; the normalized repository against `interruption.databaseImages`).
//! - `interruption-label-placement` does not report a workload label whose value is `"false"`.
//! - `interruption-label-spelling` looks at pod labels and at the workload's own labels. A key
//!   is a near miss when its prefix is a CoreWeave domain (or within three edits of
//!   `qos.coreweave.cloud`/`qos.coreweave.com`) and its name, ignoring case, `-`, `_` and `.`, is
//!   within two edits of `interruptable` or three of `graceful-interruptible`. Keys that
//!   `unknown-coreweave-label` also reports get a distinct message here, naming the interruption
//!   key to use.
//! - `graceful-termination-period` reports `terminationGracePeriodSeconds: 0` at that field, and
//!   both labels at the `interruptable` label.

use k8s_openapi::api::core::v1::PodSpec;

use crate::judge::eval::{Input, Out};
use crate::judge::rules::images;
use crate::model::object::{Object, PodRef};
use crate::model::templates::is_distributed_training;
use crate::model::text::edits;
use crate::read::pointer;

/// Immediate eviction (the CKS documentation's spelling, `interruptable`).
pub const INTERRUPTABLE: &str = "qos.coreweave.cloud/interruptable";
/// Graceful eviction, as the CKS documentation's label reference spells it.
pub const GRACEFUL: &str = "qos.coreweave.com/graceful-interruptible";
/// Graceful eviction, as an example of the CKS documentation spells it (recognised, warned).
pub const GRACEFUL_CLOUD: &str = "qos.coreweave.cloud/graceful-interruptible";

/// Every interruption label CKS recognises.
pub const RECOGNISED: [&str; 3] = [INTERRUPTABLE, GRACEFUL, GRACEFUL_CLOUD];

fn label_path(pod: &PodRef<'_>, key: &str) -> String {
    pointer::join(&pod.metadata_path(), &["labels", key])
}

fn is_true(pod: &PodRef<'_>, key: &str) -> bool {
    pod.label(key) == Some("true")
}

fn is_graceful(pod: &PodRef<'_>) -> bool {
    is_true(pod, GRACEFUL) || is_true(pod, GRACEFUL_CLOUD)
}

/// How the object is named in messages: ``Job `train` `` (a Volcano Job says so).
fn workload_name(obj: &Object) -> String {
    let kind = if obj.group() == "batch.volcano.sh" {
        format!("Volcano {}", obj.kind)
    } else {
        obj.kind.clone()
    };
    match obj.name() {
        Some(n) => format!("{kind} `{n}`"),
        None => kind,
    }
}

/// Why the object is a distributed training job, if it is one.
///
/// *Distributed* means the workload runs several pods **at the same time** that depend on each
/// other, so evicting one breaks the others. For a batch Job (or a CronJob's job template) that
/// is: more than one pod may run at once, i.e. `min(parallelism, completions)` > 1, where
/// `parallelism` defaults to 1 and an unset `completions` does not cap it (the Job controller
/// never runs more than `completions − succeeded` pods, `pkg/controller/job/job_controller.go`
/// `manageJob`). `completionMode: Indexed` alone is not distributed: an Indexed Job of one pod
/// (`completions: 1, parallelism: 1`), or any Job with `parallelism: 1`, runs its pods one after
/// another, and each can be retried alone. Other kinds are distributed when
/// [`is_distributed_training`] says so (JobSet, Kubeflow jobs, MPIJob, Ray, LeaderWorkerSet,
/// Volcano Job).
fn distributed_training(obj: &Object) -> Option<String> {
    let job_spec = if obj.is("batch", "Job") {
        Some("/spec")
    } else if obj.is("batch", "CronJob") {
        Some("/spec/jobTemplate/spec")
    } else {
        None
    };
    if let Some(base) = job_spec {
        let int = |field: &str| {
            obj.captured(&format!("{base}/{field}"))
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        };
        let parallelism = int("parallelism").unwrap_or(1);
        let completions = int("completions");
        let together = completions.map_or(parallelism, |c| parallelism.min(c));
        if together <= 1 {
            return None;
        }
        let indexed = obj
            .captured(&format!("{base}/completionMode"))
            .and_then(|v| v.as_str())
            == Some("Indexed");
        return Some(format!(
            "{} runs distributed ({together} pods at once: `parallelism: {parallelism}`{}{})",
            workload_name(obj),
            match completions {
                Some(c) => format!(", `completions: {c}`"),
                None => String::new(),
            },
            if indexed {
                ", `completionMode: Indexed`"
            } else {
                ""
            }
        ));
    }
    is_distributed_training(obj.group(), &obj.kind)
        .then(|| format!("{} is a distributed training job", workload_name(obj)))
}

fn claim_volume(spec: &PodSpec) -> Option<String> {
    spec.volumes.iter().flatten().find_map(|v| {
        if let Some(pvc) = &v.persistent_volume_claim {
            Some(format!(
                "the pod keeps data on PersistentVolumeClaim `{}` (volume `{}`)",
                pvc.claim_name, v.name
            ))
        } else if v.ephemeral.is_some() {
            Some(format!(
                "the pod keeps data on ephemeral volume claim `{}`",
                v.name
            ))
        } else {
            None
        }
    })
}

/// For each pod (by index in [`Object::pods`]), its first container (of `containers`) that runs
/// a single-instance database (settings `interruption.databaseImages`), from the image
/// references parsed once per evaluation.
fn database_images(input: &Input<'_>) -> Vec<Option<String>> {
    let mut found = vec![None; input.object.pods.len()];
    for (c, r) in images::container_refs(input) {
        if c.what != "container" {
            continue;
        }
        let Some(slot) = found.get_mut(c.pod).filter(|s| s.is_none()) else {
            continue;
        };
        let repo = r.normalized_repository();
        if input.policy.interruption.database_images.is_match(&repo) {
            *slot = Some(format!(
                "container `{}` runs the single-instance database `{repo}`",
                c.name
            ));
        }
    }
    found
}

/// `interruptible-stateful`: `qos.coreweave.cloud/interruptable: "true"` on a pod of a workload
/// that cannot tolerate eviction.
pub fn check_stateful(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let workload = if obj.is("apps", "StatefulSet") {
        Some(format!("{} is stateful", workload_name(obj)))
    } else {
        distributed_training(obj)
    };
    let mut databases = None;
    for (i, pod) in obj.pod_refs().enumerate() {
        if !is_true(&pod, INTERRUPTABLE) {
            continue;
        }
        let reason = workload
            .clone()
            .or_else(|| claim_volume(pod.spec))
            .or_else(|| {
                databases
                    .get_or_insert_with(|| database_images(input))
                    .get_mut(i)?
                    .take()
            });
        let Some(reason) = reason else { continue };
        out.report(
            label_path(&pod, INTERRUPTABLE),
            format!(
                "`{INTERRUPTABLE}: \"true\"` lets CKS evict this pod at once, but {reason}; remove the label"
            ),
            Some(format!(
                "remove `{INTERRUPTABLE}`; use `{GRACEFUL}` only if the workload can save its state within its grace period"
            )),
        );
    }
}

/// `interruption-label-value`: an interruption label on a pod whose value is not exactly
/// `"true"` (and not `"false"`, see the module documentation).
pub fn check_value(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    for pod in obj.pod_refs() {
        for key in RECOGNISED {
            let Some(value) = pod.label(key) else {
                continue;
            };
            if value == "true" || value == "false" {
                continue;
            }
            let found = if value.is_empty() {
                String::from("an empty value")
            } else {
                format!("value `{value}`")
            };
            out.report(
                label_path(&pod, key),
                format!(
                    "label `{key}` has {found}, which CKS ignores; set it to exactly `\"true\"` to opt in, or remove it"
                ),
                None,
            );
        }
    }
}

/// `interruption-label-placement`: an interruption label on a workload's own metadata that is
/// missing from one of its pod templates (CKS reads Pod labels).
pub fn check_placement(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let templates: Vec<PodRef<'_>> = obj.pod_refs().filter(|p| p.is_template).collect();
    if templates.is_empty() {
        return;
    }
    let Some(labels) = obj.labels() else { return };
    for key in RECOGNISED {
        let Some(value) = labels.get(key) else {
            continue;
        };
        if value == "false" {
            continue;
        }
        let missing: Vec<String> = templates
            .iter()
            .filter(|t| t.label(key).is_none())
            .map(|t| format!("`{}`", t.base))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let noun = if missing.len() > 1 {
            "its pod templates"
        } else {
            "its pod template"
        };
        let list = missing.join(", ");
        out.report(
            pointer::join("/metadata/labels", &[key]),
            format!(
                "label `{key}` is on the {}'s own metadata, not on {noun} {list}; CKS reads Pod labels, so add it there",
                obj.kind
            ),
            None,
        );
    }
}

/// Whether `a` is within `max` edits of `b`; the length difference bounds the distance from
/// below, so most keys are rejected without computing it.
fn within(a: &str, b: &str, max: usize) -> bool {
    a.len().abs_diff(b.len()) <= max && edits(a, b) <= max
}

/// The interruption key a near-miss `key` was meant to be, if any.
pub fn near_miss(key: &str) -> Option<&'static str> {
    if RECOGNISED.contains(&key) {
        return None;
    }
    // Runs on every pod label: reject keys that cannot be near misses before allocating.
    let (raw_prefix, raw_name) = key.split_once('/')?;
    if raw_name.len() < 9 || raw_name.len() > 30 || raw_prefix.is_empty() {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    let (prefix, name) = lower.split_once('/')?;
    // A prefix within 3 edits of the QoS domain keeps at least one of these pieces intact.
    let looks_qos = ["qos", "core", "weave", "cloud"]
        .iter()
        .any(|piece| prefix.contains(piece));
    let coreweave = prefix.contains("coreweave")
        || (looks_qos
            && (within(prefix, "qos.coreweave.cloud", 3)
                || within(prefix, "qos.coreweave.com", 3)));
    if !coreweave {
        return None;
    }
    let squashed: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect();
    if within(&squashed, "interruptable", 2) {
        Some(INTERRUPTABLE)
    } else if within(&squashed, "gracefulinterruptible", 3) {
        Some(GRACEFUL)
    } else {
        None
    }
}

/// `interruption-label-spelling`: a near-miss interruption key, or the graceful key in the
/// `.cloud` spelling of the CKS documentation's example.
pub fn check_spelling(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let mut places: Vec<(String, Vec<&str>)> = Vec::new();
    let has_templates = obj.pod_refs().any(|p| p.is_template);
    if has_templates {
        if let Some(labels) = obj.labels() {
            places.push((
                String::from("/metadata"),
                labels.keys().map(String::as_str).collect(),
            ));
        }
    }
    for pod in obj.pod_refs() {
        let metadata = pod.metadata;
        places.push((
            pod.metadata_path(),
            metadata
                .labels
                .iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect(),
        ));
    }
    for (meta, keys) in places {
        for key in keys {
            // Most labels are nothing like an interruption key: build no path for them.
            let meant = if key == GRACEFUL_CLOUD {
                None
            } else {
                match near_miss(key) {
                    Some(m) => Some(m),
                    None => continue,
                }
            };
            let path = pointer::join(&meta, &["labels", key]);
            if meant.is_none() {
                out.report(
                    path,
                    format!(
                        "label `{key}` follows the CKS example's spelling; the CKS label reference spells it `{GRACEFUL}`, use that"
                    ),
                    Some(format!("rename the label to `{GRACEFUL}`")),
                );
            } else if let Some(meant) = meant {
                out.report(
                    path,
                    format!(
                        "label `{key}` is not an interruption label CKS reads, so the pod is not opted in; did you mean `{meant}`"
                    ),
                    Some(format!("rename the label to `{meant}`")),
                );
            }
        }
    }
}

/// `graceful-termination-period`: a graceful-interruptible pod with
/// `terminationGracePeriodSeconds: 0`, or a pod with both interruption labels.
pub fn check_grace_period(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    for pod in obj.pod_refs() {
        if !is_graceful(&pod) {
            continue;
        }
        if pod.spec.termination_grace_period_seconds == Some(0) {
            out.report(
                pointer::join(&pod.spec_path(), &["terminationGracePeriodSeconds"]),
                "pod is graceful-interruptible but sets `terminationGracePeriodSeconds: 0`, so it gets no time to exit cleanly; give it the seconds it needs to save its state",
                None,
            );
        }
        if is_true(&pod, INTERRUPTABLE) {
            out.report(
                label_path(&pod, INTERRUPTABLE),
                format!(
                    "pod carries both `{INTERRUPTABLE}` and a graceful-interruptible label, so it may be evicted at once without its grace period; keep only one"
                ),
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses() {
        let cases = [
            ("qos.coreweave.cloud/interruptible", Some(INTERRUPTABLE)),
            ("qos.coreweave.com/interruptable", Some(INTERRUPTABLE)),
            ("qos.coreweave.com/interruptible", Some(INTERRUPTABLE)),
            ("qos.coreweave.cloud/interuptable", Some(INTERRUPTABLE)),
            ("qos.corewave.cloud/interruptable", Some(INTERRUPTABLE)),
            ("coreweave.cloud/Interruptable", Some(INTERRUPTABLE)),
            ("qos.coreweave.cloud/graceful-interruptable", Some(GRACEFUL)),
            ("qos.coreweave.com/graceful_interruptible", Some(GRACEFUL)),
            ("qos.coreweave.com/gracefully-interruptible", Some(GRACEFUL)),
            (INTERRUPTABLE, None),
            (GRACEFUL, None),
            (GRACEFUL_CLOUD, None),
            ("example.com/interruptible", None),
            ("interruptible", None),
            ("qos.coreweave.cloud/priority", None),
            ("metadata.coreweave.cloud/job", None),
        ];
        for (key, want) in cases {
            assert_eq!(near_miss(key), want, "{key}");
        }
        assert_eq!(edits("kitten", "sitting"), 3);
        assert_eq!(edits("", "abc"), 3);
    }
}
