//! The `junit` format: JUnit XML as Jenkins and GitLab read it, valid against the Jenkins xunit
//! plugin's `junit-10.xsd` (kept in `cli/tests/schemas/junit-10.xsd`).
//!
//! One `testsuite` per source file, one `testcase` per judged object (name
//! `Kind/namespace/name`, or `Kind/name` without a namespace, classname the file), one
//! `failure` per error finding. Warnings and infos do not fail a test: they are listed in the
//! testcase's `system-out`, one line each, which both Jenkins and GitLab show with the test.
//! `tests` counts testcases, `failures` the testcases with at least one failure.
//!
//! XML 1.0 forbids most C0 controls even as character references (XML 1.0 §2.2, production
//! [2] `Char`), so those, and the other characters [`super::text::is_unsafe`] names, are
//! written as visible `\u{…}` escapes; `&`, `<`, `>`, `"` and `'` become entities.

use std::fmt::Write as _;

use policy_core::{DocumentResult, Finding, Report};

use super::text::visible;

/// Text safe in XML 1.0 content and attribute values: unsafe characters made visible, then the
/// five markup characters escaped.
fn xml(s: &str) -> String {
    let v = visible(s);
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not `Char` in XML 1.0 (`#xFFFE`, `#xFFFF`): no way to write them, so show them.
            '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Element content: as [`xml`], but line breaks are kept (they are legal XML text).
fn xml_text(s: &str) -> String {
    s.split('\n').map(xml).collect::<Vec<_>>().join("\n")
}

fn case_name(r: &DocumentResult) -> String {
    let kind = r.kind.as_deref().unwrap_or("document");
    match (&r.namespace, &r.name) {
        (Some(ns), Some(name)) => format!("{kind}/{ns}/{name}"),
        (None, Some(name)) => format!("{kind}/{name}"),
        _ => format!("{kind} {}", r.document),
    }
}

fn line_note(line: Option<u32>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// The report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    // Sources in order of first appearance, each with its results.
    let mut suites: Vec<(&str, Vec<&DocumentResult>)> = Vec::new();
    for r in &report.results {
        let source = r.source.as_deref().unwrap_or("-");
        match suites.iter_mut().find(|(s, _)| *s == source) {
            Some((_, rs)) => rs.push(r),
            None => suites.push((source, vec![r])),
        }
    }
    let failed = |r: &DocumentResult| r.findings().iter().any(Finding::denies);
    let total_failed = report.results.iter().filter(|r| failed(r)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cks-policy\" tests=\"{}\" failures=\"{total_failed}\" errors=\"0\">",
        report.results.len()
    );
    for (source, results) in &suites {
        let failures = results.iter().filter(|r| failed(r)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" file=\"{}\">",
            xml(source),
            results.len(),
            xml(source)
        );
        for r in results {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&case_name(r)),
                xml(source)
            );
            if r.findings().is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let mut notes = String::new();
            for f in r.findings() {
                if f.denies() {
                    let mut body = format!("{}{}: {}", f.rule(), line_note(f.line()), f.message());
                    if !f.path().is_empty() {
                        body.push_str(&format!("\nat {}", f.path()));
                    }
                    if let Some(fix) = &f.fix() {
                        body.push_str(&format!("\nfix: {fix}"));
                    }
                    let _ = writeln!(
                        out,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        xml(f.rule().as_str()),
                        xml(f.message()),
                        xml_text(&body)
                    );
                } else {
                    let _ = writeln!(
                        notes,
                        "{} {}{}: {}",
                        f.severity().as_str(),
                        f.rule(),
                        line_note(f.line()),
                        f.message()
                    );
                }
            }
            if !notes.is_empty() {
                let _ = writeln!(out, "      <system-out>{}</system-out>", xml_text(&notes));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_controls_are_escaped() {
        assert_eq!(
            xml("a<b>&\"c'\x1b\u{ffff}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\\u{1b}\\u{ffff}\\u{a}"
        );
    }
}
