//! The `cks-policy rules` table.

/// The rule table: id, default severity (or `off`), what it judges (change or state), whether
/// `cks-policy vap` emits it as a native policy, kind, description; then the native notes.
pub fn rules_table() -> String {
    let rules: Vec<_> = policy_core::rules_with_native().collect();
    let w = rules.iter().map(|(r, _)| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (r, native) in &rules {
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
            "{:<w$}  {:<7}  {:<6}  {:<9}  {}{}\n",
            r.id,
            sev,
            judges,
            if native.expressible {
                "native"
            } else {
                "webhook"
            },
            r.description,
            kind
        ));
    }
    out.push_str("\nNative policies (`cks-policy vap`):\n");
    for (r, n) in &rules {
        out.push_str(&format!(
            "{:<w$}  {}  {}\n",
            r.id,
            if n.expressible { "yes" } else { "no " },
            n.note
        ));
    }
    out
}

/// The catalogue as JSON, each rule with a `native` field: `{expressible, note}`.
pub fn rules_json() -> String {
    let rules: Vec<serde_json::Value> = policy_core::rules_with_native()
        .map(|(r, native)| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    String::from("native"),
                    serde_json::to_value(native).unwrap_or_default(),
                );
            }
            v
        })
        .collect();
    serde_json::to_string(&rules).unwrap_or_default()
}
