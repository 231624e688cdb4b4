//! Shared read-only views of the judged object that several rules need, each computed at most
//! once per evaluation (see [`crate::eval::Input`]): every container of every pod, in one walk.

use k8s_openapi::api::core::v1::{
    EnvVar, PodSpec, ResourceRequirements, SecurityContext, VolumeMount,
};

use crate::object::Object;
use crate::pointer;

/// One container of any list (`initContainers`, `containers`, `ephemeralContainers`) of any pod
/// in the object, reduced to what the rules read.
#[derive(Debug)]
pub struct ContainerRef<'a> {
    /// Index of its pod in [`Object::pods`].
    pub pod: usize,
    /// Pointer to the container (`/spec/template/spec/initContainers/0`).
    pub path: String,
    /// `container`, `init container` or `ephemeral container`.
    pub what: &'static str,
    /// The container's name.
    pub name: &'a str,
    /// The image as written (`None` when the field is absent).
    pub image: Option<&'a str>,
    /// `imagePullPolicy` as written.
    pub pull_policy: Option<&'a str>,
    /// `env`.
    pub env: &'a [EnvVar],
    /// `volumeMounts`.
    pub mounts: &'a [VolumeMount],
    /// `securityContext`.
    pub security: Option<&'a SecurityContext>,
    /// `resources` (ephemeral containers have none).
    pub resources: Option<&'a ResourceRequirements>,
}

impl ContainerRef<'_> {
    /// Pointer to one field of the container.
    pub fn field(&self, field: &str) -> String {
        pointer::join(&self.path, &[field])
    }
    /// `container `name``, as messages name it.
    pub fn who(&self) -> String {
        format!("{} `{}`", self.what, self.name)
    }
}

fn pod_containers<'a>(
    pod: usize,
    spec: &'a PodSpec,
    spec_path: &str,
    out: &mut Vec<ContainerRef<'a>>,
) {
    let at = |list: &str, i: usize| {
        let mut p = pointer::join(spec_path, &[list]);
        pointer::push_index(&mut p, i);
        p
    };
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        out.push(ContainerRef {
            pod,
            path: at("initContainers", i),
            what: "init container",
            name: &c.name,
            image: c.image.as_deref(),
            pull_policy: c.image_pull_policy.as_deref(),
            env: c.env.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
            security: c.security_context.as_ref(),
            resources: c.resources.as_ref(),
        });
    }
    for (i, c) in spec.containers.iter().enumerate() {
        out.push(ContainerRef {
            pod,
            path: at("containers", i),
            what: "container",
            name: &c.name,
            image: c.image.as_deref(),
            pull_policy: c.image_pull_policy.as_deref(),
            env: c.env.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
            security: c.security_context.as_ref(),
            resources: c.resources.as_ref(),
        });
    }
    for (i, c) in spec.ephemeral_containers.iter().flatten().enumerate() {
        out.push(ContainerRef {
            pod,
            path: at("ephemeralContainers", i),
            what: "ephemeral container",
            name: &c.name,
            image: c.image.as_deref(),
            pull_policy: c.image_pull_policy.as_deref(),
            env: c.env.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
            security: c.security_context.as_ref(),
            resources: None,
        });
    }
}

/// Every container of every pod in the object: per pod (in document order) its init
/// containers, containers and ephemeral containers.
pub fn containers(object: &Object) -> Vec<ContainerRef<'_>> {
    let mut out = Vec::new();
    for (i, pod) in object.pod_refs().enumerate() {
        pod_containers(i, pod.spec, &pod.spec_path(), &mut out);
    }
    out
}
