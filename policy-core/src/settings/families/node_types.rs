//! Settings `nodeTypes`, compiled for the node-selection rules (`judge/rules/nodes.rs`:
//! `legacy-node-type`, `migrate-node-type`, `unknown-instance-type`, `legacy-node-selector`)
//! and `nodepool-invalid` (`judge/rules/nodepool.rs`), over the built-in CKS tables of
//! `model/nodetypes.rs`.

use std::collections::HashSet;

use crate::model::nodetypes;
use crate::settings::error::SettingsProblem;
use crate::settings::Settings;

/// The CKS instance types and GPU classes: built-in tables plus settings.
#[derive(Debug, Default)]
pub(crate) struct NodeTypes {
    /// Known Instance IDs (built-in and settings).
    pub instance_ids: nodetypes::Names,
    /// Rack-scale Instance IDs (built-in and settings).
    pub rack_scale: nodetypes::Names,
    /// Published legacy `node.kubernetes.io/type` → Instance ID (built-in and settings).
    pub legacy: nodetypes::Mapping,
    /// GPU classes CKS does not offer (built-in and settings), less the settings' offered ones.
    retired_gpu_classes: nodetypes::Names,
    /// Settings `nodeTypes.gpuClasses`: offered, whatever the retired list says.
    offered_gpu_classes: HashSet<String>,
}

impl NodeTypes {
    /// Compiles settings `nodeTypes`: each legacy type maps to a non-empty Instance ID.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        let t = &s.node_types;
        for (legacy, id) in &t.legacy {
            if id.is_empty() {
                problems.push(SettingsProblem::new(
                    crate::read::pointer::join("/nodeTypes/legacy", &[legacy]),
                    "the Instance ID must not be empty",
                ));
            }
        }
        NodeTypes {
            instance_ids: nodetypes::Names::new(
                &[nodetypes::INSTANCE_IDS, nodetypes::RACK_SCALE],
                t.instance_ids.iter().chain(&t.rack_scale),
            ),
            rack_scale: nodetypes::Names::new(&[nodetypes::RACK_SCALE], &t.rack_scale),
            legacy: nodetypes::Mapping::new(nodetypes::LEGACY_PUBLISHED, &t.legacy),
            retired_gpu_classes: nodetypes::Names::new(
                &[nodetypes::RETIRED_GPU_CLASSES],
                &t.retired_gpu_classes,
            ),
            offered_gpu_classes: t.gpu_classes.iter().cloned().collect(),
        }
    }

    /// Whether a `gpu.nvidia.com/class` (or `model`) value names a GPU class CKS does not offer.
    pub fn is_retired_gpu_class(&self, class: &str) -> bool {
        self.retired_gpu_classes.contains(class) && !self.offered_gpu_classes.contains(class)
    }
}
