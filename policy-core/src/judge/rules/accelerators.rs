//! Accelerator rules (README, "Rules"): access outside the device plugin or DRA, gang scheduling, and
//! the NVIDIA GPU Operator that CKS manages itself.
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - `NVIDIA_VISIBLE_DEVICES` is accepted when it is `void`, `none` or empty, compared exactly
//!   (after trimming spaces), as the NVIDIA container toolkit compares them: `NONE` is a device
//!   list the toolkit does not understand, so it is reported. A value from `valueFrom` cannot be
//!   checked and is reported. Every container kind is checked, GPU pods included: the device
//!   plugin sets the variable itself.
//! - A hostPath volume is reported when its path (slashes collapsed, trailing `/` dropped) is
//!   `/dev`, `/dev/dri` or below it, or starts with `/dev/nvidia` (`/dev/nvidia0`,
//!   `/dev/nvidiactl`, `/dev/nvidia-uvm`, `/dev/nvidia-caps/…`), and some container
//!   (any kind) mounts it. `/dev` itself is included because it holds those devices.
//! - `privileged: true` is judged by what the container can reach: a privileged
//!   container sees every device of the node, so in a pod that requests an accelerator
//!   ([`crate::judge::accelerator_use`]) it reaches all the node's GPUs, not the ones allocated to it, and
//!   `accelerator-access-bypass` reports it (error). In a pod that requests none (FUSE, CNI and
//!   storage DaemonSets, CoreWeave's own s3fs reference manifest) it is
//!   `privileged-without-accelerator` (warning): it may reach GPUs, but most such containers
//!   need host access for other reasons. Reported per container, any kind. When the pod requests
//!   another extended resource (`google.com/tpu`, `amd.com/gpu`, …) that is not an accelerator
//!   here, the message names it instead of saying the pod requests none.
//! - `gang-scheduling-queue` covers batch Jobs, JobSets, Kubeflow jobs, RayJobs, RayClusters and
//!   LeaderWorkerSets whose pods request an accelerator, with the label on the object's own
//!   metadata (where Kueue reads it). It skips objects with an owner reference (their owner
//!   carries the queue), Volcano Jobs (Volcano gang-schedules them itself), CronJobs (the label
//!   belongs on the job template, which Kueue reads per Job) and Pods. A manifest without a
//!   namespace is judged in `default`.
//! - `unsupported-gpu-operator` reports the operator's custom resources (`ClusterPolicy` and
//!   `NVIDIADriver` in group `nvidia.com`) at `/kind`, and every container image whose normalized
//!   repository's last component is `gpu-operator`.

use crate::judge::accelerator_use::AcceleratorUse;
use crate::judge::eval::{Input, Out};
use crate::judge::rules::images;
use crate::model::view::ContainerRef;
use crate::read::pointer;

/// Whether a hostPath path exposes GPU device nodes (see the module documentation).
pub fn is_gpu_device_path(path: &str) -> bool {
    let mut p = String::with_capacity(path.len());
    for part in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        p.push('/');
        p.push_str(part);
    }
    p == "/dev" || p == "/dev/dri" || p.starts_with("/dev/dri/") || p.starts_with("/dev/nvidia")
}

/// `accelerator-access-bypass`: a container reaches GPUs outside the device plugin or DRA: it
/// sets `NVIDIA_VISIBLE_DEVICES`, mounts GPU device nodes from the host, or is privileged in a
/// pod that requests an accelerator (and so sees every GPU of the node).
pub fn check_access_bypass(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    for (index, pod) in obj.pod_refs().enumerate() {
        let ctrs: Vec<&ContainerRef<'_>> = input
            .containers()
            .iter()
            .filter(|c| c.pod == index)
            .collect();
        for c in &ctrs {
            for (i, e) in c.env.iter().enumerate() {
                if e.name != "NVIDIA_VISIBLE_DEVICES" {
                    continue;
                }
                let mut path = pointer::join(&c.path, &["env"]);
                pointer::push_index(&mut path, i);
                let message = match (e.value.as_deref(), &e.value_from) {
                    (_, Some(_)) => format!(
                        "{} sets `NVIDIA_VISIBLE_DEVICES` from `valueFrom`, which can reach GPUs outside the device plugin; remove it and request `nvidia.com/gpu`",
                        c.who()
                    ),
                    (Some(v), None) if matches!(v.trim(), "" | "void" | "none") => continue,
                    (None, None) => continue,
                    (Some(v), None) => format!(
                        "{} sets `NVIDIA_VISIBLE_DEVICES={v}`, reaching GPUs outside the device plugin; remove it (only `void` or `none` are allowed) and request `nvidia.com/gpu`",
                        c.who()
                    ),
                };
                out.report(path, message, None);
            }
        }
        for (i, v) in pod.spec.volumes.iter().flatten().enumerate() {
            let Some(host) = v.host_path.as_ref() else {
                continue;
            };
            if !is_gpu_device_path(&host.path) {
                continue;
            }
            let users: Vec<String> = ctrs
                .iter()
                .filter(|c| c.mounts.iter().any(|m| m.name == v.name))
                .map(|c| format!("`{}`", c.name))
                .collect();
            if users.is_empty() {
                continue;
            }
            let mut path = pointer::join(&pod.spec_path(), &["volumes"]);
            pointer::push_index(&mut path, i);
            out.report(
                path,
                format!(
                    "volume `{}` mounts host path `{}` into {} {}, exposing GPUs outside the device plugin; remove it and request `nvidia.com/gpu`",
                    v.name,
                    host.path,
                    if users.len() > 1 { "containers" } else { "container" },
                    users.join(", ")
                ),
                None,
            );
        }
        let Some(gpu) = crate::judge::accelerator_use::accelerator_use(input.policy, pod.spec)
        else {
            continue;
        };
        let asked = match &gpu {
            AcceleratorUse::Resource {
                container,
                resource,
            } => format!("a pod whose container `{container}` requests `{resource}`"),
            AcceleratorUse::ResourceClaims => String::from("a pod with DRA resource claims"),
        };
        for c in privileged(&ctrs) {
            out.report(
                pointer::join(&c.path, &["securityContext", "privileged"]),
                format!(
                    "{} is privileged in {asked}, so it reaches every device of the node, all its GPUs included, not only the ones allocated to the pod; drop `privileged` (the device plugin or DRA gives the allocated devices without it)",
                    c.who()
                ),
                None,
            );
        }
    }
}

/// The privileged containers of one pod.
fn privileged<'c, 'a>(
    ctrs: &'c [&'c ContainerRef<'a>],
) -> impl Iterator<Item = &'c ContainerRef<'a>> + 'c {
    ctrs.iter()
        .copied()
        .filter(|c| c.security.and_then(|s| s.privileged) == Some(true))
}

/// `privileged-without-accelerator` (warning): a privileged container in a pod that requests
/// no accelerator; it can reach every GPU of a GPU node, but is usually privileged for other
/// host access (FUSE, networking, storage).
pub fn check_privileged_without_accelerator(input: &Input<'_>, out: &mut Out<'_>) {
    for (index, pod) in input.object.pod_refs().enumerate() {
        if input.requests_accelerator(index) {
            continue;
        }
        let ctrs: Vec<&ContainerRef<'_>> = input
            .containers()
            .iter()
            .filter(|c| c.pod == index)
            .collect();
        let requests = crate::judge::accelerator_use::no_accelerator(pod.spec);
        for c in privileged(&ctrs) {
            out.report(
                pointer::join(&c.path, &["securityContext", "privileged"]),
                format!(
                    "{} is privileged in a pod that {requests}, so on a GPU node it can reach every GPU outside the device plugin; drop `privileged` unless it needs host access (FUSE, networking), or request `nvidia.com/gpu`",
                    c.who()
                ),
                None,
            );
        }
    }
}

/// The Kueue queue label.
pub const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";

/// `gang-scheduling-queue`: an accelerator job in a namespace matching `gang.namespaces` without
/// `kueue.x-k8s.io/queue-name` on its own metadata.
pub fn check_gang_queue(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let policy = input.policy;
    if !crate::model::templates::is_gang_kind(obj.group(), &obj.kind)
        || obj
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| !o.is_empty())
    {
        return;
    }
    let namespace = obj
        .namespace()
        .or(input.request.namespace.as_deref())
        .unwrap_or("default");
    if !policy.gang.namespaces.is_match(namespace) {
        return;
    }
    if obj.labels().is_some_and(|l| l.contains_key(QUEUE_LABEL)) {
        return;
    }
    if !(0..obj.pods.len()).any(|i| input.requests_accelerator(i)) {
        return;
    }
    let path = if obj.labels().is_some() {
        "/metadata/labels"
    } else {
        "/metadata"
    };
    out.report(
        path,
        format!(
            "accelerator {} in namespace `{namespace}` has no `{QUEUE_LABEL}` label, so Kueue does not gang-schedule it; add the label naming your LocalQueue",
            obj.kind
        ),
        None,
    );
}

/// Components CKS installs and manages itself, by image repository (the last path components of
/// the normalized repository): what it is and what to do instead. Sources: the CKS documentation
/// (CoreWeave manages the GPU device plugin, … and `cks-kueue`; the CKS Kueue page: "Always install Kueue
/// with CoreWeave's cks-kueue chart",
/// <https://docs.coreweave.com/products/cks/clusters/coreweave-charts/kueue>), and for the
/// NVIDIA Network Operator README's `cks-managed-component` row.
pub const MANAGED_IMAGES: &[(&str, &str, &str)] = &[
    (
        "nvidia/k8s-device-plugin",
        "the NVIDIA device plugin",
        "CKS runs it on every GPU node; remove this copy",
    ),
    (
        "kueue/kueue",
        "upstream Kueue",
        "install CoreWeave's `cks-kueue` chart instead",
    ),
    (
        "nvidia/cloud-native/network-operator",
        "the NVIDIA Network Operator",
        "remove it and leave InfiniBand and RDMA networking to CKS",
    ),
];

/// Custom resources of the components in [`MANAGED_IMAGES`] that only their operator reads.
pub const MANAGED_KINDS: &[(&str, &str, &str)] = &[(
    "mellanox.com",
    "NicClusterPolicy",
    "the NVIDIA Network Operator",
)];

/// `cks-managed-component` (warning): the manifest installs a component that CKS manages itself
/// (beside the GPU Operator, which `unsupported-gpu-operator` reports): a container image from
/// [`MANAGED_IMAGES`], or a custom resource from [`MANAGED_KINDS`] (reported at `/kind`).
pub fn check_managed_component(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let mut found = Vec::new();
    for (group, kind, what) in MANAGED_KINDS {
        if obj.is(group, kind) {
            found.push((
                String::from("/kind"),
                format!(
                    "{kind} `{}` configures {what}, which CKS manages itself; do not install it on CKS",
                    obj.name().unwrap_or("")
                ),
            ));
        }
    }
    for (c, r) in images::container_refs(input) {
        let Some(image) = c.image else { continue };
        // Cheap test first: this runs on every container of every object.
        if !(image.contains("device-plugin")
            || image.contains("kueue")
            || image.contains("network-operator"))
        {
            continue;
        }
        let repo = r.normalized_repository();
        let Some((_, what, todo)) = MANAGED_IMAGES
            .iter()
            .find(|(tail, _, _)| repo.ends_with(&format!("/{tail}")))
        else {
            continue;
        };
        found.push((
            pointer::join(&c.path, &["image"]),
            format!(
                "{} runs `{repo}`, {what}, which CKS manages itself; {todo}",
                c.who()
            ),
        ));
    }
    for (path, message) in found {
        out.report(path, message, None);
    }
}

/// `dra-claim-unused` (warning): a pod-level `resourceClaims` entry that no container or init
/// container lists under `resources.claims`. Kubernetes gives a claimed device only to the
/// containers that name the claim there (KEP-4381, `PodSpec.resourceClaims` and
/// `ResourceRequirements.claims` in kubernetes/kubernetes `staging/src/k8s.io/api/core/v1/types.go`);
/// the CKS IMEX page requires each container that needs IMEX to list its claim.
pub fn check_dra_claim_unused(input: &Input<'_>, out: &mut Out<'_>) {
    let mut found = Vec::new();
    for pod in input.object.pod_refs() {
        let Some(claims) = pod.spec.resource_claims.as_deref() else {
            continue;
        };
        let spec = pod.spec;
        let used: Vec<&str> = spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .filter_map(|c| c.resources.as_ref()?.claims.as_deref())
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        for (j, claim) in claims.iter().enumerate() {
            if used.contains(&claim.name.as_str()) {
                continue;
            }
            let mut path = pointer::join(&pod.spec_path(), &["resourceClaims"]);
            pointer::push_index(&mut path, j);
            found.push((
                path,
                format!(
                    "resource claim `{}` is listed by no container's `resources.claims`, so no container gets its device; add `{{name: {}}}` to `resources.claims` of each container that needs it",
                    claim.name, claim.name
                ),
            ));
        }
    }
    for (path, message) in found {
        out.report(path, message, None);
    }
}

/// `unsupported-gpu-operator`: the manifest installs the NVIDIA GPU Operator.
pub fn check_gpu_operator(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if obj.is("nvidia.com", "ClusterPolicy") || obj.is("nvidia.com", "NVIDIADriver") {
        out.report(
            "/kind",
            format!(
                "{} `{}` (`{}`) configures the NVIDIA GPU Operator, but CKS manages GPU drivers itself; do not install the GPU Operator on CKS",
                obj.kind,
                obj.name().unwrap_or(""),
                obj.api_version
            ),
            None,
        );
    }
    for (c, r) in images::container_refs(input) {
        let Some(image) = c.image else { continue };
        // Cheap test first: this runs on every container of every object.
        if !image.contains("gpu-operator") {
            continue;
        }
        let repo = r.normalized_repository();
        if repo.rsplit('/').next() != Some("gpu-operator") {
            continue;
        }
        out.report(
            pointer::join(&c.path, &["image"]),
            format!(
                "{} runs `{repo}`, the NVIDIA GPU Operator, but CKS manages GPU drivers itself; do not install the GPU Operator on CKS",
                c.who()
            ),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_paths() {
        for p in [
            "/dev/nvidia0",
            "/dev/nvidiactl",
            "/dev/nvidia-uvm",
            "/dev/nvidia-caps/nvidia-cap1",
            "/dev/dri",
            "/dev/dri/",
            "//dev//dri/card0",
            "/dev",
            "/dev/",
        ] {
            assert!(is_gpu_device_path(p), "{p}");
        }
        for p in [
            "/dev/shm",
            "/dev/infiniband",
            "/var/lib/kubelet",
            "/",
            "/dev/drives",
        ] {
            assert!(!is_gpu_device_path(p), "{p}");
        }
    }
}
