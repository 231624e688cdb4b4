//! Every finding gets the line of its field, however many findings one object has (issue 18:
//! lines were found once per finding, quadratic in their number). The inputs are generated: a
//! Pod with n CoreWeave-domain labels and a Pod with n `nginx:latest` containers, as YAML, as
//! indented JSON and as one line of JSON; the generator records the line of every field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;

use policy_core::{check, Context, Policy};

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Yaml,
    Json,
    JsonOneLine,
}

/// A value to write: a mapping, a sequence or a string.
enum V {
    Map(Vec<(String, V)>),
    Seq(Vec<V>),
    Str(String),
}

fn s(v: &str) -> V {
    V::Str(v.to_owned())
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A member or item to write: its pointer, its key (none for an item) and its value.
type Entry<'v> = (String, Option<&'v str>, &'v V);

/// Text being written, with the 1-based line of every field's pointer.
struct Out {
    text: String,
    line: u32,
    lines: HashMap<String, u32>,
}

impl Out {
    fn newline(&mut self) {
        self.text.push('\n');
        self.line += 1;
    }

    fn yaml(&mut self, v: &V, path: &str, indent: usize) {
        match v {
            V::Map(m) => {
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.text.push_str(&" ".repeat(indent));
                    }
                    let p = format!("{path}/{}", escape(k));
                    self.lines.insert(p.clone(), self.line);
                    self.text.push_str(k);
                    self.text.push(':');
                    match x {
                        V::Str(v) => {
                            self.text.push(' ');
                            self.text.push_str(v);
                            self.newline();
                        }
                        _ => {
                            self.newline();
                            self.text.push_str(&" ".repeat(indent + 2));
                            self.yaml(x, &p, indent + 2);
                        }
                    }
                }
            }
            V::Seq(items) => {
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        self.text.push_str(&" ".repeat(indent));
                    }
                    let p = format!("{path}/{i}");
                    self.lines.insert(p.clone(), self.line);
                    self.text.push_str("- ");
                    self.yaml(x, &p, indent + 2);
                }
            }
            V::Str(v) => {
                self.text.push_str(v);
                self.newline();
            }
        }
    }

    fn json(&mut self, v: &V, path: &str, indent: Option<usize>) {
        let (open, close, items): (char, char, Vec<Entry<'_>>) = match v {
            V::Str(x) => {
                self.text.push_str(&serde_json::to_string(x).unwrap());
                return;
            }
            V::Map(m) => (
                '{',
                '}',
                m.iter()
                    .map(|(k, x)| (format!("{path}/{}", escape(k)), Some(k.as_str()), x))
                    .collect(),
            ),
            V::Seq(xs) => (
                '[',
                ']',
                xs.iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{path}/{i}"), None, x))
                    .collect(),
            ),
        };
        self.text.push(open);
        for (i, (p, key, x)) in items.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            if let Some(n) = indent {
                self.newline();
                self.text.push_str(&" ".repeat(n + 2));
            }
            self.lines.insert(p.clone(), self.line);
            if let Some(k) = key {
                self.text.push_str(&serde_json::to_string(k).unwrap());
                self.text.push_str(": ");
            }
            self.json(x, p, indent.map(|n| n + 2));
        }
        if let Some(n) = indent {
            self.newline();
            self.text.push_str(&" ".repeat(n));
        }
        self.text.push(close);
    }
}

fn write(v: &V, format: Format) -> Out {
    let mut out = Out {
        text: String::new(),
        line: 1,
        lines: HashMap::new(),
    };
    match format {
        Format::Yaml => out.yaml(v, "", 0),
        Format::Json => out.json(v, "", Some(0)),
        Format::JsonOneLine => out.json(v, "", None),
    }
    out
}

fn pod(labels: Vec<(String, V)>, containers: Vec<V>) -> V {
    let mut metadata = vec![("name".into(), s("p")), ("namespace".into(), s("default"))];
    if !labels.is_empty() {
        metadata.push(("labels".into(), V::Map(labels)));
    }
    V::Map(vec![
        ("apiVersion".into(), s("v1")),
        ("kind".into(), s("Pod")),
        ("metadata".into(), V::Map(metadata)),
        (
            "spec".into(),
            V::Map(vec![("containers".into(), V::Seq(containers))]),
        ),
    ])
}

fn container(name: &str, image: &str) -> V {
    V::Map(vec![("name".into(), s(name)), ("image".into(), s(image))])
}

fn labelled(n: usize) -> V {
    let labels = (0..n)
        .map(|i| (format!("foo.coreweave.cloud/k-{i}"), s("v")))
        .collect();
    let digest = format!("registry.example/app@sha256:{}", "a".repeat(64));
    pod(labels, vec![container("c", &digest)])
}

fn containers(n: usize) -> V {
    let cs = (0..n)
        .map(|i| container(&format!("c{i}"), "nginx:latest"))
        .collect();
    pod(Vec::new(), cs)
}

/// Checks the text and asserts every finding has the line of its field (or of its deepest
/// written ancestor, for a field a fix would add); returns how many findings are at `leaf`
/// paths, one per label or container.
fn assert_lines(v: &V, format: Format, leaf: impl Fn(&str) -> bool) -> usize {
    let out = write(v, format);
    let report = check(
        &Policy::default(),
        None,
        out.text.as_bytes(),
        &Context::default(),
    );
    assert_eq!(report.results.len(), 1);
    let mut at_leaves = 0;
    for f in report.results[0].findings() {
        let mut p = f.path();
        let want = loop {
            if p.is_empty() {
                break 1;
            }
            if let Some(l) = out.lines.get(p) {
                break *l;
            }
            p = &p[..p.rfind('/').unwrap()];
        };
        assert_eq!(f.line(), Some(want), "{} at {}", f.rule(), f.path());
        at_leaves += usize::from(leaf(f.path()) && out.lines.contains_key(f.path()));
    }
    at_leaves
}

fn every_format(v: &V, n: usize, leaf: impl Fn(&str) -> bool + Copy) {
    for format in [Format::Yaml, Format::Json, Format::JsonOneLine] {
        let found = assert_lines(v, format, leaf);
        assert!(found >= n, "{found} findings at the {n} fields");
    }
}

#[test]
fn the_generator_writes_what_it_records() {
    let v = containers(2);
    let y = write(&v, Format::Yaml);
    assert_eq!(y.lines["/spec/containers/1/image"], 11);
    assert!(y
        .text
        .lines()
        .nth(10)
        .unwrap()
        .contains("image: nginx:latest"));
    let parsed: serde_json::Value = policy_core::yaml::parse_documents(&y.text, 0)
        .pop()
        .unwrap()
        .unwrap();
    assert_eq!(parsed["spec"]["containers"][1]["name"], "c1");
    let j = write(&v, Format::Json);
    let line = j.lines["/spec/containers/1/image"] as usize;
    assert!(j.text.lines().nth(line - 1).unwrap().contains("\"image\""));
    let json: serde_json::Value = serde_json::from_str(&j.text).unwrap();
    assert_eq!(json, parsed);
    let one: serde_json::Value =
        serde_json::from_str(&write(&v, Format::JsonOneLine).text).unwrap();
    assert_eq!(one, parsed);
    let l = write(&labelled(3), Format::Yaml);
    assert_eq!(l.lines["/metadata/labels/foo.coreweave.cloud~1k-2"], 9);
}

#[test]
fn ten_thousand_labels_each_on_its_line() {
    every_format(&labelled(10_000), 10_000, |p| {
        p.starts_with("/metadata/labels/")
    });
}

#[test]
fn forty_thousand_labels_each_on_its_line() {
    every_format(&labelled(40_000), 40_000, |p| {
        p.starts_with("/metadata/labels/")
    });
}

#[test]
fn ten_thousand_containers_each_on_its_line() {
    every_format(&containers(10_000), 10_000, |p| p.ends_with("/image"));
}

#[test]
fn forty_thousand_containers_each_on_its_line() {
    every_format(&containers(40_000), 40_000, |p| p.ends_with("/image"));
}
