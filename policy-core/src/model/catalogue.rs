//! The rule catalogue: stable ids, defaults, and the order rules run in. A leaf: it names each
//! rule's check function but imports nothing of the rules, so everything that names a rule id
//! (settings, exceptions, findings) depends on this file alone.
//!
//! [`for_each_rule!`] holds the one line per rule and hands the lines to a macro; it is
//! expanded twice: here into [`RuleId`] and [`RULES`] (the metadata), and in `judge/rules/`
//! into the table of check functions, where the check paths are resolved.

/// How much a finding matters: errors deny admission, warnings warn, infos only inform.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Only shown by the CLI, the browser and the API.
    Info,
    /// Becomes an AdmissionReview warning.
    Warning,
    /// Denies admission.
    Error,
}

impl Severity {
    /// The lowercase name used in JSON and human output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a rule validates, mutates, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Reports findings.
    Validate,
    /// Emits JSON Patch operations (and an info finding describing each change).
    Mutate,
    /// Reports findings and emits the patch that fixes them.
    Both,
}

/// What a rule judges: a *change* an UPDATE makes (judged against `oldObject`, never when
/// auditing existing objects), or the *state* of the object (ratcheted on UPDATE: a finding the
/// old object already had does not deny).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Judges {
    /// Who may add, change or remove something (reserved labels, control-plane namespaces).
    Change,
    /// What the object is.
    State,
}

/// Static description of one rule.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RuleInfo {
    /// Stable id used in findings and settings.
    pub id: &'static str,
    /// Severity before settings overrides.
    #[serde(rename = "severity")]
    pub default_severity: Severity,
    /// Whether the rule runs without settings turning it on.
    #[serde(rename = "enabled")]
    pub default_enabled: bool,
    /// Validation, mutation, or both.
    pub kind: RuleKind,
    /// Whether it judges a change or the object's state.
    pub judges: Judges,
    /// One line for `cks-policy rules`.
    pub description: &'static str,
    /// Whether the rule also runs on DELETE (against `oldObject`).
    #[serde(skip)]
    pub on_delete: bool,
    /// The rule this one leaves its overlapping case to while that rule is enabled, so a
    /// manifest gets one finding, not two (`image-digest-required` leaves an untagged image to
    /// `image-mutable-tag`).
    #[serde(skip)]
    pub defers_to: Option<RuleId>,
    /// What the rule reports, as README's and the Kubewarden USAGE.md's rule tables say it
    /// ([`markdown_table`] writes them).
    #[serde(skip)]
    pub doc: &'static str,
    /// The raw fields the rule reads beyond pod templates, Node and NodePool specs and
    /// `metadata`: the typed reader keeps these (and nothing else) for it (see [`Read`]).
    #[serde(skip)]
    pub reads: &'static [Read],
    /// Whether and how `cks-policy vap` expresses the rule as a native policy, or what CEL
    /// lacks (README, "Native policies").
    pub native: NativeSupport,
}

/// How (or why not) a rule runs as a native Kubernetes policy (`cks-policy vap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NativeSupport {
    /// Whether `cks-policy vap` emits a policy for the rule.
    pub expressible: bool,
    /// How CEL expresses it, or what CEL lacks.
    pub note: &'static str,
}

/// A catalogue line's `native = yes("how")`.
const fn yes(note: &'static str) -> NativeSupport {
    NativeSupport {
        expressible: true,
        note,
    }
}

/// A catalogue line's `native = no("why")`.
const fn no(note: &'static str) -> NativeSupport {
    NativeSupport {
        expressible: false,
        note,
    }
}

/// A raw field a rule reads: (API group, kind, JSON Pointer from the object root), such as
/// `("batch", "Job", "/spec/parallelism")`. The typed reader skips every field no rule reads;
/// the fields declared here are kept as raw JSON (`Object::captured`), so a field two rules
/// read is declared by both and kept once.
pub type Read = (&'static str, &'static str, &'static str);

/// Fields read by something that is not a rule: the `fits` report skips a Pod whose
/// `status.phase` is `Succeeded` or `Failed` (its resources are free again).
pub const REPORT_READS: &[Read] = &[("", "Pod", "/status/phase")];

/// How many reads the catalogue and [`REPORT_READS`] declare.
const READ_COUNT: usize = {
    let mut n = REPORT_READS.len();
    let mut i = 0;
    while i < RULES.len() {
        n += RULES[i].reads.len();
        i += 1;
    }
    n
};

/// Every declared read, in catalogue order then [`REPORT_READS`], flattened once at compile
/// time (compiling settings must not pay for it); a field two rules read appears twice (the
/// reader keeps it once).
pub static READS: [Read; READ_COUNT] = {
    let mut out = [("", "", ""); READ_COUNT];
    let mut n = 0;
    let mut i = 0;
    while i < RULES.len() {
        let mut j = 0;
        while j < RULES[i].reads.len() {
            out[n] = RULES[i].reads[j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    let mut j = 0;
    while j < REPORT_READS.len() {
        out[n] = REPORT_READS[j];
        n += 1;
        j += 1;
    }
    out
};

/// The one declaration of the catalogue: each line gives a rule's enum variant, stable id,
/// default severity, kind, check function (a path resolved in `judge/rules/`), optional
/// overrides after `;` (`default_enabled`, `on_delete`, `judges`, `defers_to`, `reads`, the
/// raw fields it reads, `doc`, the text of the documentation's rule tables, and `native`,
/// whether and how `cks-policy vap` expresses it) and description. The lines
/// are handed to `$then!`, which expands them into [`RuleId`] and [`RULES`] here and into the
/// check table in `judge/rules/mod.rs`.
macro_rules! for_each_rule {
    ($then:ident) => {
        $then! {
            InputInvalid = "input-invalid", Error, Validate, no_check; doc = r#"the document is not valid YAML/JSON, not a Kubernetes object, has a field of the wrong type (e.g. an unquoted `true` label value), or exceeds an input limit; the rest of the batch is still judged"#,
                native = no("the API server itself refuses what does not decode; CEL sees only decoded objects"),
                "the document is not valid YAML/JSON, not a Kubernetes object, has a field of the wrong type, or exceeds an input limit";
            ReadAsList = "read-as-list", Info, Validate, no_check; doc = r#"(files only: never in admission) a document whose kind is not a `…List` has a top-level `items`, so kubectl reads it as a list: it creates only the items (each judged), never the outer object; the finding is on that outer object at `/items`"#,
                native = no("a text-level input rule: the API server never sees a manifest file"),
                "a document whose kind is not a `…List` has a top-level `items`, so kubectl reads it as a list and creates only its items";
            ServerSetMetadata = "server-set-metadata", Warning, Validate, server_set_metadata; doc = r#"(files only: never in admission) a manifest carries a server-set `metadata.resourceVersion`, so `check` judged it as an existing object read back from a cluster and the change rules did not run; `kubectl apply` cannot create it as written (see [Installing on a running cluster](#installing-on-a-running-cluster))"#,
                native = no("a text-level input rule about manifests in a repository"),
                "a manifest carries `metadata.resourceVersion`, so it was judged as an existing object and the change rules did not run";
            ApiVersionRemoved = "api-version-removed", Error, Validate, removed_apis::check; doc = r#"the apiVersion/kind was removed at or before Kubernetes 1.33, the oldest release CKS runs (`extensions/v1beta1` and `apps/v1beta1`/`v1beta2` workloads, `batch/v1beta1` CronJob, `policy/v1beta1`, `autoscaling/v2beta1`/`v2beta2`, `networking.k8s.io/v1beta1` Ingress, `flowcontrol.apiserver.k8s.io/v1beta1`–`v1beta3`, every `v1beta1` the [deprecated API migration guide](https://kubernetes.io/docs/reference/using-api/deprecation-guide/) lists), so the API server refuses it; the message names the release and the replacement. Pods inside are still judged like the replacement's (a 1.33 API server never sends one: it matters for manifests)"#,
                native = no("the API server refuses a removed apiVersion before any policy runs"),
                "the apiVersion/kind was removed at or before Kubernetes 1.33 (the oldest CKS runs), so the API server refuses it";
            PodTemplateUnknown = "pod-template-unknown", Info, Validate, pod_template_unknown::check; doc = r#"a custom resource of a kind with no pod-template location (built in or in settings `templates`) holds `containers` lists that no rule judged; the finding names their pointers and the `templates` entry to add. Kubernetes' own kinds and kinds the table knows are never probed"#,
                native = no("needs a walk of arbitrary custom-resource shapes looking for `containers`"),
                "a custom resource of a kind with no pod-template location holds `containers` that no rule judged; declare it in settings `templates`";
            ImageReferenceInvalid = "image-reference-invalid", Error, Validate, images::check_reference; doc = r#"an image string does not parse as an OCI/Docker reference (distribution grammar)"#,
                native = yes("an RE2 `matches` of the distribution reference grammar, the 64-hex ID and 255-character checks, over every image source (AppWrapper components, embedded objects of any kind, aside)"),
                "an image string does not parse as an OCI/Docker reference";
            ImageDigestRequired = "image-digest-required", Warning, Validate, images::check_digest_required; defers_to = Some(RuleId::ImageMutableTag), doc = r#"a container, initContainer or ephemeralContainer image, image volume (`volumes[].image.reference`) or KServe model served as an image (`storageUri: oci://…` or `oci+native://…`) with a tag is not pinned by digest and not allowed by `images.allow` (the seed asks for immutable tags *or* digests; set it to `error` to require digests everywhere)"#,
                native = yes("CEL string functions over every image source (normalized as the core does; AppWrapper components aside), `images.allow` globs as RE2 `matches`; an untagged image is left to `image-mutable-tag` while it is on"),
                "a tagged container image is not pinned by digest (`@sha256:…`) and not allowed by `images.allow`";
            ImageMutableTag = "image-mutable-tag", Error, Validate, images::check_mutable_tag; doc = r#"no tag (implicit `latest`) or a tag in `images.mutableTags`, without a digest; it alone reports an untagged image"#,
                native = yes("CEL string functions over every image source (AppWrapper components aside); `images.mutableTags` as a list"),
                "an image has no tag (implicit `latest`) or a mutable tag, and no digest";
            ImagePullPolicy = "image-pull-policy", Info, Validate, images::check_pull_policy; doc = r#"a digest-pinned image with `imagePullPolicy: Always` (an image volume's `pullPolicy: Always`)"#,
                native = yes("a digest-pinned image's `imagePullPolicy`/`pullPolicy` at every container and image volume"),
                "a digest-pinned image uses `imagePullPolicy: Always`";
            PinDigests = "pin-digests", Info, Mutate, images::pin_digests; doc = r#"rewrites `repo:tag` to `repo:tag@digest` from the `images.digests` lock map (image volumes and KServe `oci://` URIs too, scheme kept); reports what it could not pin"#,
                native = no("a mutation that needs the digest lock map or registry resolution"),
                "rewrites `repo:tag` to `repo:tag@digest` from the `images.digests` lock map";
            ReservedNodeLabel = "reserved-node-label", Error, Validate, labels::check_reserved_node_label; judges = Judges::Change, doc = r#"a CoreWeave-domain label or taint on a Node or NodePool is added, changed or removed (UPDATE: only keys that differ from `oldObject`)"#,
                native = no("expressible in CEL, not emitted yet"),
                "a CoreWeave-domain label or taint on a Node or NodePool is added, changed or removed by a non-exempt requester";
            ReservedNamespaceLabel = "reserved-namespace-label", Error, Validate, namespaces::check_reserved_namespace_label; judges = Judges::Change, doc = r#"a Namespace gains, changes or loses a CoreWeave-domain label"#,
                native = no("expressible in CEL, not emitted yet"),
                "a Namespace gains, changes or loses a CoreWeave-domain label through a non-exempt requester";
            ControlPlaneNamespace = "control-plane-namespace", Error, Validate, namespaces::check_control_plane_namespace; on_delete = true, judges = Judges::Change,
                reads = &[("rbac.authorization.k8s.io", "RoleBinding", "/roleRef")], doc = r#"UPDATE/DELETE of a namespace labelled `ns.coreweave.cloud/org=control-plane`, or changes to objects inside one. One object is allowed: a RoleBinding in `kube-system` whose `roleRef` is exactly `{apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}`, which every aggregated API server (metrics-server, prometheus-adapter) must create there (a RoleBinding can only grant a Role of its own namespace); every other object in `kube-system`, other RoleBindings included, is still reported"#,
                native = no("its namespace globs and namespace-label context need the webhook; not emitted yet"),
                "a control-plane namespace, or an object inside one, is changed or deleted by a non-exempt requester";
            UnknownCoreweaveLabel = "unknown-coreweave-label", Warning, Validate, labels::check_unknown_coreweave_label; doc = r#"a pod carries a CoreWeave-domain label that is not a known workload label ("did you mean" for near misses)"#,
                native = no("expressible in CEL, not emitted yet"),
                "a pod carries a CoreWeave-domain label that is not a known workload label";
            LabelSyntax = "label-syntax", Error, Validate, labels::check_label_syntax; doc = r#"a label key or value that Kubernetes would reject"#,
                native = no("the API server's own validation refuses invalid labels"),
                "a label key or value that Kubernetes would reject";
            NodeLifecycleInconsistent = "node-lifecycle-inconsistent", Warning, Validate, nodes::check_lifecycle; doc = r#"a Node's lifecycle labels contradict the CKS node lifecycle model"#,
                native = no("expressible in CEL, not emitted yet"),
                "a Node's lifecycle labels contradict the CKS node lifecycle model";
            LegacyNodeType = "legacy-node-type", Warning, Validate, nodes::check_legacy_node_type; doc = r#"a pod selects nodes by `node.kubernetes.io/type` with a legacy value (one that is not a known Instance ID, such as `H100_NVLINK_80GB.8.xeon.128`). CKS nodes carry the Instance ID in that key too, so a current Instance ID (or `Exists`) works and gets no warning"#,
                native = no("expressible in CEL, not emitted yet"),
                "a pod selects nodes by `node.kubernetes.io/type` with a legacy value (a current Instance ID there works)";
            MigrateNodeType = "migrate-node-type", Info, Mutate, nodes::migrate_node_type; doc = r#"rewrites a `node.kubernetes.io/type` selector to `node.kubernetes.io/instance-type` when every value has a known Instance ID (a published mapping, or already an Instance ID); for a current value its info is the only note that `instance-type` is the documented key"#,
                native = no("a mutation rewriting selectors from a table; not emitted yet"),
                "rewrites a `node.kubernetes.io/type` selector to `node.kubernetes.io/instance-type` when every value has a known Instance ID";
            UnknownInstanceType = "unknown-instance-type", Warning, Validate, nodes::check_unknown_instance_type; doc = r#"a pod selects an instance type that is not a known CKS Instance ID"#,
                native = no("expressible in CEL, not emitted yet"),
                "a pod selects an instance type that is not a known CKS Instance ID";
            LegacyNodeSelector = "legacy-node-selector", Warning, Validate, nodes::check_legacy_node_selector; doc = r#"a pod selects on labels of the pre-CKS CoreWeave Cloud that no CKS node carries (`node.coreweave.cloud/cpu`, `cpu.coreweave.cloud/family`, `ethernet.coreweave.cloud/speed`), or requires a `gpu.nvidia.com/class`/`model` value naming a GPU class CKS does not offer (`A40`, `RTX_A6000`, `Tesla_V100_NVLINK`, … ; `nodeTypes.retiredGpuClasses` adds, `nodeTypes.gpuClasses` removes). `gpu.nvidia.com/class`, `/model`, `/count` and `/vram` themselves are current CKS node labels: `H100_NVLINK_80GB`, `A100_NVLINK_80GB`, `H200` get no finding"#,
                native = no("expressible in CEL, not emitted yet"),
                "a pod selects on labels of the pre-CKS CoreWeave Cloud that no CKS node carries, or on a `gpu.nvidia.com/class` CKS does not offer";
            NodepoolInvalid = "nodepool-invalid", Error, Validate, nodepool::check; doc = r#"a CoreWeave NodePool that CKS would refuse or that can never be satisfied"#,
                native = no("needs NodePool capacity tables and cross-field arithmetic; not emitted yet"),
                "a CoreWeave NodePool that CKS would refuse or that can never be satisfied";
            CpuComputeToleration = "cpu-compute-toleration", Info, Mutate, tolerations::cpu_compute_toleration; doc = r#"a Pod that requests no accelerator gets the `is_cpu_compute` toleration, as CKS admission adds it. Accelerators: every NVIDIA device-plugin resource (`nvidia.com/gpu`, `nvidia.com/gpu.shared`, every MIG slice `nvidia.com/mig-<profile>`), `sunk.coreweave.com/accelerator`, `accelerators.resources` matches, and DRA claims (unless turned off)"#,
                native = yes("on Kubernetes 1.36+, a MutatingAdmissionPolicy whose JSON Patch appends the toleration to Pods on CREATE that request no accelerator and do not tolerate `is_cpu_compute` yet; before 1.36 it needs the webhook or Kubewarden"),
                "a Pod that requests no accelerator gets the `is_cpu_compute` toleration, as CKS admission adds it";
            BroadToleration = "broad-toleration", Warning, Validate, tolerations::check_broad_toleration; doc = r#"a toleration that lets the pod land on control-plane, triage or pending nodes"#,
                native = yes("a CEL `exists` over the tolerations of every pod location; ratcheting by comparing with `oldObject`"),
                "a toleration lets the pod land on control-plane, triage or pending nodes";
            GpuTolerationWithoutGpu = "gpu-toleration-without-gpu", Info, Validate, tolerations::check_gpu_toleration_without_gpu; doc = r#"a pod that requests no accelerator tolerates `is_gpu`"#,
                native = no("expressible in CEL, not emitted yet"),
                "a pod that requests no accelerator tolerates `is_gpu`";
            SunkDaemonsetTolerations = "sunk-daemonset-tolerations", Warning, Both, sunk::check_daemonset_tolerations; doc = r#"a DaemonSet lacks a toleration SUNK nodes require (when `sunk.enabled`)"#,
                native = no("expressible in CEL, not emitted yet"),
                "a DaemonSet on SUNK nodes lacks a toleration SUNK requires (when `sunk.enabled`)";
            InterruptibleStateful = "interruptible-stateful", Error, Validate, interruption::check_stateful;
                reads = &[
                    ("batch", "Job", "/spec/parallelism"), ("batch", "Job", "/spec/completions"), ("batch", "Job", "/spec/completionMode"),
                    ("batch", "CronJob", "/spec/jobTemplate/spec/parallelism"), ("batch", "CronJob", "/spec/jobTemplate/spec/completions"),
                    ("batch", "CronJob", "/spec/jobTemplate/spec/completionMode"),
                ], doc = r#"the interruptable label on a workload that cannot tolerate eviction (StatefulSets, volume claims, distributed training, databases). Distributed means several pods that run at the same time: a Job (or CronJob) with `min(parallelism, completions)` > 1, whatever its `completionMode` (an Indexed Job of one pod, or any Job with `parallelism: 1`, is not), and JobSets, Kubeflow jobs, MPIJobs, Ray, LeaderWorkerSets, Volcano Jobs"#,
                native = no("needs the database image globs and the workload's traits; not emitted yet"),
                "the interruptable label is on a workload that cannot tolerate eviction";
            InterruptionLabelValue = "interruption-label-value", Warning, Validate, interruption::check_value; doc = r#"an interruption label whose value is not exactly `"true"`"#,
                native = no("expressible in CEL, not emitted yet"),
                "an interruption label whose value is not exactly `\"true\"`";
            InterruptionLabelPlacement = "interruption-label-placement", Warning, Validate, interruption::check_placement; doc = r#"an interruption label on a workload's own metadata but not on its pod template"#,
                native = no("expressible in CEL, not emitted yet"),
                "an interruption label on a workload's own metadata but not on its pod template";
            InterruptionLabelSpelling = "interruption-label-spelling", Warning, Validate, interruption::check_spelling; doc = r#"a near-miss interruption label key"#,
                native = no("near-miss spelling needs an edit distance CEL lacks"),
                "a near-miss interruption label key";
            GracefulTerminationPeriod = "graceful-termination-period", Warning, Validate, interruption::check_grace_period; doc = r#"a graceful-interruptible pod with no grace period, or with both interruption labels"#,
                native = no("expressible in CEL, not emitted yet"),
                "a graceful-interruptible pod with no grace period, or with both interruption labels";
            AcceleratorAccessBypass = "accelerator-access-bypass", Error, Validate, accelerators::check_access_bypass; doc = r#"a container reaches GPUs outside the device plugin or DRA: it sets `NVIDIA_VISIBLE_DEVICES`, mounts `/dev/nvidia*` or `/dev/dri` from the host, or is privileged in a pod that requests an accelerator (a privileged container sees every GPU of the node, not only the allocated ones)"#,
                native = no("expressible in CEL, not emitted yet"),
                "a container reaches GPUs outside the device plugin or DRA (`NVIDIA_VISIBLE_DEVICES`, a `/dev` hostPath, or privileged in a pod that requests a GPU)";
            PrivilegedWithoutAccelerator = "privileged-without-accelerator", Warning, Validate, accelerators::check_privileged_without_accelerator; doc = r#"a privileged container in a pod that requests no accelerator (FUSE, CNI, storage DaemonSets): on a GPU node it can reach every GPU, but it is usually privileged for other host access. A pod requesting another accelerator (`google.com/tpu`, …) is told which resource is not counted, never that it requests none"#,
                native = yes("a CEL `exists` over the init, regular and ephemeral containers of every pod spec (pod templates, pod specs, pod fields; not KServe InferenceService components, Argo templates or Spark pods), with the accelerator test of the `cpu-compute-toleration` mutation; ratcheting by container name against `oldObject`"),
                "a privileged container in a pod that requests no GPU, which can reach every GPU of a GPU node";
            GangSchedulingQueue = "gang-scheduling-queue", Warning, Validate, accelerators::check_gang_queue; default_enabled = false, doc = r#"an accelerator training job in a `gang.namespaces` namespace lacks `kueue.x-k8s.io/queue-name`"#,
                native = no("expressible in CEL, not emitted yet"),
                "an accelerator training job in a `gang.namespaces` namespace lacks `kueue.x-k8s.io/queue-name`";
            UnsupportedGpuOperator = "unsupported-gpu-operator", Warning, Validate, accelerators::check_gpu_operator; doc = r#"the manifest installs the NVIDIA GPU Operator, which CKS manages itself"#,
                native = no("recognises a Helm release or manifests set of many kinds, not one object"),
                "the manifest installs the NVIDIA GPU Operator, which CKS manages itself";
            SunkPodScheduler = "sunk-pod-scheduler", Warning, Validate, sunk::check_pod_scheduler; doc = r#"a pod for the SUNK scheduler breaks one of its requirements"#,
                native = no("expressible in CEL, not emitted yet"),
                "a pod scheduled by the SUNK scheduler breaks one of its requirements";
            WebhookScope = "webhook-scope", Error, Validate, webhooks::check;
                reads = &[
                    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "/webhooks"),
                    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "/webhooks"),
                    ("policies.kubewarden.io", "ClusterAdmissionPolicy", "/spec"),
                ], doc = r#"a Validating/MutatingWebhookConfiguration (or Kubewarden `ClusterAdmissionPolicy`) intercepts Pod CREATE/UPDATE, fails closed (`failurePolicy` defaults to `Fail`) and its `namespaceSelector` does not exclude `ns.coreweave.cloud/org=control-plane`: CKS's system Pods can deadlock behind it"#,
                native = no("expressible in CEL, not emitted yet"),
                "an admission webhook fails closed on Pods in control-plane namespaces, which can deadlock the cluster";
            CksManagedComponent = "cks-managed-component", Warning, Validate, accelerators::check_managed_component; doc = r#"the manifest installs something CKS manages itself: the NVIDIA device plugin, upstream Kueue (use `cks-kueue`), the NVIDIA Network Operator"#,
                native = no("recognises a component from many objects of a manifest set"),
                "the manifest installs a component CKS manages itself (device plugin, upstream Kueue, Network Operator)";
            DraClaimUnused = "dra-claim-unused", Warning, Validate, accelerators::check_dra_claim_unused; doc = r#"a pod-level DRA `resourceClaims` entry that no container lists under `resources.claims`, so no container gets the device"#,
                native = yes("a CEL `exists` over each pod's `resourceClaims` and its containers' `resources.claims`, at every pod location but KServe InferenceService components (their model container is not modelled)"),
                "a pod-level DRA resource claim that no container lists under `resources.claims`";
            ExceptionAnnotationInvalid = "exception-annotation-invalid", Error, Validate, exceptions::check_annotation; doc = r#"the object's `cks-policy.example.invalid/exceptions` annotation does not parse or names a rule that cannot be excepted, so it silences nothing (judged only where the annotation is honoured, see [Exceptions](#exceptions))"#,
                native = no("parses the exceptions annotation; exceptions by annotation are not honoured by native policies"),
                "the object's `cks-policy.example.invalid/exceptions` annotation does not parse or names a rule that cannot be excepted, so it silences nothing";
        }
    };
}
pub(crate) use for_each_rule;

/// Expands the catalogue's lines into [`RuleId`] and [`RULES`] (the check paths are ignored).
macro_rules! ids_and_metadata {
    ($($variant:ident = $id:literal, $sev:ident, $kind:ident, $check:path
        $(; $($field:ident = $val:expr),+)?, $desc:literal;)*) => {
        /// Every rule id, in the order rules run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $(#[doc = $id] $variant),* }

        impl RuleId {
            /// All ids in run order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),*];
            /// The stable string id.
            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $id),* }
            }
            /// Looks an id up by its string form.
            pub fn parse(s: &str) -> Option<RuleId> {
                match s { $($id => Some(RuleId::$variant),)* _ => None }
            }
            /// Position in [`RuleId::ALL`], for per-rule tables.
            pub fn index(self) -> usize { self as usize }
        }

        /// The catalogue, indexed by [`RuleId::index`].
        pub static RULES: [RuleInfo; RuleId::ALL.len()] = [
            $(RuleInfo { $($($field: $val,)+)? ..rule($id, $sev, $kind, $desc) }),*
        ];
    };
}

const fn rule(
    id: &'static str,
    default_severity: Severity,
    kind: RuleKind,
    description: &'static str,
) -> RuleInfo {
    RuleInfo {
        id,
        default_severity,
        default_enabled: true,
        kind,
        judges: Judges::State,
        description,
        on_delete: false,
        defers_to: None,
        doc: "",
        reads: &[],
        // Every line says it (`native = …`); a test refuses an empty note.
        native: no(""),
    }
}

use RuleKind::{Both, Mutate, Validate};
use Severity::{Error, Info, Warning};

for_each_rule!(ids_and_metadata);

impl RuleId {
    /// The static description of this rule.
    pub fn info(self) -> &'static RuleInfo {
        &RULES[self.index()]
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RuleId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown rule id `{s}`")))
    }
}

/// The rule table of README and the Kubewarden USAGE.md, generated from the catalogue:
/// id (with the `#rule-<id>` anchor SARIF links to), default severity (or `off`, and whether
/// it mutates) and what it reports.
pub fn markdown_table() -> String {
    let mut out = String::from("| id | default | what |\n|---|---|---|\n");
    for r in &RULES {
        let default = if r.default_enabled {
            r.default_severity.as_str()
        } else {
            "off"
        };
        let kind = match r.kind {
            RuleKind::Validate => "",
            RuleKind::Mutate => " (mutation)",
            RuleKind::Both => " (+ mutation)",
        };
        let doc = if r.doc.is_empty() {
            r.description
        } else {
            r.doc
        };
        out.push_str(&format!(
            "| `{id}` | <a id=\"rule-{id}\"></a>{default}{kind} | {doc} |\n",
            id = r.id
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for (i, id) in RuleId::ALL.iter().enumerate() {
            assert!(seen.insert(id.as_str()), "rule id {id} twice");
            assert_eq!(RULES[i].id, id.as_str(), "rule table out of order at {i}");
            assert_eq!(RuleId::parse(id.as_str()), Some(*id));
        }
        assert_eq!(RuleId::parse("no-such-rule"), None);
    }
}
