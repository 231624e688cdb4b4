//! The removed-API table: apiVersion/kind pairs that Kubernetes stopped serving at or before
//! 1.33, the oldest release CKS runs, so the API server refuses them whatever admission says.
//!
//! The table is the Kubernetes Deprecated API Migration Guide, section "Removed APIs by
//! release" (<https://kubernetes.io/docs/reference/using-api/deprecation-guide/>, source
//! kubernetes/website `content/en/docs/reference/using-api/deprecation-guide.md`), every entry
//! of v1.16, v1.22, v1.25, v1.26, v1.27, v1.29 and v1.32; the guide lists no removal in
//! v1.33. Where the guide's replacement was itself removed later (flowcontrol
//! `v1beta2`/`v1beta3`, PodSecurityPolicy in `policy/v1beta1`) the replacement is the version
//! served today.
//!
//! The rule that reports them is `api-version-removed` (`judge/rules/removed_apis.rs`).
//! - The object is still judged by every other rule as its replacement would be: a removed
//!   workload version keeps the pod-template locations of its replacement
//!   ([`replacement_group`], used by [`crate::model::templates::Shapes::get`] and
//!   [`crate::Object::is`]), so the manifest's other problems show before it is migrated.

/// One removed apiVersion and the kinds the guide names for it.
#[derive(Debug, Clone, Copy)]
pub struct Removed {
    /// The apiVersion as written in a manifest (`extensions/v1beta1`).
    pub api_version: &'static str,
    /// Kinds of that apiVersion the guide lists as removed.
    pub kinds: &'static [&'static str],
    /// The Kubernetes minor release that stopped serving it (`1.16`).
    pub removed_in: &'static str,
    /// The apiVersion to migrate to; `None` when the kind has no replacement.
    pub replacement: Option<&'static str>,
    /// What else the migration asks for, from the guide ("" when nothing notable).
    pub note: &'static str,
}

const fn removed(
    api_version: &'static str,
    kinds: &'static [&'static str],
    removed_in: &'static str,
    replacement: Option<&'static str>,
    note: &'static str,
) -> Removed {
    Removed {
        api_version,
        kinds,
        removed_in,
        replacement,
        note,
    }
}

const SELECTOR: &str = "`spec.selector` is now required and immutable: use the template's labels";

/// Every removal of the guide at or before 1.33, newest first as the guide lists them.
pub const REMOVED: &[Removed] = &[
    // v1.32
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        &["FlowSchema", "PriorityLevelConfiguration"],
        "1.32",
        Some("flowcontrol.apiserver.k8s.io/v1"),
        "",
    ),
    // v1.29
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        &["FlowSchema", "PriorityLevelConfiguration"],
        "1.29",
        Some("flowcontrol.apiserver.k8s.io/v1"),
        "`spec.limited.assuredConcurrencyShares` is now `spec.limited.nominalConcurrencyShares`",
    ),
    // v1.27
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        "1.27",
        Some("storage.k8s.io/v1"),
        "",
    ),
    // v1.26 (the guide names `v1beta2` for flowcontrol, itself removed in 1.29)
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        &["FlowSchema", "PriorityLevelConfiguration"],
        "1.26",
        Some("flowcontrol.apiserver.k8s.io/v1"),
        "",
    ),
    removed(
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        "1.26",
        Some("autoscaling/v2"),
        "`targetAverageUtilization` is now `target.averageUtilization` with `target.type: Utilization`",
    ),
    // v1.25
    removed("batch/v1beta1", &["CronJob"], "1.25", Some("batch/v1"), ""),
    removed(
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        "1.25",
        Some("discovery.k8s.io/v1"),
        "",
    ),
    removed(
        "events.k8s.io/v1beta1",
        &["Event"],
        "1.25",
        Some("events.k8s.io/v1"),
        "",
    ),
    removed(
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        "1.25",
        Some("autoscaling/v2"),
        "`targetAverageUtilization` is now `target.averageUtilization` with `target.type: Utilization`",
    ),
    removed(
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        "1.25",
        Some("policy/v1"),
        "an empty `spec.selector` now selects every pod in the namespace",
    ),
    removed(
        "policy/v1beta1",
        &["PodSecurityPolicy"],
        "1.25",
        None,
        "PodSecurityPolicy has no replacement: use Pod Security Admission (namespace labels `pod-security.kubernetes.io/*`)",
    ),
    removed(
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        "1.25",
        Some("node.k8s.io/v1"),
        "",
    ),
    // v1.22
    removed(
        "admissionregistration.k8s.io/v1beta1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        "1.22",
        Some("admissionregistration.k8s.io/v1"),
        "`failurePolicy` now defaults to `Fail`, and `sideEffects` and `admissionReviewVersions` are required",
    ),
    removed(
        "apiextensions.k8s.io/v1beta1",
        &["CustomResourceDefinition"],
        "1.22",
        Some("apiextensions.k8s.io/v1"),
        "`spec.scope` must be set, and each of `spec.versions` needs its `schema.openAPIV3Schema`",
    ),
    removed(
        "apiregistration.k8s.io/v1beta1",
        &["APIService"],
        "1.22",
        Some("apiregistration.k8s.io/v1"),
        "",
    ),
    removed(
        "authentication.k8s.io/v1beta1",
        &["TokenReview"],
        "1.22",
        Some("authentication.k8s.io/v1"),
        "",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        &[
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SubjectAccessReview",
            "SelfSubjectRulesReview",
        ],
        "1.22",
        Some("authorization.k8s.io/v1"),
        "`spec.group` is now `spec.groups`",
    ),
    removed(
        "certificates.k8s.io/v1beta1",
        &["CertificateSigningRequest"],
        "1.22",
        Some("certificates.k8s.io/v1"),
        "`spec.signerName` and `spec.usages` are required",
    ),
    removed(
        "coordination.k8s.io/v1beta1",
        &["Lease"],
        "1.22",
        Some("coordination.k8s.io/v1"),
        "",
    ),
    removed(
        "extensions/v1beta1",
        &["Ingress"],
        "1.22",
        Some("networking.k8s.io/v1"),
        "`spec.backend` is now `spec.defaultBackend`, `serviceName`/`servicePort` are now `service.name`/`service.port`, and every path needs a `pathType`",
    ),
    removed(
        "networking.k8s.io/v1beta1",
        &["Ingress"],
        "1.22",
        Some("networking.k8s.io/v1"),
        "`spec.backend` is now `spec.defaultBackend`, `serviceName`/`servicePort` are now `service.name`/`service.port`, and every path needs a `pathType`",
    ),
    removed(
        "networking.k8s.io/v1beta1",
        &["IngressClass"],
        "1.22",
        Some("networking.k8s.io/v1"),
        "",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        "1.22",
        Some("rbac.authorization.k8s.io/v1"),
        "",
    ),
    removed(
        "scheduling.k8s.io/v1beta1",
        &["PriorityClass"],
        "1.22",
        Some("scheduling.k8s.io/v1"),
        "",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        "1.22",
        Some("storage.k8s.io/v1"),
        "",
    ),
    // v1.16
    removed(
        "extensions/v1beta1",
        &["NetworkPolicy"],
        "1.16",
        Some("networking.k8s.io/v1"),
        "",
    ),
    removed(
        "extensions/v1beta1",
        &["DaemonSet"],
        "1.16",
        Some("apps/v1"),
        "`spec.selector` is now required and immutable: use the template's labels; `spec.updateStrategy.type` now defaults to `RollingUpdate`",
    ),
    removed("apps/v1beta2", &["DaemonSet"], "1.16", Some("apps/v1"), SELECTOR),
    removed(
        "extensions/v1beta1",
        &["Deployment", "ReplicaSet"],
        "1.16",
        Some("apps/v1"),
        SELECTOR,
    ),
    removed(
        "apps/v1beta1",
        &["Deployment", "StatefulSet", "ReplicaSet"],
        "1.16",
        Some("apps/v1"),
        SELECTOR,
    ),
    removed(
        "apps/v1beta2",
        &["Deployment", "StatefulSet", "ReplicaSet"],
        "1.16",
        Some("apps/v1"),
        SELECTOR,
    ),
    // The guide sends extensions/v1beta1 PodSecurityPolicy to policy/v1beta1, removed in 1.25.
    removed(
        "extensions/v1beta1",
        &["PodSecurityPolicy"],
        "1.16",
        None,
        "PodSecurityPolicy has no replacement: use Pod Security Admission (namespace labels `pod-security.kubernetes.io/*`)",
    ),
];

/// The removal of `api_version`/`kind`, when the guide lists one.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Removed> {
    REMOVED
        .iter()
        .find(|r| r.api_version == api_version && r.kinds.contains(&kind))
}

/// The API group of the replacement of a removed `api_version`/`kind` (`apps` for an
/// `extensions/v1beta1` DaemonSet), so the object keeps its replacement's pod-template
/// locations and rules; `None` for anything the table does not list.
pub fn replacement_group(api_version: &str, kind: &str) -> Option<&'static str> {
    lookup(api_version, kind)
        .and_then(|r| r.replacement)
        .map(crate::model::templates::api_group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_well_formed() {
        for r in REMOVED {
            assert!(r.api_version.contains('/'), "{}", r.api_version);
            assert!(!r.kinds.is_empty());
            let minor: u32 = r.removed_in.strip_prefix("1.").unwrap().parse().unwrap();
            assert!(minor <= 33, "{} removed after 1.33", r.api_version);
            if let Some(to) = r.replacement {
                // A replacement is served today: it is not itself in the table.
                for k in r.kinds {
                    assert!(lookup(to, k).is_none(), "{to} {k} is removed too");
                }
            } else {
                assert!(!r.note.is_empty(), "{} needs a note", r.api_version);
            }
        }
        // One row per apiVersion/kind.
        for (i, a) in REMOVED.iter().enumerate() {
            for b in &REMOVED[i + 1..] {
                assert!(
                    a.api_version != b.api_version || a.kinds.iter().all(|k| !b.kinds.contains(k)),
                    "{} listed twice",
                    a.api_version
                );
            }
        }
    }

    /// Rows from the guide, one per section (deprecation-guide.md, "Removed APIs by release").
    #[test]
    fn guide_sections() {
        let cases = [
            ("extensions/v1beta1", "DaemonSet", "1.16", Some("apps")),
            ("extensions/v1beta1", "Deployment", "1.16", Some("apps")),
            ("extensions/v1beta1", "ReplicaSet", "1.16", Some("apps")),
            (
                "extensions/v1beta1",
                "NetworkPolicy",
                "1.16",
                Some("networking.k8s.io"),
            ),
            ("extensions/v1beta1", "PodSecurityPolicy", "1.16", None),
            ("apps/v1beta1", "StatefulSet", "1.16", Some("apps")),
            ("apps/v1beta2", "DaemonSet", "1.16", Some("apps")),
            (
                "extensions/v1beta1",
                "Ingress",
                "1.22",
                Some("networking.k8s.io"),
            ),
            (
                "networking.k8s.io/v1beta1",
                "IngressClass",
                "1.22",
                Some("networking.k8s.io"),
            ),
            (
                "rbac.authorization.k8s.io/v1beta1",
                "RoleBinding",
                "1.22",
                Some("rbac.authorization.k8s.io"),
            ),
            (
                "authorization.k8s.io/v1beta1",
                "SelfSubjectRulesReview",
                "1.22",
                Some("authorization.k8s.io"),
            ),
            ("batch/v1beta1", "CronJob", "1.25", Some("batch")),
            (
                "policy/v1beta1",
                "PodDisruptionBudget",
                "1.25",
                Some("policy"),
            ),
            ("policy/v1beta1", "PodSecurityPolicy", "1.25", None),
            (
                "autoscaling/v2beta1",
                "HorizontalPodAutoscaler",
                "1.25",
                Some("autoscaling"),
            ),
            (
                "autoscaling/v2beta2",
                "HorizontalPodAutoscaler",
                "1.26",
                Some("autoscaling"),
            ),
            (
                "flowcontrol.apiserver.k8s.io/v1beta1",
                "FlowSchema",
                "1.26",
                Some("flowcontrol.apiserver.k8s.io"),
            ),
            (
                "storage.k8s.io/v1beta1",
                "CSIStorageCapacity",
                "1.27",
                Some("storage.k8s.io"),
            ),
            (
                "flowcontrol.apiserver.k8s.io/v1beta2",
                "PriorityLevelConfiguration",
                "1.29",
                Some("flowcontrol.apiserver.k8s.io"),
            ),
            (
                "flowcontrol.apiserver.k8s.io/v1beta3",
                "FlowSchema",
                "1.32",
                Some("flowcontrol.apiserver.k8s.io"),
            ),
        ];
        for (av, kind, release, group) in cases {
            let r = lookup(av, kind).unwrap_or_else(|| panic!("{av} {kind}"));
            assert_eq!(r.removed_in, release, "{av} {kind}");
            assert_eq!(replacement_group(av, kind), group, "{av} {kind}");
        }
        // Served versions and kinds the guide does not name are not removed.
        for (av, kind) in [
            ("apps/v1", "DaemonSet"),
            ("batch/v1", "CronJob"),
            ("policy/v1", "PodDisruptionBudget"),
            ("storage.k8s.io/v1beta1", "CSIDriverX"),
            ("autoscaling/v1", "HorizontalPodAutoscaler"),
            ("example.com/v1beta1", "Deployment"),
        ] {
            assert!(lookup(av, kind).is_none(), "{av} {kind}");
        }
    }
}
