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

mod cel;
mod mutating;

use crate::model::catalogue::{RuleId, Severity};
use crate::model::templates::{Location, LOCATIONS as POD_TEMPLATE_LOCATIONS};
use crate::settings::policy::Policy;
use serde_json::{json, Value};

/// How (or why not) a rule runs as a native policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NativeSupport {
    /// Whether [`manifests`] emits a policy for the rule.
    pub expressible: bool,
    /// How CEL expresses it, or what CEL lacks.
    pub note: &'static str,
}

const fn yes(note: &'static str) -> NativeSupport {
    NativeSupport {
        expressible: true,
        note,
    }
}

const fn no(note: &'static str) -> NativeSupport {
    NativeSupport {
        expressible: false,
        note,
    }
}

/// Not yet emitted although CEL could express it.
const NOT_YET: &str = "expressible in CEL, not emitted yet";

/// The native-policy column of the catalogue.
pub fn support(rule: RuleId) -> NativeSupport {
    use RuleId::*;
    match rule {
        InputInvalid => no("the API server itself refuses what does not decode; CEL sees only decoded objects"),
        ReadAsList => no("a text-level input rule: the API server never sees a manifest file"),
        ServerSetMetadata => no("a text-level input rule about manifests in a repository"),
        ApiVersionRemoved => no("the API server refuses a removed apiVersion before any policy runs"),
        PodTemplateUnknown => no("needs a walk of arbitrary custom-resource shapes looking for `containers`"),
        ImageReferenceInvalid => no("needs the OCI reference grammar; CEL has no parser for it (not emitted yet)"),
        ImageDigestRequired => no(NOT_YET),
        ImageMutableTag => no(NOT_YET),
        ImagePullPolicy => no(NOT_YET),
        PinDigests => no("a mutation that needs the digest lock map or registry resolution"),
        ReservedNodeLabel => no(NOT_YET),
        ReservedNamespaceLabel => no(NOT_YET),
        ControlPlaneNamespace => no("its namespace globs and namespace-label context need the webhook; not emitted yet"),
        UnknownCoreweaveLabel => no(NOT_YET),
        LabelSyntax => no("the API server's own validation refuses invalid labels"),
        NodeLifecycleInconsistent => no(NOT_YET),
        LegacyNodeType => no(NOT_YET),
        MigrateNodeType => no("a mutation rewriting selectors from a table; not emitted yet"),
        UnknownInstanceType => no(NOT_YET),
        LegacyNodeSelector => no(NOT_YET),
        NodepoolInvalid => no("needs NodePool capacity tables and cross-field arithmetic; not emitted yet"),
        CpuComputeToleration => yes("on Kubernetes 1.36+, a MutatingAdmissionPolicy whose JSON Patch appends the toleration to Pods on CREATE that request no accelerator and do not tolerate `is_cpu_compute` yet; before 1.36 it needs the webhook or Kubewarden"),
        BroadToleration => yes("a CEL `exists` over the tolerations of every pod location; ratcheting by comparing with `oldObject`"),
        GpuTolerationWithoutGpu => no(NOT_YET),
        SunkDaemonsetTolerations => no(NOT_YET),
        InterruptibleStateful => no("needs the database image globs and the workload's traits; not emitted yet"),
        InterruptionLabelValue => no(NOT_YET),
        InterruptionLabelPlacement => no(NOT_YET),
        InterruptionLabelSpelling => no("near-miss spelling needs an edit distance CEL lacks"),
        GracefulTerminationPeriod => no(NOT_YET),
        AcceleratorAccessBypass => no(NOT_YET),
        PrivilegedWithoutAccelerator => no(NOT_YET),
        GangSchedulingQueue => no(NOT_YET),
        UnsupportedGpuOperator => no("recognises a Helm release or manifests set of many kinds, not one object"),
        SunkPodScheduler => no(NOT_YET),
        WebhookScope => no(NOT_YET),
        CksManagedComponent => no("recognises a component from many objects of a manifest set"),
        DraClaimUnused => yes("a CEL `exists` over each pod's `resourceClaims` and its containers' `resources.claims`, at every pod location but KServe InferenceService components (their model container is not modelled)"),
        ExceptionAnnotationInvalid => no("parses the exceptions annotation; exceptions by annotation are not honoured by native policies"),
    }
}

/// The settings the native policies read, one accessor each, so the generator does not depend
/// on where [`Policy`] keeps them.
impl Policy {
    /// Settings `accelerators.resources`: globs over resource names that count as accelerators.
    pub(crate) fn native_accelerator_resources(&self) -> &[String] {
        &self.settings().accelerators.resources
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
    if settings.exceptions != Default::default() {
        out.notes.push(String::from(
            "exceptions by annotation are not honoured by native policies",
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
        emit(&mut out.manifests, &scope, rule, severity, &spec, ratchet);
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
        _ => None,
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
            let claims = |h: &str| {
                format!(
                    "has({h}.resourceClaims) && {h}.resourceClaims.exists(c, {})",
                    unused(h, "c")
                )
            };
            v.push(cel::exists("object", pattern, &mut |h| claims(h)));
            // Every unused claim here is one (by name) `oldObject` already left unused at the
            // same place (eval.rs, subject: the message names the claim).
            p.push(cel::all("object", pattern, &mut |h| {
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
    RuleSpec {
        parts,
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
            // `system:serviceaccount:<ns>:<name>` matched as `<ns>/<name>` (eval.rs, is_exempt).
            exempt.push(format!(
                "(request.userInfo.username.startsWith('system:serviceaccount:') && request.userInfo.username.substring(21).split(':').size() == 2 && {})",
                cel::glob_any(
                    "request.userInfo.username.substring(21).split(':').join('/')",
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

fn emit(
    out: &mut Vec<Value>,
    scope: &Scope,
    rule: RuleId,
    severity: Severity,
    spec: &RuleSpec,
    ratchet: bool,
) {
    let deny = severity == Severity::Error;
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
            let mut new = scope.validating_conditions();
            new.push(json!({
                "name": "new-violation",
                "expression": format!("request.operation != 'UPDATE' || !({})", part.preexisting),
            }));
            policy(name.clone(), new, true, spec.message.clone());
            let mut old = scope.validating_conditions();
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
            policy(
                name,
                scope.validating_conditions(),
                deny,
                spec.message.clone(),
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
        // Every rule off: nothing.
        let p = policy(
            r#"{"rules": {"broad-toleration": {"enabled": false}, "dra-claim-unused": {"enabled": false}}}"#,
        );
        assert!(manifests(&p, 35).manifests.is_empty());
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
