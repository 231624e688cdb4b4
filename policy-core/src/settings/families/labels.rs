//! Settings `labels`, compiled for `unknown-coreweave-label` (`judge/rules/labels.rs`).

use std::collections::HashSet;

use crate::settings::error::SettingsProblem;
use crate::settings::Settings;

/// The CoreWeave-domain workload labels settings add to the known ones.
#[derive(Debug, Default)]
pub(crate) struct Labels {
    /// Settings `labels.knownWorkload`.
    pub known_workload: HashSet<String>,
}

impl Labels {
    /// Compiles settings `labels` (nothing in it can be invalid).
    pub fn compile(s: &Settings, _problems: &mut Vec<SettingsProblem>) -> Self {
        Labels {
            known_workload: s.labels.known_workload.iter().cloned().collect(),
        }
    }
}
