//! Settings `accelerators`, compiled for what a pod requests of accelerators
//! (`judge/accelerator_use.rs`, read by the accelerator and toleration rules).

use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs;
use crate::settings::Settings;

/// The extended resources settings count as accelerators.
#[derive(Debug, Default)]
pub(crate) struct Accelerators {
    /// Settings `accelerators.resources` as globs.
    pub resources: Globs,
}

impl Accelerators {
    /// Compiles settings `accelerators`: each resource entry a valid glob.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        Accelerators {
            resources: Globs::new(
                "/accelerators/resources",
                &s.accelerators.resources,
                problems,
            ),
        }
    }
}
