//! The verdict on one object: findings in a stable order and an RFC 6902 JSON Patch.

use crate::model::catalogue::RuleId;
pub use crate::model::catalogue::Severity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What silenced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressedBy {
    /// An entry of settings `exceptions.list`.
    Settings,
    /// The object's own exception annotation (`cks-policy.example.invalid/exceptions`).
    Annotation,
}

/// Why a finding does not count: who silenced it and the reason they gave.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Suppression {
    /// Settings or the object's annotation.
    pub by: SuppressedBy,
    /// The reason the exception gives.
    pub reason: String,
}

/// One thing a rule found, pointing at the exact field.
///
/// The fields are read through accessors; the engine builds findings (a host adds its own with
/// [`Finding::new`] and [`crate::add_host_findings`]), so no caller can write one that says
/// something the engine did not decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The stable rule id (see `cks-policy rules`); serialized as its string form.
    rule: RuleId,
    /// Severity after settings overrides and mode.
    severity: Severity,
    /// RFC 6901 JSON Pointer into the judged document.
    path: String,
    /// One sentence naming the value found and what to do.
    message: String,
    /// A concrete change that resolves the finding, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    /// 1-based line in the source text, when judged from text and the field is found there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    /// On UPDATE: `oldObject` already had this finding, so it does not deny (ratcheting).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    preexisting: bool,
    /// Set when an exception (settings or the object's annotation) silences this finding: it
    /// is still reported, but does not deny, warn or count in the summary's severities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suppressed: Option<Suppression>,
}

impl Finding {
    /// A finding of `rule` at `path` (a JSON Pointer into the judged object) with `severity`
    /// and `message`: no fix, no line, not preexisting, not suppressed. A host that judges
    /// something itself (a failed lookup) adds it to a verdict with [`crate::add_host_findings`].
    pub fn new(
        rule: RuleId,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity,
            path: path.into(),
            message: message.into(),
            fix: None,
            line: None,
            preexisting: false,
            suppressed: None,
        }
    }

    /// This finding with the change that resolves it.
    pub(crate) fn with_fix(mut self, fix: Option<String>) -> Finding {
        self.fix = fix;
        self
    }

    /// This finding silenced by `suppression` (an exception that applies to its rule).
    pub(crate) fn with_suppression(mut self, suppression: Option<Suppression>) -> Finding {
        self.suppressed = suppression;
        self
    }

    /// An `input-invalid` error at `path` (empty for the whole document): what is reported
    /// for a document that cannot be read.
    pub(crate) fn input_invalid(path: String, message: String, line: Option<u32>) -> Finding {
        Finding {
            line,
            ..Finding::new(RuleId::InputInvalid, Severity::Error, path, message)
        }
    }

    /// The stable rule id (see `cks-policy rules`).
    pub fn rule(&self) -> RuleId {
        self.rule
    }

    /// Severity after settings overrides, mode and ratcheting.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// RFC 6901 JSON Pointer into the judged document.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// One sentence naming the value found and what to do.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A concrete change that resolves the finding, when there is one.
    pub fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }

    /// 1-based line in the source text, when judged from text and the field is found there.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// On UPDATE: whether `oldObject` already had this finding, so it does not deny
    /// (ratcheting).
    pub fn preexisting(&self) -> bool {
        self.preexisting
    }

    /// The exception that silences this finding, if one does: it is still reported, but does
    /// not deny, warn or count in the summary's severities.
    pub fn suppressed(&self) -> Option<&Suppression> {
        self.suppressed.as_ref()
    }

    /// Ratcheting: `oldObject` already had this finding, so it is marked preexisting, at most a
    /// warning, and its message says why it does not deny.
    pub(crate) fn mark_preexisting(&mut self) {
        self.preexisting = true;
        if self.severity == Severity::Error {
            self.severity = Severity::Warning;
        }
        self.message
            .push_str(" (this predates the update: `oldObject` has it too, so it does not deny)");
    }

    /// Silences this finding with `suppression` unless something already does.
    pub(crate) fn suppress(&mut self, suppression: &Suppression) {
        self.suppressed.get_or_insert_with(|| suppression.clone());
    }

    /// Sets the line of the finding's field in the source text (or clears it).
    pub(crate) fn set_line(&mut self, line: Option<u32>) {
        self.line = line;
    }

    /// The finding's path, to be rewritten where the object judged is part of a larger one (a
    /// document inside a `kind: List`, a pod assembled from another shape). Paths do not
    /// change whether a finding denies.
    pub(crate) fn path_mut(&mut self) -> &mut String {
        &mut self.path
    }

    /// Whether this finding denies admission: severity `error` and not suppressed.
    pub fn denies(&self) -> bool {
        self.severity == Severity::Error && self.suppressed.is_none()
    }

    /// The severity this finding counts with, `None` when an exception silences it.
    pub fn counted_severity(&self) -> Option<Severity> {
        self.suppressed.is_none().then_some(self.severity)
    }

    /// What the finding means for its object, for report formats that sort findings into
    /// outcomes (JUnit failures, OpenReports results).
    pub fn outcome(&self) -> Outcome {
        match self.counted_severity() {
            None => Outcome::Suppressed,
            Some(_) if self.rule == RuleId::InputInvalid => Outcome::Invalid,
            Some(Severity::Error) => Outcome::Denies,
            Some(Severity::Warning) => Outcome::Warns,
            Some(Severity::Info) => Outcome::Informs,
        }
    }
}

/// What one finding means for its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The document could not be read (`input-invalid`): it is denied.
    Invalid,
    /// An error of a rule: the object is denied.
    Denies,
    /// A warning: admitted with a warning.
    Warns,
    /// Information only.
    Informs,
    /// Silenced by an exception: reported, counted apart, never denies.
    Suppressed,
}

/// One RFC 6902 operation; the engine emits `add`, `replace` and `remove` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchOp {
    /// `add`, `replace` or `remove`.
    pub op: PatchKind,
    /// Target location (RFC 6901).
    pub path: String,
    /// The value to add or replace with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The JSON Patch operations the engine emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchKind {
    /// Insert a member or array element (`-` appends).
    Add,
    /// Replace an existing value.
    Replace,
    /// Remove an existing value.
    Remove,
}

impl PatchOp {
    /// An `add` operation.
    pub fn add(path: impl Into<String>, value: Value) -> Self {
        PatchOp {
            op: PatchKind::Add,
            path: path.into(),
            value: Some(value),
        }
    }
    /// A `replace` operation.
    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        PatchOp {
            op: PatchKind::Replace,
            path: path.into(),
            value: Some(value),
        }
    }
    /// A `remove` operation.
    pub fn remove(path: impl Into<String>) -> Self {
        PatchOp {
            op: PatchKind::Remove,
            path: path.into(),
            value: None,
        }
    }
}

/// The judgement of one object.
///
/// `allowed` is derived from the findings whenever they change: no verdict says a request is
/// allowed, or denied, against what its findings say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "VerdictJson")]
pub struct Verdict {
    /// True when no finding denies (severity `error`, not suppressed).
    allowed: bool,
    /// Findings in rule-table order, then document order.
    findings: Vec<Finding>,
    /// Mutations as an RFC 6902 JSON Patch against the object.
    patch: Vec<PatchOp>,
}

/// A verdict as JSON holds it: its `allowed` is recomputed from the findings when read.
#[derive(Deserialize)]
struct VerdictJson {
    #[serde(default, rename = "allowed")]
    _allowed: bool,
    findings: Vec<Finding>,
    patch: Vec<PatchOp>,
}

impl From<VerdictJson> for Verdict {
    fn from(v: VerdictJson) -> Verdict {
        Verdict::new(v.findings, v.patch)
    }
}

impl Default for Verdict {
    /// The verdict with no finding and no patch: allowed.
    fn default() -> Verdict {
        Verdict::new(Vec::new(), Vec::new())
    }
}

/// Whether none of `findings` denies.
fn allows(findings: &[Finding]) -> bool {
    !findings.iter().any(Finding::denies)
}

impl Verdict {
    /// The verdict of `findings` and `patch`: allowed unless a finding denies, so no verdict
    /// is built with an `allowed` its findings do not support.
    pub(crate) fn new(findings: Vec<Finding>, patch: Vec<PatchOp>) -> Verdict {
        Verdict {
            allowed: allows(&findings),
            findings,
            patch,
        }
    }

    /// True when no finding denies (severity `error`, not suppressed).
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Findings in rule-table order, then document order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Mutations as an RFC 6902 JSON Patch against the object.
    pub fn patch(&self) -> &[PatchOp] {
        &self.patch
    }

    /// Adds `findings` (after the others, or before them with `first`) and derives `allowed`
    /// again.
    pub(crate) fn add_findings(&mut self, findings: Vec<Finding>, first: bool) {
        if first {
            self.findings.splice(0..0, findings);
        } else {
            self.findings.extend(findings);
        }
        self.allowed = allows(&self.findings);
    }

    /// The findings, for their paths and lines to be placed (what can change whether one
    /// denies is decided before the verdict is made).
    pub(crate) fn findings_mut(&mut self) -> &mut [Finding] {
        &mut self.findings
    }

    /// The patch alone, the verdict dropped.
    pub(crate) fn into_patch(self) -> Vec<PatchOp> {
        self.patch
    }

    /// The patch, for its paths to be placed like the findings'.
    pub(crate) fn patch_mut(&mut self) -> &mut [PatchOp] {
        &mut self.patch
    }

    /// Number of findings with the given severity that are not suppressed.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.counted_severity() == Some(severity))
            .count()
    }
}

/// Totals over every result of a report: findings by severity, and results by outcome
/// (`passed + warned + denied + invalid == documents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of judged objects (results).
    pub documents: usize,
    /// Findings with severity `error`.
    pub errors: usize,
    /// Findings with severity `warning`.
    pub warnings: usize,
    /// Findings with severity `info`.
    pub infos: usize,
    /// Results allowed with no warning (infos and patches only, or nothing).
    #[serde(default)]
    pub passed: usize,
    /// Results allowed with at least one warning.
    #[serde(default)]
    pub warned: usize,
    /// Results denied by an error finding of a rule (the object was read).
    #[serde(default)]
    pub denied: usize,
    /// Results with an `input-invalid` finding: the document could not be read, or not all of it.
    #[serde(default)]
    pub invalid: usize,
    /// Findings an exception silenced (counted here only, not in the severities above);
    /// omitted when zero.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suppressed: usize,
    /// Files of a directory walk that held no Kubernetes manifest (every document
    /// [`DocumentResult::is_not_a_manifest`]): skipped, not judged, counted here; omitted when
    /// zero. Set by the caller that walks directories (the CLI).
    #[serde(default, rename = "notManifests", skip_serializing_if = "is_zero")]
    pub not_manifests: usize,
    /// Documents that are not Kubernetes manifests, skipped in walked files that also held
    /// manifests; omitted when zero. Set by the caller that walks directories.
    #[serde(default, rename = "skippedDocuments", skip_serializing_if = "is_zero")]
    pub skipped_documents: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The verdict on one object of a text input, with where it came from.
///
/// Its `allowed` and findings come from the [`Verdict`] it was made of and are read through
/// [`DocumentResult::allowed`] and [`DocumentResult::findings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DocumentResultJson")]
pub struct DocumentResult {
    /// The file name (or `-`) the caller gave; `null` when none.
    pub source: Option<String>,
    /// 0-based index of the YAML/JSON document within the source.
    pub document: usize,
    /// The object's kind; `null` when the document could not be read.
    pub kind: Option<String>,
    /// The object's namespace (`metadata.namespace`, else the admission request's).
    pub namespace: Option<String>,
    /// The object's name (`metadata.name`, else `generateName`).
    pub name: Option<String>,
    /// True when no finding denies (severity `error`, not suppressed).
    allowed: bool,
    /// Findings, paths relative to the document; judged from text, in line order (findings on
    /// one line, and those without a line, last, in rule-table order).
    findings: Vec<Finding>,
    /// JSON Patch against the document.
    pub patch: Vec<PatchOp>,
    /// True when the object was judged as existing cluster state (`cks-policy audit`, or
    /// `metadata.resourceVersion` set): no change rules, no patch.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    /// See [`DocumentResult::is_not_a_manifest`]; not part of the JSON.
    #[serde(skip)]
    not_a_manifest: bool,
}

/// A result as JSON holds it: its `allowed` is recomputed from the findings when read.
#[derive(Deserialize)]
struct DocumentResultJson {
    source: Option<String>,
    document: usize,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    #[serde(default, rename = "allowed")]
    _allowed: bool,
    findings: Vec<Finding>,
    patch: Vec<PatchOp>,
    #[serde(default)]
    existing: bool,
}

impl From<DocumentResultJson> for DocumentResult {
    fn from(r: DocumentResultJson) -> DocumentResult {
        DocumentResult {
            source: r.source,
            document: r.document,
            kind: r.kind,
            namespace: r.namespace,
            name: r.name,
            allowed: allows(&r.findings),
            findings: r.findings,
            patch: r.patch,
            existing: r.existing,
            not_a_manifest: false,
        }
    }
}

/// Where a [`DocumentResult`] came from: its source, document number and object names.
pub(crate) struct Origin {
    pub source: Option<String>,
    pub document: usize,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub existing: bool,
    pub not_a_manifest: bool,
}

impl DocumentResult {
    /// The result of `verdict` on the object `origin` names.
    pub(crate) fn new(origin: Origin, verdict: Verdict) -> DocumentResult {
        DocumentResult {
            source: origin.source,
            document: origin.document,
            kind: origin.kind,
            namespace: origin.namespace,
            name: origin.name,
            allowed: verdict.allowed,
            findings: verdict.findings,
            patch: verdict.patch,
            existing: origin.existing,
            not_a_manifest: origin.not_a_manifest,
        }
    }

    /// True when no finding denies (severity `error`, not suppressed).
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Findings, paths relative to the document; judged from text, in line order (findings on
    /// one line, and those without a line, last, in rule-table order).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The findings, for their lines to be placed and ordered (whether one denies does not
    /// change).
    pub(crate) fn findings_mut(&mut self) -> &mut [Finding] {
        &mut self.findings
    }

    /// Whether this result is a document that is not a Kubernetes manifest at all: not a map,
    /// or a map with neither `apiVersion` nor `kind` (a CI workflow, a Helm `values.yaml`). It
    /// is an `input-invalid` result like any unreadable document; a directory walk skips it
    /// and counts it instead (README, "Checking a repository").
    pub fn is_not_a_manifest(&self) -> bool {
        self.not_a_manifest
    }

    /// The messages of this result's `input-invalid` findings: why it, or part of it, could not
    /// be read.
    pub fn input_problems(&self) -> impl Iterator<Item = &str> {
        self.findings
            .iter()
            .filter(|f| f.rule == RuleId::InputInvalid)
            .map(|f| f.message.as_str())
    }

    /// Whether this result is the outer object of a document kubectl reads as a list
    /// (`read-as-list`): reported, but never created by kubectl.
    pub fn is_read_as_list(&self) -> bool {
        self.findings.iter().any(|f| f.rule == RuleId::ReadAsList)
    }
}

/// The fixed text of one manifest (`cks-policy check --fix`): each document's patch written
/// back into the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The whole text with the patched nodes edited and everything else kept byte for byte.
    pub text: String,
    /// Whether any document changed.
    pub changed: bool,
}

/// The stable JSON report of `cks-policy check` and every surface's `evaluate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Totals.
    pub summary: Summary,
    /// One entry per judged object, in input order.
    pub results: Vec<DocumentResult>,
}

impl Report {
    /// Builds a report and its summary from results.
    pub fn new(results: Vec<DocumentResult>) -> Self {
        let mut summary = Summary {
            documents: results.len(),
            ..Summary::default()
        };
        for r in &results {
            let (mut invalid, mut warned) = (false, false);
            for f in &r.findings {
                match f.counted_severity() {
                    Some(Severity::Error) => summary.errors += 1,
                    Some(Severity::Warning) => {
                        summary.warnings += 1;
                        warned = true;
                    }
                    Some(Severity::Info) => summary.infos += 1,
                    None => summary.suppressed += 1,
                }
                invalid |= f.rule == RuleId::InputInvalid;
            }
            let outcome = if invalid {
                &mut summary.invalid
            } else if !r.allowed {
                &mut summary.denied
            } else if warned {
                &mut summary.warned
            } else {
                &mut summary.passed
            };
            *outcome += 1;
        }
        Report { summary, results }
    }

    /// True when some finding has severity `error`.
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// Compact JSON, the byte-for-byte form every surface returns.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_rule_severity_and_suppression() {
        let mut f = result(&[(RuleId::InputInvalid, Severity::Error)]).findings[0].clone();
        assert_eq!(f.outcome(), Outcome::Invalid);
        f.rule = RuleId::ImageMutableTag;
        assert_eq!(f.outcome(), Outcome::Denies);
        f.severity = Severity::Warning;
        assert_eq!(f.outcome(), Outcome::Warns);
        f.severity = Severity::Info;
        assert_eq!(f.outcome(), Outcome::Informs);
        f.severity = Severity::Error;
        f.suppressed = Some(Suppression {
            by: SuppressedBy::Settings,
            reason: String::from("r"),
        });
        assert_eq!(f.outcome(), Outcome::Suppressed);
        assert!(!f.denies());
    }

    fn result(findings: &[(RuleId, Severity)]) -> DocumentResult {
        let findings = findings
            .iter()
            .map(|&(rule, severity)| Finding::new(rule, severity, "", ""))
            .collect();
        DocumentResult::new(
            Origin {
                source: None,
                document: 0,
                kind: None,
                namespace: None,
                name: None,
                existing: false,
                not_a_manifest: false,
            },
            Verdict::new(findings, Vec::new()),
        )
    }

    /// `allowed` follows the findings: as built, and as read back from JSON that says
    /// otherwise.
    #[test]
    fn allowed_is_derived_from_findings() {
        use RuleId::{ImageMutableTag, PinDigests};
        assert!(result(&[(PinDigests, Severity::Info)]).allowed());
        assert!(!result(&[(ImageMutableTag, Severity::Error)]).allowed());
        let mut v = Verdict::default();
        assert!(v.allowed());
        v.add_findings(
            vec![Finding::new(ImageMutableTag, Severity::Error, "", "")],
            false,
        );
        assert!(!v.allowed());
        let denied = serde_json::to_string(&v).unwrap();
        assert!(
            denied.starts_with(r#"{"allowed":false,"findings":["#),
            "{denied}"
        );
        let forged: Verdict =
            serde_json::from_str(&denied.replace(r#""allowed":false"#, r#""allowed":true"#))
                .unwrap();
        assert!(!forged.allowed());
        let r = serde_json::to_string(&result(&[(ImageMutableTag, Severity::Error)])).unwrap();
        let forged: DocumentResult =
            serde_json::from_str(&r.replace(r#""allowed":false"#, r#""allowed":true"#)).unwrap();
        assert!(!forged.allowed());
        assert_eq!(serde_json::to_string(&forged).unwrap(), r);
    }

    #[test]
    fn summary_counts_documents_by_outcome() {
        use RuleId::{ImageDigestRequired, ImageMutableTag, InputInvalid, PinDigests};
        use Severity::{Error, Info, Warning};
        let report = Report::new(vec![
            result(&[]),
            result(&[(PinDigests, Info)]),
            result(&[(ImageDigestRequired, Warning), (PinDigests, Info)]),
            result(&[(ImageMutableTag, Error), (ImageDigestRequired, Warning)]),
            result(&[(InputInvalid, Error)]),
            // Read in part: still counted as invalid, not as denied by its other finding.
            result(&[(InputInvalid, Error), (ImageMutableTag, Error)]),
        ]);
        let s = report.summary;
        assert_eq!(
            (s.documents, s.passed, s.warned, s.denied, s.invalid),
            (6, 2, 1, 1, 2)
        );
        assert_eq!((s.errors, s.warnings, s.infos), (4, 2, 2));
        assert_eq!(s.passed + s.warned + s.denied + s.invalid, s.documents);
        // The new counts are additive JSON: a report without them still reads.
        let old: Summary =
            serde_json::from_str(r#"{"documents":1,"errors":0,"warnings":1,"infos":0}"#).unwrap();
        assert_eq!((old.warnings, old.warned), (1, 0));
    }
}
