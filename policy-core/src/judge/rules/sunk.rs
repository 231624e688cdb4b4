//! SUNK rules: DaemonSet tolerations on Slurm nodes (the SUNK documentation on
//! docs.coreweave.com, "DaemonSets on SUNK Nodes") and the SUNK pod scheduler's requirements
//! (its page "Schedule Kubernetes pods with the SUNK Pod Scheduler").
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - `sunk-daemonset-tolerations` checks each required toleration with Kubernetes matching
//!   against the taint it exists for: `sunk.coreweave.com/lock=true:NoExecute`,
//!   `is_cpu_compute:NoSchedule`, `is_gpu=true:PreferNoSchedule`. The effect of the
//!   `node.coreweave.cloud/reserved` taint is not published (third-party manifests use
//!   `NoExecute`), so that toleration must match with both `NoSchedule` and `NoExecute`; the one
//!   added has no effect, as in that page's example.
//! - Without `orgIdHash`, a DaemonSet that has any toleration for the `reserved` key (whatever its
//!   value) is taken to be right; one that has none gets a separate finding asking to set
//!   `orgIdHash`, and nothing is patched for it.
//! - The mutation runs on CREATE and UPDATE, for requesters exempt from validation too (findings
//!   are not reported for them, as for every validation).
//! - `sunk-pod-scheduler` checks `containers` (not initContainers: a pod's effective request is
//!   the larger of its init and regular containers, so the regular ones decide). A request that is
//!   absent falls back to the limit, as Kubernetes defaults it. Guaranteed QoS follows Kubernetes:
//!   every container and initContainer limits CPU and memory, and requests (defaulted from limits)
//!   equal limits.

use k8s_openapi::api::core::v1::{Container, PodSpec, Toleration};
use serde_json::{json, Value};

use crate::judge::accelerator_use::parse_quantity;
use crate::judge::eval::{Input, Out};
use crate::model::cks::{CPU_COMPUTE, IS_GPU, RESERVED};
use crate::read::pointer;
use crate::scheduling::taints::{any_tolerates, taint};

/// SUNK's lock taint key.
pub const SUNK_LOCK: &str = "sunk.coreweave.com/lock";

/// A toleration as YAML flow text, fields in the usual order: `{key: is_gpu, operator: Exists}`.
fn flow(t: &Value) -> String {
    let fields: Vec<String> = ["key", "operator", "value", "effect"]
        .iter()
        .filter_map(|f| {
            let v = t.get(*f)?.as_str()?;
            Some(if *f == "value" {
                format!("{f}: \"{v}\"")
            } else {
                format!("{f}: {v}")
            })
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// Whether some toleration tolerates the reserved taint with `value`, whichever its effect.
fn tolerates_reserved(tolerations: &[Toleration], value: &str) -> bool {
    ["NoSchedule", "NoExecute"]
        .iter()
        .all(|e| any_tolerates(tolerations, &taint(RESERVED, Some(value), e)))
}

/// `sunk-daemonset-tolerations` (with its mutation): a DaemonSet must tolerate
/// `sunk.coreweave.com/lock=true` (Equal, NoExecute), `is_cpu_compute` (Exists), `is_gpu`
/// (Exists) and `node.coreweave.cloud/reserved=<orgIdHash>` (Equal). Missing ones are reported
/// and added; the reserved one only when `orgIdHash` is set.
pub fn check_daemonset_tolerations(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if !obj.is("apps", "DaemonSet") {
        return;
    }
    let hash = input.policy.settings().org_id_hash.clone();
    for pod in obj.pod_refs() {
        if pod.spec.containers.is_empty() {
            continue;
        }
        let tolerations = pod.spec.tolerations.as_deref().unwrap_or_default();
        let mut missing: Vec<(String, Value)> = Vec::new();
        if !any_tolerates(tolerations, &taint(SUNK_LOCK, Some("true"), "NoExecute")) {
            missing.push((
                SUNK_LOCK.to_owned(),
                json!({"key": SUNK_LOCK, "operator": "Equal", "value": "true", "effect": "NoExecute"}),
            ));
        }
        if !any_tolerates(tolerations, &taint(CPU_COMPUTE, None, "NoSchedule")) {
            missing.push((
                CPU_COMPUTE.to_owned(),
                json!({"key": CPU_COMPUTE, "operator": "Exists"}),
            ));
        }
        if !any_tolerates(
            tolerations,
            &taint(IS_GPU, Some("true"), "PreferNoSchedule"),
        ) {
            missing.push((
                IS_GPU.to_owned(),
                json!({"key": IS_GPU, "operator": "Exists"}),
            ));
        }
        let mut reserved_unknown = false;
        match hash.as_deref() {
            Some(h) if !tolerates_reserved(tolerations, h) => missing.push((
                RESERVED.to_owned(),
                json!({"key": RESERVED, "operator": "Equal", "value": h}),
            )),
            Some(_) => {}
            None => {
                reserved_unknown = !tolerations.iter().any(|t| {
                    tolerates_reserved(std::slice::from_ref(t), t.value.as_deref().unwrap_or(""))
                });
            }
        }
        let spec_path = pod.spec_path();
        let has_list = pod.spec.tolerations.is_some();
        let at = if has_list {
            pointer::join(&spec_path, &["tolerations"])
        } else {
            spec_path.clone()
        };
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|(n, _)| format!("`{n}`")).collect();
            let full: Vec<String> = missing.iter().map(|(_, v)| flow(v)).collect();
            out.report(
                at.clone(),
                format!(
                    "DaemonSet lacks tolerations SUNK requires on its nodes: {}; add them",
                    names.join(", "),
                ),
                Some(format!("add to `tolerations`: {}", full.join(", "))),
            );
            out.add_tolerations(
                &spec_path,
                has_list,
                missing.into_iter().map(|(_, v)| v).collect(),
            );
        }
        if reserved_unknown {
            out.report(
                at,
                format!(
                    "DaemonSet lacks the `{RESERVED}=<org hash>` toleration SUNK requires; your org's hash is the value of the `{RESERVED}` taint on your org's nodes (`kubectl describe node` lists it under Taints): set it as `orgIdHash` in settings so the toleration is added, or add it yourself"
                ),
                None,
            );
        }
    }
}

/// Effective request of `resource` (the request, else the limit Kubernetes copies into it).
fn request<'c>(c: &'c Container, resource: &str) -> Option<&'c str> {
    let r = c.resources.as_ref()?;
    r.requests
        .as_ref()
        .and_then(|m| m.get(resource))
        .or_else(|| r.limits.as_ref().and_then(|m| m.get(resource)))
        .map(|q| q.0.as_str())
}

fn limit<'c>(c: &'c Container, resource: &str) -> Option<&'c str> {
    c.resources
        .as_ref()?
        .limits
        .as_ref()?
        .get(resource)
        .map(|q| q.0.as_str())
}

/// Kubernetes Guaranteed QoS: every container limits CPU and memory and requests equal limits.
fn is_guaranteed(spec: &PodSpec) -> bool {
    let all: Vec<&Container> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .collect();
    !spec.containers.is_empty()
        && all.iter().all(|c| {
            ["cpu", "memory"].iter().all(|r| match limit(c, r) {
                Some(l) => {
                    let req = request(c, r).unwrap_or(l);
                    parse_quantity(l).is_some_and(|l| l > 0)
                        && parse_quantity(req) == parse_quantity(l)
                }
                None => false,
            })
        })
}

/// `sunk-pod-scheduler`: a pod whose `schedulerName` matches `sunk.schedulerNames` must request
/// CPU and memory in every container, keep `terminationGracePeriodSeconds` (30 when absent)
/// below `sunk.killWaitSeconds` − 5, and not be Guaranteed QoS.
pub fn check_pod_scheduler(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let policy = input.policy;
    let kill_wait = i64::from(policy.settings().sunk.kill_wait_seconds);
    let bound = kill_wait - 5;
    for pod in obj.pod_refs() {
        let Some(scheduler) = pod.spec.scheduler_name.as_deref() else {
            continue;
        };
        if !policy.sunk.schedulers.is_match(scheduler) {
            continue;
        }
        let spec_path = pod.spec_path();
        for (i, c) in pod.spec.containers.iter().enumerate() {
            let mut cpath = pointer::join(&spec_path, &["containers"]);
            pointer::push_index(&mut cpath, i);
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| {
                    request(c, r)
                        .and_then(parse_quantity)
                        .is_none_or(|q| q <= 0)
                })
                .collect();
            if missing.is_empty() {
                continue;
            }
            let what = missing
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            let path = if c
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .is_some()
            {
                pointer::join(&cpath, &["resources", "requests"])
            } else {
                cpath
            };
            out.report(
                path,
                format!(
                    "container `{}` does not request {what}, so SUNK scheduler `{scheduler}` never schedules it; set `resources.requests` for {what}",
                    c.name
                ),
                None,
            );
        }
        let grace = pod.spec.termination_grace_period_seconds;
        let effective = grace.unwrap_or(30);
        if effective >= bound {
            let (path, found) = match grace {
                Some(g) => (
                    pointer::join(&spec_path, &["terminationGracePeriodSeconds"]),
                    format!("`terminationGracePeriodSeconds: {g}`"),
                ),
                None => (
                    spec_path.clone(),
                    String::from("no `terminationGracePeriodSeconds` (default 30)"),
                ),
            };
            out.report(
                path,
                format!(
                    "pod for SUNK scheduler `{scheduler}` has {found}, but SUNK needs less than its kill wait ({kill_wait} s) minus 5; set it to {} or less",
                    bound - 1
                ),
                None,
            );
        }
        if is_guaranteed(pod.spec) {
            out.report(
                spec_path,
                format!(
                    "pod for SUNK scheduler `{scheduler}` is Guaranteed QoS (CPU and memory requests equal limits), which SUNK does not schedule; set CPU requests below limits or drop the CPU limit"
                ),
                None,
            );
        }
    }
}
