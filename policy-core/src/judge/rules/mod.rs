//! The rules: each family lives in its own module as plain functions over typed manifests.
//! Their ids, defaults and order are the catalogue's (`model/catalogue.rs`); this module
//! expands the catalogue's lines once more into [`CHECKS`], the table of check functions.
//! Rules run in table order and report in document order, so findings are deterministic.

use crate::judge::eval::{Input, Out};
use crate::model::catalogue::{for_each_rule, RuleId};

pub mod accelerators;
pub mod exceptions;
pub mod images;
pub mod interruption;
pub mod labels;
pub mod namespaces;
pub mod nodepool;
pub mod nodes;
pub mod pod_template_unknown;
pub mod removed_apis;
pub mod sunk;
pub mod tolerations;
pub mod webhooks;

/// A rule's check: reads the input, reports findings and patch operations to `out`.
pub(crate) type Check = fn(&Input<'_>, &mut Out<'_>);

/// Expands the catalogue's lines into the table of check functions, in [`RuleId`] order.
macro_rules! check_table {
    ($($variant:ident = $id:literal, $sev:ident, $kind:ident, $check:path
        $(; $($field:ident = $val:expr),+)?, $desc:literal;)*) => {
        /// The check function of each rule, indexed by [`RuleId::index`].
        pub(crate) static CHECKS: [Check; RuleId::ALL.len()] = [$($check),*];
    };
}

for_each_rule!(check_table);

fn no_check(_: &Input<'_>, _: &mut Out<'_>) {}

/// A manifest `check` judged as an existing object because it carries a server-set
/// `metadata.resourceVersion`: says so where a CI gate looks, since that switch silences
/// every rule that judges a change.
fn server_set_metadata(input: &Input<'_>, out: &mut Out<'_>) {
    if input.request.origin != crate::model::object::Origin::ReadBack {
        return;
    }
    let version = input
        .object
        .metadata
        .resource_version
        .as_deref()
        .unwrap_or_default();
    out.report(
        "/metadata/resourceVersion",
        format!(
            "this object carries `resourceVersion: \"{version}\"`, which only the API server sets, so it was judged as an existing object read back from a cluster and the rules that judge a change (reserved labels, control-plane namespaces) did not run; `kubectl apply` cannot create an object that carries it, so a manifest in a repository should not"
        ),
        Some(String::from(
            "remove `metadata.resourceVersion` (and `uid`, `creationTimestamp`, `managedFields`); judge objects exported from a cluster with `cks-policy audit`",
        )),
    );
}
