//! Human, SARIF and table renderings of reports (the JSON form is the core's own).

use policy_core::{Policy, Report, Severity};
use serde_json::{json, Value};

/// `file:line: severity rule: message` per finding, then a summary line.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let mut noted: Option<&str> = None;
    for r in &report.results {
        let source = r.source.as_deref().unwrap_or("-");
        if r.existing && noted != Some(source) {
            noted = Some(source);
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
                f.message
            ));
            if let (Some(kind), Some(name)) = (&r.kind, &r.name) {
                out.push_str(&format!(" [{kind}/{name}]"));
            }
            out.push('\n');
            if let Some(fix) = &f.fix {
                out.push_str(&format!("    fix: {fix}\n"));
            }
        }
        if suppressed > 0 {
            out.push_str(&suppressed_line(source, r, suppressed));
        }
    }
    let s = report.summary;
    out.push_str(&format!(
        "{} document{}: {} error{}, {} warning{}, {} info{}\n",
        s.documents,
        plural(s.documents),
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
        (Some(kind), Some(name)) => format!(" [{kind}/{name}]"),
        _ => String::new(),
    };
    format!(
        "{source}: {n} finding{} suppressed by exceptions{object}\n",
        plural(n)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// SARIF 2.1.0, for code-scanning dashboards.
pub fn sarif(report: &Report) -> String {
    let rules: Vec<Value> = policy_core::rules()
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": r.description},
                "defaultConfiguration": {"level": level(r.default_severity)},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .results
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .map(|(r, f)| {
            let mut region = json!({});
            if let Some(l) = f.line {
                region = json!({"startLine": l});
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": r.source.as_deref().unwrap_or("-")},
                        "region": region,
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.path, "kind": "member"}],
                }],
                "properties": {"document": r.document, "kind": r.kind, "name": r.name},
            });
            add_sarif_suppression(&mut result, f);
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cks-policy",
                "version": policy_core::VERSION,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

/// SARIF 2.1.0 §3.27.23 `suppressions` (§3.35 suppression object): an exception in the object's
/// own annotation is `inSource`, one in settings `external`; the reason is the justification.
fn add_sarif_suppression(result: &mut Value, f: &policy_core::Finding) {
    let Some(s) = &f.suppressed else {
        return;
    };
    let kind = match s.by {
        policy_core::SuppressedBy::Annotation => "inSource",
        policy_core::SuppressedBy::Settings => "external",
    };
    result["suppressions"] =
        json!([{"kind": kind, "status": "accepted", "justification": s.reason}]);
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The rule table: id, default severity (or `off`), what it judges (change or state), kind,
/// description.
pub fn rules_table() -> String {
    let rules = policy_core::rules();
    let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rules {
        let sev = if r.default_enabled {
            r.default_severity.as_str()
        } else {
            "off"
        };
        let kind = match r.kind {
            policy_core::rules::RuleKind::Validate => "",
            policy_core::rules::RuleKind::Mutate => " (mutation)",
            policy_core::rules::RuleKind::Both => " (+mutation)",
        };
        let judges = match r.judges {
            policy_core::rules::Judges::Change => "change",
            policy_core::rules::Judges::State => "state",
        };
        out.push_str(&format!(
            "{:<w$}  {:<7}  {:<6}  {}{}\n",
            r.id, sev, judges, r.description, kind
        ));
    }
    out
}

/// `fits`: human or JSON output, and whether any node fits.
pub fn fits(
    policy: &Policy,
    pod: &[u8],
    nodes: &[u8],
    pods: Option<&[u8]>,
    as_json: bool,
) -> Result<(String, bool), String> {
    let report =
        policy_core::fits_report_with_pods(policy, pod, nodes, pods).map_err(|e| e.to_string())?;
    let any_fit = report.any_fits();
    if as_json {
        let json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        return Ok((format!("{json}\n"), any_fit));
    }
    let v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    let list = v["nodes"].as_array().cloned().unwrap_or_default();
    let mut out = format!("pod {}\n", v["pod"].as_str().unwrap_or("-"));
    let mut fitting = 0;
    for n in &list {
        let name = n["name"].as_str().unwrap_or("-");
        if n["fits"] == true {
            fitting += 1;
            out.push_str(&format!("  {name}: fits\n"));
        } else {
            out.push_str(&format!("  {name}: does not fit\n"));
        }
        for r in n["reasons"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "    - {}: {}\n",
                r["kind"].as_str().unwrap_or("-"),
                r["message"].as_str().unwrap_or("")
            ));
        }
        for note in n["notes"].as_array().into_iter().flatten() {
            out.push_str(&format!("    note: {}\n", note.as_str().unwrap_or("")));
        }
    }
    out.push_str(&format!(
        "{fitting} of {} node{} can take the pod\n",
        list.len(),
        plural(list.len())
    ));
    Ok((out, any_fit))
}
