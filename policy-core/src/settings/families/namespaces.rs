//! Settings `controlPlaneNamespaces`, compiled for `control-plane-namespace`
//! (`judge/rules/namespaces.rs`).

use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs;
use crate::settings::Settings;

/// The namespaces judged as control-plane when the caller gives no labels for them.
#[derive(Debug, Default)]
pub(crate) struct Namespaces {
    /// Settings `controlPlaneNamespaces` as globs.
    pub control_plane: Globs,
}

impl Namespaces {
    /// Compiles settings `controlPlaneNamespaces`: each entry a valid glob.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        Namespaces {
            control_plane: Globs::new(
                "/controlPlaneNamespaces",
                &s.control_plane_namespaces,
                problems,
            ),
        }
    }
}
