//! The human format: `file:line: severity rule: message [Kind/name]` per finding, then a
//! summary line. Text from the input is shown through [`super::text::visible`].

use policy_core::Report;

use super::plural;
use super::text::visible;

/// `file:line: severity rule: message` per finding, then a summary line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut noted: Option<&str> = None;
    for r in &report.results {
        let raw_source = r.source.as_deref().unwrap_or("-");
        let source = visible(raw_source);
        if r.existing && noted != Some(raw_source) {
            noted = Some(raw_source);
            out.push_str(&format!(
                "{source}: judged as existing cluster objects (read back from a cluster, or `audit`): change rules do not apply and nothing is patched\n"
            ));
        }
        // Silenced findings are counted, not printed: `--format json` or `sarif` lists them.
        let suppressed = r.findings.iter().filter(|f| f.suppressed.is_some()).count();
        for f in r.findings.iter().filter(|f| f.suppressed.is_none()) {
            match f.line {
                Some(l) => out.push_str(&format!("{source}:{l}: ")),
                None => out.push_str(&format!("{source}: ")),
            }
            out.push_str(&format!(
                "{} {}: {}",
                f.severity.as_str(),
                f.rule,
                visible(&f.message)
            ));
            if let (Some(kind), Some(name)) = (&r.kind, &r.name) {
                out.push_str(&format!(" [{}/{}]", visible(kind), visible(name)));
            }
            out.push('\n');
            if let Some(fix) = &f.fix {
                out.push_str(&format!("    fix: {}\n", visible(fix)));
            }
        }
        if suppressed > 0 {
            out.push_str(&suppressed_line(&source, r, suppressed));
        }
    }
    let s = report.summary;
    out.push_str(&format!(
        "{} document{} ({} passed, {} with warnings, {} denied, {} invalid): {} error{}, {} warning{}, {} info{}\n",
        s.documents,
        plural(s.documents),
        s.passed,
        s.warned,
        s.denied,
        s.invalid,
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.infos,
        plural(s.infos),
    ));
    if s.suppressed > 0 {
        out.insert_str(
            out.len() - 1,
            &format!(" ({} suppressed by exceptions)", s.suppressed),
        );
    }
    out
}

/// `source: N findings suppressed by exceptions [Kind/name]`, one line per document.
fn suppressed_line(source: &str, r: &policy_core::DocumentResult, n: usize) -> String {
    let object = match (&r.kind, &r.name) {
        (Some(kind), Some(name)) => format!(" [{}/{}]", visible(kind), visible(name)),
        _ => String::new(),
    };
    format!(
        "{source}: {n} finding{} suppressed by exceptions{object}\n",
        plural(n)
    )
}
