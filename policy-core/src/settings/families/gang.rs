//! Settings `gang`, compiled for `gang-scheduling-queue` (`judge/rules/accelerators.rs`).

use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs;
use crate::settings::Settings;

/// The namespaces where accelerator training jobs must name a Kueue queue.
#[derive(Debug, Default)]
pub(crate) struct Gang {
    /// Settings `gang.namespaces` as globs.
    pub namespaces: Globs,
}

impl Gang {
    /// Compiles settings `gang`: each namespace a valid glob.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        Gang {
            namespaces: Globs::new("/gang/namespaces", &s.gang.namespaces, problems),
        }
    }
}
