//! Settings `sunk`, compiled for the SUNK rules (`judge/rules/sunk.rs`). Whether
//! `sunk-daemonset-tolerations` runs by default (`sunk.enabled`) is a rule state, set where
//! rule states are (`settings/policy.rs`).

use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs;
use crate::settings::Settings;

/// The scheduler names of SUNK pods.
#[derive(Debug, Default)]
pub(crate) struct Sunk {
    /// Settings `sunk.schedulerNames` as globs.
    pub schedulers: Globs,
}

impl Sunk {
    /// Compiles settings `sunk`: `killWaitSeconds` above 5 (a pod's grace period must fit
    /// below `killWait − 5`), each scheduler name a valid glob.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        if s.sunk.kill_wait_seconds <= 5 {
            problems.push(SettingsProblem::new(
                "/sunk/killWaitSeconds",
                format!(
                    "must be above 5 (pods need a grace period below killWait − 5), found {}",
                    s.sunk.kill_wait_seconds
                ),
            ));
        }
        Sunk {
            schedulers: Globs::new("/sunk/schedulerNames", &s.sunk.scheduler_names, problems),
        }
    }
}
