//! Judging one request: runs the enabled rules in table order and collects the verdict.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::judge::rules::CHECKS;
use crate::judge::verdict::{Finding, PatchOp, Severity, Suppression, Verdict};
use crate::model::catalogue::{Judges, RuleId, RuleKind, RULES};
use crate::model::object::{Judgement, Object, Operation, Request};
use crate::model::view::ContainerRef;
use crate::settings::policy::Policy;
use crate::settings::Preexisting;

/// Cluster state a caller may supply for rules that need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Context {
    /// Labels of namespaces by name (a Kubewarden context-aware lookup, or the caller's own).
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Extra `pin-digests` lock entries resolved by the caller for this request (normalized
    /// `repo:tag` → digest), e.g. by the Kubewarden module through the host's OCI capability.
    pub digests: BTreeMap<String, String>,
    /// Images whose digest the caller tried to resolve and could not (normalized `repo:tag` →
    /// why, already made safe to show), filled by `admission::evaluate_in_cluster`:
    /// `pin-digests` names the reason in its finding. Not part of the context JSON.
    #[serde(skip)]
    #[schemars(skip)]
    pub unresolved: BTreeMap<String, String>,
}

impl Context {
    /// Reads cluster context JSON as every surface reads it: text of ASCII whitespace only
    /// (or none) is no context, anything else must be a context object.
    pub fn from_json(bytes: &[u8]) -> Result<Context, serde_json::Error> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Context::default());
        }
        serde_json::from_slice(bytes)
    }
}

/// Views of the judged object that several rules share, each computed on first use.
#[derive(Default)]
pub(crate) struct Facts<'a> {
    /// Every container of every pod ([`crate::model::view::containers`]).
    containers: std::cell::OnceCell<Vec<ContainerRef<'a>>>,
    /// Every container image, parsed, in [`Facts::containers`] order.
    pub images: std::cell::OnceCell<Vec<crate::judge::rules::images::Img<'a>>>,
    /// Every node label selection of every pod (the selector rules' shared walk).
    pub selections: std::cell::OnceCell<crate::judge::rules::nodes::Selections<'a>>,
    /// Whether each pod (by index in [`Object::pods`]) requests an accelerator.
    accelerators: std::cell::OnceCell<Vec<bool>>,
}

/// What a rule reads: the request, the compiled settings, the caller's context and the shared
/// views. Read-only; a rule reports through its [`Out`].
pub struct Input<'a> {
    /// The compiled settings.
    pub policy: &'a Policy,
    /// The request being judged.
    pub request: &'a Request,
    /// The object being judged: `object`, or `oldObject` on DELETE.
    pub object: &'a Object,
    /// Caller-supplied cluster state.
    pub context: &'a Context,
    pub(crate) facts: &'a Facts<'a>,
}

impl<'a> Input<'a> {
    /// The previous object on UPDATE/DELETE.
    pub fn old_object(&self) -> Option<&'a Object> {
        self.request.old_object.as_ref()
    }

    /// The request operation.
    pub fn operation(&self) -> Operation {
        self.request.operation
    }

    /// Labels of the request's namespace: from the caller's context when given.
    pub fn namespace_labels(&self, namespace: &str) -> Option<&'a BTreeMap<String, String>> {
        self.context.namespaces.get(namespace)
    }

    /// Every container of every pod in the object, walked once per evaluation.
    pub fn containers(&self) -> &'a [ContainerRef<'a>] {
        let facts: &'a Facts<'a> = self.facts;
        facts
            .containers
            .get_or_init(|| crate::model::view::containers(self.object))
    }

    /// Whether the pod at `index` in [`Object::pods`] requests an accelerator (settings
    /// `accelerators`), computed once per evaluation for every pod.
    pub fn requests_accelerator(&self, index: usize) -> bool {
        let facts: &'a Facts<'a> = self.facts;
        facts
            .accelerators
            .get_or_init(|| {
                self.object
                    .pods
                    .iter()
                    .map(|p| {
                        crate::judge::accelerator_use::requests_accelerator(self.policy, &p.spec)
                    })
                    .collect()
            })
            .get(index)
            .copied()
            .unwrap_or(false)
    }
}

/// Where one rule reports: bound to the rule's id and configured severity, with whether it
/// may report and patch decided once (settings, the requester's exemption and the object's
/// exceptions).
pub struct Out<'o> {
    rule: RuleId,
    severity: Severity,
    reports: bool,
    patches: bool,
    /// The exception that silences this rule on the judged object: its findings carry it.
    suppressed: Option<&'o Suppression>,
    findings: &'o mut Vec<Finding>,
    patch: &'o mut Vec<PatchOp>,
}

impl Out<'_> {
    /// Whether the rule would report or patch anything: [`evaluate`] calls a rule only when it
    /// would, so a rule need not ask.
    pub fn active(&self) -> bool {
        self.reports || self.patches
    }

    /// Reports a finding at `path` (no-op when the rule may not report).
    pub fn report(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        if !self.reports {
            return;
        }
        self.findings.push(
            Finding::new(self.rule, self.severity, path, message)
                .with_fix(fix)
                .with_suppression(self.suppressed.cloned()),
        );
    }

    /// Adds tolerations to the pod spec at `spec_path`: appended to its list when it has one,
    /// else as a new `tolerations` list.
    pub fn add_tolerations(
        &mut self,
        spec_path: &str,
        has_list: bool,
        tolerations: Vec<serde_json::Value>,
    ) {
        let list = crate::read::pointer::join(spec_path, &["tolerations"]);
        if has_list {
            for t in tolerations {
                self.patch(PatchOp::add(format!("{list}/-"), t));
            }
        } else if !tolerations.is_empty() {
            self.patch(PatchOp::add(list, serde_json::Value::Array(tolerations)));
        }
    }

    /// Adds a JSON Patch operation (no-op for a rule that may not patch).
    pub fn patch(&mut self, op: PatchOp) {
        if self.patches {
            self.patch.push(op);
        }
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
        return Verdict::new(Vec::new(), Vec::new());
    };
    let exempt = is_exempt(policy, request);
    let audit = request.judged_as() == Judgement::Audit;
    let (mut findings, mut patch) = run(policy, request, object, context, exempt, audit);
    if audit {
        // Nothing is applied to an object that exists: the mutations' findings say what CKS
        // admission would have added.
        patch.clear();
    }
    if let Some(old) = request.old_object.as_ref() {
        let ratchet = request.operation == Operation::Update
            && policy.settings().update.preexisting == Preexisting::Allow
            && findings
                .iter()
                .any(|f| f.rule().info().judges == Judges::State);
        if ratchet {
            mark_preexisting(policy, request, old, context, exempt, &mut findings);
        }
    }
    Verdict::new(findings, patch)
}

/// Runs the enabled rules (only the state rules with `state_only`: ratcheting's look at the old
/// object, and audits) over `object`.
fn run(
    policy: &Policy,
    request: &Request,
    object: &Object,
    context: &Context,
    exempt: bool,
    state_only: bool,
) -> (Vec<Finding>, Vec<PatchOp>) {
    let facts = Facts::default();
    let input = Input {
        facts: &facts,
        policy,
        request,
        object,
        context,
    };
    let (mut findings, mut patch) = (Vec::new(), Vec::new());
    let deleting = request.operation == Operation::Delete;
    let suppressions = crate::judge::exceptions::suppressions(policy, request, object);
    for (i, rule) in RULES.iter().enumerate() {
        let state = &policy.rules[i];
        if !state.enabled
            || (deleting && !rule.on_delete)
            || (state_only && rule.judges != Judges::State)
        {
            continue;
        }
        // The one gate: an exempt requester's request is not validated, and mutations still
        // apply (a rule that does both keeps its patch and drops its findings). A rule an
        // exception silences on this object still reports, marked, and does not patch.
        let suppressed = suppressions.get(i).and_then(Option::as_ref);
        let mut out = Out {
            rule: RuleId::ALL[i],
            severity: state.severity,
            reports: !(exempt && rule.kind != RuleKind::Mutate),
            patches: rule.kind != RuleKind::Validate && suppressed.is_none(),
            suppressed,
            findings: &mut findings,
            patch: &mut patch,
        };
        if out.active() {
            CHECKS[i](&input, &mut out);
        }
    }
    // Pods assembled from other shapes (Argo templates, TrainJob trainers, KServe models) name
    // the fields the user wrote, not the pod fields the rules saw. A field written outside the
    // pod (an Argo workflow's `tolerations`, an InferenceService's labels) is shared.
    let mut shared = vec![false; findings.len()];
    for pod in object.pods.iter().filter(|p| !p.remap.is_empty()) {
        for (f, shared) in findings.iter_mut().zip(shared.iter_mut()) {
            if let Some(to) = crate::model::inline_pods::remap_path(&pod.remap, f.path_mut()) {
                *shared |= !crate::model::inline_pods::under(to, &pod.pointer);
            }
        }
        for op in &mut patch {
            crate::model::inline_pods::remap_path(&pod.remap, &mut op.path);
        }
    }
    // A shared field is judged in every pod that takes it, and where the object's own metadata
    // is read too: it is named once per rule.
    if shared.contains(&true) {
        let mut exact = std::collections::HashSet::new();
        let mut at = std::collections::HashSet::new();
        let mut shared = shared.into_iter();
        findings.retain(|f| {
            let is_shared = shared.next().unwrap_or(false);
            let new_here = at.insert((f.rule(), f.path().to_owned()));
            exact.insert((f.rule(), f.path().to_owned(), f.message().to_owned()))
                && (new_here || !is_shared)
        });
        let mut seen = std::collections::HashSet::new();
        patch.retain(|op| seen.insert(serde_json::to_string(op).unwrap_or_default()));
    }
    (findings, patch)
}

/// What makes two findings "the same violation" across an UPDATE: the rule, the path without
/// its array indices, and the message (which names the container, the offending value, the
/// label or the toleration). So reordering containers or tolerations keeps a violation old,
/// and changing the offending value makes it new (KEP-4008 ratcheting compares values, not
/// positions).
fn subject(f: &Finding) -> (RuleId, String, &str) {
    let path: String = f
        .path()
        .split('/')
        .filter(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join("/");
    (f.rule(), path, f.message())
}

/// Ratcheting (settings `update.preexisting: allow`): judges `oldObject`'s state as it stands
/// and marks every state-rule finding of the new object that it already had as `preexisting`,
/// at most a warning, saying so in its message. Change rules and new violations are untouched.
/// Only called when the new object has state-rule findings, so an UPDATE without findings
/// costs nothing more.
fn mark_preexisting(
    policy: &Policy,
    request: &Request,
    old: &Object,
    context: &Context,
    exempt: bool,
    findings: &mut [Finding],
) {
    let as_created = Request {
        uid: String::new(),
        operation: Operation::Create,
        kind: None,
        object: None,
        old_object: None,
        user_info: request.user_info.clone(),
        namespace: request.namespace.clone(),
        name: request.name.clone(),
        dry_run: request.dry_run,
        judgement: Judgement::Admission,
        origin: request.origin,
    };
    let (before, _) = run(policy, &as_created, old, context, exempt, true);
    if before.is_empty() {
        return;
    }
    let before: std::collections::HashSet<(RuleId, String, &str)> =
        before.iter().map(subject).collect();
    for f in findings.iter_mut() {
        if f.rule().info().judges != Judges::State || !before.contains(&subject(f)) {
            continue;
        }
        f.mark_preexisting();
    }
}
