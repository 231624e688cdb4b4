//! The settings of each rule family, compiled by the family: one file per family, each with
//! its compiled type and a `compile(&Settings, &mut Vec<SettingsProblem>) -> Self` that checks
//! its part of the settings and reports every problem at its settings path. A [`Policy`]
//! holds one field per family; the rules of the family read it there (`input.policy.images`).
//!
//! [`Policy`]: crate::settings::policy::Policy

pub(crate) mod accelerators;
pub(crate) mod gang;
pub(crate) mod images;
pub(crate) mod interruption;
pub(crate) mod labels;
pub(crate) mod namespaces;
pub(crate) mod node_types;
pub(crate) mod sunk;
