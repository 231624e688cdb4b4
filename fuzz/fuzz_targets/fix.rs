//! `--fix`: the text edits `fix_text` makes from `check`'s patches. When it returns the fixed
//! text, that text must read back: judging it again finds no `input-invalid` in a document
//! whose original had none, and the number of documents is unchanged (`apply` only edits
//! inside patched documents and reads each of them back before returning).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use policy_core::{check, fix_text, Context, Policy, Report, RuleId};

/// Compiled once per process (see `check.rs`).
static POLICY: OnceLock<Policy> = OnceLock::new();

fn invalid_documents(report: &Report) -> Vec<usize> {
    let mut docs: Vec<usize> = report
        .results
        .iter()
        .filter(|r| r.findings().iter().any(|f| f.rule() == RuleId::InputInvalid))
        .map(|r| r.document)
        .collect();
    docs.dedup();
    docs
}

fn documents(report: &Report) -> usize {
    report
        .results
        .iter()
        .map(|r| r.document + 1)
        .max()
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = POLICY.get_or_init(Policy::default);
    let context = Context::default();
    let before = check(policy, Some("fuzz.yaml"), data, &context);
    let Ok(fixed) = fix_text(text, &before) else {
        return;
    };
    if !fixed.changed {
        assert_eq!(
            fixed.text, text,
            "unchanged fix must return the text as given"
        );
        return;
    }
    assert!(
        before.results.iter().any(|r| !r.patch.is_empty()),
        "the text changed without a patch"
    );
    let after = check(policy, Some("fuzz.yaml"), fixed.text.as_bytes(), &context);
    let was = invalid_documents(&before);
    for d in invalid_documents(&after) {
        assert!(
            was.contains(&d),
            "document {d} became input-invalid after --fix:\n{}\n--- fixed text ---\n{}",
            after.to_json(),
            fixed.text
        );
    }
    assert_eq!(
        documents(&before),
        documents(&after),
        "--fix changed the number of documents:\n{}",
        fixed.text
    );
});
