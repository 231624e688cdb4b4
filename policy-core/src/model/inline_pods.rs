//! Pods of custom resources that do not hold a `PodTemplateSpec`: KServe components and serving
//! runtimes inline pod fields, Argo templates hold single containers, a Kubeflow Trainer v2
//! `TrainJob` names only an image and per-node resources, and Knative lets containers go
//! unnamed. Each is assembled into a [`PodSpec`] so every pod rule judges it; where a container
//! stands for a field of another shape, the pod carries a remap from the pointer the rules see
//! to the real field, so findings and patches name what the user wrote.
//!
//! Decisions where the upstream types leave room (each row cites its source in
//! [`crate::model::templates`]):
//! - A container without `name` gets the name its platform gives it: Knative `user-container`,
//!   KServe `kserve-container`, Argo `main` (`init-<i>` and `sidecar-<i>` for the lists), the
//!   TrainJob trainer `node` (Trainer v2's container name); unnamed init containers of Knative
//!   and KServe are `init-container`.
//! - An Argo template is judged with its own `nodeSelector`, `tolerations`, `affinity`,
//!   `volumes`, `securityContext`, `serviceAccountName`, `schedulerName` and
//!   `priorityClassName`; where it sets no `nodeSelector`, `tolerations`, `affinity` or
//!   `schedulerName`, the workflow's (`spec.nodeSelector`, …) is its own, and the workflow's
//!   `podMetadata` labels are under the template's `metadata` ones, and the workflow `volumes`
//!   its containers mount are its own ([`share`]). A template
//!   without containers (`steps`, `dag`, `suspend`, `resource`) is no pod; the `inline`
//!   templates of its steps and tasks are pods of their own.
//! - A KServe component's `labels` and `annotations` are the pod's metadata (KServe copies them
//!   onto the pods), over the InferenceService's own labels.
//! - A Spark driver or executor is one container named as Spark names it
//!   (`spark-kubernetes-driver`, `spark-kubernetes-executor`), plus its `sidecars`.
//! - A field several pods share (a workflow's `tolerations`) is judged in each pod, at the
//!   pointer where it is written, and each finding is reported once.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{PodSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

use crate::model::object::PodTemplate;
use crate::model::templates::{Inline, Shared};
use crate::read::pointer;

/// KServe predictor and explainer framework fields, each a container with extras
/// (kserve/kserve `pkg/apis/serving/v1beta1/predictor.go`, `explainer.go`).
pub(crate) const KSERVE_CONTAINERS: &[&str] = &[
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
    "art",
    "alibi",
];

/// Argo template fields that mean the same as in a `PodSpec`.
const ARGO_POD_FIELDS: &[&str] = &[
    "nodeSelector",
    "tolerations",
    "affinity",
    "volumes",
    "securityContext",
    "serviceAccountName",
    "automountServiceAccountToken",
    "schedulerName",
    "priorityClassName",
    "hostAliases",
];

/// Builds the pods of one inline location into `out`; none when the location holds no pod.
pub(crate) fn build(
    kind: Inline,
    pointer: String,
    v: Value,
    out: &mut Vec<PodTemplate>,
) -> Result<(), String> {
    let m = match v {
        Value::Null => return Ok(()),
        Value::Object(m) => m,
        _ => return Err(format!("`{pointer}` must be a map")),
    };
    let one = match kind {
        Inline::KnativeTemplate => Some(knative(pointer, m)?),
        Inline::KServeRuntime | Inline::PodFields => {
            let mut m = m;
            let base = match kind {
                Inline::KServeRuntime => "kserve-container",
                _ => "container",
            };
            name_containers(&mut m, "containers", base);
            name_containers(&mut m, "initContainers", "init-container");
            let spec = pod_spec(&pointer, m)?;
            Some(pod(pointer.clone(), None, spec, pointer, Vec::new()))
        }
        Inline::KServeComponent => kserve_component(pointer, m, false)?,
        Inline::KFServingComponent => kserve_component(pointer, m, true)?,
        Inline::ArgoTemplate => return argo(pointer, m, out),
        Inline::TrainJobTrainer => trainer(pointer, m)?,
        Inline::SparkDriver => spark(pointer, m, "spark-kubernetes-driver")?,
        Inline::SparkExecutor => spark(pointer, m, "spark-kubernetes-executor")?,
        Inline::ResourceFlavor => resource_flavor(pointer, m)?,
    };
    out.extend(one);
    Ok(())
}

fn pod(
    pointer: String,
    metadata: Option<ObjectMeta>,
    spec: PodSpec,
    spec_pointer: String,
    remap: Vec<(String, String)>,
) -> PodTemplate {
    PodTemplate {
        pointer,
        metadata,
        spec,
        spec_pointer,
        remap,
    }
}

/// Reads `v` as `T` through the same slice deserializer as the one typed reader
/// ([`crate::model::input`]), not `from_value`: that would compile a second copy of every k8s-openapi
/// deserializer into the wasm modules (16 KB over the Kubewarden module's budget).
fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, serde_json::Error> {
    let bytes = serde_json::to_vec(v)?;
    serde_json::from_slice(&bytes)
}

fn pod_spec(at: &str, m: Map<String, Value>) -> Result<PodSpec, String> {
    typed(&Value::Object(m)).map_err(|e| format!("the pod fields at `{at}`: {e}"))
}

fn metadata(at: &str, v: Value) -> Result<ObjectMeta, String> {
    typed(&v).map_err(|e| format!("`{at}/metadata`: {e}"))
}

/// The pod metadata of a template that holds `labels` and `annotations` at its top level rather
/// than under `metadata`; findings on it are found again at the template.
fn top_level_metadata(
    pointer: &str,
    m: &Map<String, Value>,
    remap: &mut Vec<(String, String)>,
) -> Result<ObjectMeta, String> {
    let mut meta = Map::new();
    for key in ["labels", "annotations"] {
        if let Some(v) = m.get(key) {
            meta.insert(key.to_owned(), v.clone());
        }
    }
    remap.push((format!("{pointer}/metadata"), pointer.to_owned()));
    metadata(pointer, Value::Object(meta))
}

/// Gives every unnamed container in `m[key]` a name: `base` for the first, `base-<i>` after.
fn name_containers(m: &mut Map<String, Value>, key: &str, base: &str) {
    if let Some(Value::Array(list)) = m.get_mut(key) {
        for (i, c) in list.iter_mut().enumerate() {
            default_name(c, &indexed(base, i));
        }
    }
}

fn indexed(base: &str, i: usize) -> String {
    if i == 0 {
        base.to_owned()
    } else {
        format!("{base}-{i}")
    }
}

fn default_name(c: &mut Value, name: &str) {
    if let Value::Object(c) = c {
        if !c.get("name").is_some_and(Value::is_string) {
            c.insert("name".to_owned(), Value::String(name.to_owned()));
        }
    }
}

fn knative(pointer: String, mut m: Map<String, Value>) -> Result<PodTemplate, String> {
    let meta = match m.remove("metadata") {
        Some(v) => metadata(&pointer, v)?,
        None => ObjectMeta::default(),
    };
    let spec_pointer = format!("{pointer}/spec");
    let spec = match m.remove("spec") {
        Some(Value::Object(mut s)) => {
            name_containers(&mut s, "containers", "user-container");
            name_containers(&mut s, "initContainers", "init-container");
            pod_spec(&spec_pointer, s)?
        }
        Some(Value::Null) | None => PodSpec::default(),
        Some(_) => return Err(format!("`{spec_pointer}` must be a map")),
    };
    Ok(pod(pointer, Some(meta), spec, spec_pointer, Vec::new()))
}

fn kserve_component(
    pointer: String,
    mut m: Map<String, Value>,
    v1alpha2: bool,
) -> Result<Option<PodTemplate>, String> {
    name_containers(&mut m, "containers", "kserve-container");
    name_containers(&mut m, "initContainers", "init-container");
    let mut containers = match m.remove("containers") {
        Some(Value::Array(list)) => list,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return Err(format!("`{pointer}/containers` must be a list")),
    };
    let mut remap = Vec::new();
    // KFServing `v1alpha2`: `custom.container` is the component's container
    // (kserve/kserve `pkg/apis/serving/v1alpha2/inferenceservice_types.go`, `CustomSpec`).
    let custom = m.get("custom").filter(|_| v1alpha2);
    if let Some(Value::Object(c)) = custom.and_then(|c| c.get("container")) {
        let mut c = Value::Object(c.clone());
        default_name(&mut c, "user-container");
        remap.push((
            format!("{pointer}/containers/{}", containers.len()),
            pointer::join(&pointer, &["custom", "container"]),
        ));
        containers.push(c);
    }
    for key in KSERVE_CONTAINERS {
        let Some(Value::Object(c)) = m.get(*key) else {
            continue;
        };
        let mut c = Value::Object(c.clone());
        default_name(&mut c, "kserve-container");
        remap.push((
            format!("{pointer}/containers/{}", containers.len()),
            pointer::join(&pointer, &[*key]),
        ));
        containers.push(c);
    }
    if containers.is_empty() {
        return Ok(None);
    }
    let meta = top_level_metadata(&pointer, &m, &mut remap)?;
    m.insert("containers".to_owned(), Value::Array(containers));
    let spec = pod_spec(&pointer, m)?;
    Ok(Some(pod(pointer.clone(), Some(meta), spec, pointer, remap)))
}

/// The storage URI schemes KServe serves as an image the kubelet pulls (kserve/kserve
/// `pkg/constants/constants.go`): `OciURIPrefix` (a modelcar container) and `OciNativeURIPrefix`
/// (an image volume, `docs/samples/storage/oci-image-volume`). `oci+fetch://` is not one: the
/// storage initializer downloads that image's layers itself.
pub(crate) const OCI_SCHEMES: &[&str] = &["oci://", "oci+native://"];

/// Every `storageUri` of a KServe component's model or framework field that names an OCI image
/// (`oci://registry/repo:tag`, or `oci+native://` for an image volume), as (pointer to the field, URI as written). KServe copies a
/// component's `storageUri` into the pod annotation `StorageInitializerSourceUriInternalAnnotationKey`
/// names (kserve/kserve `pkg/controller/v1beta1/inferenceservice/components/predictor.go`,
/// `transformer.go`, `explainer.go`), and the pod webhook turns an `oci://` one into a modelcar
/// container whose image is the URI without its scheme (`pkg/webhook/admission/pod/
/// storage_initializer_injector.go` `InjectModelcar`: `strings.HasPrefix(srcURI,
/// constants.OciURIPrefix)`; `pkg/utils` `ConfigureModelcarToContainer`:
/// `strings.TrimPrefix(modelUri, constants.OciURIPrefix)`), pulled through the registry proxy
/// like any image; an `oci+native://` one becomes an image volume's `reference`. `s3://`, `gs://`, `pvc://`, `hf://`, `https://` and the rest are downloaded
/// by the storage initializer, not pulled as images.
pub(crate) fn oci_storage_uris(pointer: &str, v: &Value, out: &mut Vec<(String, String)>) {
    let Value::Object(m) = v else { return };
    for key in KSERVE_CONTAINERS {
        let Some(Value::String(uri)) = m.get(*key).and_then(|c| c.get("storageUri")) else {
            continue;
        };
        if OCI_SCHEMES.iter().any(|s| uri.starts_with(s)) {
            out.push((pointer::join(pointer, &[*key, "storageUri"]), uri.clone()));
        }
    }
}

/// An Argo template's pod, then the pods of the `inline` templates its `steps` and `dag` tasks
/// hold (argo-workflows `pkg/apis/workflow/v1alpha1/workflow_types.go`: `WorkflowStep.Inline`,
/// `DAGTask.Inline`, each a whole `Template`).
fn argo(
    pointer: String,
    mut m: Map<String, Value>,
    out: &mut Vec<PodTemplate>,
) -> Result<(), String> {
    let mut inline = Vec::new();
    if let Some(Value::Array(groups)) = m.get_mut("steps") {
        for (i, group) in groups.iter_mut().enumerate() {
            if let Value::Array(steps) = group {
                for (j, step) in steps.iter_mut().enumerate() {
                    if let Some(t) = step.as_object_mut().and_then(|s| s.remove("inline")) {
                        inline.push((format!("{pointer}/steps/{i}/{j}/inline"), t));
                    }
                }
            }
        }
    }
    if let Some(Value::Array(tasks)) = m.get_mut("dag").and_then(|d| d.get_mut("tasks")) {
        for (i, task) in tasks.iter_mut().enumerate() {
            if let Some(t) = task.as_object_mut().and_then(|s| s.remove("inline")) {
                inline.push((format!("{pointer}/dag/tasks/{i}/inline"), t));
            }
        }
    }
    out.extend(argo_pod(pointer, m)?);
    for (at, t) in inline {
        match t {
            Value::Object(t) => argo(at, t, out)?,
            Value::Null => {}
            _ => return Err(format!("`{at}` must be a map")),
        }
    }
    Ok(())
}

fn argo_pod(pointer: String, mut m: Map<String, Value>) -> Result<Option<PodTemplate>, String> {
    let mut containers = Vec::new();
    let mut remap = Vec::new();
    let mut add = |mut c: Value, name: String, real: String, containers: &mut Vec<Value>| {
        default_name(&mut c, &name);
        remap.push((format!("{pointer}/containers/{}", containers.len()), real));
        containers.push(c);
    };
    for key in ["container", "script"] {
        if let Some(c @ Value::Object(_)) = m.remove(key) {
            add(
                c,
                "main".to_owned(),
                format!("{pointer}/{key}"),
                &mut containers,
            );
        }
    }
    if let Some(Value::Object(mut set)) = m.remove("containerSet") {
        if let Some(Value::Array(list)) = set.remove("containers") {
            for (j, c) in list.into_iter().enumerate() {
                let real = format!("{pointer}/containerSet/containers/{j}");
                add(c, indexed("main", j), real, &mut containers);
            }
        }
    }
    if let Some(Value::Array(list)) = m.remove("sidecars") {
        for (j, c) in list.into_iter().enumerate() {
            let real = format!("{pointer}/sidecars/{j}");
            add(c, format!("sidecar-{j}"), real, &mut containers);
        }
    }
    let mut spec = Map::new();
    if let Some(Value::Array(mut list)) = m.remove("initContainers") {
        for (j, c) in list.iter_mut().enumerate() {
            default_name(c, &format!("init-{j}"));
        }
        spec.insert("initContainers".to_owned(), Value::Array(list));
    }
    if containers.is_empty() && !spec.contains_key("initContainers") {
        return Ok(None);
    }
    for key in ARGO_POD_FIELDS {
        if let Some(v) = m.remove(*key) {
            spec.insert((*key).to_owned(), v);
        }
    }
    spec.insert("containers".to_owned(), Value::Array(containers));
    let meta = match m.remove("metadata") {
        Some(v) => metadata(&pointer, v)?,
        None => ObjectMeta::default(),
    };
    let spec = pod_spec(&pointer, spec)?;
    Ok(Some(pod(pointer.clone(), Some(meta), spec, pointer, remap)))
}

fn trainer(pointer: String, m: Map<String, Value>) -> Result<Option<PodTemplate>, String> {
    let mut c = Map::new();
    c.insert("name".to_owned(), Value::String("node".to_owned()));
    for (from, to) in [
        ("image", "image"),
        ("command", "command"),
        ("args", "args"),
        ("env", "env"),
        ("resourcesPerNode", "resources"),
    ] {
        if let Some(v) = m.get(from) {
            c.insert(to.to_owned(), v.clone());
        }
    }
    if !c.contains_key("image") && !c.contains_key("resources") {
        return Ok(None);
    }
    let mut spec = Map::new();
    spec.insert(
        "containers".to_owned(),
        Value::Array(vec![Value::Object(c)]),
    );
    let spec = pod_spec(&pointer, spec)?;
    let remap = vec![
        (
            format!("{pointer}/containers/0/resources"),
            format!("{pointer}/resourcesPerNode"),
        ),
        (format!("{pointer}/containers/0"), pointer.clone()),
    ];
    Ok(Some(pod(pointer.clone(), None, spec, pointer, remap)))
}

/// Spark operator `SparkPodSpec` fields that are container fields of the Spark container
/// (kubeflow/spark-operator `api/v1beta2/sparkapplication_types.go`).
const SPARK_CONTAINER_FIELDS: &[&str] =
    &["image", "env", "envFrom", "volumeMounts", "securityContext"];

/// `SparkPodSpec` fields that mean the same as in a `PodSpec`, and the pod field each is.
const SPARK_POD_FIELDS: &[(&str, &str)] = &[
    ("nodeSelector", "nodeSelector"),
    ("tolerations", "tolerations"),
    ("affinity", "affinity"),
    ("schedulerName", "schedulerName"),
    ("hostNetwork", "hostNetwork"),
    (
        "terminationGracePeriodSeconds",
        "terminationGracePeriodSeconds",
    ),
    ("hostAliases", "hostAliases"),
    ("dnsConfig", "dnsConfig"),
    ("shareProcessNamespace", "shareProcessNamespace"),
    ("podSecurityContext", "securityContext"),
    ("serviceAccount", "serviceAccountName"),
];

/// A Spark driver or executor: the Spark container (`name`, Spark's default container name)
/// with the role's image, env, mounts, security context and `gpu` as a resource limit, then
/// the `sidecars`; the role's `initContainers`, scheduling fields, `labels` and `annotations`.
fn spark(
    pointer: String,
    m: Map<String, Value>,
    name: &str,
) -> Result<Option<PodTemplate>, String> {
    let mut c = Map::new();
    c.insert("name".to_owned(), Value::String(name.to_owned()));
    for key in SPARK_CONTAINER_FIELDS {
        if let Some(v) = m.get(*key) {
            c.insert((*key).to_owned(), v.clone());
        }
    }
    let mut remap = Vec::new();
    // `gpu: {name, quantity}` is a limit on the Spark container (spark-operator
    // `internal/webhook/sparkpod_defaulter.go`, `addGPU`).
    if let Some(Value::Object(gpu)) = m.get("gpu") {
        if let (Some(Value::String(res)), Some(q)) = (gpu.get("name"), gpu.get("quantity")) {
            let mut limits = Map::new();
            limits.insert(res.clone(), q.clone());
            let mut r = Map::new();
            r.insert("limits".to_owned(), Value::Object(limits));
            c.insert("resources".to_owned(), Value::Object(r));
            remap.push((
                format!("{pointer}/containers/0/resources"),
                format!("{pointer}/gpu"),
            ));
        }
    }
    let mut containers = vec![Value::Object(c)];
    if let Some(Value::Array(list)) = m.get("sidecars") {
        for (j, c) in list.iter().enumerate() {
            let mut c = c.clone();
            default_name(&mut c, &format!("sidecar-{j}"));
            remap.push((
                format!("{pointer}/containers/{}", containers.len()),
                format!("{pointer}/sidecars/{j}"),
            ));
            containers.push(c);
        }
    }
    remap.push((format!("{pointer}/containers/0"), pointer.clone()));
    let mut spec = Map::new();
    if let Some(Value::Array(list)) = m.get("initContainers") {
        let mut list = list.clone();
        for (j, c) in list.iter_mut().enumerate() {
            default_name(c, &format!("init-{j}"));
        }
        spec.insert("initContainers".to_owned(), Value::Array(list));
    }
    for (from, to) in SPARK_POD_FIELDS {
        if let Some(v) = m.get(*from) {
            spec.insert((*to).to_owned(), v.clone());
            if from != to {
                remap.push((format!("{pointer}/{to}"), format!("{pointer}/{from}")));
            }
        }
    }
    spec.insert("containers".to_owned(), Value::Array(containers));
    let meta = top_level_metadata(&pointer, &m, &mut remap)?;
    let spec = pod_spec(&pointer, spec)?;
    Ok(Some(pod(pointer.clone(), Some(meta), spec, pointer, remap)))
}

/// A Kueue ResourceFlavor's `nodeLabels` and `tolerations` as the pod fields Kueue merges them
/// into; no containers. `None` when it sets neither.
fn resource_flavor(pointer: String, m: Map<String, Value>) -> Result<Option<PodTemplate>, String> {
    let mut spec = Map::new();
    let mut remap = Vec::new();
    if let Some(v) = m.get("nodeLabels") {
        spec.insert("nodeSelector".to_owned(), v.clone());
        remap.push((
            format!("{pointer}/nodeSelector"),
            format!("{pointer}/nodeLabels"),
        ));
    }
    if let Some(v) = m.get("tolerations") {
        spec.insert("tolerations".to_owned(), v.clone());
    }
    if spec.is_empty() {
        return Ok(None);
    }
    spec.insert("containers".to_owned(), Value::Array(Vec::new()));
    let spec = pod_spec(&pointer, spec)?;
    Ok(Some(pod(pointer.clone(), None, spec, pointer, remap)))
}

/// Copies fields that sit outside the pods into the pods their controller puts them in:
/// `object`'s labels into every pod (kinds with [`crate::model::templates::OBJECT_LABELS`]), and each
/// [`Shared`] value into the pods under its parent (`/spec/tolerations` reaches the pods under
/// `/spec/`). Each copied field keeps the pointer where it is written, through the pod's remap.
pub(crate) fn share(
    pods: &mut [PodTemplate],
    shared: Vec<(String, Shared, Value)>,
    object: Option<&ObjectMeta>,
) -> Result<(), String> {
    if let Some(labels) = object.and_then(|m| m.labels.as_ref()) {
        for p in pods.iter_mut().filter(|p| !p.pointer.is_empty()) {
            merge_labels(p, labels, "/metadata/labels");
        }
    }
    for (at, how, v) in shared {
        let parent = at.rsplit_once('/').map_or("", |(b, _)| b);
        let under = format!("{parent}/");
        for p in pods.iter_mut().filter(|p| p.pointer.starts_with(&under)) {
            match how {
                Shared::Fallback(field) => fallback(p, field, &at, &v)?,
                // A pod without a nodeSelector of its own takes the whole map, so a patch that
                // adds a key lands in the map that exists.
                Shared::NodeSelectorUnion
                    if p.spec.node_selector.as_ref().is_none_or(BTreeMap::is_empty) =>
                {
                    fallback(p, "nodeSelector", &at, &v)?
                }
                Shared::NodeSelectorUnion => {
                    let extra: BTreeMap<String, String> =
                        typed(&v).map_err(|e| format!("`{at}`: {e}"))?;
                    let own = p.spec.node_selector.get_or_insert_with(BTreeMap::new);
                    for (k, val) in extra {
                        if own.contains_key(&k) {
                            continue;
                        }
                        let from = pointer::join(&p.spec_pointer, &["nodeSelector", &k]);
                        p.remap.insert(0, (from, pointer::join(&at, &[&k])));
                        own.insert(k, val);
                    }
                }
                Shared::Metadata => {
                    let meta: ObjectMeta = metadata(parent, v.clone())?;
                    if let Some(labels) = &meta.labels {
                        merge_labels(p, labels, &pointer::join(&at, &["labels"]));
                    }
                    if let Some(extra) = meta.annotations {
                        let own = p
                            .metadata
                            .get_or_insert_with(ObjectMeta::default)
                            .annotations
                            .get_or_insert_with(BTreeMap::new);
                        for (k, val) in extra {
                            own.entry(k).or_insert(val);
                        }
                    }
                }
                Shared::MountedVolumes => {
                    let list: Vec<Volume> = typed(&v).map_err(|e| format!("`{at}`: {e}"))?;
                    mount_volumes(p, list, &at);
                }
                Shared::Image => {
                    let Value::String(image) = &v else {
                        return Err(format!("`{at}` must be a string"));
                    };
                    if let Some(c) = p.spec.containers.first_mut() {
                        if c.image.is_none() {
                            c.image = Some(image.clone());
                            let from = format!("{}/containers/0/image", p.spec_pointer);
                            p.remap.insert(0, (from, at.clone()));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The volumes of `list` (written at `at`) that the pod's containers mount and it does not
/// define itself, appended to its own.
fn mount_volumes(p: &mut PodTemplate, list: Vec<Volume>, at: &str) {
    let spec = &p.spec;
    let mounted: BTreeSet<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .flat_map(|c| c.volume_mounts.iter().flatten())
        .map(|m| m.name.as_str())
        .collect();
    let own: BTreeSet<&str> = spec
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    let taken: Vec<(usize, Volume)> = list
        .into_iter()
        .enumerate()
        .filter(|(_, v)| mounted.contains(v.name.as_str()) && !own.contains(v.name.as_str()))
        .collect();
    let volumes = p.spec.volumes.get_or_insert_with(Vec::new);
    for (j, v) in taken {
        let mut from = pointer::join(&p.spec_pointer, &["volumes"]);
        pointer::push_index(&mut from, volumes.len());
        let mut to = at.to_owned();
        pointer::push_index(&mut to, j);
        p.remap.insert(0, (from, to));
        volumes.push(v);
    }
}

/// `labels` written at `at` under the pod's own (the pod's win per key).
fn merge_labels(p: &mut PodTemplate, labels: &BTreeMap<String, String>, at: &str) {
    let base = format!("{}/metadata/labels", p.pointer);
    let own = p
        .metadata
        .get_or_insert_with(ObjectMeta::default)
        .labels
        .get_or_insert_with(BTreeMap::new);
    for (k, v) in labels {
        if own.contains_key(k) {
            continue;
        }
        own.insert(k.clone(), v.clone());
        p.remap
            .insert(0, (pointer::join(&base, &[k]), pointer::join(at, &[k])));
    }
}

/// The pod spec `field` from `v` (written at `at`) when the pod sets none.
fn fallback(p: &mut PodTemplate, field: &str, at: &str, v: &Value) -> Result<(), String> {
    let err = |e: serde_json::Error| format!("`{at}`: {e}");
    let spec = &mut p.spec;
    let taken = match field {
        "nodeSelector" if spec.node_selector.as_ref().is_none_or(BTreeMap::is_empty) => {
            spec.node_selector = Some(typed(v).map_err(err)?);
            true
        }
        "tolerations" if spec.tolerations.as_ref().is_none_or(Vec::is_empty) => {
            spec.tolerations = Some(typed(v).map_err(err)?);
            true
        }
        "affinity" if spec.affinity.is_none() => {
            spec.affinity = Some(typed(v).map_err(err)?);
            true
        }
        "schedulerName" if spec.scheduler_name.as_deref().is_none_or(str::is_empty) => {
            spec.scheduler_name = Some(typed(v).map_err(err)?);
            true
        }
        _ => false,
    };
    if taken {
        let from = pointer::join(&p.spec_pointer, &[field]);
        p.remap.insert(0, (from, at.to_owned()));
    }
    Ok(())
}

/// Rewrites `path` by the first remap whose prefix it starts with (at a token boundary), and
/// says where that remap points (`None` when none applied).
pub(crate) fn remap_path<'r>(remap: &'r [(String, String)], path: &mut String) -> Option<&'r str> {
    for (from, to) in remap {
        if under(path, from) {
            let rest = path[from.len()..].to_owned();
            path.clear();
            path.push_str(to);
            path.push_str(&rest);
            return Some(to);
        }
    }
    None
}

/// Whether `path` is `prefix` or below it (at a token boundary).
pub(crate) fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The pods `build` assembles at one location.
    fn built(kind: Inline, at: &str, v: Value) -> Result<Vec<PodTemplate>, String> {
        let mut out = Vec::new();
        build(kind, at.to_owned(), v, &mut out)?;
        Ok(out)
    }

    fn one(kind: Inline, at: &str, v: Value) -> PodTemplate {
        let mut pods = built(kind, at, v).unwrap();
        assert_eq!(pods.len(), 1);
        pods.remove(0)
    }

    #[test]
    fn remap_respects_token_boundaries() {
        let remap = vec![
            ("/t/containers/1".to_owned(), "/t/script".to_owned()),
            ("/t/containers/0".to_owned(), "/t/container".to_owned()),
        ];
        let mut p = "/t/containers/1/image".to_owned();
        remap_path(&remap, &mut p);
        assert_eq!(p, "/t/script/image");
        let mut p = "/t/containers/10/image".to_owned();
        remap_path(&remap, &mut p);
        assert_eq!(p, "/t/containers/10/image");
        let mut p = "/t/containers/0".to_owned();
        remap_path(&remap, &mut p);
        assert_eq!(p, "/t/container");
    }

    #[test]
    fn argo_template_becomes_a_pod() {
        let t = json!({"name": "train", "container": {"image": "a:1"},
            "sidecars": [{"name": "s", "image": "b:1"}], "nodeSelector": {"k": "v"},
            "activeDeadlineSeconds": "10m"});
        let p = one(Inline::ArgoTemplate, "/spec/templates/2", t);
        let names: Vec<_> = p.spec.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["main", "s"]);
        assert_eq!(p.spec_pointer, "/spec/templates/2");
        assert_eq!(p.remap[1].1, "/spec/templates/2/sidecars/0");
        let steps = json!({"name": "main", "steps": [[{"name": "a", "template": "x"}]]});
        assert!(built(Inline::ArgoTemplate, "/t", steps).unwrap().is_empty());
    }

    #[test]
    fn kserve_model_is_a_container() {
        let c = json!({"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "gs://x",
            "resources": {"limits": {"nvidia.com/gpu": "1"}}}, "nodeSelector": {"a": "b"}});
        let p = one(Inline::KServeComponent, "/spec/predictor", c);
        assert_eq!(p.spec.containers[0].name, "kserve-container");
        assert_eq!(p.remap[0].1, "/spec/predictor/model");
        assert!(p.spec.node_selector.is_some());
        assert!(built(Inline::KServeComponent, "/x", json!("str")).is_err());
    }

    #[test]
    fn trainjob_trainer_is_one_node_container() {
        let t = json!({"image": "pytorch:2", "numNodes": 2,
            "resourcesPerNode": {"limits": {"nvidia.com/gpu": 8}}});
        let p = one(Inline::TrainJobTrainer, "/spec/trainer", t);
        assert_eq!(p.spec.containers[0].image.as_deref(), Some("pytorch:2"));
        let mut path = "/spec/trainer/containers/0/image".to_owned();
        remap_path(&p.remap, &mut path);
        assert_eq!(path, "/spec/trainer/image");
        let mut path = "/spec/trainer/containers/0/resources/limits".to_owned();
        remap_path(&p.remap, &mut path);
        assert_eq!(path, "/spec/trainer/resourcesPerNode/limits");
    }

    #[test]
    fn argo_inline_templates_are_pods() {
        let t = json!({"name": "main",
            "steps": [[{"name": "a", "inline": {"container": {"image": "a:1"}}}]],
            "dag": {"tasks": [{"name": "b", "template": "x"},
                {"name": "c", "inline": {"script": {"image": "c:1", "source": "x"}}}]}});
        let pods = built(Inline::ArgoTemplate, "/spec/templates/0", t).unwrap();
        let at: Vec<_> = pods.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            at,
            [
                "/spec/templates/0/steps/0/0/inline",
                "/spec/templates/0/dag/tasks/1/inline"
            ]
        );
        let mut path = "/spec/templates/0/dag/tasks/1/inline/containers/0/image".to_owned();
        remap_path(&pods[1].remap, &mut path);
        assert_eq!(path, "/spec/templates/0/dag/tasks/1/inline/script/image");
    }

    #[test]
    fn shared_fields_reach_the_pods_under_their_parent() {
        let t = json!({"name": "a", "container": {"image": "a:1"}});
        let mut pods = built(Inline::ArgoTemplate, "/spec/templates/0", t).unwrap();
        let own = json!({"name": "b", "container": {"image": "b:1"},
            "tolerations": [{"key": "x", "operator": "Exists"}]});
        pods.extend(built(Inline::ArgoTemplate, "/spec/templates/1", own).unwrap());
        let shared = vec![
            (
                "/spec/tolerations".to_owned(),
                Shared::Fallback("tolerations"),
                json!([{"key": "is_gpu", "operator": "Exists"}]),
            ),
            (
                "/spec/podMetadata".to_owned(),
                Shared::Metadata,
                json!({"labels": {"a/b": "1"}}),
            ),
            (
                "/other/tolerations".to_owned(),
                Shared::Fallback("tolerations"),
                json!([{"key": "no"}]),
            ),
        ];
        share(&mut pods, shared, None).unwrap();
        let key = |p: &PodTemplate| p.spec.tolerations.as_ref().unwrap()[0].key.clone();
        assert_eq!(key(&pods[0]).as_deref(), Some("is_gpu"));
        assert_eq!(key(&pods[1]).as_deref(), Some("x"));
        let mut path = "/spec/templates/0/tolerations/0".to_owned();
        remap_path(&pods[0].remap, &mut path);
        assert_eq!(path, "/spec/tolerations/0");
        let mut path = "/spec/templates/1/metadata/labels/a~1b".to_owned();
        remap_path(&pods[1].remap, &mut path);
        assert_eq!(path, "/spec/podMetadata/labels/a~1b");
    }

    #[test]
    fn spark_role_is_one_spark_container() {
        let d = json!({"cores": 1, "gpu": {"name": "nvidia.com/gpu", "quantity": 1},
            "serviceAccount": "spark", "labels": {"k": "v"}});
        let mut pods = built(Inline::SparkDriver, "/spec/driver", d).unwrap();
        let image = vec![("/spec/image".to_owned(), Shared::Image, json!("spark:3"))];
        share(&mut pods, image, None).unwrap();
        let p = &pods[0];
        assert_eq!(p.spec.containers[0].name, "spark-kubernetes-driver");
        assert_eq!(p.spec.containers[0].image.as_deref(), Some("spark:3"));
        for (seen, real) in [
            ("/spec/driver/containers/0/image", "/spec/image"),
            (
                "/spec/driver/containers/0/resources/limits",
                "/spec/driver/gpu/limits",
            ),
            ("/spec/driver/containers/0/env/0", "/spec/driver/env/0"),
            (
                "/spec/driver/serviceAccountName",
                "/spec/driver/serviceAccount",
            ),
            ("/spec/driver/metadata/labels/k", "/spec/driver/labels/k"),
        ] {
            let mut path = seen.to_owned();
            remap_path(&p.remap, &mut path);
            assert_eq!(path, real);
        }
    }
}
