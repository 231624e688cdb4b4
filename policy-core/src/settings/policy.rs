//! Settings compiled once into a reusable, thread-safe policy object.

use serde_json::Value;

use crate::model::catalogue::{RuleId, RuleInfo, Severity, RULES};
use crate::model::templates::Shapes;
use crate::settings::error::{SettingsError, SettingsProblem};
use crate::settings::families::{
    accelerators::Accelerators, gang::Gang, images::Images, interruption::Interruption,
    labels::Labels, namespaces::Namespaces, node_types::NodeTypes, sunk::Sunk,
};
use crate::settings::glob::Globs;
use crate::settings::{Mode, Settings};

/// Whether a rule runs and at which severity it reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleState {
    pub enabled: bool,
    pub severity: Severity,
}

/// Settings compiled for judging many requests: globs built, tables indexed.
///
/// A `Policy` is immutable, `Send` and `Sync`: share one across threads. It holds what the
/// engine itself uses (rule states, the shapes the reader builds, exemptions, exceptions) and
/// one field per rule family, compiled by that family (`settings/families/`).
#[derive(Debug)]
pub struct Policy {
    settings: Settings,
    pub(crate) rules: Vec<RuleState>,
    pub(crate) shapes: Shapes,
    pub(crate) exempt_users: Globs,
    pub(crate) exempt_groups: Globs,
    pub(crate) exempt_service_accounts: Globs,
    /// Settings `images`, for the image rules.
    pub(crate) images: Images,
    /// Settings `labels`, for `unknown-coreweave-label`.
    pub(crate) labels: Labels,
    /// Settings `accelerators`, for what a pod requests of accelerators.
    pub(crate) accelerators: Accelerators,
    /// Settings `interruption`, for `interruptible-stateful`.
    pub(crate) interruption: Interruption,
    /// Settings `nodeTypes`, for the node-selection and NodePool rules.
    pub(crate) node_types: NodeTypes,
    /// Settings `sunk`, for the SUNK rules.
    pub(crate) sunk: Sunk,
    /// Settings `gang`, for `gang-scheduling-queue`.
    pub(crate) gang: Gang,
    /// Settings `controlPlaneNamespaces`, for `control-plane-namespace`.
    pub(crate) namespaces: Namespaces,
    /// Settings `exceptions`, compiled.
    pub(crate) exceptions: crate::settings::exceptions::Exceptions,
}

impl Default for Policy {
    fn default() -> Self {
        // Default settings always compile; fall back to an empty policy shape if not.
        Policy::new(Settings::default()).unwrap_or_else(|_| Policy::empty())
    }
}

/// The built-in pod-template table, the fields the catalogue's rules declare they read
/// (`reads`), and settings `templates`, each pointer checked.
fn compile_templates(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Shapes {
    use crate::model::templates::{Inline, Leaf};
    let mut shapes = Shapes::new();
    for (i, t) in s.templates.iter().enumerate() {
        let at = format!("/templates/{i}");
        if t.kind.is_empty() {
            problems.push(SettingsProblem::new(
                format!("{at}/kind"),
                "must not be empty",
            ));
        }
        if t.pod_templates.is_empty() && t.pod_specs.is_empty() {
            problems.push(SettingsProblem::new(
                at.clone(),
                "name at least one pointer in `podTemplates` or `podSpecs`",
            ));
        }
        let lists = [
            ("podTemplates", &t.pod_templates, Leaf::PodTemplate),
            ("podSpecs", &t.pod_specs, Leaf::Inline(Inline::PodFields)),
        ];
        for (field, list, leaf) in lists {
            for (j, pattern) in list.iter().enumerate() {
                match crate::read::pointer::tokens(pattern) {
                    Some(tokens) if !tokens.is_empty() && tokens.iter().all(|t| !t.is_empty()) => {
                        if !t.kind.is_empty() {
                            shapes.add(&t.api_group, &t.kind, &tokens, leaf);
                        }
                    }
                    _ => problems.push(SettingsProblem::new(
                        format!("{at}/{field}/{j}"),
                        format!("`{pattern}` is not a JSON Pointer below the object root (like `/spec/template`, `*` for any key or index)"),
                    )),
                }
            }
        }
    }
    shapes
}

/// Each limit within its range: a value above its ceiling could make a read allocate without
/// bound (README, "Limits"), so it is refused like any other invalid setting.
fn check_limits(l: &crate::settings::Limits, problems: &mut Vec<SettingsProblem>) {
    use crate::settings::{
        MAX_ALIASES_CEILING, MAX_ALIAS_NODES_CEILING, MAX_BYTES_CEILING, MAX_DEPTH_CEILING,
    };
    let ranges = [
        ("/limits/maxBytes", l.max_bytes, 1, MAX_BYTES_CEILING),
        ("/limits/maxDepth", l.max_depth, 1, MAX_DEPTH_CEILING),
        ("/limits/maxAliases", l.max_aliases, 0, MAX_ALIASES_CEILING),
        (
            "/limits/maxAliasNodes",
            l.max_alias_nodes,
            0,
            MAX_ALIAS_NODES_CEILING,
        ),
    ];
    for (path, value, min, max) in ranges {
        if value < min || value > max {
            problems.push(SettingsProblem::new(
                path,
                format!("must be between {min} and {max}, found {value}"),
            ));
        }
    }
}

/// The order settings problems are listed in, by the settings path each is at: the order the
/// checks ran in before each rule family compiled its own settings, kept so that a list of
/// problems reads as it always did. Problems at one entry keep the order they were found in;
/// a path under no entry (a setting added since) comes last.
const PROBLEM_ORDER: &[&str] = &[
    "/rules",
    "/images/digests",
    "/limits",
    "/sunk/killWaitSeconds",
    "/orgIdHash",
    "/nodeTypes/legacy",
    "/templates",
    "/exceptions",
    "/exemptions",
    "/images/allow",
    "/accelerators/resources",
    "/interruption/databaseImages",
    "/sunk/schedulerNames",
    "/gang/namespaces",
    "/controlPlaneNamespaces",
];

/// The place of a problem at `path` in [`PROBLEM_ORDER`].
fn problem_rank(path: &str) -> usize {
    PROBLEM_ORDER
        .iter()
        .position(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .unwrap_or(PROBLEM_ORDER.len())
}

impl Policy {
    fn empty() -> Self {
        Policy {
            settings: Settings::default(),
            rules: RULES
                .iter()
                .map(|r| RuleState {
                    enabled: r.default_enabled,
                    severity: r.default_severity,
                })
                .collect(),
            shapes: Shapes::new(),
            exempt_users: Globs::default(),
            exempt_groups: Globs::default(),
            exempt_service_accounts: Globs::default(),
            exceptions: crate::settings::exceptions::Exceptions::default(),
            images: Images::default(),
            labels: Labels::default(),
            namespaces: Namespaces::default(),
            node_types: NodeTypes::default(),
            accelerators: Accelerators::default(),
            interruption: Interruption::default(),
            sunk: Sunk::default(),
            gang: Gang::default(),
        }
    }

    /// Compiles typed settings, listing every problem at once.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let s = &settings;

        let mut rules: Vec<RuleState> = RULES
            .iter()
            .map(|r: &RuleInfo| RuleState {
                enabled: r.default_enabled,
                severity: r.default_severity,
            })
            .collect();
        for (id, o) in &s.rules {
            match RuleId::parse(id) {
                // A document that cannot be read is never judged, so it is always reported, as
                // an error: turning the rule off or lowering it could not take effect.
                Some(RuleId::InputInvalid) => {
                    if o.enabled == Some(false) {
                        problems.push(SettingsProblem::new(
                            "/rules/input-invalid/enabled",
                            "`input-invalid` cannot be turned off: a document that cannot be read is never judged, so it is always reported",
                        ));
                    }
                    if o.severity.is_some_and(|sev| sev != Severity::Error) {
                        problems.push(SettingsProblem::new(
                            "/rules/input-invalid/severity",
                            "`input-invalid` is always an error: a document that cannot be read is never judged, so it must not be admitted",
                        ));
                    }
                }
                Some(rid) => {
                    let st = &mut rules[rid.index()];
                    if let Some(e) = o.enabled {
                        st.enabled = e;
                    }
                    if let Some(sev) = o.severity {
                        st.severity = sev;
                    }
                }
                None => problems.push(SettingsProblem::new(
                    format!(
                        "/rules/{}",
                        crate::read::pointer::join("", &[id]).trim_start_matches('/')
                    ),
                    format!("unknown rule id `{id}` (run `cks-policy rules` for the list)"),
                )),
            }
        }
        // `sunk-daemonset-tolerations` only runs on SUNK clusters unless settings force it.
        let sunk_override = s
            .rules
            .get(RuleId::SunkDaemonsetTolerations.as_str())
            .and_then(|o| o.enabled);
        if sunk_override.is_none() {
            rules[RuleId::SunkDaemonsetTolerations.index()].enabled = s.sunk.enabled;
        }
        // `input-invalid` is not lowered: its findings are always errors (README, "Settings").
        if s.mode == Mode::Warn {
            for (id, r) in RuleId::ALL.iter().zip(&mut rules) {
                if r.severity == Severity::Error && *id != RuleId::InputInvalid {
                    r.severity = Severity::Warning;
                }
            }
        }

        check_limits(&s.limits, &mut problems);
        if s.org_id_hash.as_deref() == Some("") {
            problems.push(SettingsProblem::new(
                "/orgIdHash",
                "must not be empty when set",
            ));
        }
        // The families compile in any order (problems are sorted below); this one keeps the
        // allocations in the order they had before families compiled their own settings,
        // which the allocator's cost follows.
        let node_types = NodeTypes::compile(s, &mut problems);
        let shapes = compile_templates(s, &mut problems);
        let exceptions = crate::settings::exceptions::compile(&s.exceptions, &mut problems);
        let policy = Policy {
            rules,
            shapes,
            exempt_users: Globs::new("/exemptions/users", &s.exemptions.users, &mut problems),
            exempt_groups: Globs::new("/exemptions/groups", &s.exemptions.groups, &mut problems),
            exempt_service_accounts: Globs::new(
                "/exemptions/serviceAccounts",
                &s.exemptions.service_accounts,
                &mut problems,
            ),
            images: Images::compile(s, &mut problems),
            labels: Labels::compile(s, &mut problems),
            accelerators: Accelerators::compile(s, &mut problems),
            interruption: Interruption::compile(s, &mut problems),
            node_types,
            sunk: Sunk::compile(s, &mut problems),
            gang: Gang::compile(s, &mut problems),
            namespaces: Namespaces::compile(s, &mut problems),
            exceptions,
            settings,
        };
        if problems.is_empty() {
            Ok(policy)
        } else {
            problems.sort_by_key(|p| problem_rank(&p.path));
            Err(SettingsError::Invalid { problems })
        }
    }

    /// Parses settings from JSON (or YAML, with the `yaml` feature) and compiles them.
    ///
    /// Empty input means default settings. Every problem is listed: unknown keys, wrong types,
    /// invalid globs, out-of-range values.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SettingsError> {
        let lenient = parse_settings_lenient(bytes)?;
        let mut problems = lenient.problems;
        if lenient.stopped {
            return Err(finish(bytes, problems, true));
        }
        match Policy::new(lenient.settings) {
            Ok(p) if problems.is_empty() => Ok(p),
            Ok(_) => Err(finish(bytes, problems, false)),
            Err(e) => {
                problems.extend(e.problems().iter().map(|p| {
                    let mut p = p.clone();
                    if let Some(origin) = &lenient.origin {
                        p.path = origin.original_pointer(&p.path);
                    }
                    p
                }));
                Err(finish(bytes, problems, false))
            }
        }
    }

    /// The settings this policy was compiled from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// What reading a document needs of this policy: its limits and pod-template shapes.
    pub(crate) fn reading(&self) -> crate::model::input::Reading<'_> {
        crate::model::input::Reading {
            limits: self.settings.limits,
            shapes: &self.shapes,
        }
    }

    /// Whether `tag` is one of settings `images.mutableTags` (a short list, read in place).
    pub(crate) fn is_mutable_tag(&self, tag: &str) -> bool {
        self.settings.images.mutable_tags.iter().any(|t| t == tag)
    }

    /// Whether a rule runs under these settings.
    pub fn enabled(&self, rule: RuleId) -> bool {
        self.rules[rule.index()].enabled
    }

    /// The severity a rule reports with under these settings (after `mode`).
    pub fn severity(&self, rule: RuleId) -> Severity {
        self.rules[rule.index()].severity
    }
}

/// Most problems listed; past it, one last entry counts the rest.
pub const MAX_SETTINGS_PROBLEMS: usize = 100;
/// Most offending entries dropped and retried while reading settings (each retry reads the
/// whole document again); past it the count of the rest is a lower bound.
const MAX_SETTINGS_RETRIES: usize = 1000;

/// Settings read leniently: what was left after dropping every offending entry, the problems
/// found (at the positions written), where each array element came from, and whether reading
/// stopped at [`MAX_SETTINGS_RETRIES`] with problems left.
struct Lenient {
    settings: Settings,
    problems: Vec<SettingsProblem>,
    origin: Option<crate::settings::paths::Origin>,
    stopped: bool,
}

/// The error for `problems`: at most [`MAX_SETTINGS_PROBLEMS`] of them, then an entry saying
/// how many more there are (never cut silently), each with its line in the settings text when
/// it is found there.
fn finish(bytes: &[u8], mut problems: Vec<SettingsProblem>, stopped: bool) -> SettingsError {
    if problems.len() > MAX_SETTINGS_PROBLEMS || stopped {
        let keep = problems.len().min(MAX_SETTINGS_PROBLEMS - 1);
        let rest = problems.len() - keep;
        problems.truncate(keep);
        problems.push(SettingsProblem::new(
            "",
            if stopped {
                format!("… and at least {rest} more problems (reading stopped after {MAX_SETTINGS_RETRIES}; fix these first)")
            } else {
                format!("… and {rest} more problems")
            },
        ));
    }
    #[cfg(feature = "yaml")]
    if let Ok(text) = std::str::from_utf8(bytes) {
        // One read of the text for every problem's line.
        let wanted: Vec<(usize, Vec<String>)> = problems
            .iter()
            .enumerate()
            .filter_map(|(i, p)| crate::read::pointer::tokens(&p.path).map(|t| (i, t)))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        let pointers: Vec<Vec<String>> = wanted.iter().map(|(_, t)| t.clone()).collect();
        for ((i, _), line) in wanted
            .iter()
            .zip(crate::model::kubectl_yaml::locate_all(text, &pointers))
        {
            problems[*i].line = line;
        }
    }
    #[cfg(not(feature = "yaml"))]
    let _ = bytes;
    SettingsError::Invalid { problems }
}

/// Reads settings text leniently (see [`Lenient`]). `Err` only when nothing can be read at all
/// (not UTF-8, not YAML/JSON, not a map).
fn parse_settings_lenient(bytes: &[u8]) -> Result<Lenient, SettingsError> {
    let defaults = || Lenient {
        settings: Settings::default(),
        problems: Vec::new(),
        origin: None,
        stopped: false,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| SettingsError::Invalid {
        problems: vec![SettingsProblem::new(
            "",
            format!("settings are not UTF-8: {e}"),
        )],
    })?;
    if text.trim().is_empty() {
        return Ok(defaults());
    }
    let mut value: Value =
        crate::model::input::parse_settings_value(text).map_err(|p| SettingsError::Invalid {
            problems: vec![SettingsProblem::new("", p)],
        })?;
    if value.is_null() {
        return Ok(defaults());
    }
    if !value.is_object() {
        return Err(SettingsError::Invalid {
            problems: vec![SettingsProblem::new("", "settings must be a map")],
        });
    }
    let mut origin = crate::settings::paths::Origin::of(&value);
    let mut problems = Vec::new();
    for _ in 0..MAX_SETTINGS_RETRIES {
        let mut track = serde_path_to_error::Track::new();
        let de = serde_path_to_error::Deserializer::new(&value, &mut track);
        match <Settings as serde::Deserialize>::deserialize(de) {
            Ok(settings) => {
                return Ok(Lenient {
                    settings,
                    problems,
                    origin: Some(origin),
                    stopped: false,
                })
            }
            Err(e) => {
                let mut tokens = crate::settings::error::path_tokens(&track.path());
                let msg = e.to_string();
                // `unknown field `x`, expected …`: the path may stop at the parent map.
                if let Some(field) = msg
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                {
                    if tokens.last().map(String::as_str) != Some(field) {
                        tokens.push(field.to_owned());
                    }
                }
                let written = origin.original(&tokens);
                let ptr = crate::read::pointer::join(
                    "",
                    &written.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                problems.push(SettingsProblem::new(ptr, msg));
                if tokens.is_empty() || !remove_at(&mut value, &tokens) {
                    return Err(finish(bytes, problems, false));
                }
                origin.remove(&tokens);
            }
        }
    }
    Err(finish(bytes, problems, true))
}

fn remove_at(value: &mut Value, tokens: &[String]) -> bool {
    let Some((last, parents)) = tokens.split_last() else {
        return false;
    };
    let mut cur = value;
    for t in parents {
        cur = match cur {
            Value::Object(m) => match m.get_mut(t) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => m.remove(last).is_some(),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_paths(settings: &str) -> Vec<String> {
        match Policy::from_slice(settings.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.path.clone()).collect(),
        }
    }

    /// Each limit: its ceiling is accepted, one more is a problem at its pointer naming the
    /// ceiling (`maxAliasNodes: 1000000000` once aborted the host).
    #[test]
    fn every_limit_has_a_ceiling() {
        use crate::settings::{
            MAX_ALIASES_CEILING, MAX_ALIAS_NODES_CEILING, MAX_BYTES_CEILING, MAX_DEPTH_CEILING,
        };
        for (key, min, max) in [
            ("maxBytes", 1, MAX_BYTES_CEILING),
            ("maxDepth", 1, MAX_DEPTH_CEILING),
            ("maxAliases", 0, MAX_ALIASES_CEILING),
            ("maxAliasNodes", 0, MAX_ALIAS_NODES_CEILING),
        ] {
            for ok in [min, max] {
                let settings = format!(r#"{{"limits": {{"{key}": {ok}}}}}"#);
                assert!(problem_paths(&settings).is_empty(), "{settings}");
            }
            let mut above = vec![max + 1, 1_000_000_000];
            if min > 0 {
                above.push(min - 1);
            }
            for bad in above {
                let settings = format!(r#"{{"limits": {{"{key}": {bad}}}}}"#);
                let e = Policy::from_slice(settings.as_bytes()).unwrap_err();
                assert_eq!(e.problems().len(), 1, "{settings}");
                let p = &e.problems()[0];
                assert_eq!(p.path, format!("/limits/{key}"));
                assert_eq!(
                    p.message,
                    format!("must be between {min} and {max}, found {bad}")
                );
            }
        }
    }

    /// Problems of every family and of the engine come in [`PROBLEM_ORDER`], whatever order
    /// the families compile in.
    #[test]
    fn problems_keep_their_order_across_families() {
        let settings = r#"{
          "controlPlaneNamespaces": ["[a"],
          "gang": {"namespaces": ["[b"]},
          "sunk": {"schedulerNames": ["[c"], "killWaitSeconds": 1},
          "interruption": {"databaseImages": ["[d"]},
          "accelerators": {"resources": ["[e"]},
          "images": {"allow": ["[f"], "digests": {"Bad Key": "sha256:1"}},
          "exemptions": {"users": ["[g"], "groups": ["[h"], "serviceAccounts": ["[i"]},
          "exceptions": {"list": [{"rules": [], "reason": ""}]},
          "templates": [{"apiGroup": "x", "kind": ""}],
          "nodeTypes": {"legacy": {"a": ""}},
          "orgIdHash": "",
          "limits": {"maxDepth": 0},
          "rules": {"no-such": {}, "input-invalid": {"enabled": false}}
        }"#;
        assert_eq!(
            problem_paths(settings),
            vec![
                "/rules/input-invalid/enabled",
                "/rules/no-such",
                "/images/digests/Bad Key",
                "/images/digests/Bad Key",
                "/limits/maxDepth",
                "/sunk/killWaitSeconds",
                "/orgIdHash",
                "/nodeTypes/legacy/a",
                "/templates/0/kind",
                "/templates/0",
                "/exceptions/list/0/rules",
                "/exceptions/list/0/reason",
                "/exemptions/users/0",
                "/exemptions/groups/0",
                "/exemptions/serviceAccounts/0",
                "/images/allow/0",
                "/accelerators/resources/0",
                "/interruption/databaseImages/0",
                "/sunk/schedulerNames/0",
                "/gang/namespaces/0",
                "/controlPlaneNamespaces/0",
            ]
        );
        assert_eq!(problem_rank("/images/digestsX"), PROBLEM_ORDER.len());
        assert_eq!(problem_rank("/labels/knownWorkload/0"), PROBLEM_ORDER.len());
    }

    #[test]
    fn templates_settings_are_checked() {
        assert!(problem_paths(
            r#"{"templates": [{"apiGroup": "x.io", "kind": "Run", "podTemplates": ["/spec/t"]}]}"#
        )
        .is_empty());
        assert_eq!(
            problem_paths(
                r#"{"templates": [{"apiGroup": "x.io", "kind": "", "podSpecs": ["spec", "/a~2", "/", "/ok"]}, {"apiGroup": "", "kind": "K"}]}"#
            ),
            vec![
                "/templates/0/kind",
                "/templates/0/podSpecs/0",
                "/templates/0/podSpecs/1",
                "/templates/0/podSpecs/2",
                "/templates/1",
            ]
        );
        assert_eq!(
            problem_paths(r#"{"templates": [{"kind": "K", "podSpecs": ["/s"]}]}"#).len(),
            1,
            "apiGroup is required"
        );
    }
}
