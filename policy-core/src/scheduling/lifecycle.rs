//! The CKS node lifecycle, read from a Node's labels (CKS "Workload scheduling", "Node
//! lifecycle labels": <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>).
//!
//! `node.coreweave.cloud/state` is where the node is in its lifecycle (`production`, `zap`,
//! `triage`, or another value kept as written); `node.coreweave.cloud/reserved` says whose
//! workloads may run there (an Org ID, `control-plane`, or the state itself when not in
//! production); `node.coreweave.cloud/reserved-desired`, when present and different from
//! `reserved`, marks the node as pending a move between reservations.

use std::collections::BTreeMap;

/// Label holding the lifecycle state.
pub const STATE: &str = "node.coreweave.cloud/state";
/// Label holding the reservation.
pub const RESERVED: &str = "node.coreweave.cloud/reserved";
/// Label holding the desired reservation.
pub const RESERVED_DESIRED: &str = "node.coreweave.cloud/reserved-desired";
/// The reservation of CoreWeave's own control-plane nodes.
pub const CONTROL_PLANE: &str = "control-plane";
/// The state of nodes that take workloads.
pub const PRODUCTION: &str = "production";

/// A node's lifecycle labels, borrowed from its metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLifecycle<'a> {
    /// `node.coreweave.cloud/state`, as written.
    pub state: Option<&'a str>,
    /// `node.coreweave.cloud/reserved`, as written.
    pub reserved: Option<&'a str>,
    /// `node.coreweave.cloud/reserved-desired`, as written.
    pub reserved_desired: Option<&'a str>,
}

impl<'a> NodeLifecycle<'a> {
    /// Reads the lifecycle labels of a node.
    pub fn from_labels(labels: Option<&'a BTreeMap<String, String>>) -> Self {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
        NodeLifecycle {
            state: get(STATE),
            reserved: get(RESERVED),
            reserved_desired: get(RESERVED_DESIRED),
        }
    }

    /// True when the node carries any lifecycle label (a CKS node).
    pub fn is_managed(&self) -> bool {
        self.state.is_some() || self.reserved.is_some() || self.reserved_desired.is_some()
    }

    /// True in state `production`.
    pub fn is_production(&self) -> bool {
        self.state == Some(PRODUCTION)
    }

    /// True when `reserved-desired` is present and differs from `reserved`.
    pub fn is_pending(&self) -> bool {
        self.reserved_desired.is_some() && self.reserved_desired != self.reserved
    }

    /// True when reserved for CoreWeave's control plane.
    pub fn is_control_plane(&self) -> bool {
        self.reserved == Some(CONTROL_PLANE)
    }

    #[cfg(test)]
    /// Whether this org's workloads can run here: production, reserved for the org, not pending.
    pub fn can_run(&self, org_id: &str) -> bool {
        self.is_production() && self.reserved == Some(org_id) && !self.is_pending()
    }

    /// Why this org's workloads cannot run here, or `None` when they can.
    pub fn why_not(&self, org_id: &str) -> Option<String> {
        if !self.is_production() {
            return Some(match self.state {
                Some(s) => format!("node is in lifecycle state `{s}`, not `production`"),
                None => format!("node has no `{STATE}` label, so it is not in `production`"),
            });
        }
        if self.is_pending() {
            return Some(format!(
                "node is pending: `{RESERVED_DESIRED}` is `{}` but `{RESERVED}` is `{}`",
                self.reserved_desired.unwrap_or(""),
                self.reserved.unwrap_or("")
            ));
        }
        match self.reserved {
            Some(r) if r == org_id => None,
            Some(r) => Some(format!(
                "node is reserved for `{r}`, not for org `{org_id}`"
            )),
            None => Some(format!("node has no `{RESERVED}` label")),
        }
    }

    /// Contradictions with the model: not production but reserved ≠ state; production but
    /// reserved empty or missing. Empty when consistent or when the node is not a CKS node.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(state) = self.state else {
            return out;
        };
        if state == PRODUCTION {
            if self.reserved.is_none_or(str::is_empty) {
                out.push(format!(
                    "node is in state `production` but `{RESERVED}` is {}; a production node is reserved for an Org ID or `control-plane`",
                    if self.reserved.is_some() { "empty" } else { "missing" }
                ));
            }
        } else if self.reserved != Some(state) {
            out.push(format!(
                "node is in state `{state}` but `{RESERVED}` is {}; when a node is not in production its reservation equals its state (`{state}`)",
                match self.reserved {
                    Some(r) => format!("`{r}`"),
                    None => String::from("missing"),
                }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn lifecycle_table() {
        let prod = labels(&[(STATE, "production"), (RESERVED, "acme")]);
        let l = NodeLifecycle::from_labels(Some(&prod));
        assert!(l.can_run("acme") && !l.can_run("other") && l.inconsistencies().is_empty());

        let pending = labels(&[
            (STATE, "production"),
            (RESERVED, "acme"),
            (RESERVED_DESIRED, CONTROL_PLANE),
        ]);
        let l = NodeLifecycle::from_labels(Some(&pending));
        assert!(l.is_pending() && !l.can_run("acme"));
        assert!(l.why_not("acme").unwrap().contains("pending"));

        let same = labels(&[
            (STATE, "production"),
            (RESERVED, "acme"),
            (RESERVED_DESIRED, "acme"),
        ]);
        assert!(!NodeLifecycle::from_labels(Some(&same)).is_pending());

        let triage = labels(&[(STATE, "triage"), (RESERVED, "triage")]);
        let l = NodeLifecycle::from_labels(Some(&triage));
        assert!(!l.can_run("triage") && l.inconsistencies().is_empty());

        let bad = labels(&[(STATE, "zap"), (RESERVED, "acme")]);
        assert_eq!(
            NodeLifecycle::from_labels(Some(&bad))
                .inconsistencies()
                .len(),
            1
        );

        let empty_reserved = labels(&[(STATE, "production"), (RESERVED, "")]);
        assert_eq!(
            NodeLifecycle::from_labels(Some(&empty_reserved))
                .inconsistencies()
                .len(),
            1
        );
        let missing = labels(&[(STATE, "production")]);
        assert_eq!(
            NodeLifecycle::from_labels(Some(&missing))
                .inconsistencies()
                .len(),
            1
        );

        let plain = labels(&[("team", "x")]);
        let l = NodeLifecycle::from_labels(Some(&plain));
        assert!(!l.is_managed() && l.inconsistencies().is_empty());
        assert!(NodeLifecycle::from_labels(None)
            .inconsistencies()
            .is_empty());
    }
}
