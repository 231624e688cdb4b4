//! The typed object model and its one-pass parser.
//!
//! A document is read straight into k8s-openapi types at the locations the template table names
//! ([`crate::model::templates`]); everything else is skipped without being built. The same parser runs
//! over JSON text (the fast path) and over an already-parsed `serde_json::Value` (YAML, and the
//! precise-error path).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{NodeSpec, PodSpec, PodTemplateSpec, Taint};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::container_probe::{self as probe, ContainerLists};
use crate::model::templates::{api_group, Leaf, Shape, Shapes};
use crate::read::pointer;

/// One Kubernetes object, read into typed parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// Every pod spec in the object: a Pod's own spec, or each pod template of a workload.
    pub pods: Vec<PodTemplate>,
    /// A Node's spec.
    pub node: Option<Box<NodeSpec>>,
    /// A Node's `status.allocatable`; `None` when the document has none.
    pub node_allocatable: Option<BTreeMap<String, Quantity>>,
    /// A CoreWeave NodePool's spec.
    pub node_pool: Option<Box<NodePoolSpec>>,
    /// Raw values captured at table locations (`/spec/parallelism`, …), in document order.
    pub captured: Vec<(String, Value)>,
    /// `containers` lists in a custom resource of a kind the table does not know, which no
    /// pod rule judged (the `pod-template-unknown` rule).
    pub unjudged_containers: ContainerLists,
    /// OCI images named outside a container: each KServe `storageUri: oci://…` (pointer to the
    /// field, URI as written), in document order (see `inline_pods::oci_storage_uris`).
    pub oci_models: Vec<(String, String)>,
}

/// A pod spec found in an object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodTemplate {
    /// Pointer to the template (`/spec/template`), or `""` for a Pod itself.
    pub pointer: String,
    /// The template's metadata; `None` for a Pod (its metadata is the object's).
    pub metadata: Option<ObjectMeta>,
    /// The pod spec.
    pub spec: PodSpec,
    /// Where the pod spec's fields sit: `{pointer}/spec` for a template, `/spec` for a Pod, the
    /// template itself for kinds that inline pod fields (KServe components, Argo templates).
    pub spec_pointer: String,
    /// For pods assembled from a kind's own fields (an Argo template's `container`, a TrainJob's
    /// `trainer`): pointer prefixes the rules see (`…/containers/0`) and the real fields they stand
    /// for, applied to finding and patch paths after the rules ran.
    pub remap: Vec<(String, String)>,
}

/// A borrowed view of one pod spec with its labels and where it sits in the document.
#[derive(Debug, Clone, Copy)]
pub struct PodRef<'a> {
    /// Pointer to the template, `""` for a Pod.
    pub base: &'a str,
    /// The pod's metadata (the object's for a Pod, the template's otherwise).
    pub metadata: &'a ObjectMeta,
    /// The pod spec.
    pub spec: &'a PodSpec,
    /// Pointer to the pod spec's fields.
    pub spec_pointer: &'a str,
    /// True for a template inside a workload, false for a Pod.
    pub is_template: bool,
}

impl PodRef<'_> {
    /// Pointer to the pod's `metadata`.
    pub fn metadata_path(&self) -> String {
        format!("{}/metadata", self.base)
    }
    /// Pointer to the pod's `spec`.
    pub fn spec_path(&self) -> String {
        self.spec_pointer.to_owned()
    }
    /// The pod's labels (empty when none).
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// One label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .map(String::as_str)
    }
}

static EMPTY_META: ObjectMeta = ObjectMeta {
    annotations: None,
    creation_timestamp: None,
    deletion_grace_period_seconds: None,
    deletion_timestamp: None,
    finalizers: None,
    generate_name: None,
    generation: None,
    labels: None,
    managed_fields: None,
    name: None,
    namespace: None,
    owner_references: None,
    resource_version: None,
    self_link: None,
    uid: None,
};

impl Object {
    /// The API group (`""` for core).
    pub fn group(&self) -> &str {
        api_group(&self.api_version)
    }
    /// `metadata.name`, else `metadata.generateName`.
    pub fn name(&self) -> Option<&str> {
        self.metadata
            .name
            .as_deref()
            .or(self.metadata.generate_name.as_deref())
    }
    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }
    /// The object's own labels.
    pub fn labels(&self) -> Option<&BTreeMap<String, String>> {
        self.metadata.labels.as_ref()
    }
    /// True for the given group and kind. A removed apiVersion counts as its replacement's
    /// group (an `extensions/v1beta1` DaemonSet is an `apps` DaemonSet to the rules; see
    /// `rules::removed_apis`).
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind == kind
            && (self.group() == group
                || crate::model::removed_apis::replacement_group(&self.api_version, kind)
                    == Some(group))
    }
    /// Every pod spec in the object, in document order.
    pub fn pod_refs(&self) -> impl Iterator<Item = PodRef<'_>> {
        self.pods.iter().map(move |p| PodRef {
            base: &p.pointer,
            metadata: match &p.metadata {
                Some(m) => m,
                None if p.pointer.is_empty() => &self.metadata,
                None => &EMPTY_META,
            },
            spec: &p.spec,
            spec_pointer: &p.spec_pointer,
            is_template: !p.pointer.is_empty(),
        })
    }
    /// A captured value by its exact pointer. Only fields a rule declares it reads (`reads` on
    /// its catalogue line) are captured; asking for another is a bug the debug builds (every
    /// golden vector and test) catch here rather than reading `None` forever.
    pub fn captured(&self, pointer: &str) -> Option<&Value> {
        debug_assert!(
            crate::model::catalogue::READS
                .iter()
                .any(|&(g, k, p)| p == pointer && self.is(g, k)),
            "`{pointer}` of {} {} is read but no catalogue line declares it in `reads`",
            self.api_version,
            self.kind
        );
        self.captured
            .iter()
            .find(|(p, _)| p == pointer)
            .map(|(_, v)| v)
    }
}

/// The spec of a CoreWeave NodePool (`compute.coreweave.com/v1alpha1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolSpec {
    /// Instance ID; immutable after creation.
    pub instance_type: Option<String>,
    /// Desired node count (not with `targetRacks`).
    pub target_nodes: Option<i64>,
    /// Desired rack count, rack-scale types only.
    pub target_racks: Option<i64>,
    /// Autoscaling lower bound.
    pub min_nodes: Option<i64>,
    /// Autoscaling upper bound.
    pub max_nodes: Option<i64>,
    /// Whether the pool autoscales.
    pub autoscaling: Option<bool>,
    /// Labels put on every node of the pool.
    pub node_labels: Option<BTreeMap<String, String>>,
    /// Annotations put on every node of the pool.
    pub node_annotations: Option<BTreeMap<String, String>>,
    /// Taints put on every node of the pool.
    pub node_taints: Option<Vec<Taint>>,
    /// Compute class (`default` or `spot`); immutable after creation.
    pub compute_class: Option<String>,
    /// How node configuration changes roll out.
    pub node_configuration_update_strategy: Option<NodeConfigurationUpdateStrategy>,
}

/// A NodePool's `spec.nodeConfigurationUpdateStrategy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeConfigurationUpdateStrategy {
    /// `Manual`, `OnSpecUpdate` (default), `Always` or `RolloutOnCommand`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// The request operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// Create (also how bare manifests are judged).
    #[default]
    Create,
    /// Update; `oldObject` holds the previous state.
    Update,
    /// Delete; `oldObject` holds the object.
    Delete,
    /// Connect (exec, attach, …): nothing to judge.
    Connect,
}

/// Who sent the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The requester's user name.
    #[serde(default)]
    pub username: Option<String>,
    /// The requester's groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The `kind` of an AdmissionRequest (group, version, kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    /// API group.
    #[serde(default)]
    pub group: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
}

/// An `admission.k8s.io/v1` AdmissionRequest, typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Copied into the response.
    pub uid: String,
    /// What is being done.
    pub operation: Operation,
    /// The object's group/version/kind as the API server saw it.
    pub kind: Option<GroupVersionKind>,
    /// The new object (absent on DELETE).
    pub object: Option<Object>,
    /// The previous object (UPDATE, DELETE).
    pub old_object: Option<Object>,
    /// The requester.
    pub user_info: UserInfo,
    /// The request's namespace.
    pub namespace: Option<String>,
    /// The request's object name.
    pub name: Option<String>,
    /// Dry run (judged the same).
    pub dry_run: bool,
    /// Whether the object is judged as admission would judge the request, or as an object
    /// that already exists in the cluster.
    pub judgement: Judgement,
    /// Where the request came from: an AdmissionRequest (the default), or a manifest the
    /// caller read from text. Decides whether the object's own exception annotation counts.
    pub origin: Origin,
}

/// Where a request came from, which decides whether the object may exempt itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// An AdmissionRequest (from an AdmissionReview, or built by a caller): the object's own
    /// exception annotation counts only when settings `exceptions.annotations` is true.
    #[default]
    AdmissionRequest,
    /// A manifest read from text (`check`, `audit`, `evaluate_value` of a manifest): the
    /// exception annotation counts unless settings say `exceptions.annotations: never`.
    Manifest,
    /// A manifest read from text by `check` that carries server-set metadata (a non-zero
    /// `metadata.resourceVersion`): judged as an existing object, and told so by
    /// `server-set-metadata`, since change rules do not run on it.
    ReadBack,
}

impl Origin {
    /// Whether the request is a manifest read from text (either kind).
    pub fn is_manifest(self) -> bool {
        matches!(self, Origin::Manifest | Origin::ReadBack)
    }
}

/// How a request is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Judgement {
    /// As admission judges the operation: the default, and always for an AdmissionReview.
    #[default]
    Admission,
    /// As existing cluster state (`cks-policy audit`, or a manifest read back from a cluster
    /// with `metadata.resourceVersion`): change rules do not fire, and mutations are reported
    /// as the findings of what CKS admission would have added, with no patch.
    Audit,
}

impl Request {
    /// A bare manifest: a CREATE by an unknown, non-exempt user.
    pub fn create(object: Object) -> Self {
        Request {
            namespace: object.metadata.namespace.clone(),
            object: Some(object),
            ..Request::default()
        }
    }

    /// How this request is judged: its [`Judgement`], or [`Judgement::Audit`] for a request
    /// shaped as Kubewarden's audit scanner presents an existing object (see
    /// [`Request::is_background_audit`]).
    pub fn judged_as(&self) -> Judgement {
        if self.judgement == Judgement::Audit || self.is_background_audit() {
            Judgement::Audit
        } else {
            Judgement::Admission
        }
    }

    /// Whether this is Kubewarden's background audit presenting an object that already exists.
    ///
    /// The audit scanner (kubewarden/audit-scanner `internal/scanner/admission_request.go`,
    /// `newAdmissionRequest`, lines 10–38 at 8472a7c) wraps each existing resource in an
    /// AdmissionRequest with `operation: CREATE`, the resource's own `uid`, and no `userInfo`
    /// and no `dryRun` at all; the object is the stored one, so it carries
    /// `metadata.resourceVersion`. A request from the API server always names its user (at
    /// least `system:anonymous`), and a real CREATE of an object with `resourceVersion` set is
    /// refused by the API server's storage ("resourceVersion should not be set on objects to
    /// be created") whatever admission says, so this shape cannot be used to create anything
    /// unjudged.
    /// A manifest read from text is never this shape: `check` decides from its
    /// `resourceVersion` itself (see [`Origin::ReadBack`]).
    pub fn is_background_audit(&self) -> bool {
        self.origin == Origin::AdmissionRequest
            && self.operation == Operation::Create
            && self.user_info.username.as_deref().is_none_or(str::is_empty)
            && self.user_info.groups.is_empty()
            && self.object.as_ref().is_some_and(|o| {
                // Stored objects carry an etcd revision: a non-zero number. An object with an
                // empty or zero `resourceVersion` is created like any other, so it is judged
                // as the CREATE it is (as `check` judges such a manifest).
                o.metadata
                    .resource_version
                    .as_deref()
                    .and_then(|v| v.parse::<u64>().ok())
                    .is_some_and(|v| v != 0)
            })
    }

    /// An object that exists in the cluster, judged as state ([`Judgement::Audit`]).
    pub fn existing(object: Object) -> Self {
        Request {
            judgement: Judgement::Audit,
            ..Request::create(object)
        }
    }
}

/// What one YAML/JSON document turned out to hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// A Kubernetes object.
    Object(Box<Object>),
    /// A `kind: List` (or `*List`) with its items.
    List(Vec<Object>),
    /// An AdmissionReview's request.
    Review(Box<Request>),
    /// A bare AdmissionRequest (no AdmissionReview around it).
    Request(Box<Request>),
}

/// Parses one document with the given shapes.
pub(crate) struct DocSeed<'s> {
    pub shapes: &'s Shapes,
    /// Read the `object` and `oldObject` of an AdmissionRequest through the projection of
    /// [`crate::model::slim`] (the fields the rules read) instead of k8s-openapi in full.
    pub slim: bool,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = Doc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
        d.deserialize_map(DocVisitor {
            shapes: self.shapes,
            slim: self.slim,
            project: false,
        })
    }
}

struct DocVisitor<'s> {
    shapes: &'s Shapes,
    /// A request's objects are read through the projection.
    slim: bool,
    /// This document is such an object.
    project: bool,
}

/// A map key, borrowed from the input when possible.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `kind` is a string on objects and a group/version/kind map on an AdmissionRequest.
#[derive(Deserialize)]
#[serde(untagged)]
enum KindField {
    Name(String),
    Gvk(GroupVersionKind),
}

/// [`KindField`] read without the untagged enum's buffering: a string or a map, nothing else
/// (on anything else the document is read again in full, with the enum).
struct KindSeed;

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = KindField;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<KindField, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KindField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a kind name or a group/version/kind map")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KindField, E> {
                Ok(KindField::Name(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<KindField, A::Error> {
                GroupVersionKind::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(KindField::Gvk)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Default)]
struct Collected {
    pods: Vec<PodTemplate>,
    node: Option<Box<NodeSpec>>,
    node_allocatable: Option<BTreeMap<String, Quantity>>,
    node_pool: Option<Box<NodePoolSpec>>,
    captured: Vec<(String, Value)>,
    unjudged_containers: ContainerLists,
    oci_models: Vec<(String, String)>,
    /// Values of [`Leaf::Shared`] locations, copied into the pods once the object is read.
    shared: Vec<(String, crate::model::templates::Shared, Value)>,
    /// Pod templates and specs are read through the projection ([`crate::model::slim`]).
    slim: bool,
}

impl<'de> Visitor<'de> for DocVisitor<'_> {
    type Value = Doc;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object (a map with `apiVersion` and `kind`)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut api_version: Option<String> = None;
        let mut kind: Option<String> = None;
        let mut gvk: Option<GroupVersionKind> = None;
        let mut metadata: Option<ObjectMeta> = None;
        let mut collected = Collected {
            slim: self.project,
            ..Collected::default()
        };
        // A request field skipped unread on the fast path (see below); the document must then
        // turn out to be a request.
        let mut skipped = false;
        let mut pending: Vec<(String, Value)> = Vec::new();
        let mut request: Option<Request> = None;
        let mut items: Option<Vec<Object>> = None;
        // Fields of a bare AdmissionRequest (or of `request` inside a review).
        let mut req = Request::default();
        let mut is_request = false;

        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_ref() {
                "apiVersion" => api_version = Some(map.next_value()?),
                "kind" if self.slim || self.project => match map.next_value_seed(KindSeed)? {
                    KindField::Name(k) => kind = Some(k),
                    KindField::Gvk(g) => {
                        is_request = true;
                        gvk = Some(g);
                    }
                },
                "kind" => match map.next_value::<KindField>()? {
                    KindField::Name(k) => kind = Some(k),
                    KindField::Gvk(g) => {
                        is_request = true;
                        gvk = Some(g);
                    }
                },
                "metadata" if self.project => {
                    metadata = map.next_value_seed(crate::model::slim::MetadataSeed)?
                }
                "metadata" => metadata = map.next_value::<Option<ObjectMeta>>()?,
                "request" => {
                    let doc = map.next_value_seed(DocSeed {
                        shapes: self.shapes,
                        slim: self.slim,
                    })?;
                    match doc {
                        Doc::Review(r) | Doc::Request(r) => request = Some(*r),
                        _ => return Err(de::Error::custom("`request` is not an AdmissionRequest")),
                    }
                }
                "object" | "oldObject" => {
                    let obj = map.next_value_seed(ObjectFieldSeed {
                        shapes: self.shapes,
                        slim: self.slim,
                    })?;
                    if key == "object" {
                        req.object = obj;
                    } else {
                        req.old_object = obj;
                    }
                    is_request = true;
                }
                "uid" => req.uid = map.next_value::<Option<String>>()?.unwrap_or_default(),
                "operation" => {
                    req.operation = map.next_value()?;
                    is_request = true;
                }
                "userInfo" => {
                    req.user_info = map.next_value::<Option<UserInfo>>()?.unwrap_or_default()
                }
                "namespace" => req.namespace = map.next_value()?,
                "name" => req.name = map.next_value()?,
                "dryRun" => req.dry_run = map.next_value::<Option<bool>>()?.unwrap_or(false),
                other => {
                    let shape = match (&api_version, &kind) {
                        (Some(v), Some(k)) => Some(self.shapes.get(v, k)),
                        _ => None,
                    };
                    match shape {
                        Some(Some(shape)) => {
                            if let Some(child) = shape.child(other) {
                                let mut p = String::new();
                                pointer::push(&mut p, other);
                                map.next_value_seed(ShapeSeed {
                                    shapes: self.shapes,
                                    shape: child,
                                    pointer: p,
                                    out: &mut collected,
                                })?;
                            } else {
                                map.next_value::<IgnoredAny>()?;
                            }
                        }
                        Some(None) if other == "items" && is_list(kind.as_deref()) => {
                            items = map.next_value_seed(ItemsSeed {
                                shapes: self.shapes,
                            })?;
                        }
                        Some(None) if api_version.as_deref().is_some_and(probe::probes) => {
                            map.next_value_seed(probe::Seed {
                                key: other,
                                out: &mut collected.unjudged_containers,
                            })?;
                        }
                        Some(None) => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        // The rest of an AdmissionRequest (`options`, `resource`, …) is read by no
                        // rule: on the fast path it is skipped rather than kept for a kind.
                        None if self.slim && gvk.is_some() => {
                            skipped = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        None => pending.push((other.to_owned(), map.next_value()?)),
                    }
                }
            }
        }

        if kind.as_deref() == Some("AdmissionReview") {
            return match request {
                Some(r) => Ok(Doc::Review(Box::new(r))),
                None => Err(de::Error::custom("AdmissionReview has no `request`")),
            };
        }
        if is_request && kind.is_none() {
            // A webhook's response must contain `uid`, "copied from the `request.uid` sent to
            // the webhook" (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response),
            // and the API server refuses an answer whose uid differs, so a request without one
            // cannot be answered.
            if req.uid.is_empty() {
                return Err(de::Error::custom(
                    "the AdmissionRequest has no `uid`: the API server always sends one and refuses an answer without it",
                ));
            }
            req.kind = gvk;
            return Ok(Doc::Request(Box::new(req)));
        }
        // An empty kind is a missing one, as apimachinery's unstructured scheme decides
        // (apimachinery unstructured.go `Decode`: `if len(gvk.Kind) == 0` → `NewMissingKindErr`).
        let kind = kind.filter(|k| !k.is_empty());
        if skipped {
            // Not a request after all (a second `kind`): read it again in full.
            return Err(de::Error::custom("a request field was skipped"));
        }
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return Err(de::Error::custom(
                "not a Kubernetes object: `apiVersion` and `kind` are required",
            ));
        };
        let shape = self.shapes.get(&api_version, &kind);
        for (key, value) in &pending {
            if let Some(child) = shape.and_then(|s| s.child(key)) {
                let mut p = String::new();
                pointer::push(&mut p, key);
                replay(value, |d| {
                    ShapeSeed {
                        shapes: self.shapes,
                        shape: child,
                        pointer: p,
                        out: &mut collected,
                    }
                    .deserialize(d)
                })?;
            } else if key == "items" && is_list(Some(&kind)) && shape.is_none() {
                items = replay(value, |d| {
                    ItemsSeed {
                        shapes: self.shapes,
                    }
                    .deserialize(d)
                })?;
            } else if shape.is_none() && probe::probes(&api_version) {
                replay(value, |d| {
                    probe::Seed {
                        key,
                        out: &mut collected.unjudged_containers,
                    }
                    .deserialize(d)
                })?;
            }
        }
        // A `…List` kind with an `items` array (what `kubectl get -o yaml` prints, read by
        // `fits`). Manifests never reach this with a top-level `items`: `read::list_items`
        // reads those from the tree first, as kubectl does, whatever their kind.
        if is_list(Some(&kind)) && shape.is_none() {
            if let Some(items) = items {
                return Ok(Doc::List(items));
            }
        }
        let metadata = metadata.unwrap_or_default();
        let object_labels = crate::model::templates::traits(api_group(&api_version), &kind)
            & crate::model::templates::OBJECT_LABELS
            != 0;
        crate::model::inline_pods::share(
            &mut collected.pods,
            collected.shared,
            object_labels.then_some(&metadata),
        )
        .map_err(de::Error::custom)?;
        Ok(Doc::Object(Box::new(Object {
            api_version,
            kind,
            metadata,
            pods: collected.pods,
            node: collected.node,
            node_allocatable: collected.node_allocatable,
            node_pool: collected.node_pool,
            captured: collected.captured,
            unjudged_containers: collected.unjudged_containers,
            oci_models: collected.oci_models,
        })))
    }
}

/// Reads a buffered value again through the slice deserializer, as the typed reader reads text
/// (see `inline_pods::typed`): a second copy of every decoder for `&Value` would cost the wasm
/// modules their size budget. Values have no duplicate keys and write back exactly.
fn replay<T, E: de::Error>(
    value: &Value,
    read: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, E> {
    let bytes = serde_json::to_vec(value).map_err(E::custom)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    de.disable_recursion_limit();
    read(&mut de).map_err(E::custom)
}

/// True for `List` and `*List` kinds.
pub(crate) fn is_list(kind: Option<&str>) -> bool {
    kind.is_some_and(|k| k.ends_with("List"))
}

struct ObjectFieldSeed<'s> {
    shapes: &'s Shapes,
    /// Read the object through the projection.
    slim: bool,
}

impl<'de> DeserializeSeed<'de> for ObjectFieldSeed<'_> {
    type Value = Option<Object>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Object>, D::Error> {
        struct V<'s>(&'s Shapes, bool);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = Option<Object>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Kubernetes object or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<Object>, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<Object>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Object>, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Object>, A::Error> {
                let doc = DocVisitor {
                    shapes: self.0,
                    slim: false,
                    project: self.1,
                };
                match doc.visit_map(map)? {
                    Doc::Object(o) => Ok(Some(*o)),
                    _ => Err(de::Error::custom(
                        "the request's object is not a single Kubernetes object",
                    )),
                }
            }
        }
        d.deserialize_option(V(self.shapes, self.slim))
    }
}

struct ItemsSeed<'s> {
    shapes: &'s Shapes,
}

/// `items` of a `*List` kind: the objects when it is an array, `None` otherwise (then the
/// document is not a list).
impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Option<Vec<Object>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V<'s>(&'s Shapes);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = Option<Vec<Object>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of Kubernetes objects")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element_seed(ObjectFieldSeed {
                    shapes: self.0,
                    slim: false,
                })? {
                    match item {
                        Some(o) => out.push(o),
                        None => return Err(de::Error::custom("a list item is null")),
                    }
                }
                Ok(Some(out))
            }
        }
        d.deserialize_any(V(self.shapes))
    }
}

/// Walks one location trie node, building leaves and skipping everything else.
struct ShapeSeed<'s, 'c> {
    /// Every kind's locations, for an embedded object ([`Leaf::Embedded`]).
    shapes: &'s Shapes,
    shape: &'s Shape,
    pointer: String,
    out: &'c mut Collected,
}

impl<'de> DeserializeSeed<'de> for ShapeSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ShapeSeed {
            shapes,
            shape,
            pointer,
            out,
        } = self;
        match shape.leaf {
            Some(Leaf::PodTemplate) => {
                let t = if out.slim {
                    crate::model::slim::pod_template(d)?
                } else {
                    Option::<PodTemplateSpec>::deserialize(d)?
                };
                if let Some(t) = t {
                    out.pods.push(PodTemplate {
                        spec_pointer: format!("{pointer}/spec"),
                        pointer,
                        metadata: Some(t.metadata.unwrap_or_default()),
                        spec: t.spec.unwrap_or_default(),
                        remap: Vec::new(),
                    });
                }
                Ok(())
            }
            Some(Leaf::Inline(kind)) => {
                let v = Value::deserialize(d)?;
                if kind == crate::model::templates::Inline::KServeComponent {
                    crate::model::inline_pods::oci_storage_uris(&pointer, &v, &mut out.oci_models);
                }
                crate::model::inline_pods::build(kind, pointer, v, &mut out.pods)
                    .map_err(de::Error::custom)
            }
            Some(Leaf::Shared(how)) => {
                let v = Value::deserialize(d)?;
                if !v.is_null() {
                    out.shared.push((pointer, how, v));
                }
                Ok(())
            }
            Some(Leaf::Embedded) => {
                let v = Value::deserialize(d)?;
                let Value::Object(m) = v else { return Ok(()) };
                let (Some(av), Some(kind)) = (
                    m.get("apiVersion").and_then(Value::as_str),
                    m.get("kind").and_then(Value::as_str),
                ) else {
                    return Ok(());
                };
                let Some(embedded) = shapes.get(av, kind) else {
                    return Ok(());
                };
                let first = out.pods.len();
                for (key, value) in &m {
                    let Some(child) = embedded.child(key) else {
                        continue;
                    };
                    let mut p = pointer.clone();
                    pointer::push(&mut p, key);
                    replay(value, |d| {
                        ShapeSeed {
                            shapes,
                            shape: child,
                            pointer: p,
                            out: &mut *out,
                        }
                        .deserialize(d)
                    })?;
                }
                // A wrapped Pod's metadata is its own, as a Pod's is the object's.
                if let Some(meta) = m.get("metadata") {
                    for p in out.pods[first..].iter_mut() {
                        if p.pointer == pointer && p.metadata.is_none() {
                            p.metadata = replay(meta, |d| Option::<ObjectMeta>::deserialize(d))?;
                        }
                    }
                }
                Ok(())
            }
            Some(Leaf::PodSpec) => {
                let spec = if out.slim {
                    crate::model::slim::pod_spec(d)?
                } else {
                    Option::<PodSpec>::deserialize(d)?
                }
                .unwrap_or_default();
                // The Pod's own spec: its base is the object root.
                let base = pointer
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .unwrap_or_default();
                out.pods.push(PodTemplate {
                    pointer: base,
                    metadata: None,
                    spec,
                    spec_pointer: pointer,
                    remap: Vec::new(),
                });
                Ok(())
            }
            Some(Leaf::NodeSpec) => {
                out.node = Some(Box::new(
                    Option::<NodeSpec>::deserialize(d)?.unwrap_or_default(),
                ));
                Ok(())
            }
            Some(Leaf::NodeAllocatable) => {
                // `allocatable: null` reads as absent: the node is not judged on resources.
                out.node_allocatable = Option::<BTreeMap<String, Quantity>>::deserialize(d)?;
                Ok(())
            }
            Some(Leaf::NodePoolSpec) => {
                out.node_pool = Some(Box::new(
                    Option::<NodePoolSpec>::deserialize(d)?.unwrap_or_default(),
                ));
                Ok(())
            }
            Some(Leaf::Capture) => {
                let v = Value::deserialize(d)?;
                out.captured.push((pointer, v));
                Ok(())
            }
            None => d.deserialize_any(ShapeVisitor {
                shapes,
                shape,
                pointer,
                out,
            }),
        }
    }
}

struct ShapeVisitor<'s, 'c> {
    shapes: &'s Shapes,
    shape: &'s Shape,
    pointer: String,
    out: &'c mut Collected,
}

impl<'de> Visitor<'de> for ShapeVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map or a list")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match self.shape.child(&key) {
                Some(child) => {
                    let mut p = String::with_capacity(self.pointer.len() + key.len() + 1);
                    p.push_str(&self.pointer);
                    pointer::push(&mut p, &key);
                    map.next_value_seed(ShapeSeed {
                        shapes: self.shapes,
                        shape: child,
                        pointer: p,
                        out: self.out,
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        match self.shape.any.as_deref() {
            Some(child) => loop {
                let mut p = self.pointer.clone();
                pointer::push_index(&mut p, i);
                let seed = ShapeSeed {
                    shapes: self.shapes,
                    shape: child,
                    pointer: p,
                    out: self.out,
                };
                if seq.next_element_seed(seed)?.is_none() {
                    break;
                }
                i += 1;
            },
            None => while seq.next_element::<IgnoredAny>()?.is_some() {},
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str) -> Object {
        Object {
            api_version: api_version.into(),
            kind: kind.into(),
            ..Object::default()
        }
    }

    /// Declared reads are asked for freely (a removed version of the kind too).
    #[test]
    fn declared_reads_can_be_asked_for() {
        assert!(object("batch/v1", "Job")
            .captured("/spec/parallelism")
            .is_none());
        assert!(object("batch/v1beta1", "CronJob")
            .captured("/spec/jobTemplate/spec/completions")
            .is_none());
    }

    /// A rule that reads a raw field no catalogue line declares would always read `None`; the
    /// debug builds every test and golden vector run in stop it at the read.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "no catalogue line declares it in `reads`")]
    fn an_undeclared_read_is_caught() {
        let _ = object("apps/v1", "StatefulSet").captured("/spec/volumeClaimTemplates");
    }
}
