//! Typed settings: defaults are the CKS behaviour; unknown keys are errors; every problem is listed.

pub(crate) mod error;
pub(crate) mod exceptions;
pub(crate) mod families;
pub(crate) mod glob;
pub(crate) mod paths;
pub(crate) mod policy;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::catalogue::Severity;
pub use crate::read::limits::{
    Limits, MAX_ALIASES_CEILING, MAX_ALIAS_NODES_CEILING, MAX_BYTES_CEILING, MAX_DEPTH_CEILING,
};

/// Everything a policy can be told. Every field has a default, so `{}` is valid settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// `enforce` denies on errors; `warn` reports every error as a warning.
    pub mode: Mode,
    /// Per-rule overrides, keyed by rule id.
    pub rules: BTreeMap<String, RuleOverride>,
    /// The customer's Org ID (the value of `ns.coreweave.cloud/org` on user namespaces).
    pub org_id: Option<String>,
    /// The hash CKS puts in the `node.coreweave.cloud/reserved` taint value for this org. The seeds
    /// do not say how CKS computes it, so it is only ever taken from here.
    pub org_id_hash: Option<String>,
    /// Requesters whose requests skip validation (mutations still apply).
    pub exemptions: Exemptions,
    /// Image rules.
    pub images: ImageSettings,
    /// Label rules.
    pub labels: LabelSettings,
    /// Accelerator detection.
    pub accelerators: AcceleratorSettings,
    /// Interruption rules.
    pub interruption: InterruptionSettings,
    /// Instance types and the legacy node type mapping.
    pub node_types: NodeTypeSettings,
    /// SUNK (Slurm on Kubernetes).
    pub sunk: SunkSettings,
    /// Gang scheduling.
    pub gang: GangSettings,
    /// Where custom resources hold their pods, beside the built-in table: each entry names a
    /// kind and JSON Pointer patterns (`*` for any key or index) to its pod templates or inline
    /// pod specs.
    pub templates: Vec<TemplateLocation>,
    /// How UPDATEs treat violations that predate them (ratcheting).
    pub update: UpdateSettings,
    /// Namespaces to treat as control-plane when the namespace's labels are not supplied (globs;
    /// default [`DEFAULT_CONTROL_PLANE_NAMESPACES`]; a list given in settings replaces it).
    pub control_plane_namespaces: Vec<String>,
    /// Input limits.
    pub limits: Limits,
    /// Objects allowed to break named rules: settings entries, and whether admission honours
    /// the objects' own exception annotation.
    #[schemars(schema_with = "crate::settings::exceptions::settings_schema")]
    pub exceptions: ExceptionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Enforce,
            rules: BTreeMap::new(),
            org_id: None,
            org_id_hash: None,
            exemptions: Exemptions::default(),
            images: ImageSettings::default(),
            labels: LabelSettings::default(),
            accelerators: AcceleratorSettings::default(),
            interruption: InterruptionSettings::default(),
            node_types: NodeTypeSettings::default(),
            sunk: SunkSettings::default(),
            gang: GangSettings::default(),
            templates: Vec::new(),
            update: UpdateSettings::default(),
            control_plane_namespaces: DEFAULT_CONTROL_PLANE_NAMESPACES
                .iter()
                .map(|n| (*n).to_owned())
                .collect(),
            limits: Limits::default(),
            exceptions: ExceptionSettings::default(),
        }
    }
}

/// Whether errors deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Errors deny admission.
    #[default]
    Enforce,
    /// Every error is reported as a warning.
    Warn,
}

/// What an UPDATE does with a state rule's finding that `oldObject` already had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Preexisting {
    /// It does not deny: reported with `preexisting: true`, at most a warning (ratcheting).
    #[default]
    Allow,
    /// It is judged like a new finding.
    Deny,
}

/// How UPDATEs are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct UpdateSettings {
    /// Findings the old object already had: `allow` (default) or `deny`.
    pub preexisting: Preexisting,
}

/// Overrides for one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleOverride {
    /// Turn the rule on or off.
    pub enabled: Option<bool>,
    /// Report the rule's findings with this severity.
    pub severity: Option<Severity>,
}

/// Requesters exempt from validation, as globs over the request's `userInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Exemptions {
    /// Globs over `userInfo.username`.
    pub users: Vec<String>,
    /// Globs over each of `userInfo.groups`.
    pub groups: Vec<String>,
    /// Globs over `namespace/name` of a service account requester
    /// (`system:serviceaccount:<namespace>:<name>`).
    pub service_accounts: Vec<String>,
}

/// The namespaces CoreWeave manages in every CKS cluster, used when a namespace's labels are not
/// in the context: `kube-system`, `cw-*`, `hpc-verification` and `node-problem-detector` (seed
/// 003's control-plane example, and CoreWeave's "which resources should I not modify" article).
pub const DEFAULT_CONTROL_PLANE_NAMESPACES: &[&str] = &[
    "kube-system",
    "cw-*",
    "hpc-verification",
    "node-problem-detector",
];

/// The default `images.mutableTags` (README, "Settings"): tags that registries move.
pub const DEFAULT_MUTABLE_TAGS: &[&str] = &[
    "latest", "main", "master", "develop", "dev", "nightly", "edge", "stable", "canary", "head",
];

/// Image settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ImageSettings {
    /// Globs over the normalized reference (`docker.io/library/nginx:1.25`) or as written; a
    /// matching image is exempt from `image-digest-required`.
    pub allow: Vec<String>,
    /// Tags treated as mutable: `latest` and the branch and channel names that registries
    /// move (`main`, `master`, `develop`, `dev`, `nightly`, `edge`, `stable`, `canary`, `head`).
    pub mutable_tags: Vec<String>,
    /// Lock map for `pin-digests`: normalized reference (`docker.io/library/nginx:1.25`) → digest
    /// (`sha256:…`).
    pub digests: BTreeMap<String, String>,
    /// Kubewarden only: resolve tags missing from `digests` through the host's OCI capability.
    pub resolve_digests: bool,
}

impl Default for ImageSettings {
    fn default() -> Self {
        ImageSettings {
            allow: Vec::new(),
            mutable_tags: DEFAULT_MUTABLE_TAGS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            digests: BTreeMap::new(),
            resolve_digests: false,
        }
    }
}

/// Label settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LabelSettings {
    /// Extra CoreWeave-domain pod label keys to accept (exact keys).
    pub known_workload: Vec<String>,
}

/// Accelerator detection settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AcceleratorSettings {
    /// Globs over extended resource names that count as accelerators, besides `nvidia.com/gpu`
    /// and `sunk.coreweave.com/accelerator`.
    pub resources: Vec<String>,
    /// Whether a pod with DRA `resourceClaims` counts as an accelerator pod.
    pub dra_claims_are_accelerators: bool,
}

impl Default for AcceleratorSettings {
    fn default() -> Self {
        AcceleratorSettings {
            resources: Vec::new(),
            dra_claims_are_accelerators: true,
        }
    }
}

/// Interruption settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct InterruptionSettings {
    /// Globs over the normalized image repository (no tag or digest) of single-instance databases.
    pub database_images: Vec<String>,
}

/// The default `interruption.databaseImages`: `*/<db>` and `*/<db>-*` for each
/// single-instance database image (written out, so the defaults need no formatting).
pub const DEFAULT_DATABASE_IMAGES: &[&str] = &[
    "*/postgres",
    "*/postgres-*",
    "*/mysql",
    "*/mysql-*",
    "*/mariadb",
    "*/mariadb-*",
    "*/mongo",
    "*/mongo-*",
    "*/redis",
    "*/redis-*",
    "*/valkey",
    "*/valkey-*",
    "*/cassandra",
    "*/cassandra-*",
    "*/etcd",
    "*/etcd-*",
    "*/clickhouse",
    "*/clickhouse-*",
    "*/elasticsearch",
    "*/elasticsearch-*",
    "*/opensearch",
    "*/opensearch-*",
    "*/cockroachdb",
    "*/cockroachdb-*",
    "*/timescaledb",
    "*/timescaledb-*",
];

impl Default for InterruptionSettings {
    fn default() -> Self {
        InterruptionSettings {
            database_images: DEFAULT_DATABASE_IMAGES
                .iter()
                .map(|d| (*d).to_owned())
                .collect(),
        }
    }
}

/// Instance types.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NodeTypeSettings {
    /// Extra legacy `node.kubernetes.io/type` value → Instance ID mappings (published ones are built in).
    pub legacy: BTreeMap<String, String>,
    /// Extra Instance IDs to accept.
    pub instance_ids: Vec<String>,
    /// Extra rack-scale (NVL72) Instance IDs.
    pub rack_scale: Vec<String>,
    /// GPU classes CKS offers in `gpu.nvidia.com/class` / `model`: never reported, even when the
    /// built-in list of retired classes names them.
    pub gpu_classes: Vec<String>,
    /// Extra GPU classes CKS does not offer (beside the built-in pre-CKS ones): selecting them
    /// in `gpu.nvidia.com/class` / `model` is reported by `legacy-node-selector`.
    pub retired_gpu_classes: Vec<String>,
}

/// SUNK settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SunkSettings {
    /// The cluster runs SUNK: enables `sunk-daemonset-tolerations`.
    pub enabled: bool,
    /// Globs over `schedulerName` of pods scheduled into Slurm.
    pub scheduler_names: Vec<String>,
    /// The Slurm `KillWait` in seconds.
    pub kill_wait_seconds: u32,
}

impl Default for SunkSettings {
    fn default() -> Self {
        SunkSettings {
            enabled: false,
            scheduler_names: vec!["*-slurm-scheduler".to_owned(), "sunk-scheduler".to_owned()],
            kill_wait_seconds: 30,
        }
    }
}

/// Pod locations of one custom resource kind (settings `templates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateLocation {
    /// API group (`""` for the core group), as in the object's `apiVersion`.
    pub api_group: String,
    /// Kind.
    pub kind: String,
    /// Pointer patterns to `PodTemplateSpec`s (`metadata` + `spec`), e.g.
    /// `/spec/workers/*/template`.
    #[serde(default)]
    pub pod_templates: Vec<String>,
    /// Pointer patterns to pod spec fields inlined in the object (`containers`,
    /// `nodeSelector`, … at that place), e.g. `/spec/runner`.
    #[serde(default)]
    pub pod_specs: Vec<String>,
}

/// Gang scheduling settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct GangSettings {
    /// Globs over namespaces where accelerator jobs must name a Kueue queue.
    pub namespaces: Vec<String>,
}

impl Default for GangSettings {
    fn default() -> Self {
        GangSettings {
            namespaces: vec!["*".to_owned()],
        }
    }
}

/// Exceptions: which objects may break which rules, and why. Its JSON Schema is written by
/// hand ([`crate::settings::exceptions::settings_schema`]): the derived one cost the browser engine 7 KB.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ExceptionSettings {
    /// Where the object's own `cks-policy.example.invalid/exceptions` annotation is honoured:
    /// `files` (the default: `check`/`audit`, not admission), `always` or `never`.
    pub annotations: AnnotationScope,
    /// Each entry silences its rules for the objects it matches; a silenced finding is still
    /// reported, marked `suppressed`, and does not deny.
    pub list: Vec<Exception>,
}

/// Where the object's own exception annotation is honoured (settings `exceptions.annotations`).
/// A boolean is still read: `true` is `always`, `false` is `files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationScope {
    /// In manifests judged from files (`check`, `audit`), not in admission: the author's own
    /// file may say why it breaks a rule, but an object cannot exempt itself from admission.
    #[default]
    Files,
    /// Everywhere, admission included.
    Always,
    /// Nowhere: a platform team's strict gate, where only settings `exceptions.list` counts.
    Never,
}

impl<'de> Deserialize<'de> for AnnotationScope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AnnotationScope;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "`files`, `always` or `never` (or a boolean: true = always, false = files)",
                )
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<AnnotationScope, E> {
                Ok(if v {
                    AnnotationScope::Always
                } else {
                    AnnotationScope::Files
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AnnotationScope, E> {
                match v {
                    "files" => Ok(AnnotationScope::Files),
                    "always" => Ok(AnnotationScope::Always),
                    "never" => Ok(AnnotationScope::Never),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One exception: the rules it silences, the objects it applies to, and why (`rules` and
/// `reason` are required).
// Both are read with defaults (the schema still marks them required) so that a missing one is
// reported at its own path beside the entry's other problems, instead of dropping the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exception {
    /// Rule ids to silence (at least one; `input-invalid` cannot be silenced).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Globs over the object's namespace; absent or empty matches any object, and an object
    /// without a namespace (cluster-scoped, or a manifest that names none) matches only then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Globs over the object's `kind` (`Deployment`); absent or empty matches any kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Globs over `metadata.name` (else `metadata.generateName`); absent or empty matches any name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Why these objects may break these rules: required, reported with every silenced finding.
    #[serde(default)]
    pub reason: String,
}

/// The JSON Schema of [`Settings`] as the library ships it: `policy-core/settings.schema.json`,
/// generated from the types by [`schema_json`] and kept current by a test in `tests/`. Shipping
/// the text keeps schemars' generator (about 60 KB of code) out of the wasm builds, which never
/// call [`schema_json`].
pub const SCHEMA: &str = include_str!("../../settings.schema.json");

/// The JSON Schema of [`Settings`], generated from the types (what [`SCHEMA`] must equal).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Settings);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
