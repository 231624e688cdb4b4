//! The `github` format: one GitHub Actions workflow command per finding, which the runner turns
//! into an annotation on the file and line (`::error file=…,line=…,title=…::message`).
//!
//! Escaping follows the Actions toolkit exactly (actions/toolkit
//! `packages/core/src/command.ts` at 4b9afa4, lines 103–117): in the message ("data") `%` →
//! `%25`, CR → `%0D`, LF → `%0A`; in a property value also `:` → `%3A` and `,` → `%2C`. The
//! property names are those of `toCommandProperties` (`packages/core/src/utils.ts` lines
//! 26–41: `title`, `file`, `line`, `endLine`, `col`, `endColumn`). Before that, other control
//! characters from the input, CR and LF included, are made visible
//! ([`super::text::visible`]), so a manifest cannot send escape sequences into the log; the
//! only line break in a message is the one before its `fix:`.

use policy_core::{Report, Severity};

use super::text::visible;

/// Workflow-command data (the message): `%`, CR and LF percent-encoded.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow-command property value: as [`escape_data`], and `:` and `,` too.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// One workflow command per finding (`error`, `warning`, `notice`); a finding from stdin (`-`)
/// has no `file` property. A finding without a line is annotated on the file.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.results {
        for f in r.findings() {
            let mut props = Vec::new();
            if let Some(source) = r.source.as_deref().filter(|s| *s != "-") {
                let file = source.strip_prefix("./").unwrap_or(source);
                props.push(format!("file={}", escape_property(&visible(file))));
            }
            if let Some(l) = f.line() {
                props.push(format!("line={l}"));
            }
            props.push(format!("title={}", escape_property(f.rule().as_str())));
            let mut message = visible(f.message()).into_owned();
            if let (Some(kind), Some(name)) = (&r.kind, &r.name) {
                message.push_str(&format!(" [{}/{}]", visible(kind), visible(name)));
            }
            if let Some(fix) = &f.fix() {
                message.push_str(&format!("\nfix: {}", visible(fix)));
            }
            out.push_str(&format!(
                "::{} {}::{}\n",
                command(f.severity()),
                props.join(","),
                escape_data(&message)
            ));
        }
    }
    // What a directory walk skipped is said too, in the words of the human format.
    for line in super::human::skipped(&report.summary).lines() {
        out.push_str(&format!(
            "::notice title=cks-policy::{}\n",
            escape_data(line)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of actions/toolkit `packages/core/__tests__/command.test.ts` at 4b9afa4
    /// ("command escapes message", lines 30–47; "command escapes property", lines 49–72).
    #[test]
    fn escaping_matches_the_actions_toolkit() {
        assert_eq!(
            escape_data("percent % percent % cr \r cr \r lf \n lf \n"),
            "percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A"
        );
        assert_eq!(
            escape_data("%25 %25 %0D %0D %0A %0A"),
            "%2525 %2525 %250D %250D %250A %250A"
        );
        assert_eq!(
            escape_property("percent % percent % cr \r cr \r lf \n lf \n colon : colon : comma , comma ,"),
            "percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A colon %3A colon %3A comma %2C comma %2C"
        );
        // `::` in data is left alone: the runner splits at the first `::` after the command.
        assert_eq!(escape_data("a::b"), "a::b");
    }
}
