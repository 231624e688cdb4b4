//! SARIF 2.1.0 (OASIS), for code-scanning dashboards such as GitHub code scanning.
//!
//! A relative source path becomes an RFC 3986 relative reference (RFC 3986 §4.2), every byte
//! other than an unreserved character (§2.3) or `/` percent-encoded (§2.1), resolved against
//! the `uriBaseId` `SRCROOT` (SARIF 2.1.0 §3.4.4), which `originalUriBaseIds` (§3.14.14) maps
//! to the directory cks-policy ran in. An absolute path becomes a `file://` URI (RFC 8089).
//! Standard input (`-`) has no URI: its artifact location carries only a description. Each
//! rule's `helpUri` is its row of the rules table in the README (`<repository>#rule-<id>`).

use policy_core::{Report, Severity};
use serde_json::{json, Map, Value};

/// The repository URL from the workspace `Cargo.toml`, also the driver's `informationUri`.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The `uriBaseId` relative paths are given against.
pub const SRCROOT: &str = "SRCROOT";

/// The documentation of rule `id`: its anchor in the README's rules table.
pub fn help_uri(id: &str) -> String {
    format!("{REPOSITORY}#rule-{id}")
}

/// Percent-encodes every byte of `path` except RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) and the segment separator `/`.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `artifactLocation` of a source as the CLI names it.
pub fn artifact_location(source: Option<&str>) -> Value {
    match source {
        None | Some("-") => json!({"description": {"text": "standard input"}}),
        Some(p) if p.starts_with('/') => json!({"uri": format!("file://{}", encode_path(p))}),
        Some(p) => {
            let mut rel = p;
            while let Some(rest) = rel.strip_prefix("./") {
                rel = rest.trim_start_matches('/');
            }
            json!({"uri": encode_path(rel), "uriBaseId": SRCROOT})
        }
    }
}

/// The SARIF log. `base_dir` is the absolute directory relative paths are relative to (the
/// working directory); `None` leaves `SRCROOT` for the consumer to supply.
pub fn render(report: &Report, base_dir: Option<&str>) -> String {
    let catalogue = policy_core::rules();
    let rules: Vec<Value> = catalogue
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": r.description},
                "helpUri": help_uri(r.id),
                "defaultConfiguration": {"level": level(r.default_severity)},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .results
        .iter()
        .flat_map(|r| r.findings().iter().map(move |f| (r, f)))
        .map(|(r, f)| {
            let mut physical = Map::new();
            physical.insert(
                "artifactLocation".into(),
                artifact_location(r.source.as_deref()),
            );
            if let Some(l) = f.line() {
                physical.insert("region".into(), json!({"startLine": l}));
            }
            let mut result = json!({
                "ruleId": f.rule(),
                "level": level(f.severity()),
                "message": {"text": f.message()},
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{"fullyQualifiedName": f.path(), "kind": "member"}],
                }],
                "properties": {"document": r.document, "kind": r.kind, "name": r.name},
            });
            if let Some(i) = catalogue.iter().position(|x| x.id == f.rule().as_str()) {
                result["ruleIndex"] = json!(i);
            }
            add_suppression(&mut result, f);
            result
        })
        .collect();
    let mut base = json!({"description": {"text": "the directory cks-policy was run in"}});
    if let Some(dir) = base_dir {
        let mut uri = format!("file://{}", encode_path(dir));
        if !uri.ends_with('/') {
            // SARIF 2.1.0 §3.14.14: a base URI ends with a slash.
            uri.push('/');
        }
        base["uri"] = json!(uri);
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cks-policy",
                "version": policy_core::VERSION,
                "informationUri": REPOSITORY,
                "rules": rules,
            }},
            "originalUriBaseIds": {SRCROOT: base},
            "results": results,
        }],
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// SARIF 2.1.0 §3.27.23 `suppressions` (§3.35 suppression object): an exception in the object's
/// own annotation is `inSource`, one in settings `external`; the reason is the justification.
fn add_suppression(result: &mut Value, f: &policy_core::Finding) {
    let Some(s) = &f.suppressed() else {
        return;
    };
    let kind = match s.by {
        policy_core::SuppressedBy::Annotation => "inSource",
        policy_core::SuppressedBy::Settings => "external",
    };
    result["suppressions"] =
        json!([{"kind": kind, "status": "accepted", "justification": s.reason}]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_percent_encoded_uris() {
        for (source, want) in [
            (
                "probes/sp ace/a b#c%.yaml",
                json!({"uri": "probes/sp%20ace/a%20b%23c%25.yaml", "uriBaseId": "SRCROOT"}),
            ),
            (
                "./examples/pod.yaml",
                json!({"uri": "examples/pod.yaml", "uriBaseId": "SRCROOT"}),
            ),
            // A `:` in a first segment would read as a scheme (RFC 3986 §4.2): it is encoded.
            (
                "a:b/ü?.json",
                json!({"uri": "a%3Ab/%C3%BC%3F.json", "uriBaseId": "SRCROOT"}),
            ),
            (
                "/srv/m a/x.yaml",
                json!({"uri": "file:///srv/m%20a/x.yaml"}),
            ),
            ("-", json!({"description": {"text": "standard input"}})),
        ] {
            assert_eq!(artifact_location(Some(source)), want, "{source}");
        }
    }
}
