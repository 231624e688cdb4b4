//! Built-in CKS Instance IDs and the published legacy node type mapping (CKS "Workload scheduling",
//! <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>), as data.
//! Settings extend every table (`nodeTypes`).

/// Known Instance IDs (GPU and CPU), from CoreWeave's instance pages (docs.coreweave.com,
/// "GPU Instances" and "CPU Instances").
pub const INSTANCE_IDS: &[&str] = &[
    // GPU
    "gd-8xh100ib-i128",
    "gd-8xh200ib-i128",
    "gd-8xa100-i128",
    "gd-8xl40s-i128",
    "gd-8xl40-i128",
    "gd-1xgh200",
    "b200-8x",
    "b300-8x",
    "rtxp6000-8x",
    "rtxp6000-8x-v2",
    // CPU
    "cd-hp-a96-genoa",
    "cd-gp-a192-genoa",
    "cd-gp-l-a192-genoa",
    "cd-hc-a384-genoa",
    "cd-hc-a384ib-genoa",
    "turin-gp",
    "turin-gp-l",
    "turin-gp-v2",
    "cd-gp-i64-erapids",
    "cd-gp-l-i64-erapids",
    "cd-gp-i64-erapids-v2",
    "cd-gp-i96-icelake",
];

/// Rack-scale (NVL72) Instance IDs: deployed in whole racks of [`RACK_NODES`] nodes.
pub const RACK_SCALE: &[&str] = &["gb200-4x", "gb300-4x", "gb300-4x-e", "verarubin-4x-e"];

/// Superchip (Grace) Instance IDs: GH200, GB200 and GB300, for which CKS offers no `spot`
/// compute class (docs.coreweave.com capacity-plans/spot-node-pools).
/// Instance IDs naming `gh200`, `gb200` or `gb300` count too (see [`is_superchip`]).
pub const SUPERCHIP: &[&str] = &["gd-1xgh200", "gb200-4x", "gb300-4x", "gb300-4x-e"];

/// Whether an Instance ID is a Superchip type (listed in [`SUPERCHIP`], or naming its GPU).
pub fn is_superchip(instance_type: &str) -> bool {
    SUPERCHIP.contains(&instance_type)
        || ["gh200", "gb200", "gb300"]
            .iter()
            .any(|g| instance_type.contains(g))
}

/// NodePool `computeClass` values (coreweave/terraform-provider-coreweave
/// `coreweave/cks/resource_node_pool.go`).
pub const COMPUTE_CLASSES: &[&str] = &["default", "spot"];

/// NodePool `nodeConfigurationUpdateStrategy.type` values (same source).
pub const UPDATE_STRATEGIES: &[&str] = &["Manual", "OnSpecUpdate", "Always", "RolloutOnCommand"];

/// Nodes per rack for rack-scale types.
pub const RACK_NODES: i64 = 18;

/// Published legacy `node.kubernetes.io/type` values and their Instance IDs (CKS "Workload scheduling",
/// "Node type selection labels"). Only these
/// are rewritten by `migrate-node-type`.
pub const LEGACY_PUBLISHED: &[(&str, &str)] =
    &[("H100_NVLINK_80GB.8.xeon.128", "gd-8xh100ib-i128")];

/// Likely (unpublished) Instance IDs for old `gpu.nvidia.com/class` values, by GPU model. Used
/// only in messages, always worded as "likely", never for rewriting.
pub const LEGACY_CLASS_LIKELY: &[(&str, &str)] = &[
    ("H100_NVLINK_80GB", "gd-8xh100ib-i128"),
    ("A100_NVLINK_80GB", "gd-8xa100-i128"),
];

/// The current CKS node class label, set next to `node.coreweave.cloud/state=production`
/// (coreweave/sunk-anywhere `docs/gke/gke-adaptations.md`, its node-label mapping table;
/// coreweave/reference-architecture `arena/notebooks/lib/storage/warp.py`). It was wrongly listed as a pre-CKS label before.
pub const NODE_CLASS: &str = "node.coreweave.cloud/class";

/// The values CKS nodes carry for [`NODE_CLASS`].
pub const NODE_CLASS_VALUES: &[&str] = &["cpu", "gpu"];

/// Node labels of the pre-CKS CoreWeave Cloud, which no CKS node carries: neither
/// CKS "Workload scheduling" nor `kubectl describe node` on CKS shows them.
pub const LEGACY_SELECTOR_KEYS: &[&str] = &[
    "node.coreweave.cloud/cpu",
    "cpu.coreweave.cloud/family",
    "ethernet.coreweave.cloud/speed",
];

/// The GPU node labels whose values name a GPU class, judged against [`RETIRED_GPU_CLASSES`].
/// They, `gpu.nvidia.com/count` and `gpu.nvidia.com/vram` are current CKS node labels
/// (`kubectl describe node` on CKS shows `gpu.nvidia.com/class=
/// H100_NVLINK_80GB`, `model`, `count=8`, `vram=81`; skypilot-org/skypilot#6701).
pub const GPU_CLASS_KEYS: &[&str] = &["gpu.nvidia.com/class", "gpu.nvidia.com/model"];

/// GPU classes seen on CKS nodes in `gpu.nvidia.com/class` (`kubectl describe node` on
/// CKS; skypilot-org/skypilot#6701). Not a closed list: a
/// class missing here is not reported; it names examples in messages.
pub const GPU_CLASSES: &[&str] = &["H100_NVLINK_80GB", "A100_NVLINK_80GB", "H200"];

/// `gpu.nvidia.com/class` values of the pre-CKS CoreWeave Cloud that match no CKS Instance ID, so
/// no CKS node carries them (README, rule `legacy-node-selector`). Settings extend the list
/// (`nodeTypes.retiredGpuClasses`) and take names out of it (`nodeTypes.gpuClasses`).
pub const RETIRED_GPU_CLASSES: &[&str] = &[
    "Quadro_RTX_4000",
    "Quadro_RTX_5000",
    "RTX_A4000",
    "RTX_A5000",
    "RTX_A6000",
    "A40",
    "Tesla_V100_NVLINK",
    "A100_PCIE_40GB",
    "A100_PCIE_80GB",
    "A100_NVLINK",
    "H100_PCIE",
];

/// A built-in name table extended by settings, read without copying the built-in part (so
/// compiling settings does not hash every built-in name).
#[derive(Debug, Default)]
pub(crate) struct Names {
    builtin: &'static [&'static [&'static str]],
    extra: std::collections::HashSet<String>,
}

impl Names {
    /// The built-in `tables` plus the settings' `extra` names.
    pub(crate) fn new<'a>(
        tables: &'static [&'static [&'static str]],
        extra: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        Names {
            builtin: tables,
            extra: extra.into_iter().cloned().collect(),
        }
    }

    /// Whether `name` is in the table.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.builtin.iter().any(|t| t.contains(&name)) || self.extra.contains(name)
    }

    /// Every name (built-in first; a name may appear twice).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.builtin
            .iter()
            .flat_map(|t| t.iter().copied())
            .chain(self.extra.iter().map(String::as_str))
    }
}

/// A built-in mapping extended (and overridden) by settings.
#[derive(Debug, Default)]
pub(crate) struct Mapping {
    builtin: &'static [(&'static str, &'static str)],
    extra: std::collections::HashMap<String, String>,
}

impl Mapping {
    /// The built-in `table` with the settings' `extra` entries, which win on the same key.
    pub(crate) fn new(
        table: &'static [(&'static str, &'static str)],
        extra: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        Mapping {
            builtin: table,
            extra: extra.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
        }
    }

    /// The value for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.extra.get(key).map(String::as_str).or_else(|| {
            self.builtin
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
        })
    }
}
