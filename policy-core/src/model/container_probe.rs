//! The container probe: finds the `containers` lists in an object of a kind the pod-template
//! table ([`crate::model::templates`]) does not list, for the rule `pod-template-unknown`
//! (`judge/rules/pod_template_unknown.rs`), since no pod rule judged those containers.
//!
//! The reader ([`crate::model::object`]) skips what the table does not name without building it; for a
//! custom resource it skips through [`Seed`] instead, which walks the same events, allocates
//! nothing until it finds a `containers` list, and records the JSON Pointer of each (the first
//! [`MAX_POINTERS`]). The rule then names them and the settings `templates` entry that would
//! have every pod rule judge them.
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - A `containers` list is an array with at least one map that has an `image` or a `name` key
//!   (a `core/v1` `Container` requires `name`; `image` is what the image rules read). A
//!   `containers` map (an OpenAPI schema's `properties.containers`) is walked like any other map.
//! - Only custom resources are probed: an API group with a dot (a CRD's group must have one)
//!   that is not one of Kubernetes' own (`networking.k8s.io`, `apiextensions.k8s.io`, …). The
//!   built-in kinds that hold pods are in the table, and the others (`ControllerRevision`,
//!   CRD schemas, ConfigMaps) hold no pods to judge, so ordinary objects cost nothing more.
//! - A kind the table or settings `templates` list is never probed, even where a `containers`
//!   list sits outside its locations.
//! - The walk stops descending at [`MAX_DEPTH`] tokens below the root; inside a found list's
//!   items it only looks at their keys.
//! - The suggestion turns array indices into `*` and names the map holding `containers`: as a
//!   `podTemplates` entry when that map is a `spec` (below a template with `metadata`), else as
//!   a `podSpecs` entry.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::object::Key;
use crate::model::templates::api_group;
use crate::read::pointer;

/// Deepest token a probe descends to (a Kubeflow Trainer runtime's containers sit at 10).
pub const MAX_DEPTH: usize = 24;
/// Pointers kept per object; the rest are only counted.
pub const MAX_POINTERS: usize = 8;

/// The `containers` lists found in an object of a kind the table does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerLists {
    /// Pointers of the first [`MAX_POINTERS`] lists, in document order.
    pub pointers: Vec<String>,
    /// How many lists were found in all.
    pub total: usize,
}

impl ContainerLists {
    fn record(&mut self, frame: &Frame<'_>) {
        self.total += 1;
        if self.pointers.len() < MAX_POINTERS {
            self.pointers.push(frame.pointer());
        }
    }
}

/// The API groups Kubernetes itself serves whose names have a dot (the others, `""`, `apps`,
/// `batch`, `autoscaling`, `policy`, `extensions`, have none), as the Kubernetes API reference
/// lists them (<https://kubernetes.io/docs/reference/generated/kubernetes-api/v1.33/>).
const BUILT_IN_GROUPS: &[&str] = &[
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Whether objects of `api_version` are probed: custom resources only, whose group has a dot
/// (a CRD's group must) and is not one of Kubernetes' own (see the module documentation).
pub(crate) fn probes(api_version: &str) -> bool {
    let group = api_group(api_version);
    group.contains('.') && !BUILT_IN_GROUPS.contains(&group)
}

/// One reference token of the walk, on the stack.
enum Token<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

struct Frame<'a> {
    parent: Option<&'a Frame<'a>>,
    token: Token<'a>,
    depth: usize,
}

impl<'a> Frame<'a> {
    fn child(&'a self, token: Token<'a>) -> Frame<'a> {
        Frame {
            parent: Some(self),
            token,
            depth: self.depth + 1,
        }
    }

    /// The pointer from the root to this frame (allocates: only called on a find).
    fn pointer(&self) -> String {
        let mut chain = Vec::with_capacity(self.depth);
        let mut f = Some(self);
        while let Some(frame) = f {
            chain.push(&frame.token);
            f = frame.parent;
        }
        let mut p = String::new();
        for t in chain.into_iter().rev() {
            match t {
                Token::Root => {}
                Token::Key(k) => pointer::push(&mut p, k),
                Token::Index(i) => pointer::push_index(&mut p, *i),
            }
        }
        p
    }
}

/// Skips one value of a custom resource's top-level `key`, recording the `containers` lists in
/// it.
pub(crate) struct Seed<'k, 'o> {
    /// The top-level key whose value this is.
    pub key: &'k str,
    /// Where found lists go.
    pub out: &'o mut ContainerLists,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let root = Frame {
            parent: None,
            token: Token::Root,
            depth: 0,
        };
        let frame = root.child(Token::Key(self.key));
        let mode = if self.key == "containers" {
            Mode::List
        } else {
            Mode::Walk
        };
        Node {
            frame: &frame,
            out: self.out,
            mode,
        }
        .deserialize(d)
        .map(|_| ())
    }
}

/// What a [`Node`] is looking at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Any value: walked for `containers` lists.
    Walk,
    /// The value of a `containers` key: a list of containers, or walked like any value.
    List,
    /// An item of a `containers` list: is it a map with `image` or `name`?
    Item,
}

/// One value at `frame`. A single visitor type for every mode, so the JSON reader is
/// instantiated once for the probe (each visitor type carries its own copy of the parser,
/// which matters for the size of the wasm builds).
struct Node<'f, 'o> {
    frame: &'f Frame<'f>,
    out: &'o mut ContainerLists,
    mode: Mode,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    /// For [`Mode::Item`]: whether the item is a container; `false` otherwise.
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        if self.frame.depth > MAX_DEPTH {
            IgnoredAny::deserialize(d)?;
            return Ok(false);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut container = false;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            if self.mode == Mode::Item {
                container |= key == "image" || key == "name";
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let frame = self.frame.child(Token::Key(&key));
            map.next_value_seed(Node {
                frame: &frame,
                out: &mut *self.out,
                mode: if key == "containers" {
                    Mode::List
                } else {
                    Mode::Walk
                },
            })?;
        }
        Ok(container)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        match self.mode {
            Mode::Item => while seq.next_element::<IgnoredAny>()?.is_some() {},
            Mode::List => {
                let mut holds_container = false;
                loop {
                    let item = Node {
                        frame: self.frame,
                        out: &mut *self.out,
                        mode: Mode::Item,
                    };
                    match seq.next_element_seed(item)? {
                        Some(c) => holds_container |= c,
                        None => break,
                    }
                }
                if holds_container {
                    self.out.record(self.frame);
                }
            }
            Mode::Walk => {
                let mut i = 0;
                loop {
                    let frame = self.frame.child(Token::Index(i));
                    let node = Node {
                        frame: &frame,
                        out: &mut *self.out,
                        mode: Mode::Walk,
                    };
                    if seq.next_element_seed(node)?.is_none() {
                        break;
                    }
                    i += 1;
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(json: &str) -> ContainerLists {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut out = ContainerLists::default();
        for (k, value) in v.as_object().unwrap() {
            // Over text and over a parsed value (the two inputs of the reader), the same answer.
            let mut from_text = ContainerLists::default();
            let text = serde_json::to_vec(value).unwrap();
            let mut de = serde_json::Deserializer::from_slice(&text);
            Seed {
                key: k,
                out: &mut from_text,
            }
            .deserialize(&mut de)
            .unwrap();
            let mut from_value = ContainerLists::default();
            Seed {
                key: k,
                out: &mut from_value,
            }
            .deserialize(value)
            .unwrap();
            assert_eq!(from_text, from_value, "{json}");
            out.total += from_text.total;
            out.pointers.extend(from_text.pointers);
        }
        out
    }

    #[test]
    fn finds_container_lists() {
        let cases: &[(&str, &[&str])] = &[
            (
                r#"{"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}"#,
                &["/spec/template/spec/containers"],
            ),
            (
                r#"{"spec": {"workers": [{"containers": [{"image": "x"}]}, {"containers": [{"name": "b"}]}]}}"#,
                &["/spec/workers/0/containers", "/spec/workers/1/containers"],
            ),
            (r#"{"containers": [{"name": "top"}]}"#, &["/containers"]),
            // Escaped tokens.
            (
                r#"{"spec": {"a/b": {"containers": [{"name": "c"}]}}}"#,
                &["/spec/a~1b/containers"],
            ),
            // Not containers: strings, empty lists, maps without name/image, a schema's map.
            (r#"{"spec": {"containers": ["a", "b"]}}"#, &[]),
            (r#"{"spec": {"containers": []}}"#, &[]),
            (r#"{"spec": {"containers": [{"command": ["x"]}]}}"#, &[]),
            (
                r#"{"spec": {"properties": {"containers": {"type": "array", "items": {"properties": {"name": {}}}}}}}"#,
                &[],
            ),
            (r#"{"data": {"containers": "[{name: a}]"}}"#, &[]),
        ];
        for (json, want) in cases {
            let got = probe(json);
            assert_eq!(got.pointers, *want, "{json}");
            assert_eq!(got.total, want.len(), "{json}");
        }
    }

    #[test]
    fn keeps_the_first_pointers_and_counts_the_rest() {
        let items: Vec<String> = (0..12)
            .map(|_| r#"{"containers": [{"name": "a"}]}"#.to_owned())
            .collect();
        let got = probe(&format!(r#"{{"spec": {{"w": [{}]}}}}"#, items.join(",")));
        assert_eq!(got.total, 12);
        assert_eq!(got.pointers.len(), MAX_POINTERS);
        assert_eq!(got.pointers[7], "/spec/w/7/containers");
    }

    #[test]
    fn stops_at_max_depth() {
        let mut deep = String::from(r#"{"containers": [{"name": "a"}]}"#);
        for _ in 0..MAX_DEPTH {
            deep = format!(r#"{{"x": {deep}}}"#);
        }
        // The list sits at depth MAX_DEPTH + 2 below `spec`: not looked at.
        assert_eq!(probe(&format!(r#"{{"spec": {deep}}}"#)).total, 0);
        let mut shallow = String::from(r#"{"containers": [{"name": "a"}]}"#);
        for _ in 0..MAX_DEPTH - 3 {
            shallow = format!(r#"{{"x": {shallow}}}"#);
        }
        assert_eq!(probe(&format!(r#"{{"spec": {shallow}}}"#)).total, 1);
    }

    #[test]
    fn probes_custom_resources_only() {
        for av in [
            "v1",
            "apps/v1",
            "batch/v1beta1",
            "apiextensions.k8s.io/v1",
            "networking.k8s.io/v1",
            "resource.k8s.io/v1beta1",
        ] {
            assert!(!probes(av), "{av}");
        }
        for av in [
            "argoproj.io/v1alpha1",
            "jobset.x-k8s.io/v1alpha2",
            "sparkoperator.k8s.io/v1beta2",
            "gateway.networking.k8s.io/v1",
            "example.com/v1",
        ] {
            assert!(probes(av), "{av}");
        }
    }
}
