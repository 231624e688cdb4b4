//! The human format: `file:line: severity rule: message [Kind/name]` per finding, then a
//! summary line. Text from the input is shown through [`super::text::visible`].

use policy_core::{DocumentResult, Report};

use super::plural;
use super::text::visible;

/// `file:line: severity rule: message` per finding, then a summary line.
pub fn render(report: &Report) -> String {
    let mut stream = Stream::default();
    let mut out = stream.results(&report.results);
    out.push_str(&summary(report));
    out
}

/// The human format written as results come: [`Stream::results`] for each input's results in
/// turn, then [`summary`]. Together they are exactly [`render`].
#[derive(Default)]
pub struct Stream {
    /// The last source given the "judged as existing cluster objects" note.
    noted: Option<String>,
}

impl Stream {
    /// The lines of these results (the next in the report).
    pub fn results(&mut self, results: &[DocumentResult]) -> String {
        let mut out = String::new();
        for r in results {
            let raw_source = r.source.as_deref().unwrap_or("-");
            let source = visible(raw_source);
            if r.existing && self.noted.as_deref() != Some(raw_source) {
                self.noted = Some(raw_source.to_owned());
                out.push_str(&format!(
                    "{source}: judged as existing cluster objects (read back from a cluster, or `audit`): change rules do not apply and nothing is patched\n"
                ));
            }
            // Silenced findings are counted, not printed: `--format json` or `sarif` lists them.
            let suppressed = r
                .findings()
                .iter()
                .filter(|f| f.suppressed().is_some())
                .count();
            for f in r.findings().iter().filter(|f| f.suppressed().is_none()) {
                match f.line() {
                    Some(l) => out.push_str(&format!("{source}:{l}: ")),
                    None => out.push_str(&format!("{source}: ")),
                }
                out.push_str(&format!(
                    "{} {}: {}",
                    f.severity().as_str(),
                    f.rule(),
                    visible(f.message())
                ));
                if let (Some(kind), Some(name)) = (&r.kind, &r.name) {
                    out.push_str(&format!(" [{}/{}]", visible(kind), visible(name)));
                }
                out.push('\n');
                if let Some(fix) = &f.fix() {
                    out.push_str(&format!("    fix: {}\n", visible(fix)));
                }
            }
            if suppressed > 0 {
                out.push_str(&suppressed_line(&source, r, suppressed));
            }
        }
        out
    }
}

/// The summary line that ends the human format.
pub fn summary(report: &Report) -> String {
    let s = report.summary;
    let mut out = format!(
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
    );
    if s.suppressed > 0 {
        out.insert_str(
            out.len() - 1,
            &format!(" ({} suppressed by exceptions)", s.suppressed),
        );
    }
    out.push_str(&skipped(&s));
    out
}

/// What a directory walk skipped as not Kubernetes manifests, a line for files and one for
/// documents in other files (empty when nothing was skipped).
pub(super) fn skipped(s: &policy_core::Summary) -> String {
    let mut out = String::new();
    if s.not_manifests > 0 {
        out.push_str(&match s.not_manifests {
            1 => String::from("1 file was not a Kubernetes manifest"),
            n => format!("{n} files were not Kubernetes manifests"),
        });
        out.push_str(" (no `apiVersion` or `kind`, a Helm `Chart.yaml`, or a template that is YAML only once rendered), skipped: name a file to judge it anyway\n");
    }
    if s.skipped_documents > 0 {
        out.push_str(&match s.skipped_documents {
            1 => String::from("1 document in a file with manifests was not a Kubernetes manifest"),
            n => format!("{n} documents in files with manifests were not Kubernetes manifests"),
        });
        out.push_str(" (no `apiVersion` or `kind`, or a template that is YAML only once rendered), skipped\n");
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
