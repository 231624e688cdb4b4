//! The input limits every read is held to: sizes, nesting and YAML aliases.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Input limits; the defaults are safe for an admission webhook. Each limit has a ceiling: a
/// value above it is a settings problem, so no settings can make a read allocate without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Largest accepted input in bytes (whole text or request), at least 1 and at most 16 MiB.
    /// It also bounds the text the YAML aliases of one input may copy, and the text its
    /// anchors may copy.
    #[schemars(range(min = 1, max = 16_777_216))]
    pub max_bytes: usize,
    /// Deepest accepted nesting of maps and lists (1 to 128, the default), wherever it is in
    /// the document, JSON or YAML alike.
    #[schemars(range(min = 1, max = 128))]
    pub max_depth: usize,
    /// Most YAML alias uses (`*name`) accepted in one document, at most 10,000.
    #[schemars(range(max = 10_000))]
    pub max_aliases: usize,
    /// Most nodes the YAML aliases of one document may produce when expanded (at most
    /// 1,000,000), counted before anything is copied: a "billion laughs" document is refused,
    /// not expanded. The aliases of all documents of one input together may produce at most
    /// this many nodes or one per byte of the input, whichever is more, and so may the copies
    /// its anchors keep.
    #[schemars(range(max = 1_000_000))]
    pub max_alias_nodes: usize,
}

/// The ceiling of `limits.maxBytes`: 16 MiB, four times the default. Reading a document can
/// take tens of times its size in memory (a flow list of one-character scalars is the worst
/// case), so a larger input is split into files; the API server refuses requests above 3 MiB.
pub const MAX_BYTES_CEILING: usize = 16 * 1024 * 1024;
/// The ceiling of `limits.maxDepth`: 128, the nesting serde_json and the API server's decoder
/// follow.
pub const MAX_DEPTH_CEILING: usize = 128;
/// The ceiling of `limits.maxAliases`: 10,000 alias uses in one document.
pub const MAX_ALIASES_CEILING: usize = 10_000;
/// The ceiling of `limits.maxAliasNodes`: 1,000,000 nodes (under 100 MB of expanded tree).
pub const MAX_ALIAS_NODES_CEILING: usize = 1_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 128,
            max_aliases: 100,
            max_alias_nodes: 100_000,
        }
    }
}
