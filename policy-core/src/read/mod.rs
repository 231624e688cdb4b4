//! Reading: bytes → syntax trees, the first stage. Text is split and parsed as kubectl parses
//! it (YAML 1.1 scalars, merge keys, last-wins duplicates; JSON with positions), and JSON
//! pointers name places in what was read. Nothing here knows a Kubernetes kind or a setting.

#[cfg(feature = "fast-yaml")]
mod block;
pub(crate) mod bytes;
pub(crate) mod json;
pub(crate) mod json_position;
pub(crate) mod limits;
pub(crate) mod locate;
pub(crate) mod pointer;
pub(crate) mod resolve;
pub(crate) mod tree;
#[cfg(feature = "yaml")]
pub(crate) mod yaml;

/// A key written twice in one mapping: byte offsets of both keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// The first key.
    pub first: u32,
    /// The key whose value is kept.
    pub second: u32,
}

/// Why a document could not be read, at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub offset: u32,
}
