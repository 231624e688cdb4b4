//! Settings `interruption`, compiled for `interruptible-stateful`
//! (`judge/rules/interruption.rs`).

use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs;
use crate::settings::Settings;

/// The images settings name as databases (a pod running one keeps state).
#[derive(Debug, Default)]
pub(crate) struct Interruption {
    /// Settings `interruption.databaseImages` as globs.
    pub database_images: Globs,
}

impl Interruption {
    /// Compiles settings `interruption`: each database image a valid glob.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        Interruption {
            database_images: Globs::new(
                "/interruption/databaseImages",
                &s.interruption.database_images,
                problems,
            ),
        }
    }
}
