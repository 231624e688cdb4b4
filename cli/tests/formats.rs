//! The report formats of `check` and `audit` (issue 13, item 1; issue 10, item 3): each is
//! validated against its published schema, and the text from the input is escaped the way the
//! format's reader needs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;

use common::{cks, cks_in, cks_stdin, root, scratch, stdout, tool};
use serde_json::Value;

fn schemas() -> std::path::PathBuf {
    root().join("cli/tests/schemas")
}

/// A manifest whose messages carry everything a reader can trip on: `%`, `,`, `:`, `::`, `<`,
/// `&`, quotes, ESC, CR, a bidirectional override and a non-ASCII letter (the image string is
/// echoed in the `image-reference-invalid` message).
const TRICKY: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: trick, namespace: team-a}\nspec:\n  containers:\n  - name: c\n    image: \"a b%0A::error::x, y: <z> & 'q' \\\"w\\\" \\e[2K\\rOK \\u202e ü\"\n";

fn tricky_dir(name: &str) -> common::Scratch {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("m,a:p%s")).unwrap();
    std::fs::write(dir.join("m,a:p%s/x.yaml"), TRICKY).unwrap();
    dir
}

/// The runner's decoding of a workflow command's data or property (the inverse of
/// actions/toolkit `escapeData`/`escapeProperty`, `packages/core/src/command.ts` lines
/// 103–117).
fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn github_commands_are_escaped_as_the_actions_toolkit_does() {
    let dir = tricky_dir("gh");
    let o = cks_in(
        &dir,
        &["check", "--format", "github", "m,a:p%s/x.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    // One command per finding and nothing else: no CR, LF or ESC from the input got through.
    assert_eq!(lines.len(), 2, "{out}");
    assert!(!out.contains('\r') && !out.contains('\u{1b}') && !out.contains('\u{202e}'));
    let err = lines
        .iter()
        .find(|l| l.starts_with("::error "))
        .expect("an error command");
    let (props, data) = err["::error ".len()..].split_once("::").unwrap();
    assert_eq!(
        props,
        "file=m%2Ca%3Ap%25s/x.yaml,line=7,title=image-reference-invalid"
    );
    let file = unescape(
        props
            .split(',')
            .next()
            .unwrap()
            .strip_prefix("file=")
            .unwrap(),
    );
    assert_eq!(file, "m,a:p%s/x.yaml");
    // The data keeps `::`, `,` and `:` and escapes `%`; decoded, it is the message with the
    // control characters shown as escapes.
    assert!(data.contains("a b%250A::error::x, y: <z>"), "{data}");
    let message = unescape(data);
    assert!(
        message.contains("`a b%0A::error::x, y: <z> & 'q' \"w\" \\u{1b}[2K\\u{d}OK \\u{202e} ü`"),
        "{message}"
    );
    assert!(lines.iter().any(|l| l
        .starts_with("::notice file=m%2Ca%3Ap%25s/x.yaml,line=4,title=cpu-compute-toleration::")));
    // Warnings are `::warning`; stdin has no `file`.
    let o = cks_stdin(
        &["check", "--format", "github", "-"],
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: 'nginx:1.27'}]\n",
    );
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with(
            "::warning line=5,title=image-digest-required::container `c` uses `nginx:1.27`"
        )),
        "{out}"
    );
}

/// The value of attribute `name` in `tag` (the text after `<element `).
fn attr(tag: &str, name: &str) -> String {
    let tag = format!(" {tag}");
    let key = format!(" {name}=\"");
    let start = tag.find(&key).unwrap() + key.len();
    tag[start..start + tag[start..].find('"').unwrap()].to_owned()
}

#[test]
fn junit_validates_against_the_jenkins_schema_and_counts_right() {
    let dir = tricky_dir("junit");
    std::fs::copy(
        root().join("examples/inference-deployment.yaml"),
        dir.join("deploy.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("two.yaml"),
        format!(
            "{}---\n{}---\nkind: [oops\n",
            common::clean_pod("ok", "a"),
            common::clean_pod("ok2", "b")
        ),
    )
    .unwrap();
    let out_file = dir.join("junit.xml");
    let o = cks_in(
        &dir,
        &[
            "check",
            "--format",
            "junit=junit.xml",
            "m,a:p%s/x.yaml",
            "deploy.yaml",
            "two.yaml",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(o.stdout.is_empty(), "only a file was asked for");
    let xml = std::fs::read_to_string(&out_file).unwrap();
    // No character XML 1.0 forbids, nor ESC/CR/bidi, is written raw.
    assert!(
        !xml.chars()
            .any(|c| (c < ' ' && c != '\n') || c == '\u{202e}'),
        "{xml:?}"
    );
    assert!(xml.contains("\\u{1b}[2K\\u{d}OK"), "{xml}");
    assert!(
        xml.contains("&lt;z&gt; &amp; &apos;q&apos; &quot;w&quot;"),
        "{xml}"
    );

    // Counts: each suite's `tests` is its testcases, `failures` the testcases with a failure.
    let suites: Vec<&str> = xml.split("<testsuite ").skip(1).collect();
    assert_eq!(suites.len(), 3, "{xml}");
    let mut names = Vec::new();
    for s in &suites {
        let head = &s[..s.find('>').unwrap()];
        let cases: Vec<&str> = s.split("<testcase ").skip(1).collect();
        let failed = cases.iter().filter(|c| {
            let end = c.find("</testcase>").unwrap_or(c.len());
            c[..end].contains("<failure ")
        });
        assert_eq!(attr(head, "tests"), cases.len().to_string(), "{head}");
        assert_eq!(attr(head, "failures"), failed.count().to_string(), "{head}");
        names.push(attr(head, "name"));
        for c in cases {
            assert_eq!(attr(c, "classname"), attr(head, "name"));
        }
    }
    assert_eq!(names, ["m,a:p%s/x.yaml", "deploy.yaml", "two.yaml"]);
    assert!(xml.contains("<testcase name=\"Pod/team-a/trick\" classname=\"m,a:p%s/x.yaml\">"));
    assert!(xml.contains("<testcase name=\"Pod/a/ok\" classname=\"two.yaml\"/>"));
    // The unreadable document is a failing testcase of its own.
    assert!(xml.contains("<testcase name=\"document 2\" classname=\"two.yaml\">"));
    assert!(xml.contains("<failure type=\"input-invalid\""));
    // Warnings are not failures: they are in system-out.
    // In line order, as in every format.
    assert!(xml.contains("<system-out>warning legacy-node-selector (line 22)"));
    assert!(xml.contains("\nwarning image-digest-required (line 33)"));

    if !tool("JUnit schema validation", "xmllint", &["--version"]) {
        return;
    }
    let v = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schemas().join("junit-10.xsd"))
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "junit.xml is not valid against junit-10.xsd: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    // The validator can fail: a testsuite without its required `tests` does.
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, xml.replacen(" tests=\"1\" failures", " failures", 1)).unwrap();
    let v = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schemas().join("junit-10.xsd"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !v.status.success(),
        "xmllint accepted a testsuite without `tests`"
    );
}

/// Validates `doc` with `cli/tests/schemas/validate.py` (python `jsonschema`); false when the
/// validator is not there (outside CI only).
fn validate(what: &str, args: &[&Path]) -> bool {
    if !tool(what, "python3", &["-c", "import jsonschema, yaml"]) {
        return false;
    }
    let v = std::process::Command::new("python3")
        .arg(schemas().join("validate.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    true
}

/// RFC 3986 §2: a URI reference holds only unreserved, reserved and `%XX` characters.
fn is_uri_reference(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

#[test]
fn sarif_uris_are_percent_encoded_and_rules_link_to_their_docs() {
    let dir = scratch("sarif");
    std::fs::create_dir_all(dir.join("probes/sp ace")).unwrap();
    std::fs::write(
        dir.join("probes/sp ace/a b#c%.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    )
    .unwrap();
    let abs = dir.join("probes/sp ace/a b#c%.yaml");
    let o = cks_in(
        &dir,
        &[
            "check",
            "--format",
            "sarif=out.sarif",
            "probes/sp ace/a b#c%.yaml",
            abs.to_str().unwrap(),
            "-",
        ],
        Some(b"apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers: [{name: c, image: nginx}]\n"),
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let sarif_path = dir.join("out.sarif");
    let v: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    let run = &v["runs"][0];
    let results = run["results"].as_array().unwrap();
    let locs: Vec<&Value> = results
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"]["artifactLocation"])
        .collect();
    // The relative path: percent-encoded, against SRCROOT.
    assert_eq!(
        locs[0],
        &serde_json::json!({"uri": "probes/sp%20ace/a%20b%23c%25.yaml", "uriBaseId": "SRCROOT"})
    );
    // SRCROOT is the working directory as a file URI, ending in `/`.
    let base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap();
    let canonical_dir = std::fs::canonicalize(&dir).unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    assert!(is_uri_reference(base), "{base}");
    assert_eq!(
        base.trim_start_matches("file://").trim_end_matches('/'),
        canonical_dir.to_str().unwrap().replace(' ', "%20"),
    );
    // The absolute path: a file URI.
    let abs_uri = locs
        .iter()
        .find_map(|l| l["uri"].as_str().filter(|u| u.starts_with("file:")))
        .unwrap();
    assert!(
        abs_uri.ends_with("/probes/sp%20ace/a%20b%23c%25.yaml"),
        "{abs_uri}"
    );
    assert!(locs.iter().all(|l| l
        .get("uri")
        .is_none_or(|u| is_uri_reference(u.as_str().unwrap()))));
    // Stdin: a description, no URI.
    assert!(locs.contains(&&serde_json::json!({"description": {"text": "standard input"}})));
    // Every rule links to its README anchor, which exists.
    let driver = &run["tool"]["driver"];
    let repo = driver["informationUri"].as_str().unwrap();
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        workspace.contains(&format!("repository = \"{repo}\"")),
        "{repo}"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), policy_core::rules().len());
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert_eq!(r["helpUri"], format!("{repo}#rule-{id}"));
        assert!(
            readme.contains(&format!("| `{id}` | <a id=\"rule-{id}\"></a>")),
            "README's rules table has no anchor for {id}"
        );
    }
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    validate(
        "SARIF schema validation",
        &[
            Path::new("schema"),
            &schemas().join("sarif-schema-2.1.0.json"),
            &sarif_path,
        ],
    );
    // The examples too (the report every other test reads).
    let o = cks(&["check", "--format", "sarif", "examples/"]);
    let examples = scratch("sarif-examples");
    let all = examples.join("examples.sarif");
    std::fs::write(&all, &o.stdout).unwrap();
    validate(
        "SARIF schema validation",
        &[
            Path::new("schema"),
            &schemas().join("sarif-schema-2.1.0.json"),
            &all,
        ],
    );
}

#[test]
fn several_formats_in_one_run() {
    let dir = scratch("multi");
    std::fs::copy(root().join("examples/cpu-pod.yaml"), dir.join("pod.yaml")).unwrap();
    let o = cks_in(
        &dir,
        &[
            "audit",
            "--format",
            "sarif=out.sarif",
            "--format",
            "json=out.json",
            "--format",
            "human",
            "--format",
            "openreports=reports.json",
            "pod.yaml",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        stdout(&o).ends_with("1 document (1 passed, 0 with warnings, 0 denied, 0 invalid): 0 errors, 0 warnings, 1 info\n"),
        "{}",
        stdout(&o)
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["documents"], 1);
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let reports: Value =
        serde_json::from_slice(&std::fs::read(dir.join("reports.json")).unwrap()).unwrap();
    assert_eq!(reports["kind"], "List");
    // `FORMAT=-` is stdout.
    let o = cks_in(&dir, &["check", "--format", "json=-", "pod.yaml"], None);
    assert!(serde_json::from_slice::<Value>(&o.stdout).is_ok());
    // Two to stdout, or one file twice, or an unknown format: usage errors.
    for args in [
        &["check", "--format", "json", "--format", "human", "pod.yaml"][..],
        &[
            "check", "--format", "json=a", "--format", "sarif=a", "pod.yaml",
        ],
        &["check", "--format", "yaml", "pod.yaml"],
        &["check", "--format", "json=", "pod.yaml"],
    ] {
        let o = cks_in(&dir, args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
    }
    // An output file that cannot be written: exit 2, naming it.
    let o = cks_in(
        &dir,
        &["check", "--format", "json=no/such/dir/x.json", "pod.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/dir/x.json"));
}

#[test]
fn openreports_validates_against_the_crds() {
    let dir = scratch("openreports");
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: web, namespace: team-a}\n  spec:\n    containers: [{name: c, image: 'nginx:latest'}]\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: g1\n    labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n";
    std::fs::write(
        dir.join("objects.yaml"),
        format!(
            "{list}---\n{}---\n{}---\nkind: [oops\n",
            common::clean_pod("ok", "team-b"),
            common::clean_pod("ok2", "team-a")
        ),
    )
    .unwrap();
    let o = cks_in(
        &dir,
        &["check", "--format", "openreports", "objects.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = dir.join("reports.json");
    std::fs::write(&out, &o.stdout).unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["kind"], "List");
    let items = v["items"].as_array().unwrap();
    let kinds: Vec<(&str, Option<&str>)> = items
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["metadata"]["namespace"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ClusterReport", None),
            ("Report", Some("team-a")),
            ("Report", Some("team-b"))
        ]
    );
    for item in items {
        assert_eq!(item["apiVersion"], "openreports.io/v1alpha1");
        assert_eq!(item["source"], "cks-policy");
        // The summary counts the results by outcome.
        for k in ["pass", "fail", "warn", "error", "skip"] {
            let n = item["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["result"] == k)
                .count();
            assert_eq!(item["summary"][k], n, "{k} in {item}");
        }
    }
    let team_a = &items[1];
    assert_eq!(
        team_a["scope"],
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "name": "team-a"})
    );
    let fail = team_a["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["result"] == "fail")
        .unwrap();
    assert_eq!(fail["policy"], "image-mutable-tag");
    assert_eq!(fail["rule"], "image-mutable-tag");
    assert_eq!(fail["severity"], "high");
    assert_eq!(
        fail["resources"],
        serde_json::json!([{"kind": "Pod", "name": "web", "namespace": "team-a"}])
    );
    assert_eq!(fail["properties"]["file"], "objects.yaml");
    assert!(team_a["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["result"] == "pass"
            && r["policy"] == "cks-policy"
            && r["resources"][0]["name"] == "ok2"));
    let cluster = &items[0]["results"];
    assert!(cluster
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "reserved-node-label" && r["resources"][0]["kind"] == "Node"));
    // The document that could not be read: `error` (not judged), not `fail`.
    assert!(cluster
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "input-invalid" && r["result"] == "error"));
    validate(
        "OpenReports CRD validation",
        &[
            Path::new("crd-list"),
            &out,
            &schemas().join("openreports/openreports.io_reports.yaml"),
            &schemas().join("openreports/openreports.io_clusterreports.yaml"),
        ],
    );
    // The validator refuses what the CRD refuses: a result outside the enum.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        stdout(&o).replacen("\"result\": \"fail\"", "\"result\": \"failed\"", 1),
    )
    .unwrap();
    if common::tool(
        "OpenReports CRD validation",
        "python3",
        &["-c", "import jsonschema, yaml"],
    ) {
        let v = std::process::Command::new("python3")
            .arg(schemas().join("validate.py"))
            .arg("crd-list")
            .arg(&bad)
            .arg(schemas().join("openreports/openreports.io_reports.yaml"))
            .arg(schemas().join("openreports/openreports.io_clusterreports.yaml"))
            .output()
            .unwrap();
        assert!(!v.status.success(), "the validator accepted result: failed");
    }
    // `audit` writes the same kinds.
    let o = cks_in(
        &dir,
        &["audit", "--format", "openreports", "objects.yaml"],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
}

/// A manifest cannot repaint the terminal: ESC, CR, other C0 and C1 controls, DEL and bidi
/// overrides from the input are shown as `\u{…}` (issue 11, item 6).
#[test]
fn human_output_escapes_control_characters() {
    let dir = tricky_dir("human");
    std::fs::write(
        dir.join("e\u{1b}[31mvil.yaml"),
        TRICKY.replace("trick", "trick2"),
    )
    .unwrap();
    let o = cks_in(
        &dir,
        &["check", "m,a:p%s/x.yaml", "e\u{1b}[31mvil.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        !out.chars().any(|c| (c < ' ' && c != '\n')
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || c == '\u{202e}'),
        "{out:?}"
    );
    assert!(
        out.contains("`a b%0A::error::x, y: <z> & 'q' \"w\" \\u{1b}[2K\\u{d}OK \\u{202e} ü`"),
        "{out}"
    );
    assert!(
        out.contains("e\\u{1b}[31mvil.yaml:7: error image-reference-invalid"),
        "{out}"
    );
    let o = cks_stdin(
        &["check", "-"],
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: \"x\\x7f\\x9b\\x01\"}]\n",
    );
    let out = stdout(&o);
    assert!(out.contains("x\\u{7f}\\u{9b}\\u{1}"), "{out}");
}
