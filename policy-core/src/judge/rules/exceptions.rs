//! `exception-annotation-invalid`: the rule that checks the object's own exception annotation
//! (the annotation and how it is honoured are `judge/exceptions.rs`).

use crate::judge::eval::{Input, Out};
use crate::judge::exceptions::{annotation, annotation_honoured, parse_annotation, ANNOTATION};

/// `exception-annotation-invalid`: the object's [`ANNOTATION`] does not parse or names a rule
/// that cannot be excepted, so it silences nothing. Only judged where the annotation is
/// honoured (see the module documentation).
pub fn check_annotation(input: &Input<'_>, out: &mut Out<'_>) {
    if !annotation_honoured(input.policy, input.request) {
        return;
    }
    let Some(value) = annotation(input.object) else {
        return;
    };
    let Err(problems) = parse_annotation(value) else {
        return;
    };
    let path = crate::read::pointer::join("/metadata/annotations", &[ANNOTATION]);
    for p in problems {
        out.report(
            path.clone(),
            format!("annotation `{ANNOTATION}` silences nothing: {p}; write one `<rule>[,<rule>…]: <reason>` clause a line"),
            None,
        );
    }
}
