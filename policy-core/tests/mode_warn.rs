//! `mode: warn` lowers every rule's errors to warnings except `input-invalid`: a document that
//! cannot be read is never judged, so it is always an error (README, "Settings": "`input-invalid`
//! cannot be turned off or lowered"). The compiled policy and the findings must say the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use policy_core::{check, Context, Policy, RuleId, Severity};

#[test]
fn input_invalid_stays_an_error_under_mode_warn() {
    let policy = Policy::from_slice(br#"{"mode": "warn"}"#).unwrap();
    assert_eq!(policy.severity(RuleId::InputInvalid), Severity::Error);
    // Every other error rule is lowered.
    assert_eq!(policy.severity(RuleId::ImageMutableTag), Severity::Warning);
    let report = check(&policy, None, b"{not json", &Context::default());
    let finding = &report.results[0].findings()[0];
    assert_eq!(finding.rule(), RuleId::InputInvalid);
    assert_eq!(finding.severity(), policy.severity(RuleId::InputInvalid));
    assert!(!report.results[0].allowed());
}
