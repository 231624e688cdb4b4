//! The rule catalogue: stable ids, defaults, and the order rules run in.
//!
//! Each rule family lives in its own module as plain functions over typed manifests; this module
//! only lists them. Rules run in table order and report in document order, so findings are
//! deterministic.

use crate::eval::Cx;
use crate::verdict::Severity;

pub mod accelerators;
pub mod images;
pub mod interruption;
pub mod labels;
pub mod namespaces;
pub mod nodepool;
pub mod nodes;
pub mod sunk;
pub mod tolerations;
pub mod webhooks;

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
    /// One line for `cks-policy rules`.
    pub description: &'static str,
    /// Whether the rule also runs on DELETE (against `oldObject`).
    #[serde(skip)]
    pub on_delete: bool,
    #[serde(skip)]
    pub(crate) check: fn(&mut Cx<'_>),
}

macro_rules! rule_ids {
    ($($variant:ident = $id:literal),* $(,)?) => {
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
    };
}

rule_ids! {
    InputInvalid = "input-invalid",
    ImageReferenceInvalid = "image-reference-invalid",
    ImageDigestRequired = "image-digest-required",
    ImageMutableTag = "image-mutable-tag",
    ImagePullPolicy = "image-pull-policy",
    PinDigests = "pin-digests",
    ReservedNodeLabel = "reserved-node-label",
    ReservedNamespaceLabel = "reserved-namespace-label",
    ControlPlaneNamespace = "control-plane-namespace",
    UnknownCoreweaveLabel = "unknown-coreweave-label",
    LabelSyntax = "label-syntax",
    NodeLifecycleInconsistent = "node-lifecycle-inconsistent",
    LegacyNodeType = "legacy-node-type",
    MigrateNodeType = "migrate-node-type",
    UnknownInstanceType = "unknown-instance-type",
    LegacyNodeSelector = "legacy-node-selector",
    NodepoolInvalid = "nodepool-invalid",
    CpuComputeToleration = "cpu-compute-toleration",
    BroadToleration = "broad-toleration",
    GpuTolerationWithoutGpu = "gpu-toleration-without-gpu",
    SunkDaemonsetTolerations = "sunk-daemonset-tolerations",
    InterruptibleStateful = "interruptible-stateful",
    InterruptionLabelValue = "interruption-label-value",
    InterruptionLabelPlacement = "interruption-label-placement",
    InterruptionLabelSpelling = "interruption-label-spelling",
    GracefulTerminationPeriod = "graceful-termination-period",
    AcceleratorAccessBypass = "accelerator-access-bypass",
    GangSchedulingQueue = "gang-scheduling-queue",
    UnsupportedGpuOperator = "unsupported-gpu-operator",
    SunkPodScheduler = "sunk-pod-scheduler",
    WebhookScope = "webhook-scope",
    CksManagedComponent = "cks-managed-component",
    DraClaimUnused = "dra-claim-unused",
}

fn no_check(_: &mut Cx<'_>) {}

const fn rule(
    id: &'static str,
    default_severity: Severity,
    kind: RuleKind,
    description: &'static str,
    check: fn(&mut Cx<'_>),
) -> RuleInfo {
    RuleInfo {
        id,
        default_severity,
        default_enabled: true,
        kind,
        description,
        on_delete: false,
        check,
    }
}

use RuleKind::{Both, Mutate, Validate};
use Severity::{Error, Info, Warning};

/// The catalogue, indexed by [`RuleId::index`].
pub static RULES: [RuleInfo; 33] = [
    rule("input-invalid", Error, Validate,
        "the document is not valid YAML/JSON, not a Kubernetes object, has a field of the wrong type, or exceeds an input limit", no_check),
    rule("image-reference-invalid", Error, Validate,
        "an image string does not parse as an OCI/Docker reference", images::check_reference),
    rule("image-digest-required", Warning, Validate,
        "a tagged container image is not pinned by digest (`@sha256:…`) and not allowed by `images.allow`", images::check_digest_required),
    rule("image-mutable-tag", Error, Validate,
        "an image has no tag (implicit `latest`) or a mutable tag, and no digest", images::check_mutable_tag),
    rule("image-pull-policy", Info, Validate,
        "a digest-pinned image uses `imagePullPolicy: Always`", images::check_pull_policy),
    rule("pin-digests", Info, Mutate,
        "rewrites `repo:tag` to `repo:tag@digest` from the `images.digests` lock map", images::pin_digests),
    RuleInfo { on_delete: false, ..rule("reserved-node-label", Error, Validate,
        "a CoreWeave-domain label or taint on a Node or NodePool is added, changed or removed by a non-exempt requester", labels::check_reserved_node_label) },
    rule("reserved-namespace-label", Error, Validate,
        "a Namespace gains, changes or loses a CoreWeave-domain label through a non-exempt requester", namespaces::check_reserved_namespace_label),
    RuleInfo { on_delete: true, ..rule("control-plane-namespace", Error, Validate,
        "a control-plane namespace, or an object inside one, is changed or deleted by a non-exempt requester", namespaces::check_control_plane_namespace) },
    rule("unknown-coreweave-label", Warning, Validate,
        "a pod carries a CoreWeave-domain label that is not a known workload label", labels::check_unknown_coreweave_label),
    rule("label-syntax", Error, Validate,
        "a label key or value that Kubernetes would reject", labels::check_label_syntax),
    rule("node-lifecycle-inconsistent", Warning, Validate,
        "a Node's lifecycle labels contradict the CKS node lifecycle model", nodes::check_lifecycle),
    rule("legacy-node-type", Warning, Validate,
        "a pod selects nodes by the legacy `node.kubernetes.io/type` label", nodes::check_legacy_node_type),
    rule("migrate-node-type", Info, Mutate,
        "rewrites a legacy `node.kubernetes.io/type` selector to `node.kubernetes.io/instance-type` when the mapping is published", nodes::migrate_node_type),
    rule("unknown-instance-type", Warning, Validate,
        "a pod selects an instance type that is not a known CKS Instance ID", nodes::check_unknown_instance_type),
    rule("legacy-node-selector", Warning, Validate,
        "a pod selects on labels of the pre-CKS CoreWeave Cloud that no CKS node carries", nodes::check_legacy_node_selector),
    rule("nodepool-invalid", Error, Validate,
        "a CoreWeave NodePool that CKS would refuse or that can never be satisfied", nodepool::check),
    rule("cpu-compute-toleration", Info, Mutate,
        "a Pod that requests no accelerator gets the `is_cpu_compute` toleration, as CKS admission adds it", tolerations::cpu_compute_toleration),
    rule("broad-toleration", Warning, Validate,
        "a toleration lets the pod land on control-plane, triage or pending nodes", tolerations::check_broad_toleration),
    rule("gpu-toleration-without-gpu", Info, Validate,
        "a pod that requests no accelerator tolerates `is_gpu`", tolerations::check_gpu_toleration_without_gpu),
    rule("sunk-daemonset-tolerations", Warning, Both,
        "a DaemonSet on SUNK nodes lacks a toleration SUNK requires (when `sunk.enabled`)", sunk::check_daemonset_tolerations),
    rule("interruptible-stateful", Error, Validate,
        "the interruptable label is on a workload that cannot tolerate eviction", interruption::check_stateful),
    rule("interruption-label-value", Warning, Validate,
        "an interruption label whose value is not exactly `\"true\"`", interruption::check_value),
    rule("interruption-label-placement", Warning, Validate,
        "an interruption label on a workload's own metadata but not on its pod template", interruption::check_placement),
    rule("interruption-label-spelling", Warning, Validate,
        "a near-miss interruption label key", interruption::check_spelling),
    rule("graceful-termination-period", Warning, Validate,
        "a graceful-interruptible pod with no grace period, or with both interruption labels", interruption::check_grace_period),
    rule("accelerator-access-bypass", Error, Validate,
        "a container reaches GPUs outside the device plugin or DRA", accelerators::check_access_bypass),
    RuleInfo { default_enabled: false, ..rule("gang-scheduling-queue", Warning, Validate,
        "an accelerator training job in a `gang.namespaces` namespace lacks `kueue.x-k8s.io/queue-name`", accelerators::check_gang_queue) },
    rule("unsupported-gpu-operator", Warning, Validate,
        "the manifest installs the NVIDIA GPU Operator, which CKS manages itself", accelerators::check_gpu_operator),
    rule("sunk-pod-scheduler", Warning, Validate,
        "a pod scheduled by the SUNK scheduler breaks one of its requirements", sunk::check_pod_scheduler),
    rule("webhook-scope", Error, Validate,
        "an admission webhook fails closed on Pods in control-plane namespaces, which can deadlock the cluster", webhooks::check),
    rule("cks-managed-component", Warning, Validate,
        "the manifest installs a component CKS manages itself (device plugin, upstream Kueue, Network Operator)", accelerators::check_managed_component),
    rule("dra-claim-unused", Warning, Validate,
        "a pod-level DRA resource claim that no container lists under `resources.claims`", accelerators::check_dra_claim_unused),
];

impl RuleId {
    /// The static description of this rule.
    pub fn info(self) -> &'static RuleInfo {
        &RULES[self.index()]
    }
}

/// Looks up a rule's description by id string.
pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    RuleId::parse(id).map(RuleId::info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_ids() {
        assert_eq!(RULES.len(), RuleId::ALL.len());
        for (i, id) in RuleId::ALL.iter().enumerate() {
            assert_eq!(RULES[i].id, id.as_str(), "rule table out of order at {i}");
            assert_eq!(RuleId::parse(id.as_str()), Some(*id));
        }
    }
}
