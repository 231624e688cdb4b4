//! `metadata.yml` and `artifacthub-pkg.yml` agree with each other and with the rule catalogue:
//! every kind the engine reads is routed to the policy. Needs no module.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

use serde_json::Value;

fn kubewarden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kubewarden")
}

/// One YAML document, read as kubectl reads it.
fn parse(text: &str) -> Value {
    let mut docs = policy_core::yaml::parse_documents(text, 0);
    assert_eq!(docs.len(), 1, "one document expected");
    docs.remove(0).unwrap_or_else(|e| panic!("{e:?}"))
}

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(kubewarden_dir().join(name)).unwrap();
    parse(&text)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Whether some rule sends `operation` on `group`/`resource` to the policy.
fn routed(rules: &Value, group: &str, resource: &str, operation: &str) -> bool {
    rules.as_array().unwrap().iter().any(|r| {
        strings(&r["apiGroups"]).iter().any(|g| g == group)
            && strings(&r["resources"]).iter().any(|x| x == resource)
            && strings(&r["operations"]).iter().any(|o| o == operation)
    })
}

#[test]
fn metadata_declares_what_the_module_needs() {
    let m = yaml("metadata.yml");
    assert_eq!(m["mutating"], true);
    assert_eq!(m["backgroundAudit"], true);
    assert_eq!(m["executionMode"], "kubewarden-wapc");
    assert_eq!(
        m["contextAwareResources"],
        serde_json::json!([{"apiVersion": "v1", "kind": "Namespace"}])
    );
    let a = &m["annotations"];
    for key in [
        "io.kubewarden.policy.title",
        "io.kubewarden.policy.description",
        "io.kubewarden.policy.author",
        "io.kubewarden.policy.url",
        "io.kubewarden.policy.source",
        "io.kubewarden.policy.license",
        "io.kubewarden.policy.usage",
        "io.artifacthub.displayName",
        "io.artifacthub.resources",
        "io.artifacthub.keywords",
    ] {
        assert!(
            a[key].as_str().is_some_and(|s| !s.trim().is_empty()),
            "annotation {key} missing"
        );
    }
}

#[test]
fn every_catalogue_kind_is_routed_to_the_policy() {
    let rules = &yaml("metadata.yml")["rules"];
    let mut kinds: Vec<(&str, &str)> = policy_core::POD_TEMPLATE_LOCATIONS
        .iter()
        .map(|l| (l.group, l.kind))
        .collect();
    // The kinds only read for raw fields (webhook configurations, RoleBinding, …).
    kinds.extend(
        policy_core::RULES
            .iter()
            .flat_map(|r| r.reads)
            .map(|&(group, kind, _)| (group, kind)),
    );
    kinds.extend([("", "Namespace"), ("nvidia.com", "ClusterPolicy")]);
    for (group, kind) in kinds {
        let lower = kind.to_lowercase();
        let resource = match lower.strip_suffix('y') {
            Some(stem) => format!("{stem}ies"),
            None => format!("{lower}s"),
        };
        for op in ["CREATE", "UPDATE"] {
            assert!(
                routed(rules, group, &resource, op),
                "{group}/{resource} {op} is not in metadata.yml"
            );
        }
    }
    // `control-plane-namespace` judges DELETE of a namespace and of the objects in one.
    for (group, resource) in [("", "namespaces"), ("", "pods"), ("apps", "deployments")] {
        assert!(
            routed(rules, group, resource, "DELETE"),
            "{resource} DELETE"
        );
    }
}

#[test]
fn artifacthub_package_matches_metadata() {
    let m = yaml("metadata.yml");
    let p = yaml("artifacthub-pkg.yml");
    let ann = &p["annotations"];
    let rules: Value = parse(ann["kubewarden/rules"].as_str().unwrap());
    assert_eq!(rules, m["rules"]);
    let car: Value = parse(ann["kubewarden/contextAwareResources"].as_str().unwrap());
    assert_eq!(car, m["contextAwareResources"]);
    assert_eq!(ann["kubewarden/mutation"], "true");
    assert_eq!(
        ann["kubewarden/resources"],
        m["annotations"]["io.artifacthub.resources"]
    );
    assert_eq!(
        p["version"],
        m["annotations"]["io.kubewarden.policy.version"]
    );
    assert_eq!(
        p["version"].as_str().unwrap(),
        env!("CARGO_PKG_VERSION"),
        "package version follows the workspace version"
    );
}

/// `USAGE.md` (what `kwctl annotate -u` embeds) lists every rule with its default severity (in
/// the table `cks-policy rules --format markdown` generates), and the README's annotate step
/// embeds it.
#[test]
fn usage_lists_every_rule() {
    let usage = std::fs::read_to_string(kubewarden_dir().join("USAGE.md")).unwrap();
    for r in policy_core::rules() {
        let sev = if r.default_enabled {
            r.default_severity.as_str()
        } else {
            "off"
        };
        assert!(
            usage.contains(&format!(
                "| `{}` | <a id=\"rule-{}\"></a>{sev} ",
                r.id, r.id
            )),
            "USAGE.md lacks `{}` with default {sev}",
            r.id
        );
    }
    let readme = std::fs::read_to_string(kubewarden_dir().join("README.md")).unwrap();
    assert!(readme.contains("--usage-path policy-wasm/kubewarden/USAGE.md"));
}
