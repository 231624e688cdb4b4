//! Judging one request: runs the enabled rules in table order and collects the verdict.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::object::{Object, Operation, Request};
use crate::policy::Policy;
use crate::rules::{RuleId, RuleKind, RULES};
use crate::verdict::{Finding, PatchOp, Severity, Verdict};

/// Cluster state a caller may supply for rules that need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Context {
    /// Labels of namespaces by name (a Kubewarden context-aware lookup, or the caller's own).
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Extra `pin-digests` lock entries resolved by the caller for this request (normalized
    /// `repo:tag` → digest), e.g. by the Kubewarden module through the host's OCI capability.
    pub digests: BTreeMap<String, String>,
}

/// Facts about the judged object that several rules need, computed once on first use.
#[derive(Default)]
pub(crate) struct Facts<'a> {
    /// Every container image, parsed.
    pub images: std::cell::OnceCell<Vec<crate::rules::images::Img<'a>>>,
}

/// What a rule sees while it runs, and where it reports.
pub struct Cx<'a> {
    /// The compiled settings.
    pub policy: &'a Policy,
    /// The request being judged.
    pub request: &'a Request,
    /// The object being judged: `object`, or `oldObject` on DELETE.
    pub object: &'a Object,
    /// Caller-supplied cluster state.
    pub context: &'a Context,
    pub(crate) facts: &'a Facts<'a>,
    exempt: bool,
    findings: Vec<Finding>,
    patch: Vec<PatchOp>,
}

impl<'a> Cx<'a> {
    /// The previous object on UPDATE/DELETE.
    pub fn old_object(&self) -> Option<&'a Object> {
        self.request.old_object.as_ref()
    }

    /// The request operation.
    pub fn operation(&self) -> Operation {
        self.request.operation
    }

    /// True when the requester matches `exemptions` (validations are skipped).
    pub fn is_exempt(&self) -> bool {
        self.exempt
    }

    /// Whether `rule` would report anything: enabled, and not a validation of an exempt request.
    pub fn active(&self, rule: RuleId) -> bool {
        self.policy.enabled(rule) && !(self.exempt && rule.info().kind == RuleKind::Validate)
    }

    /// Reports a finding for `rule` at `path` (no-op when the rule is inactive).
    pub fn report(
        &mut self,
        rule: RuleId,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        if !self.policy.enabled(rule) {
            return;
        }
        if self.exempt && rule.info().kind != RuleKind::Mutate {
            return;
        }
        self.findings.push(Finding {
            rule: rule.as_str().to_owned(),
            severity: self.policy.severity(rule),
            path: path.into(),
            message: message.into(),
            fix,
            line: None,
        });
    }

    /// Adds a JSON Patch operation for mutation `rule` (no-op when disabled).
    pub fn patch(&mut self, rule: RuleId, op: PatchOp) {
        if self.policy.enabled(rule) {
            self.patch.push(op);
        }
    }

    /// Labels of the request's namespace: from the caller's context when given.
    pub fn namespace_labels(&self, namespace: &str) -> Option<&'a BTreeMap<String, String>> {
        self.context.namespaces.get(namespace)
    }
}

/// Whether the requester matches the exemptions in settings.
pub fn is_exempt(policy: &Policy, request: &Request) -> bool {
    let u = &request.user_info;
    if let Some(name) = u.username.as_deref() {
        if policy.exempt_users.is_match(name) {
            return true;
        }
        if let Some(sa) = name.strip_prefix("system:serviceaccount:") {
            if let Some((ns, n)) = sa.split_once(':') {
                if policy.exempt_service_accounts.is_match(format!("{ns}/{n}")) {
                    return true;
                }
            }
        }
    }
    u.groups.iter().any(|g| policy.exempt_groups.is_match(g))
}

/// Judges a typed request. CONNECT, and requests without an object, are allowed untouched.
pub fn evaluate(policy: &Policy, request: &Request, context: &Context) -> Verdict {
    let object = match request.operation {
        Operation::Connect => None,
        Operation::Delete => request.old_object.as_ref().or(request.object.as_ref()),
        _ => request.object.as_ref(),
    };
    let Some(object) = object else {
        return Verdict {
            allowed: true,
            ..Verdict::default()
        };
    };
    let facts = Facts::default();
    let mut cx = Cx {
        facts: &facts,
        policy,
        request,
        object,
        context,
        exempt: is_exempt(policy, request),
        findings: Vec::new(),
        patch: Vec::new(),
    };
    let deleting = request.operation == Operation::Delete;
    for (i, rule) in RULES.iter().enumerate() {
        if !policy.rules[i].enabled || (deleting && !rule.on_delete) {
            continue;
        }
        (rule.check)(&mut cx);
    }
    let allowed = !cx.findings.iter().any(|f| f.severity == Severity::Error);
    let (mut findings, mut patch) = (cx.findings, cx.patch);
    // Pods assembled from other shapes (Argo templates, TrainJob trainers, KServe models) name
    // the fields the user wrote, not the pod fields the rules saw.
    for pod in object.pods.iter().filter(|p| !p.remap.is_empty()) {
        for f in &mut findings {
            crate::inline_pods::remap_path(&pod.remap, &mut f.path);
        }
        for op in &mut patch {
            crate::inline_pods::remap_path(&pod.remap, &mut op.path);
        }
    }
    Verdict {
        allowed,
        findings,
        patch,
    }
}
