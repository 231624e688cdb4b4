//! Sources that could not be read at all: the caller (the CLI) names the source and what the
//! operating system said; the core turns it into the `input-invalid` result, like any other
//! unreadable input, so the rest of a batch is still judged.

use crate::judge::verdict::{DocumentResult, Origin, Report, Verdict};
use crate::model::input::Problem;

/// Why a source could not be read, as the caller found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceProblem {
    /// Opening or reading failed; the text is the operating system's error (`No such file or
    /// directory (os error 2)`).
    Io(String),
    /// Not a regular file: `what` names it (`a FIFO`, `a socket`, `a device`). It was not
    /// opened, since reading a FIFO or a device can block forever.
    NotAFile {
        /// What the path is instead, with its article.
        what: &'static str,
    },
    /// A directory met where a manifest file was expected (a directory named `x.yaml`).
    Directory,
    /// A directory that (through a symbolic link) contains itself; `target` is where it leads.
    Loop {
        /// The directory the link leads back to, as the caller shows it.
        target: String,
    },
    /// Larger than `limits.maxBytes`: the caller stopped reading past the limit. `size` is the
    /// whole size when the caller knows it (a regular file), `None` for a stream.
    TooLarge {
        /// The source's size in bytes, when known.
        size: Option<u64>,
        /// The `limits.maxBytes` in force.
        limit: usize,
    },
    /// A symbolic link met in a walk that leads outside every directory named on the command
    /// line; it was not followed. `target` is where it leads (canonical).
    OutsideRoots {
        /// Where the link leads, as the caller shows it.
        target: String,
    },
}

impl SourceProblem {
    fn message(&self) -> String {
        match self {
            SourceProblem::Io(e) => format!("cannot read this source: {e}"),
            SourceProblem::NotAFile { what } => format!(
                "this source is {what}, not a regular file; it was not opened (name it on the command line, or pipe it to `-`, to read it)"
            ),
            SourceProblem::Directory => String::from(
                "this source is a directory named like a manifest file; it was not walked (name it on the command line to check the files in it)",
            ),
            SourceProblem::Loop { target } => format!(
                "this directory leads back to `{target}`, which contains it (a symbolic link loop); it was not walked again"
            ),
            // The same words as the core's own check of `limits.maxBytes`.
            SourceProblem::TooLarge {
                size: Some(size),
                limit,
            } => format!("input is {size} bytes, above the limit of {limit} (`limits.maxBytes`)"),
            SourceProblem::TooLarge { size: None, limit } => format!(
                "input is more than {limit} bytes, above the limit of {limit} (`limits.maxBytes`); it was not read further"
            ),
            SourceProblem::OutsideRoots { target } => format!(
                "this symbolic link leads to `{target}`, outside the paths named on the command line; it was not followed (name the target on the command line, or pass `--follow-symlinks-outside`, to judge it)"
            ),
        }
    }
}

/// The words of the `input-invalid` finding, for a caller that reports the problem itself
/// (`review` and `fits` refuse an input as a usage error).
impl std::fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// The report for a source that could not be read: one `input-invalid` error result naming
/// `source` and the problem. Like [`crate::check`], it never fails.
pub fn unreadable(source: &str, problem: &SourceProblem) -> Report {
    let finding = crate::answer::check::input_invalid(&Problem::new(problem.message()));
    let verdict = Verdict::new(vec![finding], Vec::new());
    Report::new(vec![DocumentResult::new(
        Origin {
            source: Some(source.to_owned()),
            document: 0,
            kind: None,
            namespace: None,
            name: None,
            existing: false,
            not_a_manifest: false,
        },
        verdict,
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::verdict::Severity;
    use crate::model::catalogue::RuleId;

    #[test]
    fn an_unreadable_source_is_one_input_invalid_error() {
        let r = unreadable(
            "m/x.yaml",
            &SourceProblem::Io("Permission denied (os error 13)".into()),
        );
        assert_eq!(r.summary.documents, 1);
        assert_eq!(r.summary.errors, 1);
        assert!(r.has_errors());
        let d = &r.results[0];
        assert_eq!(d.source.as_deref(), Some("m/x.yaml"));
        assert!(!d.allowed());
        assert_eq!(d.findings()[0].rule(), RuleId::InputInvalid);
        assert_eq!(d.findings()[0].severity(), Severity::Error);
        assert_eq!(
            d.findings()[0].message(),
            "cannot read this source: Permission denied (os error 13)"
        );
        let fifo = unreadable("p.yaml", &SourceProblem::NotAFile { what: "a FIFO" });
        assert!(fifo.results[0].findings()[0]
            .message()
            .starts_with("this source is a FIFO, not a regular file"));
    }

    /// The caller's refusal reads exactly like the core's own check of `limits.maxBytes` when
    /// the size is known, so a file refused before it is read looks the same as before.
    #[test]
    fn a_source_above_the_limit_reads_like_the_core_check() {
        let policy = crate::Policy::from_slice(br#"{"limits": {"maxBytes": 10}}"#).unwrap();
        let core = crate::check(
            &policy,
            Some("big.yaml"),
            b"a: 01234567",
            &Default::default(),
        );
        let known = unreadable(
            "big.yaml",
            &SourceProblem::TooLarge {
                size: Some(11),
                limit: 10,
            },
        );
        assert_eq!(known.to_json(), core.to_json());
        assert_eq!(
            known.results[0].findings()[0].message(),
            "input is 11 bytes, above the limit of 10 (`limits.maxBytes`)"
        );
        let stream = unreadable(
            "-",
            &SourceProblem::TooLarge {
                size: None,
                limit: 10,
            },
        );
        assert!(stream.results[0].findings()[0]
            .message()
            .starts_with("input is more than 10 bytes, above the limit of 10 (`limits.maxBytes`)"));
        assert_eq!(stream.results[0].findings()[0].rule(), RuleId::InputInvalid);
        assert_eq!(
            SourceProblem::TooLarge {
                size: None,
                limit: 10
            }
            .to_string(),
            stream.results[0].findings()[0].message()
        );
    }
}
