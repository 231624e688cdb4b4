//! The projection of an admission request's object: pod specs and metadata read straight from
//! the bytes into only the fields some rule, the patch builder, `fits` or `--fix` reads, every
//! other field skipped without being built, then moved into the k8s-openapi types the rules
//! take (the fields not read are left at their defaults).
//!
//! The API server has decoded and validated an AdmissionReview's `object` before it calls a
//! webhook, so checking the types of fields no rule reads again is waste there; a manifest
//! keeps the full k8s-openapi read (README, "Admission reads only what the rules read"). The
//! reader falls back to the full read on any error, so a document either reads as before or
//! reads where the full read would have refused a field that is skipped here.
//!
//! Each field kept has the type k8s-openapi gives it (its `Option` included: k8s-openapi reads a
//! required field as optional and defaults it), so every value a rule sees is the one the full
//! read builds. Structs are read from maps only ([`MapOnly`]): serde's derive would also accept a
//! list of positional values, which k8s-openapi refuses.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, EnvVarSource, EphemeralContainer, EphemeralVolumeSource,
    HostPathVolumeSource, ImageVolumeSource, NodeAffinity, PersistentVolumeClaimVolumeSource,
    PodResourceClaim, PodSpec, PodTemplateSpec, ResourceRequirements, SecurityContext, Toleration,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::de::{
    value::MapAccessDeserializer, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor,
};
use serde::Deserialize;

/// A struct read from a map only, as k8s-openapi's visitors read them.
struct MapOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = MapOnly<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MapOnly<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(MapOnly)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// An optional map-only struct, converted.
fn conv<T, U>(v: Option<MapOnly<T>>, f: impl FnOnce(T) -> U) -> Option<U> {
    v.map(|MapOnly(t)| f(t))
}

/// An optional list of map-only structs, converted.
fn conv_list<T, U>(v: Option<Vec<MapOnly<T>>>, f: impl Fn(T) -> U) -> Option<Vec<U>> {
    v.map(|l| l.into_iter().map(|MapOnly(t)| f(t)).collect())
}

/// The metadata fields the rules read: names, labels and annotations (the exception
/// annotation), owners, `resourceVersion` and `uid`. `managedFields`, timestamps and
/// finalizers are skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    annotations: Option<BTreeMap<String, String>>,
    generate_name: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    name: Option<String>,
    namespace: Option<String>,
    /// Whether an object has owners is what a rule reads: each owner is kept as a default.
    owner_references: Option<Vec<MapOnly<IgnoredAny>>>,
    resource_version: Option<String>,
    uid: Option<String>,
}

impl From<Meta> for ObjectMeta {
    fn from(m: Meta) -> Self {
        ObjectMeta {
            annotations: m.annotations,
            generate_name: m.generate_name,
            labels: m.labels,
            name: m.name,
            namespace: m.namespace,
            owner_references: m
                .owner_references
                .map(|l| l.iter().map(|_| OwnerReference::default()).collect()),
            resource_version: m.resource_version,
            uid: m.uid,
            ..ObjectMeta::default()
        }
    }
}

/// `nodeAffinity` is the part of an affinity rules read (`podAffinity` and `podAntiAffinity`
/// are skipped); an affinity without it still reads as present.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimAffinity {
    node_affinity: Option<NodeAffinity>,
}

/// The container fields the rules read (the same for init and ephemeral containers):
/// `command`, `args`, `ports`, probes, `envFrom`, `lifecycle` and the rest are skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimContainer {
    env: Option<Vec<MapOnly<SlimEnvVar>>>,
    image: Option<String>,
    image_pull_policy: Option<String>,
    name: Option<String>,
    resources: Option<ResourceRequirements>,
    restart_policy: Option<String>,
    security_context: Option<MapOnly<SlimSecurityContext>>,
    volume_mounts: Option<Vec<MapOnly<SlimVolumeMount>>>,
}

/// An environment variable: its name, value and whether it has a `valueFrom` (a rule reads
/// only that one is there; it is kept as an empty source).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimEnvVar {
    name: Option<String>,
    value: Option<String>,
    value_from: Option<MapOnly<IgnoredAny>>,
}

/// `privileged` is the security-context field the rules read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimSecurityContext {
    privileged: Option<bool>,
}

/// A mount is matched to its volume by name.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimVolumeMount {
    name: Option<String>,
}

/// The volume sources the rules read: host paths (GPU device nodes), image volumes, claims.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimVolume {
    ephemeral: Option<EphemeralVolumeSource>,
    host_path: Option<HostPathVolumeSource>,
    image: Option<ImageVolumeSource>,
    name: Option<String>,
    persistent_volume_claim: Option<PersistentVolumeClaimVolumeSource>,
}

/// The pod-spec fields some rule, `fits` or a patch reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimPodSpec {
    affinity: Option<MapOnly<SlimAffinity>>,
    containers: Option<Vec<MapOnly<SlimContainer>>>,
    ephemeral_containers: Option<Vec<MapOnly<SlimContainer>>>,
    init_containers: Option<Vec<MapOnly<SlimContainer>>>,
    node_name: Option<String>,
    node_selector: Option<BTreeMap<String, String>>,
    overhead: Option<BTreeMap<String, Quantity>>,
    resource_claims: Option<Vec<PodResourceClaim>>,
    resources: Option<ResourceRequirements>,
    scheduler_name: Option<String>,
    termination_grace_period_seconds: Option<i64>,
    tolerations: Option<Vec<Toleration>>,
    volumes: Option<Vec<MapOnly<SlimVolume>>>,
}

/// A pod template: its metadata and spec.
#[derive(Deserialize)]
struct SlimTemplate {
    metadata: Option<MapOnly<Meta>>,
    spec: Option<MapOnly<SlimPodSpec>>,
}

fn env_var(e: SlimEnvVar) -> EnvVar {
    EnvVar {
        name: e.name.unwrap_or_default(),
        value: e.value,
        value_from: e.value_from.map(|_| EnvVarSource::default()),
    }
}

fn mount(m: SlimVolumeMount) -> VolumeMount {
    VolumeMount {
        name: m.name.unwrap_or_default(),
        ..VolumeMount::default()
    }
}

fn security(s: SlimSecurityContext) -> SecurityContext {
    SecurityContext {
        privileged: s.privileged,
        ..SecurityContext::default()
    }
}

fn container(c: SlimContainer) -> Container {
    Container {
        env: conv_list(c.env, env_var),
        image: c.image,
        image_pull_policy: c.image_pull_policy,
        name: c.name.unwrap_or_default(),
        resources: c.resources,
        restart_policy: c.restart_policy,
        security_context: conv(c.security_context, security),
        volume_mounts: conv_list(c.volume_mounts, mount),
        ..Container::default()
    }
}

fn ephemeral_container(c: SlimContainer) -> EphemeralContainer {
    EphemeralContainer {
        env: conv_list(c.env, env_var),
        image: c.image,
        image_pull_policy: c.image_pull_policy,
        name: c.name.unwrap_or_default(),
        resources: c.resources,
        restart_policy: c.restart_policy,
        security_context: conv(c.security_context, security),
        volume_mounts: conv_list(c.volume_mounts, mount),
        ..EphemeralContainer::default()
    }
}

fn volume(v: SlimVolume) -> Volume {
    Volume {
        ephemeral: v.ephemeral,
        host_path: v.host_path,
        image: v.image,
        name: v.name.unwrap_or_default(),
        persistent_volume_claim: v.persistent_volume_claim,
        ..Volume::default()
    }
}

impl From<SlimPodSpec> for PodSpec {
    fn from(s: SlimPodSpec) -> Self {
        PodSpec {
            affinity: conv(s.affinity, |a| Affinity {
                node_affinity: a.node_affinity,
                ..Affinity::default()
            }),
            containers: conv_list(s.containers, container).unwrap_or_default(),
            ephemeral_containers: conv_list(s.ephemeral_containers, ephemeral_container),
            init_containers: conv_list(s.init_containers, container),
            node_name: s.node_name,
            node_selector: s.node_selector,
            overhead: s.overhead,
            resource_claims: s.resource_claims,
            resources: s.resources,
            scheduler_name: s.scheduler_name,
            termination_grace_period_seconds: s.termination_grace_period_seconds,
            tolerations: s.tolerations,
            volumes: conv_list(s.volumes, volume),
            ..PodSpec::default()
        }
    }
}

/// Reads an object's `metadata` (or `null`), keeping the fields the rules read.
pub(crate) struct MetadataSeed;

impl<'de> DeserializeSeed<'de> for MetadataSeed {
    type Value = Option<ObjectMeta>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<ObjectMeta>, D::Error> {
        Ok(Option::<MapOnly<Meta>>::deserialize(d)?.map(|MapOnly(m)| m.into()))
    }
}

/// Reads a pod spec (or `null`), keeping the fields the rules read.
pub(crate) fn pod_spec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PodSpec>, D::Error> {
    Ok(Option::<MapOnly<SlimPodSpec>>::deserialize(d)?.map(|MapOnly(s)| s.into()))
}

/// Reads a pod template (or `null`), keeping the fields the rules read.
pub(crate) fn pod_template<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<PodTemplateSpec>, D::Error> {
    Ok(
        Option::<MapOnly<SlimTemplate>>::deserialize(d)?.map(|MapOnly(t)| PodTemplateSpec {
            metadata: t.metadata.map(|MapOnly(m)| m.into()),
            spec: t.spec.map(|MapOnly(s)| s.into()),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}]}},
            "podAntiAffinity": {}},
        "initContainers": [{"name": "init", "image": "busybox:1", "restartPolicy": "Always",
            "resources": {"requests": {"cpu": "1"}}}],
        "containers": [{"name": "a", "image": "nginx:1", "imagePullPolicy": "Always",
            "command": ["sh"], "args": ["-c"], "ports": [{"containerPort": 80}],
            "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
                    {"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
            "resources": {"limits": {"nvidia.com/gpu": "1"}, "claims": [{"name": "gpu"}]},
            "securityContext": {"privileged": true, "runAsUser": 0},
            "volumeMounts": [{"name": "dev", "mountPath": "/dev/nvidia0"}]}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox"}],
        "nodeName": "n1", "nodeSelector": {"a": "b"}, "overhead": {"cpu": "100m"},
        "resourceClaims": [{"name": "gpu", "resourceClaimName": "c"}],
        "resources": {"requests": {"memory": "1Gi"}}, "schedulerName": "s",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [{"key": "k", "operator": "Exists"}],
        "volumes": [{"name": "dev", "hostPath": {"path": "/dev/nvidia0"}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "c"}},
                    {"name": "tmp", "ephemeral": {}},
                    {"name": "model", "image": {"reference": "m:1", "pullPolicy": "Always"}},
                    {"name": "cfg", "configMap": {"name": "c"}}],
        "dnsPolicy": "ClusterFirst", "priorityClassName": "high"
    }"#;

    /// The full read with only the fields the projection keeps, as the projection builds them.
    fn project(mut full: PodSpec) -> PodSpec {
        let keep_container = |c: &mut Container| {
            *c = Container {
                env: c.env.take().map(|l| {
                    l.into_iter()
                        .map(|e| EnvVar {
                            value_from: e.value_from.map(|_| EnvVarSource::default()),
                            ..e
                        })
                        .collect()
                }),
                image: c.image.take(),
                image_pull_policy: c.image_pull_policy.take(),
                name: std::mem::take(&mut c.name),
                resources: c.resources.take(),
                restart_policy: c.restart_policy.take(),
                security_context: c.security_context.take().map(|s| SecurityContext {
                    privileged: s.privileged,
                    ..SecurityContext::default()
                }),
                volume_mounts: c.volume_mounts.take().map(|l| {
                    l.into_iter()
                        .map(|m| VolumeMount {
                            name: m.name,
                            ..VolumeMount::default()
                        })
                        .collect()
                }),
                ..Container::default()
            };
        };
        full.containers.iter_mut().for_each(keep_container);
        full.init_containers
            .iter_mut()
            .flatten()
            .for_each(keep_container);
        for c in full.ephemeral_containers.iter_mut().flatten() {
            *c = EphemeralContainer {
                name: std::mem::take(&mut c.name),
                image: c.image.take(),
                ..EphemeralContainer::default()
            };
        }
        for v in full.volumes.iter_mut().flatten() {
            *v = Volume {
                ephemeral: v.ephemeral.take(),
                host_path: v.host_path.take(),
                image: v.image.take(),
                name: std::mem::take(&mut v.name),
                persistent_volume_claim: v.persistent_volume_claim.take(),
                ..Volume::default()
            };
        }
        full.affinity = full.affinity.map(|a| Affinity {
            node_affinity: a.node_affinity,
            ..Affinity::default()
        });
        full.dns_policy = None;
        full.priority_class_name = None;
        full
    }

    #[test]
    fn keeps_every_field_the_rules_read_as_the_full_read_builds_it() {
        let full: PodSpec = serde_json::from_str(POD).unwrap();
        let slim = pod_spec(&mut serde_json::Deserializer::from_str(POD))
            .unwrap()
            .unwrap();
        assert_ne!(slim, full, "the projection skips fields");
        assert_eq!(slim, project(full));
    }

    #[test]
    fn reads_structs_from_maps_only_as_k8s_openapi_does() {
        // serde's derive would read `[true]` as `{privileged: true}`; k8s-openapi refuses it.
        let text = r#"{"containers": [{"name": "a", "securityContext": [true]}]}"#;
        assert!(serde_json::from_str::<PodSpec>(text).is_err());
        assert!(pod_spec(&mut serde_json::Deserializer::from_str(text)).is_err());
        // `null` is an absent field in both.
        let text = r#"{"containers": null, "affinity": null, "volumes": [{"name": null}]}"#;
        let full: PodSpec = serde_json::from_str(text).unwrap();
        let slim = pod_spec(&mut serde_json::Deserializer::from_str(text)).unwrap();
        assert_eq!(slim, Some(full));
    }

    #[test]
    fn metadata_keeps_owners_as_presence() {
        let text = r#"{"name": "a", "labels": {"x": "y"}, "ownerReferences": [{"apiVersion": "v1",
            "kind": "ReplicaSet", "name": "r", "uid": "u"}], "managedFields": [{"manager": "m"}],
            "resourceVersion": "7", "uid": "u1", "annotations": {"k": "v"}}"#;
        let m = MetadataSeed
            .deserialize(&mut serde_json::Deserializer::from_str(text))
            .unwrap()
            .unwrap();
        assert_eq!(m.owner_references.as_ref().map(Vec::len), Some(1));
        assert_eq!(m.managed_fields, None);
        assert_eq!(m.resource_version.as_deref(), Some("7"));
        assert_eq!(m.uid.as_deref(), Some("u1"));
        assert_eq!(m.labels.map(|l| l.len()), Some(1));
        assert_eq!(m.annotations.map(|l| l.len()), Some(1));
    }
}
