//! `pod-template-unknown`: an object of a kind the pod-template table does not list holds a
//! `containers` list, so no pod rule judged those containers. The lists are found while the
//! object is read (`model/container_probe.rs`); this rule names them and the settings
//! `templates` entry that would have every pod rule judge them.

use std::borrow::Cow;

use crate::judge::eval::{Input, Out};

/// The settings `templates` pattern that would judge the containers at `list` (a pointer ending
/// in `/containers`): `(field, pattern)`; `None` for a list at the root, which settings cannot
/// name.
fn suggestion(list: &str) -> Option<(&'static str, String)> {
    let tokens: Vec<Cow<'_, str>> = list
        .split('/')
        .skip(1)
        .map(|t| {
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                Cow::Borrowed("*")
            } else {
                Cow::Borrowed(t)
            }
        })
        .collect();
    // Drop `containers`; what holds it is the pod spec.
    let spec = &tokens[..tokens.len().saturating_sub(1)];
    match spec.split_last() {
        None => None,
        Some((last, template)) if last == "spec" && !template.is_empty() => {
            Some(("podTemplates", format!("/{}", template.join("/"))))
        }
        Some(_) => Some(("podSpecs", format!("/{}", spec.join("/")))),
    }
}

/// `s` as a JSON string (which is also YAML): quotes, backslashes and control characters
/// escaped.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// `pod-template-unknown` (info): one finding per object whose kind the table does not know
/// and that holds `containers` lists (see the module documentation), at the first list.
pub fn check(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let found = &obj.unjudged_containers;
    let Some(first) = found.pointers.first() else {
        return;
    };
    let group = obj.group();
    let mut templates: Vec<String> = Vec::new();
    let mut specs: Vec<String> = Vec::new();
    for p in &found.pointers {
        let Some((field, pattern)) = suggestion(p) else {
            continue;
        };
        let list = if field == "podTemplates" {
            &mut templates
        } else {
            &mut specs
        };
        if !list.contains(&pattern) {
            list.push(pattern);
        }
    }
    let mut pointers = found
        .pointers
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if found.total > found.pointers.len() {
        pointers.push_str(&format!(" and {} more", found.total - found.pointers.len()));
    }
    let fix = (!templates.is_empty() || !specs.is_empty()).then(|| {
        // Written by hand, not through `serde_json::json!`: the entry is a few strings, and
        // printing a `Value` would add a JSON serializer to the wasm builds.
        let mut entry = format!(
            "{{\"apiGroup\": {}, \"kind\": {}",
            quote(group),
            quote(&obj.kind)
        );
        for (field, list) in [("podTemplates", &templates), ("podSpecs", &specs)] {
            if !list.is_empty() {
                let items: Vec<String> = list.iter().map(|p| quote(p)).collect();
                entry.push_str(&format!(", \"{field}\": [{}]", items.join(", ")));
            }
        }
        format!("add to settings `templates`: {entry}}}")
    });
    let message = format!(
        "`{}` {} has no pod-template location, so no rule judged the containers at {pointers}; declare where its pods are in settings `templates` and every pod rule judges them",
        obj.api_version, obj.kind
    );
    out.report(first.clone(), message, fix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_json() {
        for s in [
            "/spec/a~1b",
            "say \"hi\"",
            "back\\slash",
            "tab\there",
            "ünï",
        ] {
            let q = quote(s);
            assert_eq!(serde_json::from_str::<String>(&q).unwrap(), s, "{q}");
        }
    }

    #[test]
    fn suggests_the_settings_entry() {
        let cases = [
            (
                "/spec/template/spec/containers",
                Some(("podTemplates", "/spec/template")),
            ),
            (
                "/spec/workers/3/template/spec/containers",
                Some(("podTemplates", "/spec/workers/*/template")),
            ),
            (
                "/spec/runner/containers",
                Some(("podSpecs", "/spec/runner")),
            ),
            ("/spec/containers", Some(("podSpecs", "/spec"))),
            ("/spec/a~1b/containers", Some(("podSpecs", "/spec/a~1b"))),
            ("/containers", None),
        ];
        for (list, want) in cases {
            let got = suggestion(list);
            assert_eq!(got.as_ref().map(|(f, p)| (*f, p.as_str())), want, "{list}");
        }
    }
}
