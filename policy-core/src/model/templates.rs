//! Where pod templates live in each workload kind, as data.
//!
//! A location is a JSON Pointer pattern; `*` matches any map key or array index. Adding a kind is
//! adding a row. Built-in kinds and custom resources go through the same table and the same
//! typed parser ([`crate::model::object`]). The raw fields rules read (a Job's `parallelism`, a
//! webhook configuration's `webhooks`) are not rows here: each rule declares them on its
//! catalogue line (`reads`, [`crate::model::catalogue::READS`]) and [`Shapes::new`] adds them
//! to the tries as [`Leaf::Capture`].

/// What the typed parser builds at a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// A `PodTemplateSpec` (`metadata` + `spec`).
    PodTemplate,
    /// A bare `PodSpec`: a Pod's own `spec`, or one a custom resource embeds without pod
    /// metadata (KServe's LLMInferenceService).
    PodSpec,
    /// A Node's `spec`.
    NodeSpec,
    /// A CoreWeave NodePool's `spec`.
    NodePoolSpec,
    /// A Node's `status.allocatable` (what the scheduler may place on it).
    NodeAllocatable,
    /// Keep the raw JSON value of a field a rule declares it reads (`reads` on its catalogue
    /// line, e.g. a Job's `parallelism`). Never a row of [`LOCATIONS`].
    Capture,
    /// A pod assembled from a kind's own fields (see [`crate::model::inline_pods`]).
    Inline(Inline),
    /// A field outside the pods that the kind's controller copies into every pod under the
    /// same parent (see [`crate::model::inline_pods::share`]).
    Shared(Shared),
    /// An arbitrary embedded object (`apiVersion`, `kind`, …): judged with the locations of
    /// its own kind, under this pointer.
    Embedded,
}

/// How a [`Leaf::Shared`] field reaches the pods under its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// The pod spec field of this name, for a pod that sets none (an empty map or list counts
    /// as none).
    Fallback(&'static str),
    /// `nodeSelector` entries, merged under the pod's own (the pod's value wins per key).
    NodeSelectorUnion,
    /// A `labels`/`annotations` map merged under the pod's metadata (the pod's wins per key).
    Metadata,
    /// The image of a pod's first container when it names none.
    Image,
    /// A list of volumes: those a container of the pod mounts and the pod does not define
    /// itself are the pod's.
    MountedVolumes,
}

/// Kinds whose pods are not a `PodTemplateSpec` but pod fields inlined in their own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inline {
    /// A pod template whose containers may omit `name` (Knative defaults it to `user-container`).
    KnativeTemplate,
    /// A KServe InferenceService component (`predictor`, `transformer`, `explainer`): pod spec
    /// fields inline, plus a `model` or framework container (`sklearn`, `pytorch`, …).
    KServeComponent,
    /// A KFServing `v1alpha2` component (`spec.default.predictor`, …): a
    /// [`Inline::KServeComponent`] whose `custom.container` is its container.
    KFServingComponent,
    /// A KServe `ServingRuntime`/`ClusterServingRuntime` spec: pod spec fields inline.
    KServeRuntime,
    /// Pod spec fields inline at the location (settings `templates` `podSpecs`); unnamed
    /// containers are `container`.
    PodFields,
    /// An Argo Workflows template: `container`, `script`, `containerSet.containers`,
    /// `initContainers`, `sidecars`, with the template's scheduling fields.
    ArgoTemplate,
    /// A Kubeflow Trainer v2 `TrainJob`'s `spec.trainer`: `image` and `resourcesPerNode`.
    TrainJobTrainer,
    /// A Spark operator `SparkPodSpec` (`driver`, `executor`): one Spark container with
    /// `image`, `env`, `gpu`, … and the pod's scheduling fields.
    SparkDriver,
    /// As [`Inline::SparkDriver`], for the executors.
    SparkExecutor,
    /// A Kueue `ResourceFlavor` spec: `nodeLabels` act as a `nodeSelector` and `tolerations`
    /// as pod tolerations of every workload admitted to the flavor; no containers.
    ResourceFlavor,
}

/// One row of the location table.
#[derive(Debug, Clone, Copy)]
pub struct Location {
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Pointer patterns and what each holds.
    pub leaves: &'static [(&'static str, Leaf)],
    /// What the rules know about the kind (`DISTRIBUTED`, `GANG`).
    pub traits: u8,
}

/// The object's own `metadata.labels` reach every pod its controller creates (the pod's own
/// labels win per key): they are judged as pod labels, at `/metadata/labels`.
pub const OBJECT_LABELS: u8 = 4;

/// The kind runs distributed training: its pods cannot survive eviction one by one (the
/// interruption rules treat it as stateful).
pub const DISTRIBUTED: u8 = 1;
/// The kind is a job Kueue admits as a gang (`gang-scheduling-queue` applies to it).
pub const GANG: u8 = 2;

const fn loc(
    group: &'static str,
    kind: &'static str,
    leaves: &'static [(&'static str, Leaf)],
) -> Location {
    Location {
        group,
        kind,
        leaves,
        traits: 0,
    }
}

impl Location {
    const fn with(self, traits: u8) -> Location {
        Location { traits, ..self }
    }
}

use crate::model::catalogue::READS;
use Leaf::{NodeAllocatable, NodePoolSpec, NodeSpec, PodSpec, PodTemplate};

/// Argo Workflows template lists (`/spec/templates/*` and a CronWorkflow's
/// `/spec/workflowSpec/templates/*`), sources: argoproj/argo-workflows
/// `pkg/apis/workflow/v1alpha1/workflow_types.go` (`Template`, `ScriptTemplate`,
/// `ContainerSetTemplate`, `UserContainer`).
///
/// The workflow-level `nodeSelector`, `affinity`, `tolerations` and `schedulerName` are those of
/// every pod whose template sets none (argo-workflows `workflow/controller/workflowpod.go`,
/// `addSchedulingConstraints`), and `podMetadata` labels and annotations go on every pod under
/// the template's own `metadata` (`createWorkflowPod` applies `PodMetadata`, then `addMetadata`
/// the template's, which wins). The workflow's `volumes` that a template's containers mount are
/// its pod's (`addVolumeReferences`).
const ARGO: &[(&str, Leaf)] = &[
    ("/spec/templates/*", Leaf::Inline(Inline::ArgoTemplate)),
    ("/spec/nodeSelector", ARGO_NODE_SELECTOR),
    ("/spec/tolerations", ARGO_TOLERATIONS),
    ("/spec/affinity", ARGO_AFFINITY),
    ("/spec/schedulerName", ARGO_SCHEDULER),
    ("/spec/podMetadata", Leaf::Shared(Shared::Metadata)),
    ("/spec/volumes", Leaf::Shared(Shared::MountedVolumes)),
];

const ARGO_NODE_SELECTOR: Leaf = Leaf::Shared(Shared::Fallback("nodeSelector"));
const ARGO_TOLERATIONS: Leaf = Leaf::Shared(Shared::Fallback("tolerations"));
const ARGO_AFFINITY: Leaf = Leaf::Shared(Shared::Fallback("affinity"));
const ARGO_SCHEDULER: Leaf = Leaf::Shared(Shared::Fallback("schedulerName"));

/// A CronWorkflow's `spec.workflowSpec` is a whole `WorkflowSpec` ([`ARGO`]).
const ARGO_CRON: &[(&str, Leaf)] = &[
    (
        "/spec/workflowSpec/templates/*",
        Leaf::Inline(Inline::ArgoTemplate),
    ),
    ("/spec/workflowSpec/nodeSelector", ARGO_NODE_SELECTOR),
    ("/spec/workflowSpec/tolerations", ARGO_TOLERATIONS),
    ("/spec/workflowSpec/affinity", ARGO_AFFINITY),
    ("/spec/workflowSpec/schedulerName", ARGO_SCHEDULER),
    (
        "/spec/workflowSpec/podMetadata",
        Leaf::Shared(Shared::Metadata),
    ),
    (
        "/spec/workflowSpec/volumes",
        Leaf::Shared(Shared::MountedVolumes),
    ),
];

/// Spark operator `SparkApplication` (kubeflow/spark-operator `api/v1beta2/sparkapplication_types.go`,
/// `SparkApplicationSpec`): `driver` and `executor` are `SparkPodSpec`s; `spec.image` is the
/// image of both unless they name their own, `spec.nodeSelector` is added to both pods' (the
/// operator passes it as `spark.kubernetes.node.selector.*`, and each role's own
/// `nodeSelector` on top), and the `spec.volumes` a role's `volumeMounts` name are its pod's
/// (`internal/webhook/sparkpod_defaulter.go`, `addVolumes`).
const SPARK_APP: &[(&str, Leaf)] = &[
    ("/spec/driver", Leaf::Inline(Inline::SparkDriver)),
    ("/spec/executor", Leaf::Inline(Inline::SparkExecutor)),
    ("/spec/image", Leaf::Shared(Shared::Image)),
    (
        "/spec/nodeSelector",
        Leaf::Shared(Shared::NodeSelectorUnion),
    ),
    ("/spec/volumes", Leaf::Shared(Shared::MountedVolumes)),
];

/// A `ScheduledSparkApplication`'s `spec.template` is a `SparkApplicationSpec` ([`SPARK_APP`]).
const SPARK_SCHEDULED: &[(&str, Leaf)] = &[
    ("/spec/template/driver", Leaf::Inline(Inline::SparkDriver)),
    (
        "/spec/template/executor",
        Leaf::Inline(Inline::SparkExecutor),
    ),
    ("/spec/template/image", Leaf::Shared(Shared::Image)),
    (
        "/spec/template/nodeSelector",
        Leaf::Shared(Shared::NodeSelectorUnion),
    ),
    (
        "/spec/template/volumes",
        Leaf::Shared(Shared::MountedVolumes),
    ),
];

/// KServe InferenceService components (kserve/kserve `pkg/apis/serving/v1beta1`:
/// `PredictorSpec`, `TransformerSpec`, `ExplainerSpec` each inline `corev1.PodSpec`).
const KSERVE_ISVC: &[(&str, Leaf)] = &[
    ("/spec/predictor", Leaf::Inline(Inline::KServeComponent)),
    ("/spec/transformer", Leaf::Inline(Inline::KServeComponent)),
    ("/spec/explainer", Leaf::Inline(Inline::KServeComponent)),
];

/// The old KFServing group `serving.kubeflow.org`: its `v1beta1` InferenceService has the
/// shape of KServe's, and its `v1alpha2` one holds the components under `spec.default` and
/// `spec.canary` (kserve/kserve `pkg/apis/serving/v1alpha2/inferenceservice_types.go`,
/// `EndpointSpec`; a `custom.container` or a framework field per component).
const KFSERVING_ISVC: &[(&str, Leaf)] = &[
    ("/spec/predictor", Leaf::Inline(Inline::KServeComponent)),
    ("/spec/transformer", Leaf::Inline(Inline::KServeComponent)),
    ("/spec/explainer", Leaf::Inline(Inline::KServeComponent)),
    ("/spec/default/predictor", KFSERVING),
    ("/spec/default/transformer", KFSERVING),
    ("/spec/default/explainer", KFSERVING),
    ("/spec/canary/predictor", KFSERVING),
    ("/spec/canary/transformer", KFSERVING),
    ("/spec/canary/explainer", KFSERVING),
];

const KFSERVING: Leaf = Leaf::Inline(Inline::KFServingComponent);

/// KServe LLMInferenceService and LLMInferenceServiceConfig (`v1alpha1` and `v1alpha2`,
/// kserve/kserve `pkg/apis/serving/v1alpha2/llm_inference_service_types.go`): the spec inlines a
/// `WorkloadSpec` whose `template` and `worker` are bare `corev1.PodSpec`s, `prefill` is another
/// `WorkloadSpec`, and `router.scheduler.template` is the endpoint picker's `PodSpec`.
const KSERVE_LLMISVC: &[(&str, Leaf)] = &[
    ("/spec/template", PodSpec),
    ("/spec/worker", PodSpec),
    ("/spec/prefill/template", PodSpec),
    ("/spec/prefill/worker", PodSpec),
    ("/spec/router/scheduler/template", PodSpec),
];

/// Knative Serving (`serving.knative.dev/v1` `ServiceSpec`/`ConfigurationSpec` hold a
/// `RevisionTemplateSpec` at `spec.template`: knative/serving `pkg/apis/serving/v1`).
const KNATIVE: &[(&str, Leaf)] = &[("/spec/template", Leaf::Inline(Inline::KnativeTemplate))];

/// Kubeflow Trainer v2 `TrainJob` (kubeflow/trainer `pkg/apis/trainer/v1alpha1/trainjob_types.go`):
/// `spec.trainer` names the training node's image and resources; `podTemplateOverrides`
/// (`podSpecOverrides` before Trainer v2.1) add `nodeSelector`, `affinity`, `tolerations`,
/// volumes and metadata to the pods of the jobs they target. An override is judged as the
/// pod fields it sets.
const TRAIN_JOB: &[(&str, Leaf)] = &[
    ("/spec/trainer", Leaf::Inline(Inline::TrainJobTrainer)),
    ("/spec/podTemplateOverrides/*", PodTemplate),
    ("/spec/podSpecOverrides/*", Leaf::Inline(Inline::PodFields)),
];

/// Kubeflow Trainer v2 runtimes embed a JobSet template (kubeflow/trainer
/// `pkg/apis/trainer/v1alpha1/trainingruntime_types.go`).
const TRAINER_RUNTIME: &[(&str, Leaf)] = &[(
    "/spec/template/spec/replicatedJobs/*/template/spec/template",
    PodTemplate,
)];

/// KubeRay `RayJobSpec` (ray-project/kuberay `ray-operator/apis/ray/v1/rayjob_types.go`): the
/// cluster's head and worker templates and `submitterPodTemplate`, the pod that runs
/// `ray job submit`.
const RAY_JOB: &[(&str, Leaf)] = &[
    ("/spec/rayClusterSpec/headGroupSpec/template", PodTemplate),
    (
        "/spec/rayClusterSpec/workerGroupSpecs/*/template",
        PodTemplate,
    ),
    ("/spec/submitterPodTemplate", PodTemplate),
];

/// A KubeRay `RayCronJob`'s `spec.jobTemplate` is a `RayJobSpec` ([`RAY_JOB`]).
const RAY_CRON_JOB: &[(&str, Leaf)] = &[
    (
        "/spec/jobTemplate/rayClusterSpec/headGroupSpec/template",
        PodTemplate,
    ),
    (
        "/spec/jobTemplate/rayClusterSpec/workerGroupSpecs/*/template",
        PodTemplate,
    ),
    ("/spec/jobTemplate/submitterPodTemplate", PodTemplate),
];

/// Every kind that holds pods (or a Node or NodePool spec); the raw fields rules read come
/// from the catalogue's `reads`.
pub const LOCATIONS: &[Location] = &[
    loc("", "Pod", &[("/spec", PodSpec)]),
    loc("", "PodTemplate", &[("/template", PodTemplate)]),
    loc(
        "",
        "ReplicationController",
        &[("/spec/template", PodTemplate)],
    ),
    loc(
        "",
        "Node",
        &[
            ("/spec", NodeSpec),
            ("/status/allocatable", NodeAllocatable),
        ],
    ),
    loc("apps", "Deployment", &[("/spec/template", PodTemplate)]),
    loc("apps", "ReplicaSet", &[("/spec/template", PodTemplate)]),
    loc("apps", "StatefulSet", &[("/spec/template", PodTemplate)]),
    loc("apps", "DaemonSet", &[("/spec/template", PodTemplate)]),
    loc("batch", "Job", &[("/spec/template", PodTemplate)]).with(GANG),
    loc(
        "batch",
        "CronJob",
        &[("/spec/jobTemplate/spec/template", PodTemplate)],
    ),
    loc(
        "kubeflow.org",
        "PyTorchJob",
        &[("/spec/pytorchReplicaSpecs/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "kubeflow.org",
        "TFJob",
        &[("/spec/tfReplicaSpecs/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "kubeflow.org",
        "MPIJob",
        &[("/spec/mpiReplicaSpecs/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "kubeflow.org",
        "XGBoostJob",
        &[("/spec/xgbReplicaSpecs/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "kubeflow.org",
        "PaddleJob",
        &[("/spec/paddleReplicaSpecs/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "kubeflow.org",
        "JAXJob",
        &[("/spec/jaxReplicaSpecs/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "jobset.x-k8s.io",
        "JobSet",
        &[("/spec/replicatedJobs/*/template/spec/template", PodTemplate)],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "leaderworkerset.x-k8s.io",
        "LeaderWorkerSet",
        &[
            ("/spec/leaderWorkerTemplate/leaderTemplate", PodTemplate),
            ("/spec/leaderWorkerTemplate/workerTemplate", PodTemplate),
        ],
    )
    .with(DISTRIBUTED | GANG),
    loc(
        "ray.io",
        "RayCluster",
        &[
            ("/spec/headGroupSpec/template", PodTemplate),
            ("/spec/workerGroupSpecs/*/template", PodTemplate),
        ],
    )
    .with(DISTRIBUTED | GANG),
    loc("ray.io", "RayJob", RAY_JOB).with(DISTRIBUTED | GANG),
    loc("ray.io", "RayCronJob", RAY_CRON_JOB).with(DISTRIBUTED),
    loc(
        "ray.io",
        "RayService",
        &[
            ("/spec/rayClusterConfig/headGroupSpec/template", PodTemplate),
            (
                "/spec/rayClusterConfig/workerGroupSpecs/*/template",
                PodTemplate,
            ),
        ],
    ),
    loc(
        "batch.volcano.sh",
        "Job",
        &[("/spec/tasks/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED),
    // Volcano `CronJob` (`batch.volcano.sh/v1alpha1`, volcano-sh/apis `pkg/apis/batch/v1alpha1`
    // `CronJobSpec`: `jobTemplate` is a `JobTemplateSpec` holding a Job spec) and `JobTemplate`
    // (`flow.volcano.sh/v1alpha1`, `pkg/apis/flow/v1alpha1/jobtemplate_types.go`: `spec` is a
    // Job spec).
    loc(
        "batch.volcano.sh",
        "CronJob",
        &[("/spec/jobTemplate/spec/tasks/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED),
    loc(
        "flow.volcano.sh",
        "JobTemplate",
        &[("/spec/tasks/*/template", PodTemplate)],
    )
    .with(DISTRIBUTED),
    loc(
        "compute.coreweave.com",
        "NodePool",
        &[("/spec", NodePoolSpec)],
    ),
    // KServe copies the InferenceService's labels onto each component's pods, under the
    // component's own (kserve/kserve `pkg/controller/v1beta1/inferenceservice/components/
    // predictor.go`, `Reconcile`: `Labels: utils.Union(sRuntimeLabels, isvc.Labels,
    // predictorLabels, …)`; `transformer.go` and `explainer.go` alike).
    loc("serving.kserve.io", "InferenceService", KSERVE_ISVC).with(OBJECT_LABELS),
    loc("serving.kubeflow.org", "InferenceService", KFSERVING_ISVC).with(OBJECT_LABELS),
    loc("serving.kserve.io", "LLMInferenceService", KSERVE_LLMISVC),
    loc(
        "serving.kserve.io",
        "LLMInferenceServiceConfig",
        KSERVE_LLMISVC,
    ),
    loc(
        "serving.kserve.io",
        "ServingRuntime",
        &[("/spec", Leaf::Inline(Inline::KServeRuntime))],
    ),
    loc(
        "serving.kserve.io",
        "ClusterServingRuntime",
        &[("/spec", Leaf::Inline(Inline::KServeRuntime))],
    ),
    loc("serving.knative.dev", "Service", KNATIVE),
    loc("serving.knative.dev", "Configuration", KNATIVE),
    loc("trainer.kubeflow.org", "TrainingRuntime", TRAINER_RUNTIME).with(DISTRIBUTED),
    loc(
        "trainer.kubeflow.org",
        "ClusterTrainingRuntime",
        TRAINER_RUNTIME,
    ),
    loc("trainer.kubeflow.org", "TrainJob", TRAIN_JOB).with(DISTRIBUTED | GANG),
    loc("argoproj.io", "Workflow", ARGO),
    loc("argoproj.io", "WorkflowTemplate", ARGO),
    loc("argoproj.io", "ClusterWorkflowTemplate", ARGO),
    loc("argoproj.io", "CronWorkflow", ARGO_CRON),
    // The Spark operator puts the SparkApplication's labels on the driver and executor pods,
    // under each role's `labels` (kubeflow/spark-operator `internal/controller/sparkapplication/
    // submission.go`: "Populate SparkApplication labels to driver pod", "… to executor pod",
    // then the role's `labels`).
    loc("sparkoperator.k8s.io", "SparkApplication", SPARK_APP).with(OBJECT_LABELS),
    loc(
        "sparkoperator.k8s.io",
        "ScheduledSparkApplication",
        SPARK_SCHEDULED,
    ),
    // Kueue injects a ResourceFlavor's `nodeLabels` into the node selector, and its
    // `tolerations` into the tolerations, of every pod admitted to it (kubernetes-sigs/kueue
    // `apis/kueue/v1beta1/resourceflavor_types.go`, `ResourceFlavorSpec`;
    // `pkg/podset/podset.go`, `FromAssignment`).
    loc(
        "kueue.x-k8s.io",
        "ResourceFlavor",
        &[("/spec", Leaf::Inline(Inline::ResourceFlavor))],
    ),
    // An AppWrapper wraps arbitrary objects; each `components[].template` is judged as the
    // object it is (project-codeflare/appwrapper `api/v1beta2/appwrapper_types.go`,
    // `AppWrapperComponent.Template`). Kueue admits the AppWrapper as one workload, by its own
    // queue label (kubernetes-sigs/kueue `pkg/controller/jobs/appwrapper/appwrapper_controller.go`).
    loc(
        "workload.codeflare.dev",
        "AppWrapper",
        &[("/spec/components/*/template", Leaf::Embedded)],
    )
    .with(GANG),
];

/// A node of the compiled pattern trie.
#[derive(Debug, Default)]
pub struct Shape {
    /// Children by exact key.
    pub children: Vec<(Box<str>, Shape)>,
    /// Child matching any key or index (`*`).
    pub any: Option<Box<Shape>>,
    /// What to build here; a leaf has no children.
    pub leaf: Option<Leaf>,
}

impl Shape {
    /// The child for `key`, exact matches first.
    pub fn child(&self, key: &str) -> Option<&Shape> {
        self.children
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, s)| s)
            .or(self.any.as_deref())
    }

    fn insert<S: AsRef<str>>(&mut self, tokens: &[S], leaf: Leaf) {
        match tokens.split_first() {
            None => self.leaf = Some(leaf),
            Some((tok, rest)) if tok.as_ref() == "*" => {
                self.any.get_or_insert_with(Box::default).insert(rest, leaf)
            }
            Some((tok, rest)) => {
                let tok = tok.as_ref();
                let idx = match self.children.iter().position(|(k, _)| &**k == tok) {
                    Some(i) => i,
                    None => {
                        self.children.push((tok.into(), Shape::default()));
                        self.children.len() - 1
                    }
                };
                self.children[idx].1.insert(rest, leaf);
            }
        }
    }
}

/// The location table and the fields rules read, compiled into one trie per (group, kind).
/// The built-in trie of a kind is built the first time an object of that kind is read, so
/// compiling settings costs one small allocation here, not the whole table; settings
/// `templates` are added eagerly, merged with the built-in trie of the same kind.
#[derive(Debug, Default)]
pub struct Shapes {
    /// The trie of each built-in kind, built on first use: index `i` is [`LOCATIONS`]`[i]`,
    /// index `LOCATIONS.len() + j` is [`READ_KINDS`]`[j]`.
    builtin: Vec<std::sync::OnceLock<Shape>>,
    /// Kinds with settings `templates`: the built-in trie (if any) plus the settings' pointers.
    custom: Vec<(Box<str>, Box<str>, Shape)>,
}

fn insert_pattern(shape: &mut Shape, pattern: &str, leaf: Leaf) {
    let tokens: Vec<&str> = pattern.split('/').filter(|t| !t.is_empty()).collect();
    shape.insert(&tokens, leaf);
}

/// The index in [`LOCATIONS`] of `group`/`kind`.
fn location_index(group: &str, kind: &str) -> Option<usize> {
    LOCATIONS
        .iter()
        .position(|l| l.kind == kind && l.group == group)
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `READS[j]` names a kind that neither [`LOCATIONS`] nor an earlier read names.
const fn new_read_kind(j: usize) -> bool {
    let (group, kind, _) = READS[j];
    let mut i = 0;
    while i < LOCATIONS.len() {
        if str_eq(LOCATIONS[i].kind, kind) && str_eq(LOCATIONS[i].group, group) {
            return false;
        }
        i += 1;
    }
    let mut e = 0;
    while e < j {
        if str_eq(READS[e].1, kind) && str_eq(READS[e].0, group) {
            return false;
        }
        e += 1;
    }
    true
}

const READ_KIND_COUNT: usize = {
    let mut n = 0;
    let mut j = 0;
    while j < READS.len() {
        if new_read_kind(j) {
            n += 1;
        }
        j += 1;
    }
    n
};

/// The kinds only the catalogue's reads name (webhook configurations, RoleBinding, …), each
/// once, in catalogue order: their tries hold nothing but the fields rules read. Worked out
/// at compile time, so compiling settings does not pay for it.
pub static READ_KINDS: [(&str, &str); READ_KIND_COUNT] = {
    let mut out = [("", ""); READ_KIND_COUNT];
    let mut n = 0;
    let mut j = 0;
    while j < READS.len() {
        if new_read_kind(j) {
            out[n] = (READS[j].0, READS[j].1);
            n += 1;
        }
        j += 1;
    }
    out
};

impl Shapes {
    /// The built-in [`LOCATIONS`] plus the fields the catalogue's rules declare they read
    /// ([`READS`], duplicates merged), each kind compiled when first needed.
    pub fn new() -> Self {
        Shapes {
            builtin: (0..LOCATIONS.len() + READ_KINDS.len())
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            custom: Vec::new(),
        }
    }

    /// The index in `builtin` of `group`/`kind`.
    fn builtin_index(group: &str, kind: &str) -> Option<usize> {
        location_index(group, kind).or_else(|| {
            READ_KINDS
                .iter()
                .position(|&(g, k)| k == kind && g == group)
                .map(|j| LOCATIONS.len() + j)
        })
    }

    /// The trie of built-in kind `i`: its pod locations, then the fields rules read in it.
    fn builtin_shape(i: usize) -> Shape {
        let mut shape = Shape::default();
        let (group, kind) = match LOCATIONS.get(i) {
            Some(l) => {
                for (pattern, leaf) in l.leaves {
                    insert_pattern(&mut shape, pattern, *leaf);
                }
                (l.group, l.kind)
            }
            None => READ_KINDS[i - LOCATIONS.len()],
        };
        for &(g, k, pointer) in &READS {
            if k == kind && g == group {
                insert_pattern(&mut shape, pointer, Leaf::Capture);
            }
        }
        shape
    }

    /// Adds one location: `tokens` (unescaped, `*` for any key or index) of `group`/`kind` hold
    /// `leaf`. Used for settings `templates`.
    pub fn add<S: AsRef<str>>(&mut self, group: &str, kind: &str, tokens: &[S], leaf: Leaf) {
        let i = match self
            .custom
            .iter()
            .position(|(g, k, _)| &**g == group && &**k == kind)
        {
            Some(i) => i,
            None => {
                let base = match Shapes::builtin_index(group, kind) {
                    Some(i) if !self.builtin.is_empty() => Shapes::builtin_shape(i),
                    _ => Shape::default(),
                };
                self.custom.push((group.into(), kind.into(), base));
                self.custom.len() - 1
            }
        };
        self.custom[i].2.insert(tokens, leaf);
    }

    /// The trie for an object, from its `apiVersion` and `kind`. A removed apiVersion
    /// (`extensions/v1beta1` DaemonSet) has the locations of its replacement (`apps/v1`), so its
    /// pods are judged while `api-version-removed` reports the version.
    pub fn get(&self, api_version: &str, kind: &str) -> Option<&Shape> {
        self.by_group(api_group(api_version), kind).or_else(|| {
            crate::model::removed_apis::replacement_group(api_version, kind)
                .and_then(|group| self.by_group(group, kind))
        })
    }

    fn by_group(&self, group: &str, kind: &str) -> Option<&Shape> {
        if let Some((_, _, s)) = self
            .custom
            .iter()
            .find(|(g, k, _)| &**k == kind && &**g == group)
        {
            return Some(s);
        }
        let i = Shapes::builtin_index(group, kind)?;
        self.builtin
            .get(i)
            .map(|cell| cell.get_or_init(|| Shapes::builtin_shape(i)))
    }
}

/// The group part of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn api_group(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    }
}

/// The traits of a kind in [`LOCATIONS`] (0 for kinds the table does not list).
pub fn traits(group: &str, kind: &str) -> u8 {
    LOCATIONS
        .iter()
        .find(|l| l.kind == kind && l.group == group)
        .map_or(0, |l| l.traits)
}

/// Kinds whose templates run distributed training (interruption rules treat them as stateful).
pub fn is_distributed_training(group: &str, kind: &str) -> bool {
    traits(group, kind) & DISTRIBUTED != 0
}

/// Kinds Kueue admits as a gang (`gang-scheduling-queue` applies to them).
pub fn is_gang_kind(group: &str, kind: &str) -> bool {
    traits(group, kind) & GANG != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trie_matches_wildcards() {
        let shapes = Shapes::new();
        let s = shapes.get("kubeflow.org/v1", "PyTorchJob").unwrap();
        let t = s
            .child("spec")
            .and_then(|s| s.child("pytorchReplicaSpecs"))
            .and_then(|s| s.child("Worker"))
            .and_then(|s| s.child("template"))
            .unwrap();
        assert_eq!(t.leaf, Some(Leaf::PodTemplate));
        assert!(shapes.get("batch.volcano.sh/v1alpha1", "Job").is_some());
        assert!(shapes.get("example.com/v1", "Job").is_none());
        assert_eq!(api_group("v1"), "");
        assert_eq!(api_group("apps/v1"), "apps");
    }

    #[test]
    fn removed_versions_keep_their_replacements_locations() {
        let shapes = Shapes::new();
        for (av, kind) in [
            ("extensions/v1beta1", "DaemonSet"),
            ("extensions/v1beta1", "Deployment"),
            ("extensions/v1beta1", "ReplicaSet"),
            ("apps/v1beta2", "StatefulSet"),
            ("batch/v1beta1", "CronJob"),
        ] {
            assert!(shapes.get(av, kind).is_some(), "{av} {kind}");
        }
        // Only the kinds the guide names: `extensions/v1beta1` never served StatefulSets.
        assert!(shapes.get("extensions/v1beta1", "StatefulSet").is_none());
        assert!(shapes.get("extensions/v1", "DaemonSet").is_none());
    }

    /// One entry per kind: the lazily built trie of a kind is that of its only entry.
    #[test]
    fn locations_are_unique_per_kind() {
        for (i, l) in LOCATIONS.iter().enumerate() {
            assert_eq!(
                location_index(l.group, l.kind),
                Some(i),
                "{}/{}",
                l.group,
                l.kind
            );
        }
    }

    #[test]
    fn settings_templates_extend_the_builtin_trie() {
        let mut shapes = Shapes::new();
        shapes.add("apps", "Deployment", &["spec", "extra"], Leaf::PodTemplate);
        shapes.add("x.io", "Run", &["spec", "t"], Leaf::PodTemplate);
        let d = shapes.get("apps/v1", "Deployment").unwrap();
        assert!(d.child("spec").and_then(|s| s.child("template")).is_some());
        assert!(d.child("spec").and_then(|s| s.child("extra")).is_some());
        assert!(shapes.get("x.io/v1", "Run").is_some());
    }

    /// Every raw field kept comes from a declared read: the pod-location table holds no
    /// [`Leaf::Capture`] (a field only some rule reads is declared on that rule's catalogue
    /// line), so a capture nobody reads cannot linger in the table.
    #[test]
    fn no_capture_without_a_declared_read() {
        for l in LOCATIONS {
            for (pattern, leaf) in l.leaves {
                assert_ne!(
                    *leaf,
                    Leaf::Capture,
                    "{}/{} {pattern}: declare it as `reads` on the catalogue line of the rule that reads it",
                    l.group,
                    l.kind
                );
            }
        }
    }

    /// Every declared read is kept: its pointer ends at a [`Leaf::Capture`] in its kind's trie,
    /// not inside a pod location (where the typed reader would never see it as raw JSON).
    #[test]
    fn every_declared_read_is_captured() {
        let reads = &crate::model::catalogue::READS;
        assert!(reads.len() >= 11, "the catalogue declares its reads");
        let shapes = Shapes::new();
        for &(group, kind, pointer) in reads {
            let av = if group.is_empty() {
                "v1".to_owned()
            } else {
                format!("{group}/v1")
            };
            let mut at = shapes.get(&av, kind);
            for token in pointer.split('/').filter(|t| !t.is_empty()) {
                assert!(
                    at.is_some_and(|s| s.leaf.is_none()),
                    "{group}/{kind} {pointer}: inside another location"
                );
                at = at.and_then(|s| s.child(token));
            }
            assert_eq!(
                at.and_then(|s| s.leaf),
                Some(Leaf::Capture),
                "{group}/{kind} {pointer}"
            );
        }
        // Kinds only read get a trie of their own, once; kinds with pods are not repeated.
        assert!(READ_KINDS.contains(&("rbac.authorization.k8s.io", "RoleBinding")));
        assert!(!READ_KINDS.contains(&("batch", "Job")));
        for (i, k) in READ_KINDS.iter().enumerate() {
            assert!(!READ_KINDS[..i].contains(k), "{k:?} twice");
        }
        assert!(shapes.get("v1", "ConfigMap").is_none());
    }
}
