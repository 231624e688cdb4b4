//! The `cks-policy rules` table.

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
            policy_core::RuleKind::Validate => "",
            policy_core::RuleKind::Mutate => " (mutation)",
            policy_core::RuleKind::Both => " (+mutation)",
        };
        let judges = match r.judges {
            policy_core::Judges::Change => "change",
            policy_core::Judges::State => "state",
        };
        out.push_str(&format!(
            "{:<w$}  {:<7}  {:<6}  {}{}\n",
            r.id, sev, judges, r.description, kind
        ));
    }
    out
}
