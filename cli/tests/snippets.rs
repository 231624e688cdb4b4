//! Every fenced code block in the repository's Markdown is checked here, so a README cannot
//! show what the project's own checker refuses, a settings key the policy rejects, or a command
//! that does not parse.
//!
//! What each block must be:
//! - ```` ```yaml ```` without a marker: Kubernetes manifests. `check` (default settings) must
//!   find no error or warning in them; a `ClusterAdmissionPolicy` must also carry settings the
//!   policy accepts, exempting the service accounts of CKS's own controllers (`cw-*/*`), as
//!   `policy-wasm/kubewarden/examples/` do.
//! - A marker, an HTML comment on the line before the fence, says otherwise:
//!   `<!-- snippet: expect-findings RULE... -->` (manifests whose error and warning rules are
//!   exactly these), `settings` (accepted by `Policy::from_slice`), `metadata` (an object's
//!   `metadata`, judged inside a Pod), `action-step` (a workflow step; its `with:` keys are
//!   inputs of `action.yml`), `pre-commit` (its hook ids are in `.pre-commit-hooks.yaml`),
//!   `output` (JSON that must parse), `untested` (C, Go and Python, built by their own tests).
//! - ```` ```sh ```` / ```` ```console ````: every `cks-policy` command (also through
//!   `cargo run -p cks-policy-cli --`) must parse, every `cargo -p` package must exist, every
//!   script named must exist, a heredoc into a `.json` file must be JSON, and
//!   `--settings-json` must be settings the policy accepts.
//! - A plain fence whose lines start with `cks-policy SUBCOMMAND` (the synopsis): every
//!   `--flag` on the line must be one that subcommand's `--help` lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use policy_core::{Context, Policy, Severity};
use serde_json::Value;

/// One fenced block: where it is, its info string, its marker and its text.
struct Block {
    file: PathBuf,
    line: usize,
    lang: String,
    marker: Option<String>,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// The Markdown files of the repository that hold fenced blocks (`target/` and the golden
/// vectors' own notes left out).
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(name.as_str(), "target" | "node_modules" | "fixtures");
                if !skip {
                    walk(&p, out);
                }
            } else if name.ends_with(".md") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&common::root(), &mut out);
    out
}

fn blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).unwrap();
    let rel = file.strip_prefix(common::root()).unwrap().to_path_buf();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let marker = i
            .checked_sub(1)
            .and_then(|p| lines[p].trim().strip_prefix("<!-- snippet:"))
            .and_then(|m| m.strip_suffix("-->"))
            .map(|m| m.trim().to_owned());
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].trim_start().starts_with("```") {
            end += 1;
        }
        assert!(
            end < lines.len(),
            "{}:{start}: unclosed fence",
            rel.display()
        );
        out.push(Block {
            file: rel.clone(),
            line: start,
            lang: info.trim().to_owned(),
            marker,
            text: lines[start..end].join("\n") + "\n",
        });
        i = end + 1;
    }
    out
}

fn all_blocks() -> Vec<Block> {
    markdown_files().iter().flat_map(|f| blocks(f)).collect()
}

/// The error and warning rule ids `check` reports for `text` with default settings, and the
/// documents read.
fn findings(source: &str, text: &str) -> (BTreeSet<String>, Vec<Value>) {
    let policy = Policy::from_slice(b"").unwrap();
    let report = policy_core::check(&policy, Some(source), text.as_bytes(), &Context::default());
    let rules = report
        .results
        .iter()
        .flat_map(|r| r.findings())
        .filter(|f| matches!(f.severity(), Severity::Error | Severity::Warning))
        .map(|f| f.rule().as_str().to_owned())
        .collect();
    let docs = policy_core::yaml::parse_documents(text, 0)
        .into_iter()
        .map(|d| d.unwrap_or_else(|e| panic!("{source}: not YAML: {e:?}")))
        .collect();
    (rules, docs)
}

fn settings_accepted(at: &str, settings: &[u8]) {
    if let Err(e) = Policy::from_slice(settings) {
        panic!("{at}: the policy refuses these settings: {e}");
    }
}

fn check_manifests(b: &Block, expected: &BTreeSet<String>) {
    let at = b.at();
    let (rules, docs) = findings(&at, &b.text);
    assert_eq!(
        &rules, expected,
        "{at}: `cks-policy check` reports these error/warning rules for the snippet; fix it, or \
         mark it `<!-- snippet: expect-findings RULE... -->` if it shows a finding on purpose"
    );
    for doc in docs {
        assert!(
            doc.get("apiVersion").is_some() && doc.get("kind").is_some(),
            "{at}: a YAML block without a marker must be Kubernetes manifests"
        );
        if doc["kind"] == "ClusterAdmissionPolicy" {
            let settings = &doc["spec"]["settings"];
            settings_accepted(&at, &serde_json::to_vec(settings).unwrap());
            let sas: Vec<&str> = settings["exemptions"]["serviceAccounts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                sas.contains(&"cw-*/*"),
                "{at}: CKS's own controllers (service accounts in cw-* namespaces) change \
                 CoreWeave-domain node labels; exempt `cw-*/*` as the examples do"
            );
        }
    }
}

fn yaml_value(at: &str, text: &str) -> Value {
    let mut docs = policy_core::yaml::parse_documents(text, 0);
    assert_eq!(docs.len(), 1, "{at}: one YAML document expected");
    docs.remove(0)
        .unwrap_or_else(|e| panic!("{at}: not YAML: {e:?}"))
}

fn check_yaml(b: &Block) {
    let at = b.at();
    let marker = b.marker.as_deref().unwrap_or("");
    let mut words = marker.split_whitespace();
    match words.next() {
        None => check_manifests(b, &BTreeSet::new()),
        Some("expect-findings") => {
            let want: BTreeSet<String> = words.map(str::to_owned).collect();
            assert!(!want.is_empty(), "{at}: expect-findings names no rule");
            check_manifests(b, &want);
        }
        Some("settings") => settings_accepted(&at, b.text.as_bytes()),
        Some("metadata") => {
            let indented: String = b.text.lines().map(|l| format!("{l}\n")).collect();
            let pod = format!(
                "apiVersion: v1\nkind: Pod\n{indented}spec:\n  containers:\n  - name: web\n    \
                 image: registry.example.com/web:1.0@sha256:{}\n",
                "0".repeat(64)
            );
            let (rules, docs) = findings(&at, &pod);
            assert!(docs[0]["metadata"].is_object(), "{at}: not metadata");
            assert!(rules.is_empty(), "{at}: inside a Pod: {rules:?}");
        }
        Some("action-step") => {
            let action = yaml_value("action.yml", &read("action.yml"));
            let inputs = action["inputs"].as_object().unwrap();
            let steps = yaml_value(&at, &b.text);
            let ours = steps
                .as_array()
                .unwrap()
                .iter()
                .find(|s| {
                    s["uses"]
                        .as_str()
                        .is_some_and(|u| u.contains("/cks-policy@"))
                })
                .unwrap_or_else(|| panic!("{at}: no step uses the action"));
            for key in ours["with"].as_object().unwrap().keys() {
                assert!(
                    inputs.contains_key(key),
                    "{at}: `{key}` is not an input of action.yml"
                );
            }
        }
        Some("pre-commit") => {
            let hooks = yaml_value(".pre-commit-hooks.yaml", &read(".pre-commit-hooks.yaml"));
            let ids: Vec<&Value> = hooks.as_array().unwrap().iter().map(|h| &h["id"]).collect();
            let config = yaml_value(&at, &b.text);
            for repo in config["repos"].as_array().unwrap() {
                for hook in repo["hooks"].as_array().unwrap() {
                    assert!(ids.contains(&&hook["id"]), "{at}: no hook {}", hook["id"]);
                }
            }
        }
        Some("untested") => {}
        Some(other) => panic!("{at}: unknown marker `{other}` for a YAML block"),
    }
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(common::root().join(rel)).unwrap()
}

/// Shell words of `text`: backslash-newline joins lines, `#` starts a comment, quotes group.
/// Returns one list of words per command (split at newlines, `|`, `&&`, `||` and `;`), and the
/// heredocs as (file written, body).
#[allow(clippy::type_complexity)]
fn shell_commands(text: &str) -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let mut commands = Vec::new();
    let mut heredocs = Vec::new();
    let mut lines = text.lines();
    let mut logical = String::new();
    while let Some(line) = lines.next() {
        if let Some(head) = line.strip_suffix('\\') {
            logical.push_str(head);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let words = split_words(&logical);
        logical.clear();
        // `cat > FILE <<'EOF'`: the body, up to the delimiter, is FILE's content.
        if let Some(pos) = words.iter().position(|w| w.starts_with("<<")) {
            let delim = words[pos].trim_start_matches("<<").to_owned();
            let file = words
                .iter()
                .position(|w| w == ">")
                .and_then(|p| words.get(p + 1))
                .cloned()
                .unwrap_or_default();
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != delim).collect();
            heredocs.push((file, body.join("\n")));
        }
        let mut current = Vec::new();
        for w in words {
            if matches!(w.as_str(), "|" | "&&" | "||" | ";") {
                commands.push(std::mem::take(&mut current));
            } else {
                current.push(w);
            }
        }
        commands.push(current);
    }
    commands.retain(|c| !c.is_empty());
    (commands, heredocs)
}

fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&c| c != '"'));
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    // Quoted heredoc delimiters (`<<'EOF'`) come out as `<<EOF`.
    words
}

/// The names of the workspace's packages.
fn packages() -> BTreeSet<String> {
    let root = read("Cargo.toml");
    let mut names = BTreeSet::new();
    let dirs = root
        .lines()
        .find(|l| l.starts_with("members"))
        .unwrap()
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .chain(std::iter::once(String::new()));
    for dir in dirs {
        let manifest = read(format!("{dir}/Cargo.toml").trim_start_matches('/'));
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .unwrap()
            .trim_end_matches('"');
        names.insert(name.to_owned());
    }
    names
}

/// Runs `cks-policy ARGS --help`: clap reads every argument before `--help`, so an unknown
/// subcommand or flag, or a bad value, fails here, and nothing is executed or written.
fn cli_parses(at: &str, args: &[String]) {
    let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
    with_help.push("--help");
    let out = common::cks(&with_help);
    assert!(
        out.status.success(),
        "{at}: `cks-policy {}` does not parse: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_shell(b: &Block, packages: &BTreeSet<String>) {
    let at = b.at();
    let (commands, heredocs) = shell_commands(&b.text);
    for (file, body) in heredocs {
        if file.ends_with(".json") {
            serde_json::from_str::<Value>(&body)
                .unwrap_or_else(|e| panic!("{at}: {file} is not JSON: {e}"));
        }
    }
    for words in commands {
        // Leading `VAR=value` assignments.
        let words: Vec<String> = words
            .into_iter()
            .skip_while(|w| {
                w.split_once('=')
                    .is_some_and(|(k, _)| !k.contains('-') && !k.is_empty())
            })
            .collect();
        let Some(program) = words.first().map(String::as_str) else {
            continue;
        };
        for pair in words.windows(2) {
            if pair[0] == "--settings-json" {
                settings_accepted(&at, pair[1].as_bytes());
            }
        }
        match program {
            "cks-policy" => cli_parses(&at, &words[1..]),
            "cargo" => {
                for pair in words.windows(2) {
                    if pair[0] == "-p" {
                        assert!(packages.contains(&pair[1]), "{at}: no package {}", pair[1]);
                    }
                }
                let cli = words
                    .windows(2)
                    .any(|p| p[0] == "-p" && p[1] == "cks-policy-cli");
                if words[1] == "run" && cli {
                    let rest = words.iter().position(|w| w == "--").unwrap();
                    cli_parses(&at, &words[rest + 1..]);
                }
            }
            _ => {}
        }
        for w in &words {
            let script = w.strip_prefix("./").unwrap_or(w);
            if script.ends_with(".sh") && !script.contains('$') {
                assert!(common::root().join(script).is_file(), "{at}: no script {w}");
            }
        }
    }
}

/// The synopsis: each `cks-policy SUBCOMMAND [--flag …]` line names only flags the
/// subcommand's help lists.
fn check_synopsis(b: &Block) {
    let at = b.at();
    for line in b.text.lines() {
        let Some(rest) = line.strip_prefix("cks-policy ") else {
            continue;
        };
        let sub = rest.split_whitespace().next().unwrap();
        let help = common::cks(&[sub, "--help"]);
        assert!(help.status.success(), "{at}: no subcommand {sub}");
        let help = common::stdout(&help);
        for flag in rest
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--"))
        {
            let listed = help.match_indices(flag).any(|(i, _)| {
                let next = help[i + flag.len()..].chars().next();
                !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            });
            assert!(listed, "{at}: `cks-policy {sub}` has no {flag}");
        }
    }
}

#[test]
fn every_markdown_snippet_is_what_it_claims() {
    let packages = packages();
    let all = all_blocks();
    let mut kinds = BTreeSet::new();
    for b in &all {
        kinds.insert(b.lang.clone());
        if b.marker.as_deref() == Some("untested") {
            continue;
        }
        match b.lang.as_str() {
            "yaml" | "yml" => check_yaml(b),
            "json" => {
                assert_eq!(
                    b.marker.as_deref(),
                    Some("output"),
                    "{}: JSON blocks are output",
                    b.at()
                );
                serde_json::from_str::<Value>(&b.text)
                    .unwrap_or_else(|e| panic!("{}: not JSON: {e}", b.at()));
            }
            "sh" | "console" | "bash" => check_shell(b, &packages),
            "" => check_synopsis(b),
            "text" => {}
            other => panic!(
                "{}: a `{other}` block is checked nowhere; mark it `<!-- snippet: untested -->` \
                 only if its own test builds it",
                b.at()
            ),
        }
    }
    // The extraction itself works: the README and the Kubewarden pages have YAML and commands.
    assert!(all.len() > 30, "only {} blocks found", all.len());
    assert!(kinds.contains("yaml") && kinds.contains("sh") && kinds.contains("console"));
}

/// The checks above fail on what they should: a ClusterAdmissionPolicy without the
/// control-plane exclusion, a flag the CLI does not have, an unknown package.
#[test]
fn snippet_checks_catch_regressions() {
    let deploy = blocks(&common::root().join("policy-wasm/kubewarden/README.md"))
        .into_iter()
        .find(|b| b.lang == "yaml" && b.text.contains("ClusterAdmissionPolicy"))
        .unwrap();
    let without: String = {
        let start = deploy.text.find("  namespaceSelector:").unwrap();
        let end = deploy.text[start..]
            .find("  contextAwareResources:")
            .unwrap()
            + start;
        format!("{}{}", &deploy.text[..start], &deploy.text[end..])
    };
    let (rules, _) = findings("deploy", &without);
    assert!(rules.contains("webhook-scope"), "{rules:?}");
    let no_cw = Block {
        text: deploy.text.replace("\"cw-*/*\", ", ""),
        ..deploy
    };
    let caught = std::panic::catch_unwind(|| check_manifests(&no_cw, &BTreeSet::new()));
    assert!(
        caught.is_err(),
        "a policy without the cw-* exemption passed"
    );
    let bad_flag = common::cks(&["check", "--no-such-flag", "examples/", "--help"]);
    assert!(!bad_flag.status.success());
    assert!(!packages().contains("cks-policy-nope"));
    assert!(packages().contains("cks-policy-cli") && packages().contains("policy-core"));
    let (cmds, docs) = shell_commands(
        "A=1 cargo run -p x -- check \\\n  a.yaml | wc -l # c\ncat > r.json <<'EOF'\n{}\nEOF\n",
    );
    assert_eq!(
        cmds[0],
        ["A=1", "cargo", "run", "-p", "x", "--", "check", "a.yaml"]
    );
    assert_eq!(cmds[1], ["wc", "-l"]);
    assert_eq!(docs, [("r.json".to_owned(), "{}".to_owned())]);
}

/// The bench and the host's module bench compile "the Kubewarden README's example" settings from
/// `policy-core/benches/settings/readme.json`: it stays that example.
#[test]
fn bench_settings_are_the_kubewarden_readme_example() {
    let deploy = blocks(&common::root().join("policy-wasm/kubewarden/README.md"))
        .into_iter()
        .find(|b| b.lang == "yaml" && b.text.contains("ClusterAdmissionPolicy"))
        .unwrap();
    let readme = yaml_value(&deploy.at(), &deploy.text);
    let bench: Value =
        serde_json::from_str(&read("policy-core/benches/settings/readme.json")).unwrap();
    assert_eq!(readme["spec"]["settings"], bench);
}

/// The repository URL is set once (`repository` in the workspace `Cargo.toml`, which SARIF's
/// `helpUri` takes through `CARGO_PKG_REPOSITORY`); the places that spell it out by hand, as
/// README's "Publishing" lists them, follow it.
#[test]
fn hand_written_repository_urls_follow_cargo_toml() {
    let manifest = read("Cargo.toml");
    let repo = manifest
        .split("[workspace.package]")
        .nth(1)
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("repository = ")))
        .unwrap()
        .trim()
        .trim_matches('"')
        .to_owned();
    for (file, want) in [
        (
            "README.md",
            format!("cargo install --locked --git {repo} cks-policy-cli"),
        ),
        ("README.md", format!("  - repo: {repo}\n")),
        (
            "policy-wasm/kubewarden/metadata.yml",
            format!("io.kubewarden.policy.url: {repo}\n"),
        ),
        (
            "policy-wasm/kubewarden/metadata.yml",
            format!("io.kubewarden.policy.source: {repo}\n"),
        ),
        (
            "policy-wasm/kubewarden/artifacthub-pkg.yml",
            format!("homeURL: {repo}\n"),
        ),
    ] {
        assert!(read(file).contains(&want), "{file} lacks `{}`", want.trim());
    }
}
