//! Settings `exceptions`, compiled: which rules each entry silences, for which objects
//! (namespace, kind and name globs), and why. Applying them to findings is the judge's
//! (`judge/exceptions.rs`).

use crate::model::catalogue::{RuleId, RULES};
use crate::model::object::{Object, Request};
use crate::model::text::distance_within;
use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs as GlobSet;
use crate::settings::{AnnotationScope, ExceptionSettings};

/// The JSON Schema of settings `exceptions`, written by hand: deriving it cost the browser
/// engine 7 KB of schema-building code. `schema_is_the_settings_shape` checks it against the
/// settings types.
pub fn settings_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    // Through `Value`, whose parser the engine has anyway (`Schema`'s own costs 1.5 KB).
    match serde_json::from_str(SETTINGS_SCHEMA) {
        Ok(serde_json::Value::Object(m)) => schemars::Schema::from(m),
        _ => schemars::Schema::default(),
    }
}

pub(crate) const SETTINGS_SCHEMA: &str = r#"{
  "description": "Objects allowed to break named rules: settings entries, and whether admission honours the objects' own exception annotation.",
  "type": "object",
  "additionalProperties": false,
  "default": {"annotations": "files", "list": []},
  "properties": {
    "annotations": {
      "description": "Where the object's own `cks-policy.example.invalid/exceptions` annotation is honoured: `files` (manifests checked or audited from files, not admission: by default an object cannot exempt itself from admission), `always` (admission too) or `never` (a strict gate: only `list` counts). A boolean is still read: true = always, false = files.",
      "enum": ["files", "always", "never", true, false],
      "default": "files"
    },
    "list": {
      "description": "Each entry silences its rules for the objects it matches; a silenced finding is still reported, marked `suppressed`, and does not deny.",
      "type": "array",
      "default": [],
      "items": {
        "description": "One exception: the rules it silences, the objects it applies to, and why.",
        "type": "object",
        "additionalProperties": false,
        "required": ["reason", "rules"],
        "properties": {
          "rules": {
            "description": "Rule ids to silence (at least one; `input-invalid` cannot be silenced).",
            "type": "array",
            "items": {"type": "string"}
          },
          "namespaces": {
            "description": "Globs over the object's namespace; absent or empty matches any object, and an object without a namespace (cluster-scoped, or a manifest that names none) matches only then.",
            "type": "array",
            "items": {"type": "string"}
          },
          "kinds": {
            "description": "Globs over the object's `kind` (`Deployment`); absent or empty matches any kind.",
            "type": "array",
            "items": {"type": "string"}
          },
          "names": {
            "description": "Globs over `metadata.name` (else `metadata.generateName`); absent or empty matches any name.",
            "type": "array",
            "items": {"type": "string"}
          },
          "reason": {
            "description": "Why these objects may break these rules: required, reported with every silenced finding.",
            "type": "string",
            "minLength": 1
          }
        }
      }
    }
  }
}"#;

/// Settings `exceptions`, compiled: each entry's rules and globs.
#[derive(Debug, Default)]
pub(crate) struct Exceptions {
    pub(crate) entries: Vec<Entry>,
    pub(crate) annotations: AnnotationScope,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) rules: Vec<RuleId>,
    namespaces: Option<GlobSet>,
    kinds: Option<GlobSet>,
    names: Option<GlobSet>,
    pub(crate) reason: String,
}

/// Rules no exception may silence: unreadable input, and the check of the annotation itself.
fn unexceptable(rule: RuleId) -> bool {
    matches!(
        rule,
        RuleId::InputInvalid | RuleId::ExceptionAnnotationInvalid
    )
}

/// The nearest rule id to a misspelt one, within a few edits.
fn near_rule(id: &str) -> Option<&'static str> {
    let limit = (id.chars().count() / 5).clamp(1, 3);
    let mut best: Option<(usize, &'static str)> = None;
    for r in RULES.iter().map(|r| r.id) {
        let Some(d) = distance_within(id, r, limit) else {
            continue;
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, r));
        }
    }
    best.map(|(_, r)| r)
}

/// Parses a rule id an exception names, or says why it cannot be excepted.
pub(crate) fn exceptable_rule(id: &str) -> Result<RuleId, String> {
    match RuleId::parse(id) {
        Some(r) if unexceptable(r) => Err(format!("`{id}` cannot be excepted")),
        Some(r) => Ok(r),
        None => Err(match near_rule(id) {
            Some(n) => format!("unknown rule id `{id}` (did you mean `{n}`?)"),
            None => format!("unknown rule id `{id}` (run `cks-policy rules` for the list)"),
        }),
    }
}

/// Compiles settings `exceptions`, adding every problem (unknown or unexceptable rule ids, an
/// empty list or reason, invalid globs) to `problems`.
pub(crate) fn compile(s: &ExceptionSettings, problems: &mut Vec<SettingsProblem>) -> Exceptions {
    let mut entries = Vec::new();
    for (i, e) in s.list.iter().enumerate() {
        let at = format!("/exceptions/list/{i}");
        if e.rules.is_empty() {
            problems.push(SettingsProblem::new(
                format!("{at}/rules"),
                "is required: name at least one rule",
            ));
        }
        let mut rules = Vec::new();
        for (j, id) in e.rules.iter().enumerate() {
            match exceptable_rule(id) {
                Ok(r) => rules.push(r),
                Err(m) => problems.push(SettingsProblem::new(format!("{at}/rules/{j}"), m)),
            }
        }
        if e.reason.trim().is_empty() {
            problems.push(SettingsProblem::new(
                format!("{at}/reason"),
                "is required: say why these objects may break these rules",
            ));
        }
        // An empty list matches anything: no glob set to consult.
        let mut list = |field: &str, patterns: &[String]| {
            (!patterns.is_empty())
                .then(|| GlobSet::new(&format!("{at}/{field}"), patterns, problems))
        };
        let namespaces = list("namespaces", &e.namespaces);
        let kinds = list("kinds", &e.kinds);
        let names = list("names", &e.names);
        entries.push(Entry {
            rules,
            namespaces,
            kinds,
            names,
            reason: e.reason.trim().to_owned(),
        });
    }
    Exceptions {
        entries,
        annotations: s.annotations,
    }
}

impl Entry {
    pub(crate) fn matches(&self, request: &Request, object: &Object) -> bool {
        let namespace = object.namespace().or(request.namespace.as_deref());
        let ok = |globs: &Option<GlobSet>, value: Option<&str>| match globs {
            None => true,
            Some(g) => value.is_some_and(|v| g.is_match(v)),
        };
        ok(&self.namespaces, namespace)
            && ok(&self.kinds, Some(&object.kind))
            && ok(&self.names, object.name())
    }
}
