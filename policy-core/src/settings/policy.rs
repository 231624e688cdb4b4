//! Settings compiled once into a reusable, thread-safe policy object.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::model::catalogue::{RuleId, RuleInfo, Severity, RULES};
use crate::model::image_ref::ImageRef;
use crate::model::nodetypes;
use crate::model::templates::Shapes;
use crate::settings::error::{SettingsError, SettingsProblem};
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
/// A `Policy` is immutable, `Send` and `Sync`: share one across threads.
#[derive(Debug)]
pub struct Policy {
    settings: Settings,
    pub(crate) rules: Vec<RuleState>,
    pub(crate) shapes: Shapes,
    pub(crate) exempt_users: Globs,
    pub(crate) exempt_groups: Globs,
    pub(crate) exempt_service_accounts: Globs,
    pub(crate) image_allow: Globs,
    /// Lock map keyed by normalized `repo:tag`.
    pub(crate) digests: HashMap<String, String>,
    pub(crate) known_workload_labels: HashSet<String>,
    pub(crate) accelerator_resources: Globs,
    pub(crate) database_images: Globs,
    /// Known Instance IDs (built-in and settings).
    pub(crate) instance_ids: nodetypes::Names,
    /// Rack-scale Instance IDs (built-in and settings).
    pub(crate) rack_scale: nodetypes::Names,
    /// Published legacy `node.kubernetes.io/type` → Instance ID (built-in and settings).
    pub(crate) legacy_types: nodetypes::Mapping,
    /// GPU classes CKS does not offer (built-in and settings), less the settings' offered ones.
    pub(crate) retired_gpu_classes: nodetypes::Names,
    /// Settings `nodeTypes.gpuClasses`: offered, whatever the retired list says.
    pub(crate) offered_gpu_classes: HashSet<String>,
    pub(crate) sunk_schedulers: Globs,
    pub(crate) gang_namespaces: Globs,
    pub(crate) control_plane_namespaces: Globs,
    /// Settings `exceptions`, compiled.
    pub(crate) exceptions: crate::settings::exceptions::Exceptions,
}

impl Default for Policy {
    fn default() -> Self {
        // Default settings always compile; fall back to an empty policy shape if not.
        Policy::new(Settings::default()).unwrap_or_else(|_| Policy::empty())
    }
}

/// The built-in pod-template table plus settings `templates`, each pointer checked.
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

pub(crate) fn globs(path: &str, patterns: &[String], problems: &mut Vec<SettingsProblem>) -> Globs {
    Globs::new(path, patterns, problems)
}

impl Policy {
    /// Whether a `gpu.nvidia.com/class` (or `model`) value names a GPU class CKS does not offer.
    pub(crate) fn is_retired_gpu_class(&self, class: &str) -> bool {
        self.retired_gpu_classes.contains(class) && !self.offered_gpu_classes.contains(class)
    }

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
            image_allow: Globs::default(),
            digests: HashMap::new(),
            known_workload_labels: HashSet::new(),
            accelerator_resources: Globs::default(),
            database_images: Globs::default(),
            instance_ids: nodetypes::Names::default(),
            rack_scale: nodetypes::Names::default(),
            legacy_types: nodetypes::Mapping::default(),
            retired_gpu_classes: nodetypes::Names::default(),
            offered_gpu_classes: HashSet::new(),
            sunk_schedulers: Globs::default(),
            gang_namespaces: Globs::default(),
            control_plane_namespaces: Globs::default(),
            exceptions: crate::settings::exceptions::Exceptions::default(),
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

        let mut digests = HashMap::new();
        for (reference, digest) in &s.images.digests {
            let key_ptr = crate::read::pointer::join("/images/digests", &[reference]);
            match ImageRef::parse(reference) {
                Ok(r) if r.digest.is_none() => {
                    digests.insert(r.normalized_name_tag(), digest.clone());
                }
                Ok(_) => problems.push(SettingsProblem::new(
                    key_ptr.clone(),
                    format!("lock map key `{reference}` already has a digest; use `repo:tag`"),
                )),
                Err(e) => problems.push(SettingsProblem::new(
                    key_ptr.clone(),
                    format!("lock map key `{reference}` is not an image reference: {e}"),
                )),
            }
            if let Err(e) = crate::model::image_ref::validate_digest(digest) {
                problems.push(SettingsProblem::new(
                    key_ptr,
                    format!("digest `{digest}` for `{reference}` is invalid: {e}"),
                ));
            }
        }

        check_limits(&s.limits, &mut problems);
        if s.sunk.kill_wait_seconds <= 5 {
            problems.push(SettingsProblem::new(
                "/sunk/killWaitSeconds",
                format!(
                    "must be above 5 (pods need a grace period below killWait − 5), found {}",
                    s.sunk.kill_wait_seconds
                ),
            ));
        }
        if s.org_id_hash.as_deref() == Some("") {
            problems.push(SettingsProblem::new(
                "/orgIdHash",
                "must not be empty when set",
            ));
        }
        for (legacy, id) in &s.node_types.legacy {
            if id.is_empty() {
                problems.push(SettingsProblem::new(
                    crate::read::pointer::join("/nodeTypes/legacy", &[legacy]),
                    "the Instance ID must not be empty",
                ));
            }
        }

        let instance_ids = nodetypes::Names::new(
            &[nodetypes::INSTANCE_IDS, nodetypes::RACK_SCALE],
            s.node_types
                .instance_ids
                .iter()
                .chain(&s.node_types.rack_scale),
        );
        let rack_scale = nodetypes::Names::new(&[nodetypes::RACK_SCALE], &s.node_types.rack_scale);
        let legacy_types =
            nodetypes::Mapping::new(nodetypes::LEGACY_PUBLISHED, &s.node_types.legacy);

        let shapes = compile_templates(s, &mut problems);
        let exceptions = crate::settings::exceptions::compile(&s.exceptions, &mut problems);
        let policy = Policy {
            rules,
            shapes,
            exempt_users: globs("/exemptions/users", &s.exemptions.users, &mut problems),
            exempt_groups: globs("/exemptions/groups", &s.exemptions.groups, &mut problems),
            exempt_service_accounts: globs(
                "/exemptions/serviceAccounts",
                &s.exemptions.service_accounts,
                &mut problems,
            ),
            image_allow: globs("/images/allow", &s.images.allow, &mut problems),
            digests,
            known_workload_labels: s.labels.known_workload.iter().cloned().collect(),
            accelerator_resources: globs(
                "/accelerators/resources",
                &s.accelerators.resources,
                &mut problems,
            ),
            database_images: globs(
                "/interruption/databaseImages",
                &s.interruption.database_images,
                &mut problems,
            ),
            instance_ids,
            rack_scale,
            legacy_types,
            retired_gpu_classes: nodetypes::Names::new(
                &[nodetypes::RETIRED_GPU_CLASSES],
                &s.node_types.retired_gpu_classes,
            ),
            offered_gpu_classes: s.node_types.gpu_classes.iter().cloned().collect(),
            sunk_schedulers: globs(
                "/sunk/schedulerNames",
                &s.sunk.scheduler_names,
                &mut problems,
            ),
            gang_namespaces: globs("/gang/namespaces", &s.gang.namespaces, &mut problems),
            control_plane_namespaces: globs(
                "/controlPlaneNamespaces",
                &s.control_plane_namespaces,
                &mut problems,
            ),
            exceptions,
            settings,
        };
        if problems.is_empty() {
            Ok(policy)
        } else {
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
