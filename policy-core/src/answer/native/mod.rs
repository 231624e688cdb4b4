//! Native Kubernetes policies: the rules CEL can express, emitted as
//! `ValidatingAdmissionPolicy` + `ValidatingAdmissionPolicyBinding` manifests
//! (`admissionregistration.k8s.io/v1`) the API server enforces without a webhook.
//!
//! Pure: a function from a [`Policy`] and a Kubernetes minor version to manifests as JSON
//! values. Which rules are expressible, and why the others are not, is the [`support`] table.
//! Every pod rule reads every pod location of the built-in table ([`POD_TEMPLATE_LOCATIONS`])
//! and of settings `templates`.
//!
//! The CEL follows the upstream admission plugin
//! (`k8s.io/apiserver/pkg/admission/plugin/policy/validating`): `object`, `oldObject` and
//! `request` variables, `matchConditions` that gate a policy, and one validation per policy.

mod accelerators;
mod cel;
mod images;
mod mutating;

use crate::model::catalogue::{RuleId, Severity};
use crate::model::templates::{Location, LOCATIONS as POD_TEMPLATE_LOCATIONS};
use crate::settings::policy::Policy;
use serde_json::{json, Value};

pub use crate::model::catalogue::NativeSupport;

/// The native-policy column of the catalogue: each rule's catalogue line says whether and how
/// CEL expresses it (`native = yes(…)` / `no(…)` in `model/catalogue.rs`).
pub fn support(rule: RuleId) -> NativeSupport {
    rule.info().native
}

/// README's native table: one row per rule, `| id | yes/no | how, or what CEL lacks |`.
pub fn markdown_table() -> String {
    let mut out = String::from("| id | native | how, or what CEL lacks |\n|---|---|---|\n");
    for &rule in RuleId::ALL {
        let s = support(rule);
        out.push_str(&format!(
            "| `{rule}` | {} | {} |\n",
            if s.expressible { "yes" } else { "no" },
            s.note.replace('|', "\\|")
        ));
    }
    out
}

/// The settings the native policies read, one accessor each, so the generator does not depend
/// on where [`Policy`] keeps them.
impl Policy {
    /// Settings `accelerators.resources`: globs over resource names that count as accelerators.
    pub(crate) fn native_accelerator_resources(&self) -> &[String] {
        &self.settings().accelerators.resources
    }

    /// Settings `images.allow`: globs over image references exempt from digest pinning.
    pub(crate) fn native_image_allow(&self) -> &[String] {
        &self.settings().images.allow
    }

    /// Settings `images.mutableTags`.
    pub(crate) fn native_mutable_tags(&self) -> &[String] {
        &self.settings().images.mutable_tags
    }

    /// The normalized keys (`docker.io/library/nginx:1.25`) of settings `images.digests`, the
    /// lock map `pin-digests` pins from, sorted.
    pub(crate) fn native_image_digests(&self) -> Vec<&String> {
        let mut keys: Vec<&String> = self.images.digests.keys().collect();
        keys.sort();
        keys
    }

    /// Settings `exceptions.list`.
    pub(crate) fn native_exceptions(&self) -> &[crate::settings::Exception] {
        &self.settings().exceptions.list
    }

    /// Settings `accelerators.draClaimsAreAccelerators`.
    pub(crate) fn native_dra_claims_are_accelerators(&self) -> bool {
        self.settings().accelerators.dra_claims_are_accelerators
    }
}

/// CEL: a settings `exceptions.list` entry naming `rule` matches the request's object
/// (`settings/exceptions.rs`, `Entry::matches`: an absent or empty glob list matches anything;
/// the namespace is the object's, else the request's; the name is `metadata.name`, else
/// `generateName`), or `None` when no entry names `rule`.
fn excepted(policy: &Policy, rule: RuleId) -> Option<String> {
    let ns = "(has(object.metadata.namespace) ? object.metadata.namespace : (has(request.namespace) ? request.namespace : ''))";
    let name = "(has(object.metadata.name) ? object.metadata.name : (has(object.metadata.generateName) ? object.metadata.generateName : ''))";
    let mut entries = Vec::new();
    for e in policy.native_exceptions() {
        if !e.rules.iter().any(|r| r == rule.as_str()) {
            continue;
        }
        let mut all = vec![String::from("true")];
        if !e.namespaces.is_empty() {
            all.push(format!(
                "{ns} != '' && {}",
                cel::glob_any(ns, &e.namespaces)
            ));
        }
        if !e.kinds.is_empty() {
            all.push(cel::glob_any("request.kind.kind", &e.kinds));
        }
        if !e.names.is_empty() {
            all.push(format!("{name} != '' && {}", cel::glob_any(name, &e.names)));
        }
        entries.push(format!("({})", all.join(" && ")));
    }
    (!entries.is_empty()).then(|| entries.join(" || "))
}

/// Manifests for `policy` on Kubernetes `minor` (1.`minor`), and notes for the reader (what
/// is left to the webhook).
pub struct Native {
    /// `ValidatingAdmissionPolicy`, `MutatingAdmissionPolicy` and binding objects, in order.
    pub manifests: Vec<Value>,
    /// Human notes: mutations not emitted, settings not honoured.
    pub notes: Vec<String>,
}

/// The prefix of every emitted object's name.
pub const NAME_PREFIX: &str = "cks-policy-";

/// The label every emitted object carries (so `kubectl delete -l` removes them all).
pub const MANAGED_LABEL: &str = "cks-policy.example.invalid/native";

/// Emits the native policies for the expressible, enabled rules of `policy`.
pub fn manifests(policy: &Policy, minor: u32) -> Native {
    let mut out = Native {
        manifests: Vec::new(),
        notes: Vec::new(),
    };
    let settings = policy.settings();
    let scope = Scope::new(policy);
    if policy.enabled(RuleId::CpuComputeToleration) {
        if minor >= mutating::FIRST_MINOR {
            out.manifests
                .extend(mutating::cpu_compute_toleration(policy, &scope));
        } else {
            out.notes.push(format!("cpu-compute-toleration: Kubernetes 1.{minor} has no MutatingAdmissionPolicy on by default (GA from 1.36); the `is_cpu_compute` toleration needs the webhook or Kubewarden"));
        }
    }
    if policy.enabled(RuleId::PinDigests) && !policy.native_image_digests().is_empty() {
        out.notes.push(String::from(
            "pin-digests: the image rules count the images `images.digests` names as pinned, as the core judges the image it admits; without the webhook or Kubewarden nothing pins them",
        ));
    }
    if settings.exceptions != Default::default() {
        out.notes.push(String::from(
            "exceptions: settings `exceptions` entries are honoured (an excepted object is warned, not denied), the exceptions annotation is not read by native policies",
        ));
    }
    for &rule in RuleId::ALL {
        if !support(rule).expressible || !policy.enabled(rule) {
            continue;
        }
        let severity = policy.severity(rule);
        if rule.info().kind == crate::model::catalogue::RuleKind::Mutate {
            continue;
        }
        let Some(spec) = rule_spec(policy, rule) else {
            continue;
        };
        let ratchet = settings.update.preexisting == crate::settings::Preexisting::Allow;
        let exception = excepted(policy, rule);
        emit(
            &mut out.manifests,
            &scope,
            (rule, severity),
            &spec,
            ratchet,
            exception.as_deref(),
        );
    }
    out
}

/// What one rule's policies check: one policy per group of kinds whose pods sit at the same
/// places (an expression holds at most 100,000 code points, so one per rule would not fit).
struct RuleSpec {
    parts: Vec<Part>,
    /// The message, naming the rule.
    message: String,
}

/// One policy of a rule.
struct Part {
    /// Name suffix (the first kind's resource and group: unique).
    suffix: String,
    /// The kinds it matches (group, plural resource).
    resources: Vec<(String, String)>,
    /// CEL: the object (`object`) violates the rule.
    violates: String,
    /// CEL: every violation of `object` is also one of `oldObject` (for ratcheting).
    preexisting: String,
}

/// The pod locations (pointer patterns to something holding `tolerations`), per kind.
fn toleration_holders(policy: &Policy) -> Vec<(String, String, Vec<String>)> {
    use crate::model::templates::{Inline, Leaf, Shared};
    let mut kinds = Vec::new();
    let mut add = |loc: &Location| {
        let mut holders = Vec::new();
        for (pattern, leaf) in loc.leaves {
            let at = match leaf {
                Leaf::PodTemplate => format!("{pattern}/spec"),
                Leaf::Inline(Inline::KnativeTemplate) => format!("{pattern}/spec"),
                Leaf::PodSpec
                | Leaf::Inline(
                    Inline::KServeComponent
                    | Inline::KFServingComponent
                    | Inline::KServeRuntime
                    | Inline::PodFields
                    | Inline::ArgoTemplate
                    | Inline::SparkDriver
                    | Inline::SparkExecutor
                    | Inline::ResourceFlavor,
                ) => (*pattern).to_owned(),
                // The workflow-level list, where a pod sets none: the parent holds it.
                Leaf::Shared(Shared::Fallback("tolerations")) => {
                    pattern.trim_end_matches("/tolerations").to_owned()
                }
                _ => continue,
            };
            holders.push(at);
        }
        if !holders.is_empty() {
            kinds.push((loc.group.to_owned(), loc.kind.to_owned(), holders));
        }
    };
    for loc in POD_TEMPLATE_LOCATIONS {
        add(loc);
    }
    settings_kinds(policy, &mut kinds);
    kinds
}

/// The kinds of settings `templates`, each with the pod specs it holds (a pod template's
/// `spec`, and the pod specs named as such).
fn settings_kinds(policy: &Policy, kinds: &mut Vec<(String, String, Vec<String>)>) {
    for t in &policy.settings().templates {
        let mut holders: Vec<String> = t
            .pod_templates
            .iter()
            .map(|p| format!("{}/spec", p.trim_end_matches('/')))
            .collect();
        holders.extend(t.pod_specs.iter().cloned());
        kinds.push((t.api_group.clone(), t.kind.clone(), holders));
    }
}

/// The lowercase plural resource of a kind, as `kubectl` and CRD authors name them.
fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

fn rule_spec(policy: &Policy, rule: RuleId) -> Option<RuleSpec> {
    match rule {
        RuleId::BroadToleration => Some(broad_toleration(policy)),
        RuleId::DraClaimUnused => Some(dra_claim_unused(policy)),
        RuleId::ImageReferenceInvalid => Some(image_rule(policy, rule, images::Check::Invalid)),
        RuleId::ImageMutableTag => Some(image_rule(policy, rule, images::Check::MutableTag)),
        RuleId::ImageDigestRequired => {
            Some(image_rule(policy, rule, images::Check::DigestRequired))
        }
        RuleId::ImagePullPolicy => Some(image_rule(policy, rule, images::Check::PullPolicy)),
        RuleId::PrivilegedWithoutAccelerator => {
            Some(accelerators::privileged_without_accelerator(policy))
        }
        _ => None,
    }
}

fn image_rule(policy: &Policy, rule: RuleId, check: images::Check) -> RuleSpec {
    RuleSpec {
        parts: images::parts(policy, check),
        message: images::message(rule),
    }
}

/// `broad-toleration` (the core: `rules/tolerations.rs`, `check_broad_toleration`).
fn broad_toleration(policy: &Policy) -> RuleSpec {
    let hash = policy.settings().org_id_hash.clone();
    let bad = |t: &str| {
        let key = format!("(has({t}.key) ? {t}.key : '')");
        let op = format!("(has({t}.operator) ? {t}.operator : 'Equal')");
        let reserved = cel::string(crate::model::cks::RESERVED);
        let mut s = format!("(({key} == '' || {key} == {reserved}) && {op} == 'Exists')");
        if let Some(h) = &hash {
            s = format!(
                "({s} || ({key} == {reserved} && ({op} == 'Equal' || {op} == '') && (has({t}.value) ? {t}.value : '') != {}))",
                cel::string(h)
            );
        }
        s
    };
    let mut parts: Vec<Part> = Vec::new();
    let mut shapes: Vec<Vec<String>> = Vec::new();
    for (group, kind, patterns) in toleration_holders(policy) {
        if let Some(i) = shapes.iter().position(|p| *p == patterns) {
            parts[i].resources.push((group, plural(&kind)));
            continue;
        }
        let mut v = Vec::new();
        let mut p = Vec::new();
        for pattern in &patterns {
            let tol = format!("{pattern}/tolerations/*");
            v.push(cel::exists("object", &tol, &mut |t| bad(t)));
            // Every bad toleration here has an equal one at the same place in oldObject (the
            // core compares findings by path without indices and by message: eval.rs, subject).
            p.push(cel::all("object", &tol, &mut |t| {
                format!(
                    "!{} || {}",
                    bad(t),
                    cel::exists("oldObject", &tol, &mut |u| format!("{u} == {t}"))
                )
            }));
        }
        shapes.push(patterns);
        let suffix = if group.is_empty() {
            plural(&kind)
        } else {
            format!("{}.{group}", plural(&kind))
        };
        parts.push(Part {
            suffix,
            resources: vec![(group, plural(&kind))],
            violates: v.join(" || "),
            preexisting: p.join(" && "),
        });
    }
    RuleSpec {
        parts,
        message: format!(
            "{}: a toleration lets the pod land on control-plane, triage or pending nodes (`operator: Exists` with no key or with the reserved key{}); tolerate only the taints it needs",
            RuleId::BroadToleration,
            if hash.is_some() { ", or the reserved key with a value other than your org's hash" } else { "" }
        ),
    }
}

/// The pod specs (pointer patterns to an object with `containers`, `initContainers` and
/// `resourceClaims`), per kind: PodTemplateSpecs, PodSpecs and pod fields inlined as such.
fn pod_spec_holders(policy: &Policy) -> Vec<(String, String, Vec<String>)> {
    use crate::model::templates::{Inline, Leaf};
    let mut kinds = Vec::new();
    for loc in POD_TEMPLATE_LOCATIONS {
        let mut holders = Vec::new();
        for (pattern, leaf) in loc.leaves {
            match leaf {
                Leaf::PodTemplate | Leaf::Inline(Inline::KnativeTemplate) => {
                    holders.push(format!("{pattern}/spec"))
                }
                Leaf::PodSpec | Leaf::Inline(Inline::PodFields | Inline::KServeRuntime) => {
                    holders.push((*pattern).to_owned())
                }
                _ => {}
            }
        }
        if !holders.is_empty() {
            kinds.push((loc.group.to_owned(), loc.kind.to_owned(), holders));
        }
    }
    settings_kinds(policy, &mut kinds);
    kinds
}

/// One policy per group of kinds whose pod specs sit at the same places; `violates(h)` and
/// `preexisting(h, pattern)` are CEL over the pod spec `h`.
fn pod_spec_parts(
    policy: &Policy,
    violates: &dyn Fn(&str) -> String,
    preexisting: &dyn Fn(&str, &str) -> String,
) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut shapes: Vec<Vec<String>> = Vec::new();
    for (group, kind, patterns) in pod_spec_holders(policy) {
        if let Some(i) = shapes.iter().position(|p| *p == patterns) {
            parts[i].resources.push((group, plural(&kind)));
            continue;
        }
        let mut v = Vec::new();
        let mut p = Vec::new();
        for pattern in &patterns {
            v.push(cel::exists("object", pattern, &mut |h| violates(h)));
            p.push(cel::all("object", pattern, &mut |h| {
                preexisting(h, pattern)
            }));
        }
        let suffix = if group.is_empty() {
            plural(&kind)
        } else {
            format!("{}.{group}", plural(&kind))
        };
        shapes.push(patterns);
        parts.push(Part {
            suffix,
            resources: vec![(group, plural(&kind))],
            violates: v.join(" || "),
            preexisting: p.join(" && "),
        });
    }
    parts
}

/// `dra-claim-unused` (the core: `rules/accelerators.rs`, `check_dra_claim_unused`): a
/// pod-level claim no container or init container lists under `resources.claims`.
fn dra_claim_unused(policy: &Policy) -> RuleSpec {
    // CEL: claim `c` of the pod spec `h` is used by none of its containers.
    let unused = |h: &str, c: &str| {
        let lists = ["containers", "initContainers"].map(|l| {
            format!(
                "(has({h}.{l}) && {h}.{l}.exists(k, has(k.resources) && has(k.resources.claims) && k.resources.claims.exists(r, r.name == {c}.name)))"
            )
        });
        format!("!({})", lists.join(" || "))
    };
    let claims = |h: &str| {
        format!(
            "has({h}.resourceClaims) && {h}.resourceClaims.exists(c, {})",
            unused(h, "c")
        )
    };
    // Every unused claim here is one (by name) `oldObject` already left unused at the same
    // place (eval.rs, subject: the message names the claim).
    let preexisting = |h: &str, pattern: &str| {
        let old = cel::exists("oldObject", pattern, &mut |g| {
            format!(
                "has({g}.resourceClaims) && {g}.resourceClaims.exists(d, d.name == c.name && {})",
                unused(g, "d")
            )
        });
        format!(
            "!has({h}.resourceClaims) || {h}.resourceClaims.all(c, !{} || {old})",
            unused(h, "c")
        )
    };
    RuleSpec {
        parts: pod_spec_parts(policy, &claims, &preexisting),
        message: format!(
            "{}: a pod-level resource claim is listed by no container's `resources.claims`, so no container gets its device; add `{{name: <claim>}}` to `resources.claims` of each container that needs it",
            RuleId::DraClaimUnused
        ),
    }
}

/// Where bindings apply: namespaces and requesters.
struct Scope {
    /// `namespaceSelector` of every binding.
    namespace_selector: Value,
    /// `matchConditions` on the namespace (settings `controlPlaneNamespaces` globs).
    namespace_conditions: Vec<Value>,
    /// `matchConditions` on the requester (settings `exemptions`): validations only, as the
    /// core's mutations still apply to an exempt requester (`judge/eval.rs`, `run`).
    exempt_conditions: Vec<Value>,
}

impl Scope {
    fn new(policy: &Policy) -> Scope {
        let s = policy.settings();
        let mut exact = Vec::new();
        let mut globs = Vec::new();
        for ns in &s.control_plane_namespaces {
            if cel::is_literal_glob(ns) {
                exact.push(ns.clone());
            } else {
                globs.push(ns.clone());
            }
        }
        let mut expressions = vec![json!({
            "key": "ns.coreweave.cloud/org",
            "operator": "NotIn",
            "values": ["control-plane"],
        })];
        if !exact.is_empty() {
            expressions.push(json!({
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": exact,
            }));
        }
        let mut namespace_conditions = Vec::new();
        if !globs.is_empty() {
            namespace_conditions.push(json!({
                "name": "not-control-plane-namespace",
                "expression": format!(
                    "!(has(request.namespace) && {})",
                    cel::glob_any("request.namespace", &globs)
                ),
            }));
        }
        let e = &s.exemptions;
        let mut exempt = Vec::new();
        if !e.users.is_empty() {
            exempt.push(cel::glob_any("request.userInfo.username", &e.users));
        }
        if !e.groups.is_empty() {
            exempt.push(format!(
                "(has(request.userInfo.groups) && request.userInfo.groups.exists(g, {}))",
                cel::glob_any("g", &e.groups)
            ));
        }
        if !e.service_accounts.is_empty() {
            // `system:serviceaccount:<ns>:<name>` (a 22-character prefix) matched as `<ns>/<name>`
            // (eval.rs, is_exempt).
            exempt.push(format!(
                "(request.userInfo.username.startsWith('system:serviceaccount:') && request.userInfo.username.substring(22).split(':').size() == 2 && {})",
                cel::glob_any(
                    "request.userInfo.username.substring(22).split(':').join('/')",
                    &e.service_accounts
                )
            ));
        }
        let mut exempt_conditions = Vec::new();
        if !exempt.is_empty() {
            exempt_conditions.push(json!({
                "name": "not-exempt",
                "expression": format!("!({})", exempt.join(" || ")),
            }));
        }
        Scope {
            namespace_selector: json!({ "matchExpressions": expressions }),
            namespace_conditions,
            exempt_conditions,
        }
    }

    /// The `matchConditions` of a validating policy: namespaces and exemptions.
    fn validating_conditions(&self) -> Vec<Value> {
        let mut c = self.namespace_conditions.clone();
        c.extend(self.exempt_conditions.iter().cloned());
        c
    }
}

/// Emits a rule's policies and bindings. A rule at `error` with a settings exception
/// (`excepted`, CEL) gets its Deny policies gated on `!excepted` and a Warn policy for the
/// excepted objects: the core reports a silenced finding, marked, and does not deny
/// (`judge/exceptions.rs`).
fn emit(
    out: &mut Vec<Value>,
    scope: &Scope,
    (rule, severity): (RuleId, Severity),
    spec: &RuleSpec,
    ratchet: bool,
    excepted: Option<&str>,
) {
    let deny = severity == Severity::Error;
    let mut conditions = scope.validating_conditions();
    let excepted = excepted.filter(|_| deny);
    if let Some(e) = excepted {
        conditions.push(json!({ "name": "not-excepted", "expression": format!("!({e})") }));
    }
    for part in &spec.parts {
        let mut groups: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (group, resource) in &part.resources {
            let list = groups.entry(group.as_str()).or_default();
            if !list.contains(&resource.as_str()) {
                list.push(resource);
            }
        }
        let rules: Vec<Value> = groups
            .iter()
            .map(|(group, resources)| {
                json!({
                    "apiGroups": [group],
                    "apiVersions": ["*"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": resources,
                })
            })
            .collect();
        let mut policy = |name: String, conditions: Vec<Value>, deny: bool, message: String| {
            let labels = json!({ MANAGED_LABEL: rule.as_str() });
            out.push(json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicy",
                "metadata": { "name": name, "labels": labels },
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": { "resourceRules": rules },
                    "matchConditions": conditions,
                    "validations": [{
                        "expression": format!("!({})", part.violates),
                        "message": message,
                    }],
                },
            }));
            out.push(json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": { "name": name, "labels": labels },
                "spec": {
                    "policyName": name,
                    "validationActions": if deny { json!(["Deny"]) } else { json!(["Warn"]) },
                    "matchResources": { "namespaceSelector": scope.namespace_selector },
                },
            }));
        };
        let name = format!("{NAME_PREFIX}{rule}-{}", part.suffix);
        if ratchet && deny {
            // Ratcheting: an UPDATE whose violations `oldObject` already had is warned, not
            // denied (the core's `update.preexisting: allow`).
            let mut new = conditions.clone();
            new.push(json!({
                "name": "new-violation",
                "expression": format!("request.operation != 'UPDATE' || !({})", part.preexisting),
            }));
            policy(name.clone(), new, true, spec.message.clone());
            let mut old = conditions.clone();
            old.push(json!({
                "name": "preexisting-violation",
                "expression": format!("request.operation == 'UPDATE' && ({})", part.preexisting),
            }));
            policy(
                format!("{name}-preexisting"),
                old,
                false,
                format!(
                    "{} (this predates the update: `oldObject` has it too, so it does not deny)",
                    spec.message
                ),
            );
        } else {
            policy(name.clone(), conditions.clone(), deny, spec.message.clone());
        }
        if let Some(e) = excepted {
            let mut c = scope.validating_conditions();
            c.push(json!({ "name": "excepted", "expression": e }));
            policy(
                format!("{name}-excepted"),
                c,
                false,
                format!(
                    "{} (silenced by a settings `exceptions` entry: reported, not denied)",
                    spec.message
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_an_entry() {
        for &rule in RuleId::ALL {
            let s = support(rule);
            assert!(!s.note.is_empty(), "{rule}");
            if s.expressible && rule.info().kind != crate::model::catalogue::RuleKind::Mutate {
                assert!(rule_spec(&Policy::default(), rule).is_some(), "{rule}");
            }
        }
    }

    fn policy(settings: &str) -> Policy {
        Policy::from_slice(settings.as_bytes()).unwrap()
    }

    fn bindings(n: &Native) -> Vec<&Value> {
        n.manifests
            .iter()
            .filter(|m| m["kind"] == "ValidatingAdmissionPolicyBinding")
            .collect()
    }

    #[test]
    fn settings_become_actions_scopes_and_conditions() {
        // error: a Deny policy and a Warn policy for preexisting violations, per kind group.
        let p = policy(
            r#"{"rules": {"broad-toleration": {"severity": "error"}, "dra-claim-unused": {"enabled": false}}}"#,
        );
        let n = manifests(&p, 35);
        let b = bindings(&n);
        assert!(b
            .iter()
            .any(|b| b["spec"]["validationActions"][0] == "Deny"));
        assert!(b.iter().any(|b| b["metadata"]["name"]
            .as_str()
            .unwrap()
            .ends_with("-preexisting")
            && b["spec"]["validationActions"][0] == "Warn"));
        // mode: warn turns every error into a warning: no Deny anywhere.
        let p = policy(r#"{"mode": "warn", "rules": {"broad-toleration": {"severity": "error"}}}"#);
        assert!(bindings(&manifests(&p, 35))
            .iter()
            .all(|b| b["spec"]["validationActions"][0] == "Warn"));
        // preexisting: deny judges old violations like new ones: no ratcheting pair.
        let p = policy(
            r#"{"update": {"preexisting": "deny"}, "rules": {"broad-toleration": {"severity": "error"}}}"#,
        );
        let n = manifests(&p, 35);
        assert!(n.manifests.iter().all(|m| !m["metadata"]["name"]
            .as_str()
            .unwrap()
            .ends_with("-preexisting")));
        // Namespaces and exemptions.
        let p = policy(
            r#"{"controlPlaneNamespaces": ["kube-system", "cw-*"], "exemptions": {"groups": ["system:masters"], "serviceAccounts": ["ci/*"]}}"#,
        );
        let n = manifests(&p, 35);
        let b = bindings(&n)[0];
        let sel = b["spec"]["matchResources"]["namespaceSelector"].to_string();
        assert!(
            sel.contains("\"ns.coreweave.cloud/org\"") && sel.contains("\"kube-system\""),
            "{sel}"
        );
        assert!(!sel.contains("cw-"), "{sel}");
        let conditions = n.manifests[0]["spec"]["matchConditions"].to_string();
        assert!(
            conditions.contains("request.namespace.startsWith('cw-')"),
            "{conditions}"
        );
        assert!(conditions.contains("g == 'system:masters'"), "{conditions}");
        assert!(conditions.contains("startsWith('ci/')"), "{conditions}");
        // A settings exception: Deny gated on it, a Warn policy for the excepted objects.
        let p = policy(
            r#"{"rules": {"broad-toleration": {"severity": "error"}}, "exceptions": {"list": [{"rules": ["broad-toleration"], "namespaces": ["bench-*"], "kinds": ["Pod"], "reason": "benchmarks"}]}}"#,
        );
        let n = manifests(&p, 35);
        let deny = n
            .manifests
            .iter()
            .find(|m| m["metadata"]["name"] == "cks-policy-broad-toleration-pods")
            .unwrap();
        let c = deny["spec"]["matchConditions"].to_string();
        assert!(
            c.contains("not-excepted")
                && c.contains("startsWith('bench-')")
                && c.contains("request.kind.kind == 'Pod'"),
            "{c}"
        );
        assert!(n.manifests.iter().any(|m| m["metadata"]["name"]
            == "cks-policy-broad-toleration-pods-excepted"
            && m["kind"] == "ValidatingAdmissionPolicyBinding"
            && m["spec"]["validationActions"][0] == "Warn"));
        // Every native validation off: nothing.
        let off: Vec<String> = RuleId::ALL
            .iter()
            .filter(|r| support(**r).expressible)
            .map(|r| format!(r#""{r}": {{"enabled": false}}"#))
            .collect();
        let p = policy(&format!(r#"{{"rules": {{{}}}}}"#, off.join(", ")));
        assert!(manifests(&p, 37).manifests.is_empty());
        // Before 1.36 the mutation's note says the webhook is needed; from 1.36 it is a MAP.
        assert!(manifests(&Policy::default(), 35).notes[0].contains("webhook or Kubewarden"));
        let n = manifests(&Policy::default(), 36);
        assert!(n.notes.iter().all(|n| !n.contains("cpu-compute")));
        let kinds: Vec<_> = n.manifests.iter().map(|m| m["kind"].clone()).collect();
        assert!(kinds.contains(&json!("MutatingAdmissionPolicy")));
        assert!(kinds.contains(&json!("MutatingAdmissionPolicyBinding")));
    }

    /// The MAP appends the core's toleration to the core's pods: CREATE of Pods, no
    /// accelerator, not tolerated yet; exemptions do not stop it, exceptions do.
    #[test]
    fn cpu_compute_mutation() {
        let p = policy(
            r#"{"exemptions": {"users": ["admin"]}, "accelerators": {"resources": ["amd.com/*"]}, "exceptions": {"list": [{"rules": ["cpu-compute-toleration"], "names": ["probe-*"], "reason": "r"}]}}"#,
        );
        let n = manifests(&p, 37);
        let map = n
            .manifests
            .iter()
            .find(|m| m["kind"] == "MutatingAdmissionPolicy")
            .unwrap();
        assert_eq!(map["apiVersion"], "admissionregistration.k8s.io/v1");
        let rules = &map["spec"]["matchConstraints"]["resourceRules"][0];
        assert_eq!(rules["operations"], json!(["CREATE"]));
        assert_eq!(rules["resources"], json!(["pods"]));
        let conditions = map["spec"]["matchConditions"].to_string();
        assert!(conditions.contains("amd.com/"), "{conditions}");
        assert!(conditions.contains("nvidia.com/mig-"), "{conditions}");
        assert!(conditions.contains("resourceClaims"), "{conditions}");
        assert!(conditions.contains("probe-"), "{conditions}");
        assert!(!conditions.contains("admin"), "{conditions}");
        let patch = map["spec"]["mutations"][0]["jsonPatch"]["expression"]
            .as_str()
            .unwrap();
        assert!(patch.contains("'/spec/tolerations/-'") && patch.contains("'/spec/tolerations'"));
        assert!(patch
            .contains("{'key': 'is_cpu_compute', 'operator': 'Exists', 'effect': 'NoSchedule'}"));
        // DRA claims not counted: no resourceClaims test.
        let p = policy(r#"{"accelerators": {"draClaimsAreAccelerators": false}}"#);
        let map = manifests(&p, 36)
            .manifests
            .into_iter()
            .find(|m| m["kind"] == "MutatingAdmissionPolicy")
            .unwrap();
        assert!(!map["spec"]["matchConditions"]
            .to_string()
            .contains("resourceClaims"));
        // The rule off: no MAP and no note.
        let p = policy(r#"{"rules": {"cpu-compute-toleration": {"enabled": false}}}"#);
        let n = manifests(&p, 37);
        assert!(n
            .manifests
            .iter()
            .all(|m| m["kind"] != "MutatingAdmissionPolicy"));
        assert!(manifests(&p, 35)
            .notes
            .iter()
            .all(|n| !n.contains("cpu-compute")));
    }

    /// The resource every policy matches is the kind's real plural: the built-in resources
    /// and the CRDs' `spec.names.plural` (each project's CRD manifests), for every kind of the
    /// pod-template table. None of them is irregular today; a new row whose plural is fails here.
    #[test]
    fn every_table_kind_has_its_real_plural() {
        let real = [
            ("", "Pod", "pods"),
            ("", "PodTemplate", "podtemplates"),
            ("", "ReplicationController", "replicationcontrollers"),
            ("", "Node", "nodes"),
            ("apps", "Deployment", "deployments"),
            ("apps", "ReplicaSet", "replicasets"),
            ("apps", "StatefulSet", "statefulsets"),
            ("apps", "DaemonSet", "daemonsets"),
            ("batch", "Job", "jobs"),
            ("batch", "CronJob", "cronjobs"),
            ("kubeflow.org", "PyTorchJob", "pytorchjobs"),
            ("kubeflow.org", "TFJob", "tfjobs"),
            ("kubeflow.org", "MPIJob", "mpijobs"),
            ("kubeflow.org", "XGBoostJob", "xgboostjobs"),
            ("kubeflow.org", "PaddleJob", "paddlejobs"),
            ("kubeflow.org", "JAXJob", "jaxjobs"),
            ("jobset.x-k8s.io", "JobSet", "jobsets"),
            (
                "leaderworkerset.x-k8s.io",
                "LeaderWorkerSet",
                "leaderworkersets",
            ),
            ("ray.io", "RayCluster", "rayclusters"),
            ("ray.io", "RayService", "rayservices"),
            ("ray.io", "RayJob", "rayjobs"),
            ("ray.io", "RayCronJob", "raycronjobs"),
            ("batch.volcano.sh", "Job", "jobs"),
            ("batch.volcano.sh", "CronJob", "cronjobs"),
            ("flow.volcano.sh", "JobTemplate", "jobtemplates"),
            ("compute.coreweave.com", "NodePool", "nodepools"),
            ("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
            ),
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
            ),
            (
                "policies.kubewarden.io",
                "ClusterAdmissionPolicy",
                "clusteradmissionpolicies",
            ),
            ("serving.kserve.io", "InferenceService", "inferenceservices"),
            (
                "serving.kubeflow.org",
                "InferenceService",
                "inferenceservices",
            ),
            (
                "serving.kserve.io",
                "LLMInferenceService",
                "llminferenceservices",
            ),
            (
                "serving.kserve.io",
                "LLMInferenceServiceConfig",
                "llminferenceserviceconfigs",
            ),
            ("serving.kserve.io", "ServingRuntime", "servingruntimes"),
            (
                "serving.kserve.io",
                "ClusterServingRuntime",
                "clusterservingruntimes",
            ),
            ("serving.knative.dev", "Service", "services"),
            ("serving.knative.dev", "Configuration", "configurations"),
            (
                "trainer.kubeflow.org",
                "TrainingRuntime",
                "trainingruntimes",
            ),
            (
                "trainer.kubeflow.org",
                "ClusterTrainingRuntime",
                "clustertrainingruntimes",
            ),
            ("trainer.kubeflow.org", "TrainJob", "trainjobs"),
            ("argoproj.io", "Workflow", "workflows"),
            ("argoproj.io", "WorkflowTemplate", "workflowtemplates"),
            (
                "argoproj.io",
                "ClusterWorkflowTemplate",
                "clusterworkflowtemplates",
            ),
            ("argoproj.io", "CronWorkflow", "cronworkflows"),
            (
                "sparkoperator.k8s.io",
                "SparkApplication",
                "sparkapplications",
            ),
            (
                "sparkoperator.k8s.io",
                "ScheduledSparkApplication",
                "scheduledsparkapplications",
            ),
            ("kueue.x-k8s.io", "ResourceFlavor", "resourceflavors"),
            ("workload.codeflare.dev", "AppWrapper", "appwrappers"),
        ];
        for loc in POD_TEMPLATE_LOCATIONS {
            let Some((_, _, want)) = real
                .iter()
                .find(|(g, k, _)| *g == loc.group && *k == loc.kind)
            else {
                panic!(
                    "{}/{}: add its real plural to this table",
                    loc.group, loc.kind
                );
            };
            assert_eq!(plural(loc.kind), *want, "{}/{}", loc.group, loc.kind);
        }
    }

    /// The API server refuses an expression above 100,000 characters
    /// (`admissionregistration/validation`, `maxCELExpressionLength` … at 1.35): every
    /// emitted expression and condition fits, for the default settings and with every
    /// settings list that adds text.
    #[test]
    fn every_expression_fits() {
        let p = policy(
            r#"{"images": {"allow": ["registry.example.com/**", "{a,b}/*"], "digests": {"nginx:1.25": "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f"}}, "rules": {"image-digest-required": {"severity": "error"}, "image-pull-policy": {"severity": "error"}}, "exemptions": {"users": ["u*"]}}"#,
        );
        for n in [manifests(&Policy::default(), 37), manifests(&p, 37)] {
            for m in &n.manifests {
                let spec = &m["spec"];
                let mut texts: Vec<&str> = Vec::new();
                for key in ["validations", "matchConditions"] {
                    for v in spec[key].as_array().into_iter().flatten() {
                        texts.extend(v["expression"].as_str());
                    }
                }
                for t in texts {
                    assert!(
                        t.chars().count() <= 100_000,
                        "{}: {}",
                        m["metadata"]["name"],
                        t.len()
                    );
                }
            }
        }
    }

    /// `privileged-without-accelerator` reads every container list and the accelerator test the
    /// mutation uses (settings `accelerators.resources` included), and ratchets by container name.
    #[test]
    fn privileged_without_accelerator_reads_every_container() {
        let p = policy(
            r#"{"accelerators": {"resources": ["amd.com/*"]}, "rules": {"privileged-without-accelerator": {"severity": "error"}}}"#,
        );
        let n = manifests(&p, 35);
        let pods = n
            .manifests
            .iter()
            .find(|m| m["metadata"]["name"] == "cks-policy-privileged-without-accelerator-pods")
            .unwrap();
        let v = pods["spec"]["validations"][0]["expression"]
            .as_str()
            .unwrap();
        for want in [
            "ephemeralContainers",
            "initContainers",
            "amd.com/",
            "nvidia.com/mig-",
            "privileged == true",
        ] {
            assert!(v.contains(want), "{want}");
        }
        assert!(pods["spec"]["validations"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("privileged-without-accelerator: "));
        let c = pods["spec"]["matchConditions"].to_string();
        assert!(c.contains("y.name == x.name"), "{c}");
        // Deployments share the policy of the kinds whose pod template is at `/spec/template`.
        assert!(n
            .manifests
            .iter()
            .any(|m| m["kind"] == "ValidatingAdmissionPolicy"
                && m["metadata"]["labels"][MANAGED_LABEL] == "privileged-without-accelerator"
                && m["spec"]["matchConstraints"]["resourceRules"]
                    .to_string()
                    .contains("\"deployments\"")));
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("Deployment"), "deployments");
        assert_eq!(plural("ResourceFlavor"), "resourceflavors");
        assert_eq!(plural("ClusterPolicy"), "clusterpolicies");
        assert_eq!(plural("InferenceService"), "inferenceservices");
        assert_eq!(plural("RayService"), "rayservices");
    }

    #[test]
    fn broad_toleration_covers_every_location() {
        let n = manifests(&Policy::default(), 35);
        let text = serde_json::to_string(&n.manifests).unwrap();
        for resource in [
            "\"pods\"",
            "\"deployments\"",
            "\"pytorchjobs\"",
            "\"workflows\"",
            "\"sparkapplications\"",
        ] {
            assert!(text.contains(resource), "{resource}");
        }
        // warning by default: Warn bindings, no ratcheting pair
        for m in &n.manifests {
            if m["metadata"]["labels"][MANAGED_LABEL] != "broad-toleration" {
                continue;
            }
            let name = m["metadata"]["name"].as_str().unwrap();
            assert!(!name.ends_with("-preexisting"), "{name}");
            if m["kind"] == "ValidatingAdmissionPolicyBinding" {
                assert_eq!(m["spec"]["validationActions"][0], "Warn");
            } else {
                for v in m["spec"]["validations"].as_array().unwrap() {
                    assert!(v["expression"].as_str().unwrap().len() < 100_000);
                }
            }
        }
    }
}
