//! `nodepool-invalid`: CoreWeave NodePools CKS would refuse or could never satisfy (CKS "Nodes
//! and Node Pools": <https://docs.coreweave.com/products/cks/nodes/nodes-and-node-pools>).
//!
//! Checks, each reported at the field it concerns: `instanceType` missing, or changed on UPDATE
//! (it is immutable); not exactly one of `targetNodes` and `targetRacks`; `targetRacks` on a type
//! that is not rack-scale; a rack-scale `targetNodes` (or `minNodes`/`maxNodes`) that is not a
//! multiple of 18; a negative count; `minNodes` greater than `maxNodes`.
//!
//! From coreweave/terraform-provider-coreweave `coreweave/cks/resource_node_pool.go`
//! and docs.coreweave.com (capacity-plans/spot-node-pools, cks/nodes/autoscaling):
//! `metadata.name` a DNS-1123 label of at most 63 characters; `computeClass` one of `default`
//! and `spot`, immutable on UPDATE (an absent class is `default`), and `spot` refused for
//! Superchip types (GH200, GB200, GB300); `autoscaling: true` refused for rack-scale types;
//! `nodeConfigurationUpdateStrategy.type` one of `Manual`, `OnSpecUpdate`, `Always`,
//! `RolloutOnCommand`.
//!
//! The rule judges the pool's state (ratcheted on UPDATE), but its immutable-field checks
//! (`instanceType`, `computeClass` changed on UPDATE) judge the change: the old object, judged
//! as it stands, never has them, so ratcheting never hides them.
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case: a NodePool without `spec` gets one finding at `/spec`; the
//! rack multiple applies to `minNodes`/`maxNodes` too, since a rack-scale pool only ever holds
//! whole racks; an `instanceType` that is not a known Instance ID is `unknown-instance-type`'s
//! concern (a warning: the built-in list may lag behind CoreWeave's), not an error here.

use crate::judge::eval::{Input, Out};
use crate::model::label_syntax::dns1123_label_problem;
use crate::model::nodetypes::{is_superchip, COMPUTE_CLASSES, RACK_NODES, UPDATE_STRATEGIES};
use crate::model::object::Operation;

/// `nodepool-invalid`.
pub fn check(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if !obj.is("compute.coreweave.com", "NodePool") {
        return;
    }
    let mut found: Vec<(&str, String)> = Vec::new();
    let Some(pool) = obj.node_pool.as_deref() else {
        out.report(
            "",
            "NodePool has no `spec`; CKS requires `instanceType` and one of `targetNodes`/`targetRacks`",
            None,
        );
        return;
    };
    let instance_type = pool.instance_type.as_deref().filter(|t| !t.is_empty());
    match instance_type {
        None => found.push((
            "/spec",
            String::from("NodePool has no `spec.instanceType`; CKS requires an Instance ID (e.g. `gd-8xh100ib-i128`)"),
        )),
        Some(t) => {
            let old = input
                .old_object()
                .filter(|_| input.operation() == Operation::Update)
                .and_then(|o| o.node_pool.as_deref())
                .and_then(|p| p.instance_type.as_deref());
            if let Some(old) = old.filter(|o| *o != t) {
                found.push((
                    "/spec/instanceType",
                    format!("`instanceType` is immutable: it was `{old}` and cannot become `{t}`; create a new NodePool instead"),
                ));
            }
        }
    }
    let rack_scale = instance_type.is_some_and(|t| input.policy.node_types.rack_scale.contains(t));
    match (pool.target_nodes, pool.target_racks) {
        (Some(_), Some(_)) => found.push((
            "/spec/targetRacks",
            String::from("set exactly one of `targetNodes` and `targetRacks`, not both"),
        )),
        (None, None) => found.push((
            "/spec",
            String::from("set exactly one of `targetNodes` and `targetRacks`"),
        )),
        _ => {}
    }
    if pool.target_racks.is_some() && !rack_scale {
        if let Some(t) = instance_type {
            found.push((
                "/spec/targetRacks",
                format!("`targetRacks` is only for rack-scale (NVL72) instance types, and `{t}` is not one; use `targetNodes`"),
            ));
        }
    }
    let counts = [
        ("/spec/targetNodes", "targetNodes", pool.target_nodes),
        ("/spec/targetRacks", "targetRacks", pool.target_racks),
        ("/spec/minNodes", "minNodes", pool.min_nodes),
        ("/spec/maxNodes", "maxNodes", pool.max_nodes),
    ];
    for (path, field, value) in counts {
        let Some(n) = value else { continue };
        if n < 0 {
            found.push((
                path,
                format!("`{field}` is {n}; a count cannot be negative"),
            ));
        } else if rack_scale && field != "targetRacks" && n % RACK_NODES != 0 {
            let t = instance_type.unwrap_or_default();
            let down = n - n % RACK_NODES;
            let up = down + RACK_NODES;
            found.push((
                path,
                format!(
                    "`{t}` is rack-scale and deploys in whole racks of {RACK_NODES} nodes, so `{field}: {n}` can never be met; use a multiple of {RACK_NODES} ({}{up}) or `targetRacks`",
                    if down > 0 { format!("{down} or ") } else { String::new() }
                ),
            ));
        }
    }
    if let Some(name) = obj.metadata.name.as_deref() {
        if let Some(problem) = dns1123_label_problem(name) {
            found.push((
                "/metadata/name",
                format!("NodePool name {problem}; CKS requires a DNS-1123 label (lowercase letters, digits and `-`, at most 63 characters)"),
            ));
        }
    }
    if let Some(class) = pool.compute_class.as_deref() {
        if !COMPUTE_CLASSES.contains(&class) {
            found.push((
                "/spec/computeClass",
                format!("`computeClass` is `{class}`; CKS accepts `default` or `spot`"),
            ));
        } else if class == "spot" {
            if let Some(t) = instance_type.filter(|t| is_superchip(t)) {
                found.push((
                    "/spec/computeClass",
                    format!("`{t}` is a Superchip (GH200/GB200/GB300) type, for which CKS offers no `spot` capacity; use `computeClass: default`"),
                ));
            }
        }
        let old = input
            .old_object()
            .filter(|_| input.operation() == Operation::Update)
            .and_then(|o| o.node_pool.as_deref())
            .map(|p| p.compute_class.as_deref().unwrap_or("default"));
        if let Some(old) = old.filter(|o| *o != class) {
            found.push((
                "/spec/computeClass",
                format!("`computeClass` is immutable: it was `{old}` and cannot become `{class}`; create a new NodePool instead"),
            ));
        }
    }
    if pool.autoscaling == Some(true) && rack_scale {
        let t = instance_type.unwrap_or_default();
        found.push((
            "/spec/autoscaling",
            format!("`{t}` is rack-scale, and CKS does not autoscale rack-scale pools; set `autoscaling: false` and size the pool with `targetRacks`"),
        ));
    }
    if let Some(t) = pool
        .node_configuration_update_strategy
        .as_ref()
        .and_then(|s| s.type_.as_deref())
    {
        if !UPDATE_STRATEGIES.contains(&t) {
            found.push((
                "/spec/nodeConfigurationUpdateStrategy/type",
                format!("`nodeConfigurationUpdateStrategy.type` is `{t}`; CKS accepts `Manual`, `OnSpecUpdate`, `Always` or `RolloutOnCommand`"),
            ));
        }
    }
    if let (Some(min), Some(max)) = (pool.min_nodes, pool.max_nodes) {
        if min > max {
            found.push((
                "/spec/minNodes",
                format!("`minNodes` ({min}) is greater than `maxNodes` ({max}); the pool can never be sized"),
            ));
        }
    }
    for (path, message) in found {
        out.report(path, message, None);
    }
}
