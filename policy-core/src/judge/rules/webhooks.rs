//! `webhook-scope`: admission webhooks that can deadlock a CKS cluster.
//!
//! Source: the CKS Kueue page ("Upstream Kueue registers admission webhooks that intercept system
//! and infrastructure Pods, which can deadlock the cluster",
//! <https://docs.coreweave.com/products/cks/clusters/coreweave-charts/kueue>). A webhook that fails
//! closed on Pod creation in every namespace blocks CKS's own Pods (CNI, device plugin, node
//! health) whenever its backend is down, and its backend may itself need one of those Pods.
//!
//! Kubernetes semantics (`admissionregistration.k8s.io/v1`, kubernetes/kubernetes
//! `staging/src/k8s.io/api/admissionregistration/v1/types.go`):
//! - `failurePolicy` defaults to `Fail`; only `Ignore` fails open.
//! - A rule matches Pods when `apiGroups` has `""` or `*`, `resources` has `pods`, `*` or `*/*`
//!   (`pods/*` names only subresources), and `operations` has `CREATE`, `UPDATE` or `*`.
//! - An absent or empty `namespaceSelector` matches every namespace.
//!
//! Decision: the selector keeps control-plane namespaces out only when one of its own
//! requirements on `ns.coreweave.cloud/org` is false for the value `control-plane` (a
//! `matchLabels` value other than it, `In` without it, `NotIn` with it, `DoesNotExist`).
//! Requirements on other keys (`kubernetes.io/metadata.name NotIn [kube-system]`) leave some
//! control-plane namespace matched, so they do not count.

use serde_json::Value;

use crate::judge::eval::{Input, Out};
use crate::model::cks::{CONTROL_PLANE, ORG_LABEL};
use crate::read::pointer;

/// The selector requirement the fix adds.
pub const EXCLUDE_CONTROL_PLANE: &str =
    "{key: ns.coreweave.cloud/org, operator: NotIn, values: [control-plane]}";

fn strs(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The operations on Pods that `webhook` intercepts (`CREATE`, `UPDATE`), if any.
fn pod_operations(webhook: &Value) -> Vec<&'static str> {
    let mut ops = Vec::new();
    for rule in webhook
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let core = strs(rule.get("apiGroups")).any(|g| g.is_empty() || g == "*");
        let pods = strs(rule.get("resources")).any(|r| matches!(r, "pods" | "*" | "*/*"));
        if !core || !pods {
            continue;
        }
        for op in strs(rule.get("operations")) {
            for want in ["CREATE", "UPDATE"] {
                if (op == want || op == "*") && !ops.contains(&want) {
                    ops.push(want);
                }
            }
        }
    }
    ops.sort_unstable();
    ops
}

/// Whether `selector` (a `LabelSelector`) is false for every namespace labelled
/// `ns.coreweave.cloud/org=control-plane`.
pub fn excludes_control_plane(selector: Option<&Value>) -> bool {
    let Some(sel) = selector else {
        return false;
    };
    if let Some(v) = sel.get("matchLabels").and_then(|m| m.get(ORG_LABEL)) {
        if v.as_str() != Some(CONTROL_PLANE) {
            return true;
        }
    }
    sel.get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("key").and_then(Value::as_str) == Some(ORG_LABEL))
        .any(|e| {
            let has = strs(e.get("values")).any(|v| v == CONTROL_PLANE);
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => !has,
                Some("NotIn") => has,
                Some("DoesNotExist") => true,
                _ => false,
            }
        })
}

/// `webhook-scope`: a Validating/MutatingWebhookConfiguration with a webhook that intercepts
/// Pod CREATE/UPDATE, fails closed, and whose `namespaceSelector` does not keep
/// control-plane namespaces out (see the module documentation). A Kubewarden
/// `ClusterAdmissionPolicy` is judged the same way: its `spec.rules`, `spec.failurePolicy`
/// (default `Fail`) and `spec.namespaceSelector` become the webhook Kubewarden registers.
pub fn check(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let group = "admissionregistration.k8s.io";
    // A Kubewarden ClusterAdmissionPolicy becomes one webhook with the same fields in `spec`.
    let kubewarden = obj.is("policies.kubewarden.io", "ClusterAdmissionPolicy");
    let webhooks: Vec<(String, &Value)> = if kubewarden {
        obj.captured("/spec")
            .map(|s| (String::from("/spec"), s))
            .into_iter()
            .collect()
    } else if obj.is(group, "ValidatingWebhookConfiguration")
        || obj.is(group, "MutatingWebhookConfiguration")
    {
        let list = obj.captured("/webhooks").and_then(Value::as_array);
        list.into_iter()
            .flatten()
            .enumerate()
            .map(|(i, w)| {
                let mut p = String::from("/webhooks");
                pointer::push_index(&mut p, i);
                (p, w)
            })
            .collect()
    } else {
        return;
    };
    let mut found = Vec::new();
    for (mut path, w) in webhooks {
        let policy = w
            .get("failurePolicy")
            .and_then(Value::as_str)
            .unwrap_or("Fail");
        if policy == "Ignore" {
            continue;
        }
        let ops = pod_operations(w);
        if ops.is_empty() || excludes_control_plane(w.get("namespaceSelector")) {
            continue;
        }
        let name = match w.get("name").and_then(Value::as_str) {
            Some(n) => n,
            None => obj.name().unwrap_or(""),
        };
        let scope = if w.get("namespaceSelector").is_some() {
            path.push_str("/namespaceSelector");
            "in control-plane namespaces"
        } else {
            "in every namespace"
        };
        let failure = if w.get("failurePolicy").is_some() {
            "`failurePolicy: Fail`"
        } else {
            "`failurePolicy: Fail` (the default)"
        };
        found.push((
            path,
            format!(
                "webhook `{name}` intercepts Pod {} {scope} with {failure}, so while its service is down CKS's own system Pods cannot start and the cluster can deadlock; add `{EXCLUDE_CONTROL_PLANE}` to its `namespaceSelector.matchExpressions`",
                ops.join(" and ")
            ),
        ));
    }
    for (path, message) in found {
        out.report(
            path,
            message,
            Some(format!(
                "namespaceSelector: {{matchExpressions: [{EXCLUDE_CONTROL_PLANE}]}}"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Label-selector semantics for the org key (k8s.io/apimachinery `labels.Selector`).
    #[test]
    fn selector_exclusion_table() {
        let rows = [
            (json!(null), false),
            (json!({}), false),
            (json!({"matchLabels": {ORG_LABEL: "acme"}}), true),
            (json!({"matchLabels": {ORG_LABEL: "control-plane"}}), false),
            (
                json!({"matchExpressions": [{"key": ORG_LABEL, "operator": "NotIn", "values": ["control-plane"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": ORG_LABEL, "operator": "NotIn", "values": ["x"]}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": ORG_LABEL, "operator": "In", "values": ["acme"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": ORG_LABEL, "operator": "In", "values": ["control-plane"]}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": ORG_LABEL, "operator": "DoesNotExist"}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": ORG_LABEL, "operator": "Exists"}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}),
                false,
            ),
        ];
        for (sel, want) in rows {
            let s = (!sel.is_null()).then_some(&sel);
            assert_eq!(excludes_control_plane(s), want, "{sel}");
        }
    }

    #[test]
    fn pod_operation_table() {
        let w = |rules: Value| json!({"rules": rules});
        let rows = [
            (
                json!([{"apiGroups": [""], "resources": ["pods"], "operations": ["CREATE"]}]),
                vec!["CREATE"],
            ),
            (
                json!([{"apiGroups": ["*"], "resources": ["*"], "operations": ["*"]}]),
                vec!["CREATE", "UPDATE"],
            ),
            (
                json!([{"apiGroups": [""], "resources": ["*/*"], "operations": ["UPDATE"]}]),
                vec!["UPDATE"],
            ),
            (
                json!([{"apiGroups": [""], "resources": ["pods/*"], "operations": ["CREATE"]}]),
                vec![],
            ),
            (
                json!([{"apiGroups": ["apps"], "resources": ["*"], "operations": ["CREATE"]}]),
                vec![],
            ),
            (
                json!([{"apiGroups": [""], "resources": ["pods"], "operations": ["DELETE"]}]),
                vec![],
            ),
        ];
        for (rules, want) in rows {
            assert_eq!(pod_operations(&w(rules.clone())), want, "{rules}");
        }
    }
}
