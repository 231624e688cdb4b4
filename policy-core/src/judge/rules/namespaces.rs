//! Namespace rules: CoreWeave-domain namespace labels and control-plane namespaces.

use crate::judge::eval::{Input, Out};
use crate::model::label_diff::{coreweave_label_changes, Change};
use crate::model::label_syntax::show;
use crate::model::object::{Object, Operation, Request};
use crate::read::pointer;

pub use crate::model::cks::{CONTROL_PLANE, ORG_LABEL};

/// `reserved-namespace-label`: a Namespace gains, changes or loses a CoreWeave-domain label
/// (e.g. `ns.coreweave.cloud/org`). On CREATE every CoreWeave-domain label is gained; on UPDATE
/// only keys that differ from `oldObject` count (a removed key is reported at its old path).
/// An UPDATE without `oldObject` is judged like a CREATE.
pub fn check_reserved_namespace_label(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if !obj.is("", "Namespace") {
        return;
    }
    let old = match input.operation() {
        Operation::Update => input.old_object().and_then(Object::labels),
        _ => None,
    };
    let name = obj.name().unwrap_or("");
    let mut found = Vec::new();
    for c in coreweave_label_changes(obj.labels(), old) {
        let key = show(c.key());
        let msg = match &c {
            Change::Added { value, .. } => format!(
                "namespace `{name}` sets `{key}={}`, a label in a CoreWeave-reserved domain that only CKS may set; remove it",
                show(value)
            ),
            Change::Changed { old, new, .. } => format!(
                "namespace `{name}` label `{key}` is managed by CKS and would change from `{}` to `{}`; leave it as CKS set it",
                show(old),
                show(new)
            ),
            Change::Removed { old, .. } => format!(
                "namespace `{name}` label `{key}` is managed by CKS and would be removed (it was `{}`); keep it as CKS set it",
                show(old)
            ),
        };
        found.push((pointer::join("/metadata/labels", &[c.key()]), msg));
    }
    for (path, msg) in found {
        out.report(path, msg, None);
    }
}

fn is_control_plane_labelled(o: Option<&Object>) -> bool {
    o.and_then(Object::labels)
        .and_then(|l| l.get(ORG_LABEL))
        .is_some_and(|v| v == CONTROL_PLANE)
}

/// The namespace `control-plane-namespace` judges `obj` (the judged object: `object`, or
/// `oldObject` on DELETE) in: its own `metadata.namespace`, else the request's; `None` for a
/// cluster-scoped object. A Namespace is judged by its own labels, never looked up. The one
/// definition the rule and the admission lookups ([`crate::answer::admission::namespace_lookup`]) share.
pub(crate) fn judged_namespace<'a>(obj: &'a Object, request: &'a Request) -> Option<&'a str> {
    if obj.is("", "Namespace") {
        return None;
    }
    obj.namespace()
        .or(request.namespace.as_deref())
        .filter(|ns| !ns.is_empty())
}

/// The Role in `kube-system` that lets an aggregated API server read the client CA for
/// authenticating the front proxy (Kubernetes creates it; `plugin/pkg/auth/authorizer/rbac/
/// bootstrappolicy/namespace_policy.go`).
pub const AUTH_READER_ROLE: &str = "extension-apiserver-authentication-reader";

/// Whether `obj` is the one object users must create in `kube-system`: a RoleBinding there to
/// the Role [`AUTH_READER_ROLE`], which every aggregated API server (metrics-server,
/// prometheus-adapter) needs, because a RoleBinding can only grant a Role of its own namespace.
/// `roleRef` must be exactly `{apiGroup: rbac.authorization.k8s.io, kind: Role, name: …}`.
fn is_auth_reader_binding(obj: &Object, ns: &str) -> bool {
    if ns != "kube-system" || !obj.is("rbac.authorization.k8s.io", "RoleBinding") {
        return false;
    }
    let Some(role_ref) = obj.captured("/roleRef") else {
        return false;
    };
    let field = |k: &str| role_ref.get(k).and_then(serde_json::Value::as_str);
    field("apiGroup") == Some("rbac.authorization.k8s.io")
        && field("kind") == Some("Role")
        && field("name") == Some(AUTH_READER_ROLE)
}

/// `control-plane-namespace`: UPDATE or DELETE of a Namespace labelled
/// `ns.coreweave.cloud/org=control-plane` (its own labels, in `object` or `oldObject`), and
/// CREATE, UPDATE or DELETE of any namespaced object inside a control-plane namespace. Runs on
/// DELETE too.
///
/// Decisions of this project where neither Kubernetes nor the CKS documentation settles the case: a namespace is control-plane when the caller's context gives
/// its labels and they say so; only when the context has no labels for it do the
/// `controlPlaneNamespaces` globs decide (as the setting's documentation says). A Namespace
/// object is judged by its own labels only. The namespace is the object's `metadata.namespace`,
/// else the request's. Cluster-scoped objects are never judged. CoreWeave's own automation
/// must be listed in `exemptions`, or it is denied too.
///
/// One object is allowed (README, rule `control-plane-namespace`): a RoleBinding in `kube-system` to the Role
/// `extension-apiserver-authentication-reader` (see [`is_auth_reader_binding`]), which cannot be
/// created anywhere else. Every other object in `kube-system`, other RoleBindings included, is
/// still reported.
pub fn check_control_plane_namespace(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let op = input.operation();
    let verb = match op {
        Operation::Create => "create",
        Operation::Update => "change",
        Operation::Delete => "delete",
        Operation::Connect => return,
    };
    if obj.is("", "Namespace") {
        if op == Operation::Create
            || !(is_control_plane_labelled(Some(obj))
                || is_control_plane_labelled(input.old_object()))
        {
            return;
        }
        let name = obj.name().or(input.request.name.as_deref()).unwrap_or("");
        let msg = format!(
            "namespace `{name}` is a CKS control-plane namespace (`{ORG_LABEL}={CONTROL_PLANE}`) that CoreWeave manages; do not {verb} it"
        );
        out.report(pointer::join("/metadata/labels", &[ORG_LABEL]), msg, None);
        return;
    }
    let Some(ns) = judged_namespace(obj, input.request) else {
        return;
    };
    let control_plane = match input.namespace_labels(ns) {
        Some(labels) => labels.get(ORG_LABEL).is_some_and(|v| v == CONTROL_PLANE),
        None => input.policy.namespaces.control_plane.is_match(ns),
    };
    if !control_plane || is_auth_reader_binding(obj, ns) {
        return;
    }
    let what = match obj.name().or(input.request.name.as_deref()) {
        Some(n) => format!("{} `{}`", obj.kind, show(n)),
        None => format!("a {}", obj.kind),
    };
    let msg = match op {
        Operation::Create => format!(
            "{what} is created in `{ns}`, a CKS control-plane namespace that CoreWeave manages; create it in one of your own namespaces"
        ),
        _ => format!(
            "{what} is in `{ns}`, a CKS control-plane namespace that CoreWeave manages; do not {verb} objects there"
        ),
    };
    let path = if obj.metadata.namespace.is_some() {
        String::from("/metadata/namespace")
    } else {
        String::new()
    };
    out.report(path, msg, None);
}
