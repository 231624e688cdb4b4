//! The call layer every wrapper goes through (in the manner of cedar-policy's `ffi` module, the
//! JSON call layer each of its bindings uses): caller input as the wrapper received it, bytes
//! and an optional source name, in; the report, the fixed text or the AdmissionReview response
//! out. What is decided about caller input is decided here once, for the CLI, the C ABI (Go,
//! Python), the browser build and the Kubewarden module alike:
//!
//! - context bytes that are absent, empty or ASCII whitespace only are no context; anything
//!   else must be a context object (README, the end of "Settings": `{"namespaces": …,
//!   "digests": …}`), or the call fails with [`CallError::Context`];
//! - [`Judgement::Admission`] judges text as `check` does, [`Judgement::Audit`] as `audit`
//!   does (existing cluster state);
//! - a fix asked for is the report's patches written back into the text (`--fix`), or the
//!   reason it cannot be (text that is not UTF-8, a patch that does not apply).

use crate::answer::admission::{self, AdmissionReviewResponse, Cluster};
use crate::judge::eval::Context;
use crate::judge::verdict::{Fixed, Report, Verdict};
use crate::model::object::{Judgement, Object, Request};
use crate::settings::error::{FixError, ReviewError};
use crate::settings::policy::Policy;

/// Why a call could not be answered at all (as opposed to findings about its input).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The context bytes are not a context object.
    #[error("invalid context: {0}")]
    Context(#[source] serde_json::Error),
    /// The request bytes are not an AdmissionReview or AdmissionRequest at all.
    #[error(transparent)]
    Review(#[from] ReviewError),
}

/// What [`Call::judge`] answers: the report, and the fixed text when a fix was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The report, byte for byte the same on every surface (`Report::to_json`).
    pub report: Report,
    /// The text with every document's patch applied, or why it could not be written; `None`
    /// when no fix was asked for.
    pub fixed: Option<Result<Fixed, FixError>>,
}

/// A policy and the caller's context, read once, for one or many calls (the CLI judges every
/// file of a run with one).
#[derive(Debug, Clone)]
pub struct Call<'p> {
    policy: &'p Policy,
    context: Context,
}

impl<'p> Call<'p> {
    /// Reads the caller's context bytes: `None`, empty or blank text is no context.
    pub fn new(policy: &'p Policy, context: Option<&[u8]>) -> Result<Call<'p>, CallError> {
        let context =
            Context::from_json(context.unwrap_or_default()).map_err(CallError::Context)?;
        Ok(Call { policy, context })
    }

    /// A call without caller context (the Kubewarden protocol, which asks the cluster instead).
    pub(crate) fn without_context(policy: &'p Policy) -> Call<'p> {
        Call {
            policy,
            context: Context::default(),
        }
    }

    /// Judges manifest text (YAML or JSON, one or many documents, `kind: List`,
    /// AdmissionReviews) as `judgement` says, naming `source` in every result, and with `fix`
    /// writes the report's patches back into the text. Never fails: unreadable documents are
    /// `input-invalid` findings.
    pub fn judge(
        &self,
        input: &[u8],
        source: Option<&str>,
        judgement: Judgement,
        fix: bool,
    ) -> Judged {
        let audit = judgement == Judgement::Audit;
        let report =
            crate::answer::check::check_as(self.policy, source, input, &self.context, audit);
        let fixed = fix.then(|| fixed_text(input, &report));
        Judged { report, fixed }
    }

    /// [`Call::judge`] without a fix, also returning the object behind each result as the
    /// reader built it (`None` where there is none), for tools that compare readers.
    pub fn judge_objects(
        &self,
        input: &[u8],
        source: Option<&str>,
    ) -> (Report, Vec<Option<Object>>) {
        crate::answer::check::check_objects(self.policy, source, input, &self.context)
    }

    /// Answers AdmissionReview (or bare AdmissionRequest) bytes with the AdmissionReview
    /// response a webhook sends. Bytes that are no request at all are [`CallError::Review`].
    pub fn review(&self, request: &[u8]) -> Result<AdmissionReviewResponse, CallError> {
        Ok(crate::answer::review::review(
            self.policy,
            request,
            &self.context,
        )?)
    }

    /// Judges `request`, asking `cluster` what admission needs to know of it (namespace
    /// labels, image digests): the Kubewarden protocol's verdict.
    pub(crate) fn admit(&self, request: &Request, cluster: &dyn Cluster) -> Verdict {
        admission::evaluate_in_cluster(self.policy, request, &self.context, cluster)
    }
}

/// The report's patches written back into `input` (`--fix`).
#[cfg(feature = "yaml")]
fn fixed_text(input: &[u8], report: &Report) -> Result<Fixed, FixError> {
    let text = std::str::from_utf8(input)
        .map_err(|e| FixError(format!("input is not UTF-8 text: {e}")))?;
    crate::answer::fix_text::apply(text, report)
}

/// Without the `yaml` feature there is no reader to write the patches back with.
#[cfg(not(feature = "yaml"))]
fn fixed_text(_input: &[u8], _report: &Report) -> Result<Fixed, FixError> {
    Err(FixError(String::from(
        "fixing manifest text needs policy-core's `yaml` feature",
    )))
}

/// Judges manifest text in one call: [`Call::new`] with `context`, then [`Call::judge`].
pub fn judge(
    policy: &Policy,
    input: &[u8],
    source: Option<&str>,
    context: Option<&[u8]>,
    judgement: Judgement,
    fix: bool,
) -> Result<Judged, CallError> {
    Ok(Call::new(policy, context)?.judge(input, source, judgement, fix))
}

/// Answers an AdmissionReview in one call: [`Call::new`] with `context`, then
/// [`Call::review`].
pub fn review(
    policy: &Policy,
    request: &[u8],
    context: Option<&[u8]>,
) -> Result<AdmissionReviewResponse, CallError> {
    Call::new(policy, context)?.review(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &[u8] =
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx}\n";

    #[test]
    fn no_empty_and_blank_context_are_none() {
        let policy = Policy::default();
        for context in [None, Some(&b""[..]), Some(b" \n\t\r\n")] {
            let call = Call::new(&policy, context).unwrap();
            assert_eq!(call.context, Context::default(), "{context:?}");
        }
        let call = Call::new(&policy, Some(br#"{"namespaces": {"a": {"k": "v"}}}"#)).unwrap();
        assert_eq!(call.context.namespaces["a"]["k"], "v");
    }

    #[test]
    fn an_unreadable_context_is_an_error_with_one_wording() {
        let policy = Policy::default();
        for bad in [&b"{nope"[..], br#"{"unknown": 1}"#, b"\xff"] {
            let e = judge(&policy, POD, None, Some(bad), Judgement::Admission, false).unwrap_err();
            assert!(matches!(e, CallError::Context(_)), "{e:?}");
            assert!(e.to_string().starts_with("invalid context: "), "{e}");
            let e = review(&policy, b"{}", Some(bad)).unwrap_err();
            assert!(matches!(e, CallError::Context(_)), "{e:?}");
        }
    }

    #[test]
    fn judgement_and_fix_are_the_callers_choice() {
        let policy = Policy::default();
        let checked = judge(&policy, POD, Some("p"), None, Judgement::Admission, false).unwrap();
        assert_eq!(
            checked.report,
            crate::answer::check::check_as(&policy, Some("p"), POD, &Context::default(), false)
        );
        assert!(checked.fixed.is_none());
        let audited = judge(&policy, POD, Some("p"), None, Judgement::Audit, true).unwrap();
        assert_eq!(
            audited.report,
            crate::answer::check::check_as(&policy, Some("p"), POD, &Context::default(), true)
        );
        let fixed = judge(&policy, POD, None, None, Judgement::Admission, true)
            .unwrap()
            .fixed
            .unwrap()
            .unwrap();
        assert!(fixed.changed);
        // An audit patches nothing, so its fixed text is the input.
        let same = audited.fixed.unwrap().unwrap();
        assert!(!same.changed);
        assert_eq!(same.text.as_bytes(), POD);
        let e = judge(
            &policy,
            b"\xff\xfe junk",
            None,
            None,
            Judgement::Admission,
            true,
        )
        .unwrap()
        .fixed
        .unwrap()
        .unwrap_err();
        assert!(e.0.starts_with("input is not UTF-8 text: "), "{e}");
    }
}
