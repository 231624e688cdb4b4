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
//!   `priorityClassName`; the workflow-level defaults (`spec.nodeSelector`, …) are not merged
//!   in. A template without containers (`steps`, `dag`, `suspend`, `resource`) is no pod.
//! - A KServe component's `labels` and `annotations` are the pod's metadata (KServe copies them
//!   onto the pods); the InferenceService's own metadata is not.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

use crate::model::object::PodTemplate;
use crate::model::templates::Inline;
use crate::read::pointer;

/// KServe predictor and explainer framework fields, each a container with extras
/// (kserve/kserve `pkg/apis/serving/v1beta1/predictor.go`, `explainer.go`).
const KSERVE_CONTAINERS: &[&str] = &[
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

/// Builds the pod of one inline location; `Ok(None)` when the location holds no pod.
pub(crate) fn build(
    kind: Inline,
    pointer: String,
    v: Value,
) -> Result<Option<PodTemplate>, String> {
    let m = match v {
        Value::Null => return Ok(None),
        Value::Object(m) => m,
        _ => return Err(format!("`{pointer}` must be a map")),
    };
    match kind {
        Inline::KnativeTemplate => knative(pointer, m).map(Some),
        Inline::KServeRuntime | Inline::PodFields => {
            let mut m = m;
            let base = match kind {
                Inline::KServeRuntime => "kserve-container",
                _ => "container",
            };
            name_containers(&mut m, "containers", base);
            name_containers(&mut m, "initContainers", "init-container");
            let spec = pod_spec(&pointer, m)?;
            Ok(Some(pod(pointer.clone(), None, spec, pointer, Vec::new())))
        }
        Inline::KServeComponent => kserve_component(pointer, m),
        Inline::ArgoTemplate => argo(pointer, m),
        Inline::TrainJobTrainer => trainer(pointer, m),
    }
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
) -> Result<Option<PodTemplate>, String> {
    name_containers(&mut m, "containers", "kserve-container");
    name_containers(&mut m, "initContainers", "init-container");
    let mut containers = match m.remove("containers") {
        Some(Value::Array(list)) => list,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return Err(format!("`{pointer}/containers` must be a list")),
    };
    let mut remap = Vec::new();
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
    let mut meta = Map::new();
    for key in ["labels", "annotations"] {
        if let Some(v) = m.get(key) {
            meta.insert(key.to_owned(), v.clone());
        }
    }
    let meta = metadata(&pointer, Value::Object(meta))?;
    remap.push((format!("{pointer}/metadata"), pointer.clone()));
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

fn argo(pointer: String, mut m: Map<String, Value>) -> Result<Option<PodTemplate>, String> {
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

/// Rewrites `path` by the first remap whose prefix it starts with (at a token boundary).
pub(crate) fn remap_path(remap: &[(String, String)], path: &mut String) {
    for (from, to) in remap {
        if let Some(rest) = path.strip_prefix(from.as_str()) {
            if rest.is_empty() || rest.starts_with('/') {
                let rest = rest.to_owned();
                path.clear();
                path.push_str(to);
                path.push_str(&rest);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let p = build(Inline::ArgoTemplate, "/spec/templates/2".into(), t)
            .unwrap()
            .unwrap();
        let names: Vec<_> = p.spec.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["main", "s"]);
        assert_eq!(p.spec_pointer, "/spec/templates/2");
        assert_eq!(p.remap[1].1, "/spec/templates/2/sidecars/0");
        let steps = json!({"name": "main", "steps": [[{"name": "a", "template": "x"}]]});
        assert!(build(Inline::ArgoTemplate, "/t".into(), steps)
            .unwrap()
            .is_none());
    }

    #[test]
    fn kserve_model_is_a_container() {
        let c = json!({"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "gs://x",
            "resources": {"limits": {"nvidia.com/gpu": "1"}}}, "nodeSelector": {"a": "b"}});
        let p = build(Inline::KServeComponent, "/spec/predictor".into(), c)
            .unwrap()
            .unwrap();
        assert_eq!(p.spec.containers[0].name, "kserve-container");
        assert_eq!(p.remap[0].1, "/spec/predictor/model");
        assert!(p.spec.node_selector.is_some());
        assert!(build(Inline::KServeComponent, "/x".into(), json!("str")).is_err());
    }

    #[test]
    fn trainjob_trainer_is_one_node_container() {
        let t = json!({"image": "pytorch:2", "numNodes": 2,
            "resourcesPerNode": {"limits": {"nvidia.com/gpu": 8}}});
        let p = build(Inline::TrainJobTrainer, "/spec/trainer".into(), t)
            .unwrap()
            .unwrap();
        assert_eq!(p.spec.containers[0].image.as_deref(), Some("pytorch:2"));
        let mut path = "/spec/trainer/containers/0/image".to_owned();
        remap_path(&p.remap, &mut path);
        assert_eq!(path, "/spec/trainer/image");
        let mut path = "/spec/trainer/containers/0/resources/limits".to_owned();
        remap_path(&p.remap, &mut path);
        assert_eq!(path, "/spec/trainer/resourcesPerNode/limits");
    }
}
