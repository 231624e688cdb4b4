//! Shared read-only views of the judged object that several rules need, each computed at most
//! once per evaluation (see [`crate::judge::eval::Input`]): every container of every pod, in one walk.

use k8s_openapi::api::core::v1::{EnvVar, PodSpec, SecurityContext, VolumeMount};

use crate::model::object::Object;
use crate::read::pointer;

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
    // `Container` and `EphemeralContainer` are distinct types with the same fields.
    macro_rules! push {
        ($list:literal, $what:literal, $c:expr, $i:expr) => {
            out.push(ContainerRef {
                pod,
                path: at($list, $i),
                what: $what,
                name: &$c.name,
                image: $c.image.as_deref(),
                pull_policy: $c.image_pull_policy.as_deref(),
                env: $c.env.as_deref().unwrap_or_default(),
                mounts: $c.volume_mounts.as_deref().unwrap_or_default(),
                security: $c.security_context.as_ref(),
            })
        };
    }
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        push!("initContainers", "init container", c, i);
    }
    for (i, c) in spec.containers.iter().enumerate() {
        push!("containers", "container", c, i);
    }
    for (i, c) in spec.ephemeral_containers.iter().flatten().enumerate() {
        push!("ephemeralContainers", "ephemeral container", c, i);
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
