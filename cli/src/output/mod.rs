//! Renderings of reports, one module per format (the JSON form is the core's own), and the
//! `--format FORMAT[=FILE]` choice of `check` and `audit`.

mod fits;
mod github;
mod human;
mod junit;
mod openreports;
mod rules;
mod sarif;
mod text;
mod yaml;

pub use fits::fits;
pub use human::{summary as human_summary, Stream as HumanStream};
pub use rules::{rules_json, rules_table};
pub use yaml::yaml;

use policy_core::Report;

/// A report format of `check` and `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `file:line: severity rule: message`, then a summary.
    Human,
    /// The stable JSON report.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// JUnit XML.
    Junit,
    /// OpenReports `Report`/`ClusterReport` objects (a `List`).
    Openreports,
}

/// One `--format` argument: a format, and the file to write it to (`None`: stdout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    /// The format.
    pub format: Format,
    /// Where to write it; `None` for stdout.
    pub file: Option<String>,
}

/// Parses `FORMAT` or `FORMAT=FILE` (kube-linter's form); `FORMAT=-` is stdout.
pub fn parse_spec(s: &str) -> Result<FormatSpec, String> {
    let (name, file) = match s.split_once('=') {
        Some((n, "")) => return Err(format!("`{n}=` names no file")),
        Some((n, "-")) => (n, None),
        Some((n, f)) => (n, Some(f.to_owned())),
        None => (s, None),
    };
    let format = <Format as clap::ValueEnum>::from_str(name, false).map_err(|_| {
        let names: Vec<String> = <Format as clap::ValueEnum>::value_variants()
            .iter()
            .filter_map(clap::ValueEnum::to_possible_value)
            .map(|v| v.get_name().to_owned())
            .collect();
        format!(
            "unknown format `{name}` (one of {}, each optionally `=FILE`)",
            names.join(", ")
        )
    })?;
    Ok(FormatSpec { format, file })
}

/// The report in `format`. `base_dir` is the working directory, for SARIF's `SRCROOT`.
pub fn render(report: &Report, format: Format, base_dir: Option<&str>) -> String {
    match format {
        Format::Human => human::render(report),
        Format::Json => format!("{}\n", report.to_json()),
        Format::Sarif => sarif::render(report, base_dir),
        Format::Github => github::render(report),
        Format::Junit => junit::render(report),
        Format::Openreports => openreports::render(report),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
