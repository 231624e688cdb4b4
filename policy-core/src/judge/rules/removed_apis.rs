//! `api-version-removed`: the object's apiVersion/kind is one Kubernetes stopped serving at or
//! before 1.33, the oldest release CKS runs (the table and its source are
//! `model/removed_apis.rs`). The finding points at `/apiVersion`.

use crate::judge::eval::{Input, Out};
use crate::model::removed_apis::lookup;

/// `api-version-removed` (error): the object's apiVersion/kind is one the API server no longer
/// serves (see the module documentation).
pub fn check(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let Some(r) = lookup(&obj.api_version, &obj.kind) else {
        return;
    };
    let mut message = format!(
        "`{}` {} was removed in Kubernetes {}: the API server refuses it (CKS runs 1.33 or later)",
        r.api_version, obj.kind, r.removed_in
    );
    let fix = match r.replacement {
        Some(to) => {
            message.push_str(&format!("; use `{to}`"));
            let mut fix = format!("set `apiVersion: {to}`");
            if !r.note.is_empty() {
                fix.push_str(&format!(" ({})", r.note));
            }
            fix
        }
        None => r.note.to_owned(),
    };
    out.report("/apiVersion", message, Some(fix));
}
