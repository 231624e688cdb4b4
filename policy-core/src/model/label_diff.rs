//! How the CoreWeave-domain labels of an object differ from its previous version: the shared
//! diff behind the node, NodePool and namespace label rules.

use std::collections::BTreeMap;

use crate::model::label_syntax::{is_coreweave_key, show};

/// How a CoreWeave-domain key differs between the old and the new object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change<'a> {
    /// Present now, absent before (or no old object).
    Added { key: &'a str, value: &'a str },
    /// Present in both with different values.
    Changed {
        key: &'a str,
        old: &'a str,
        new: &'a str,
    },
    /// Present before, absent now.
    Removed { key: &'a str, old: &'a str },
}

impl Change<'_> {
    pub(crate) fn key(&self) -> &str {
        match self {
            Change::Added { key, .. }
            | Change::Changed { key, .. }
            | Change::Removed { key, .. } => key,
        }
    }

    /// The end of a message sentence: what happened to the key and what to do.
    pub(crate) fn describe(&self) -> String {
        match self {
            Change::Added { .. } => String::from(
                "is in a CoreWeave-reserved domain (`*.coreweave.cloud`, `*.coreweave.com`), which CKS rejects; use a domain of your own",
            ),
            Change::Changed { old, new, .. } => format!(
                "is in a CoreWeave-reserved domain and would change from `{}` to `{}`, which only CKS may do; leave it as it was",
                show(old),
                show(new)
            ),
            Change::Removed { old, .. } => format!(
                "is in a CoreWeave-reserved domain and would be removed (it was `{}`), which only CKS may do; keep it",
                show(old)
            ),
        }
    }
}

/// The CoreWeave-domain keys added, changed or removed from `old` to `new`, new keys in map
/// order first, then removed keys. With no `old`, every CoreWeave-domain key is added.
pub(crate) fn coreweave_label_changes<'a>(
    new: Option<&'a BTreeMap<String, String>>,
    old: Option<&'a BTreeMap<String, String>>,
) -> Vec<Change<'a>> {
    let mut out = Vec::new();
    for (k, v) in new.into_iter().flatten() {
        if !is_coreweave_key(k) {
            continue;
        }
        match old.and_then(|o| o.get(k)) {
            None => out.push(Change::Added { key: k, value: v }),
            Some(o) if o != v => out.push(Change::Changed {
                key: k,
                old: o,
                new: v,
            }),
            Some(_) => {}
        }
    }
    for (k, v) in old.into_iter().flatten() {
        if is_coreweave_key(k) && !new.is_some_and(|n| n.contains_key(k)) {
            out.push(Change::Removed { key: k, old: v });
        }
    }
    out
}
