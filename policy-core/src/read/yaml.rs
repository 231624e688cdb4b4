//! YAML text to [`Node`] trees in one pass over yaml-rust2's events, the way kubectl reads it:
//! YAML 1.1 scalars ([`super::resolve`]), merge keys `<<` applied as go-yaml v2 applies them,
//! duplicate keys kept last-wins and reported, and aliases charged against a node budget before
//! anything is copied.
//!
//! yaml-rust2 (already in the tree) is used rather than its successor saphyr: both are pure
//! Rust event parsers from the same lineage, yaml-rust2 is maintained, and keeping it avoids a
//! second YAML crate in the wasm builds.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::resolve::{self, Scalar};
use super::tree::{find, push, Member, Node, Style, Val};
use super::{Duplicate, ReadError};

/// Nodes the anchors and aliases of one input may copy per byte of the input, when that is
/// more than `limits.maxAliasNodes`: copying a node costs about what reading a byte does, so
/// the aliases of any input cost at most about as much again as reading it (README, "Limits").
pub(crate) const ALIAS_NODES_PER_BYTE: usize = 1;

/// The budgets a read enforces: per document, and what all documents of one input may copy
/// together. One budget is used for every chunk of an input, so the second part is spent
/// across them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Deepest nesting of maps and lists.
    pub max_depth: usize,
    /// Most alias uses (`*name`) in one document.
    pub max_aliases: usize,
    /// Most nodes all alias uses of one document may produce.
    pub max_alias_nodes: usize,
    /// Most nodes the aliases of the whole input may produce, and most nodes its anchors may
    /// keep copies of (each its own count).
    pub input_nodes: usize,
    /// Most bytes of text (strings and keys) the aliases may copy, and the anchors
    /// (`limits.maxBytes`, each its own count).
    pub input_text: usize,
    /// Nodes and bytes of text copied so far in this input, for anchors and for aliases.
    spent: [(usize, usize); 2],
}

/// What a copy is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyFor {
    /// An anchor keeps a copy of its node for the aliases to come.
    Anchor,
    /// An alias expands to a copy of its anchor's node.
    Alias,
}

impl Budget {
    /// The budget of one input of `len` bytes read under `l`: at most `maxAliasNodes` alias
    /// nodes per document, and at most that or [`ALIAS_NODES_PER_BYTE`] per byte of the input
    /// (whichever is more) produced by all aliases of the input together, and as many kept by
    /// its anchors (each its own count).
    pub fn for_input(l: &crate::read::limits::Limits, len: usize) -> Self {
        Budget {
            max_depth: l.max_depth,
            max_aliases: l.max_aliases,
            max_alias_nodes: l.max_alias_nodes,
            input_nodes: l
                .max_alias_nodes
                .max(len.saturating_mul(ALIAS_NODES_PER_BYTE)),
            input_text: l.max_bytes,
            spent: [(0, 0); 2],
        }
    }

    /// The default limits for text read outside a policy (settings, `--fix` read-back).
    pub fn default_for(len: usize) -> Self {
        Budget::for_input(&crate::read::limits::Limits::default(), len)
    }

    /// Charges a copy of `nodes` nodes holding `text` bytes of text to the input's budget,
    /// before it is made.
    fn charge(&mut self, copy: CopyFor, (nodes, text): (usize, usize)) -> Result<(), String> {
        let (i, what) = match copy {
            CopyFor::Anchor => (0, "anchors of this input hold"),
            CopyFor::Alias => (1, "aliases of this input expand to"),
        };
        let spent = self.spent[i].0.saturating_add(nodes);
        if spent > self.input_nodes {
            return Err(format!(
                "the YAML {what} more than {} nodes in all (`limits.maxAliasNodes`, or {ALIAS_NODES_PER_BYTE} per byte of input when that is more)",
                self.input_nodes
            ));
        }
        let spent_text = self.spent[i].1.saturating_add(text);
        if spent_text > self.input_text {
            return Err(format!(
                "the YAML {what} more than {} bytes of text in all (`limits.maxBytes`)",
                self.input_text
            ));
        }
        self.spent[i] = (spent, spent_text);
        Ok(())
    }
}

/// One YAML document read.
#[derive(Debug)]
pub(crate) struct YamlDoc {
    /// The document's root.
    pub root: Node,
    /// Keys that appear twice in one mapping.
    pub duplicates: Vec<Duplicate>,
}

/// Reads every document of `text` (one kubectl chunk, starting at byte `base` of the input).
/// After a syntax error nothing more of the chunk can be read, so it is the last entry.
///
/// yaml-rust2 refuses a multi-line quoted scalar whose continuation lines are indented less
/// than the block around it ("invalid indentation in quoted scalar"); libyaml, and so go-yaml
/// and kubectl, accept it (Argo's `examples/secrets.yaml` is written that way). Line folding
/// drops a continuation line's leading spaces, so the chunk is read again with those lines
/// indented further: the value is the same, and offsets are mapped back to the text as given.
///
/// What the chunk's anchors and aliases copy is charged to `budget`, which the caller keeps
/// for the next chunk of the same input.
pub(crate) fn read(text: &str, base: u32, budget: &mut Budget) -> Vec<Result<YamlDoc, ReadError>> {
    let (docs, spent) = read_spending(text, base, *budget);
    *budget = spent;
    docs
}

/// [`read`] with the budget left after the chunk returned rather than updated.
///
/// kubectl reads a stream line by line and ends every line with a line break, the last one too
/// (k8s.io/apimachinery `pkg/util/yaml/decoder.go`, `LineReader.Read`), so go-yaml never sees a
/// chunk end inside a line. That matters for a last line of only blanks: it is then an empty
/// line, which a block scalar's chomping drops or keeps (`|` clips `line` + `      ` to
/// `"line\n"`, `|+` keeps `"line\n\n"`), where yaml-rust2 without the break reads it as a
/// content line (`"line\n\n"`) or not at all. Such a chunk is read with its break.
fn read_spending(
    text: &str,
    base: u32,
    budget: Budget,
) -> (Vec<Result<YamlDoc, ReadError>>, Budget) {
    let last = text.rsplit('\n').next().unwrap_or("");
    if last.is_empty() || !last.bytes().all(|b| b == b' ' || b == b'\t') {
        return read_chunk(text, base, budget);
    }
    let with_break = format!("{text}\n");
    let end = base.saturating_add(u32::try_from(text.len()).unwrap_or(u32::MAX));
    let (mut docs, spent) = read_chunk(&with_break, base, budget);
    for d in &mut docs {
        if let Err(e) = d {
            e.offset = e.offset.min(end);
        }
    }
    (docs, spent)
}

/// [`read_spending`] of a chunk as given.
fn read_chunk(text: &str, base: u32, budget: Budget) -> (Vec<Result<YamlDoc, ReadError>>, Budget) {
    if let Some((at, c)) = forbidden_char(text) {
        return (
            vec![Err(ReadError {
                message: format!(
                    "not valid YAML: control characters are not allowed (U+{:04X}); kubectl refuses the document",
                    u32::from(c)
                ),
                offset: base + u32::try_from(at).unwrap_or(u32::MAX - base),
            })],
            budget,
        );
    }
    #[cfg(feature = "fast-yaml")]
    if let Some(events) = super::block::events(text, base, budget.max_depth.min(YAML_RUST_NESTING))
    {
        let docs = read_events(text, base, budget, Source::Block(events.into_iter()));
        // The fast reader must agree with yaml-rust2 on everything it reads: every debug
        // build (tests, fixtures on every surface, the fuzz targets) checks that it does.
        #[cfg(debug_assertions)]
        {
            let full = read_once(text, text, base, budget, &[]);
            debug_assert_eq!(
                format!("{:?}", docs.0),
                format!("{:?}", full.0),
                "the block reader disagrees with yaml-rust2 on {text:?}"
            );
        }
        return docs;
    }
    let first = read_once(text, text, base, budget, &[]);
    if !needs_repair(&first.0) {
        return first;
    }
    let mut owned = text.to_owned();
    let mut shifts: Vec<(usize, usize)> = Vec::new();
    let (mut failed_at, mut repair) = match first.0.last() {
        Some(Err(e)) => (e.offset, Repair::of(&e.message)),
        _ => return first,
    };
    for _ in 0..MAX_REPAIRS {
        let original = (failed_at - base) as usize;
        let modified = original
            + shifts
                .iter()
                .filter(|(p, _)| *p <= original)
                .map(|(_, n)| n)
                .sum::<usize>();
        let repaired = match repair {
            Some(Repair::TabAfterColon) => {
                tab_after_colon(&mut owned, modified).map(|()| Vec::new())
            }
            Some(Repair::Quoted) => indent_quoted(&mut owned, modified),
            Some(Repair::Flow) => indent_flow(&mut owned, modified),
            None => None,
        };
        let Some(added) = repaired else {
            break;
        };
        // Record insertions in original coordinates: each is just after a line break.
        for (at_mod, n) in added {
            // Back to original coordinates: subtract what earlier repairs inserted before it
            // (each earlier insertion sits at its original offset plus those before it).
            let mut before = 0usize;
            for (p, m) in &shifts {
                if p + before <= at_mod {
                    before += m;
                }
            }
            shifts.push((at_mod.saturating_sub(before), n));
        }
        shifts.sort_unstable();
        let again = read_once(text, &owned, base, budget, &shifts);
        if !needs_repair(&again.0) {
            return again;
        }
        (failed_at, repair) = match again.0.last() {
            Some(Err(e)) => (e.offset, Repair::of(&e.message)),
            _ => return again,
        };
    }
    first
}

/// The first character YAML does not allow in a stream, as go-yaml's reader checks it
/// (`readerc.go` `yaml_parser_update_buffer`: tab, LF, CR, `#x20–#x7E`, `#x85`, `#xA0–#xD7FF`,
/// `#xE000–#xFFFD`, `#x10000–`). yaml-rust2 would take a NUL for the end of the text and
/// silently drop what follows it, so this runs first.
fn forbidden_char(text: &str) -> Option<(usize, char)> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            || c >= '\u{10000}'
    };
    if text.is_ascii() {
        return text
            .bytes()
            .position(|b| !allowed(char::from(b)))
            .map(|i| (i, char::from(text.as_bytes()[i])));
    }
    text.char_indices().find(|(_, c)| !allowed(*c))
}

/// Reads a chunk with the block reader (when it can) and with yaml-rust2, for tests and the
/// `block` fuzz target that compare them: both results as their debug text.
#[cfg(all(any(test, fuzzing), feature = "fast-yaml"))]
pub(crate) fn read_both(text: &str, base: u32, budget: Budget) -> (Option<String>, String) {
    let nesting = budget.max_depth.min(YAML_RUST_NESTING);
    let fast = super::block::events(text, base, nesting).map(|e| {
        format!(
            "{:?}",
            read_events(text, base, budget, Source::Block(e.into_iter())).0
        )
    });
    let full = format!("{:?}", read_once(text, text, base, budget, &[]).0);
    (fast, full)
}

/// The nesting yaml-rust2's parser itself refuses beyond.
const YAML_RUST_NESTING: usize = 255;

/// How many quoted scalars of one chunk are re-indented before giving up.
const MAX_REPAIRS: usize = 16;

fn needs_repair(docs: &[Result<YamlDoc, ReadError>]) -> bool {
    matches!(docs.last(), Some(Err(e)) if Repair::of(&e.message).is_some())
}

/// What yaml-rust2 refuses that go-yaml reads, and so is repaired and read again.
#[derive(Clone, Copy)]
enum Repair {
    /// A quoted scalar's continuation line indented less than its block ([`indent_quoted`]).
    Quoted,
    /// A tab after a value's `:` ([`tab_after_colon`]).
    TabAfterColon,
    /// A flow collection's continuation line indented less than its block ([`indent_flow`]).
    Flow,
}

impl Repair {
    fn of(message: &str) -> Option<Repair> {
        if message.ends_with("invalid indentation in quoted scalar") {
            Some(Repair::Quoted)
        } else if message.ends_with(TAB_AFTER_COLON) {
            Some(Repair::TabAfterColon)
        } else if message.ends_with(": invalid indentation")
            || message.ends_with("invalid indentation in flow construct")
        {
            Some(Repair::Flow)
        } else {
            None
        }
    }
}

/// go-yaml checks no indentation inside a flow collection (`scannerc.go`,
/// `yaml_parser_unroll_indent` returns at once when `flow_level` is set), so kubectl reads
/// `- {name: c, image:` continued on a line indented less than the `-`; yaml-rust2 refuses a
/// token there ("invalid indentation", which its scanner raises only inside a flow
/// collection, since a block's indentation is unrolled first, and "invalid indentation in flow
/// construct"). The line of the token at `at`, which starts inside the flow collection (a
/// token on the line of its opening bracket is checked as block content), is indented one past the last line before it
/// that holds anything (by one space at least): whitespace between flow tokens, or folded
/// away in a multi-line scalar, so nothing read changes. Returns the insertion (offset in the text before it,
/// spaces).
fn indent_flow(text: &mut String, at: usize) -> Option<Vec<(usize, usize)>> {
    let line = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    // The token may follow a scalar's continuation on its line (`  b]`): the whole line moves.
    let cur = text[line..].bytes().take_while(|&b| b == b' ').count();
    let before = text[..line]
        .lines()
        .rev()
        .map(|l| {
            (
                l.len() - l.trim_start_matches(' ').len(),
                l.trim_start_matches(' '),
            )
        })
        .find(|(_, t)| !(t.is_empty() || t.starts_with('#')))?;
    // At least one space: a line before may itself be a scalar's continuation, which
    // yaml-rust2 let stand less indented; the next read then says whether more is needed.
    let n = (before.0 + 1).saturating_sub(cur).max(1);
    text.insert_str(line, &" ".repeat(n));
    Some(vec![(line, n)])
}

/// yaml-rust2's refusal of a tab in the indentation of a plain scalar's next line.
const PLAIN_SCALAR_TAB: &str = "while scanning a plain scalar, found a tab";

/// yaml-rust2's refusal of a tab after the `:` of a mapping value.
const TAB_AFTER_COLON: &str = "':' must be followed by a valid YAML whitespace";

/// go-yaml v2 takes a tab after a value's `:` for the blank it needs (`scannerc.go`,
/// `yaml_parser_fetch_next_token`: `':'` followed by `is_blankz`, which tab is), so kubectl reads
/// `key:<TAB>value`; yaml-rust2 refuses it. The tab before the failure at `at`, just after a
/// `:`, becomes a space: same length, so offsets keep their meaning, and it separates the same
/// tokens, so nothing read changes.
fn tab_after_colon(text: &mut String, at: usize) -> Option<()> {
    let b = text.as_bytes();
    let mut p = at.min(b.len());
    while p > 0 && b[p - 1] == b'\t' {
        p -= 1;
    }
    if p == 0 || p == at || b[p - 1] != b':' {
        return None;
    }
    text.replace_range(p..=p, " ");
    Some(())
}

/// Indents the continuation lines of the quoted scalar whose quote is at `at` to the quote's
/// column. Returns the insertions (offset in the text before it, spaces).
fn indent_quoted(text: &mut String, at: usize) -> Option<Vec<(usize, usize)>> {
    let b = text.as_bytes();
    let quote = *b.get(at)?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..at].chars().count() + 1;
    let mut i = at + 1;
    let mut breaks = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
            c if c == quote => break,
            b'\n' => breaks.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    if i >= b.len() || breaks.is_empty() {
        return None;
    }
    let mut added = Vec::new();
    for &line in breaks.iter().rev() {
        let lead = text[line..].bytes().take_while(|&c| c == b' ').count();
        if lead < col {
            let n = col - lead;
            text.insert_str(line, &" ".repeat(n));
            added.push((line, n));
        }
    }
    // Offsets of earlier insertions are unchanged by later ones (inserted back to front), but
    // report them as positions in the text before this call.
    added.reverse();
    (!added.is_empty()).then_some(added)
}

fn read_once(
    original: &str,
    text: &str,
    base: u32,
    budget: Budget,
    shifts: &[(usize, usize)],
) -> (Vec<Result<YamlDoc, ReadError>>, Budget) {
    let source = Source::Full(
        Box::new(Parser::new_from_str(text)),
        Offsets::new(original, text, base, shifts),
    );
    read_events(original, base, budget, source)
}

/// Builds the documents of one chunk from its events; also returns the budget left.
fn read_events(
    original: &str,
    base: u32,
    budget: Budget,
    source: Source<'_>,
) -> (Vec<Result<YamlDoc, ReadError>>, Budget) {
    let mut r = Reader {
        source,
        original,
        base,
        anchors: Vec::new(),
        budget,
        aliases: 0,
        alias_nodes: 0,
        duplicates: Vec::new(),
        flow: Vec::new(),
    };
    let mut out = Vec::new();
    loop {
        let (ev, mark) = match r.next() {
            Ok(x) => x,
            Err(e) => {
                out.push(Err(e));
                return (out, r.budget);
            }
        };
        match ev {
            Event::StreamStart | Event::DocumentStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return (out, r.budget),
            ev => {
                r.anchors.clear();
                r.aliases = 0;
                r.alias_nodes = 0;
                r.flow.clear();
                match r.node(ev, mark, 0) {
                    Ok(root) => out.push(Ok(YamlDoc {
                        root,
                        duplicates: std::mem::take(&mut r.duplicates),
                    })),
                    Err(e) => {
                        out.push(Err(e));
                        return (out, r.budget);
                    }
                }
            }
        }
    }
}

/// Where a chunk's events come from.
enum Source<'a> {
    /// The block reader's events, already at absolute offsets.
    #[cfg(feature = "fast-yaml")]
    Block(std::vec::IntoIter<(Event, u32)>),
    /// yaml-rust2, whose character marks become offsets.
    Full(Box<Parser<std::str::Chars<'a>>>, Offsets<'a>),
}

/// An anchored node kept for its aliases, with its weight ([`Node::weight`]) and height.
type Anchored = (Node, (usize, usize), usize);

struct Reader<'a> {
    source: Source<'a>,
    /// The chunk as given.
    original: &'a str,
    /// Its offset in the whole input.
    base: u32,
    /// Anchored nodes by anchor id.
    anchors: Vec<Option<Anchored>>,
    budget: Budget,
    aliases: usize,
    alias_nodes: usize,
    duplicates: Vec<Duplicate>,
    /// The closing bracket of each flow collection (`[…]`, `{…}`) around the node being read,
    /// innermost last.
    flow: Vec<char>,
}

impl Reader<'_> {
    /// The tab yaml-rust2 means by [`PLAIN_SCALAR_TAB`]: it reports the start of the plain
    /// scalar before the tab (the end of an earlier line, to a reader), while the tab is in the
    /// indentation of a later, non-empty line (`scanner.rs` `scan_plain_scalar`: a tab in the
    /// indentation columns is allowed only on an empty line). The first such tab after
    /// `offset`, as an absolute offset.
    fn indentation_tab(&self, offset: u32) -> Option<u32> {
        let from = offset.checked_sub(self.base)? as usize;
        let text = self.original.get(from..)?;
        let mut pos = from + text.find('\n')? + 1;
        while pos < self.original.len() {
            let rest = &self.original[pos..];
            let end = rest.find('\n').map_or(rest.len(), |e| e + 1);
            let line = &rest[..end];
            let lead = line
                .bytes()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let content = line[lead..].trim_end_matches(['\n', '\r']);
            if !content.is_empty() {
                if let Some(tab) = line[..lead].find('\t') {
                    return u32::try_from(pos + tab).ok().map(|t| t + self.base);
                }
            }
            pos += end;
        }
        None
    }

    /// The byte at an absolute offset of the chunk.
    fn byte_at(&self, offset: u32) -> Option<u8> {
        let i = offset.checked_sub(self.base)? as usize;
        self.original.as_bytes().get(i).copied()
    }

    fn next(&mut self) -> Result<(Event, u32), ReadError> {
        let (parser, offsets) = match &mut self.source {
            #[cfg(feature = "fast-yaml")]
            Source::Block(events) => {
                let end = self.base + u32::try_from(self.original.len()).unwrap_or(0);
                return Ok(events.next().unwrap_or((Event::StreamEnd, end)));
            }
            Source::Full(parser, offsets) => (parser, offsets),
        };
        match parser.next_token() {
            Ok((ev, mark)) => Ok((ev, offsets.at(&mark))),
            Err(e) => {
                let offset = offsets.at(e.marker());
                if e.info() == PLAIN_SCALAR_TAB {
                    if let Some(tab) = self.indentation_tab(offset) {
                        return Err(ReadError {
                            message: String::from(
                                "not valid YAML: a tab indents this line, and YAML indents with spaces only",
                            ),
                            offset: tab,
                        });
                    }
                }
                Err(ReadError {
                    // yaml-rust2's own nesting guard, which can fire while scanning ahead of the
                    // reader's `limits.maxDepth` check.
                    message: if e.info().starts_with("recursion limit exceeded") {
                        format!(
                            "document is nested more than {} levels deep (`limits.maxDepth`)",
                            self.budget.max_depth.min(YAML_RUST_NESTING)
                        )
                    } else {
                        format!("not valid YAML: {}", e.info())
                    },
                    offset,
                })
            }
        }
    }

    fn node(&mut self, ev: Event, start: u32, depth: usize) -> Result<Node, ReadError> {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if style == TScalarStyle::Plain && !self.flow.is_empty() {
                    self.flow_plain(&text, start)?;
                }
                let scalar = scalar(&text, style, tag.as_ref()).map_err(|message| ReadError {
                    message,
                    offset: start,
                })?;
                let node = Node {
                    start,
                    end: 0,
                    style: match style {
                        TScalarStyle::Plain => Style::Plain,
                        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => Style::Quoted,
                        TScalarStyle::Literal | TScalarStyle::Folded => Style::Block,
                    },
                    copied: false,
                    value: Val::Scalar(scalar),
                };
                self.anchor(anchor, &node)?;
                Ok(node)
            }
            Event::SequenceStart(anchor, _) => {
                self.deeper(depth, start)?;
                let flow = self.byte_at(start) == Some(b'[');
                if flow {
                    self.flow.push(']');
                }
                let mut items = Vec::new();
                let end = loop {
                    let (ev, at) = self.next()?;
                    if let Event::SequenceEnd = ev {
                        break at;
                    }
                    items.push(self.node(ev, at, depth + 1)?);
                };
                if flow {
                    self.flow.pop();
                }
                let node = Node {
                    start,
                    end: if flow { end + 1 } else { 0 },
                    style: if flow { Style::Flow } else { Style::Indented },
                    copied: false,
                    value: Val::Seq(items),
                };
                self.anchor(anchor, &node)?;
                Ok(node)
            }
            Event::MappingStart(anchor, _) => {
                self.deeper(depth, start)?;
                self.mapping(anchor, start, depth)
            }
            Event::Alias(id) => self.alias(id, start, depth),
            _ => Err(ReadError {
                message: String::from("not valid YAML: unexpected event"),
                offset: start,
            }),
        }
    }

    /// Refuses a plain scalar inside a flow collection that holds `?`, as go-yaml v2 does.
    /// YAML 1.1 (go-yaml v2 `scannerc.go`, `yaml_parser_scan_plain_scalar`) ends a plain scalar
    /// at `,`, `?`, `[`, `]`, `{` or `}` inside a flow collection, and a `?` there always starts
    /// an explicit key (`yaml_parser_fetch_next_token`); YAML 1.2, which yaml-rust2 reads, lets
    /// `?` stand inside a plain scalar. After a scalar, go-yaml then finds a key where it wants
    /// `,` or the closing bracket and refuses the file; a scalar that begins with `?` is a key
    /// to it where yaml-rust2 reads a string, so kubectl refuses that too or reads another key.
    fn flow_plain(&self, text: &str, start: u32) -> Result<(), ReadError> {
        let Some(i) = text.find('?') else {
            return Ok(());
        };
        let from = start.saturating_sub(self.base) as usize;
        let at = self
            .original
            .get(from..)
            .and_then(|rest| rest.find('?'))
            .map_or(start, |j| start + u32::try_from(j).unwrap_or(0));
        let message = if i == 0 {
            format!(
                "not valid YAML for kubectl: inside `[…]` or `{{…}}`, go-yaml v2 (YAML 1.1) reads the `?` that begins `{text}` as an explicit-key indicator, not as part of the value, and refuses the file or reads another key; quote it: \"{text}\""
            )
        } else {
            format!(
                "not valid YAML for kubectl: inside `[…]` or `{{…}}`, go-yaml v2 (YAML 1.1) ends the unquoted `{text}` at `?` and refuses the file (\"did not find expected ',' or '{close}'\"); quote it: \"{text}\"",
                close = self.flow.last().copied().unwrap_or(']')
            )
        };
        Err(ReadError {
            message,
            offset: at,
        })
    }

    fn deeper(&self, depth: usize, at: u32) -> Result<(), ReadError> {
        if depth >= self.budget.max_depth {
            return Err(ReadError {
                message: format!(
                    "document is nested more than {} levels deep (`limits.maxDepth`)",
                    self.budget.max_depth
                ),
                offset: at,
            });
        }
        Ok(())
    }

    /// Keeps a copy of an anchored node for its aliases. The copy is charged to the input's
    /// budget first: anchors nested in anchors each copy what they hold.
    fn anchor(&mut self, anchor: usize, node: &Node) -> Result<(), ReadError> {
        if anchor == 0 {
            return Ok(());
        }
        let weight = node.weight();
        self.budget
            .charge(CopyFor::Anchor, weight)
            .map_err(|message| ReadError {
                message,
                offset: node.start,
            })?;
        if self.anchors.len() <= anchor {
            self.anchors.resize_with(anchor + 1, || None);
        }
        self.anchors[anchor] = Some((node.clone(), weight, node.height()));
        Ok(())
    }

    fn alias(&mut self, id: usize, at: u32, depth: usize) -> Result<Node, ReadError> {
        self.aliases += 1;
        if self.aliases > self.budget.max_aliases {
            return Err(ReadError {
                message: format!(
                    "document uses more than {} YAML aliases (`limits.maxAliases`)",
                    self.budget.max_aliases
                ),
                offset: at,
            });
        }
        let Some(Some((node, weight, height))) = self.anchors.get(id) else {
            return Err(ReadError {
                message: String::from(
                    "not valid YAML: the alias names an anchor that is not defined before it, or that contains it",
                ),
                offset: at,
            });
        };
        if depth + height > self.budget.max_depth {
            return Err(ReadError {
                message: format!(
                    "document is nested more than {} levels deep once its aliases are expanded (`limits.maxDepth`)",
                    self.budget.max_depth
                ),
                offset: at,
            });
        }
        self.alias_nodes = self.alias_nodes.saturating_add(weight.0);
        if self.alias_nodes > self.budget.max_alias_nodes {
            return Err(ReadError {
                message: format!(
                    "the YAML aliases of this document expand to more than {} nodes (`limits.maxAliasNodes`)",
                    self.budget.max_alias_nodes
                ),
                offset: at,
            });
        }
        // Both budgets are charged before the copy is made.
        self.budget
            .charge(CopyFor::Alias, *weight)
            .map_err(|message| ReadError {
                message,
                offset: at,
            })?;
        let mut copy = node.clone();
        copy.mark_copied();
        copy.start = at;
        Ok(copy)
    }

    fn mapping(&mut self, anchor: usize, start: u32, depth: usize) -> Result<Node, ReadError> {
        let mut members: Vec<Member> = Vec::new();
        // Whether each member was set by a merge key (overriding it is not a duplicate).
        let mut merged: Vec<bool> = Vec::new();
        let mut index: Option<HashMap<String, usize>> = None;
        let mut first_key: Option<u32> = None;
        let mut entered = false;
        let end = loop {
            let (kev, kat) = self.next()?;
            if let Event::MappingEnd = kev {
                break kat;
            }
            if first_key.is_none() {
                first_key = Some(kat);
                // A flow mapping's first key starts after its `{`; a block mapping whose first
                // key is a flow mapping starts where that key does.
                entered = self.byte_at(start) == Some(b'{') && kat > start;
                if entered {
                    self.flow.push('}');
                }
            }
            let is_merge = matches!(&kev, Event::Scalar(s, TScalarStyle::Plain, _, None) if s == "<<")
                || matches!(&kev, Event::Scalar(s, _, _, Some(t)) if s == "<<" && tag_name(t) == "tag:yaml.org,2002:merge");
            let key_node = self.node(kev, kat, depth + 1)?;
            let (vev, vat) = self.next()?;
            let value = self.node(vev, vat, depth + 1)?;
            if is_merge {
                for m in merge_sources(value, kat)? {
                    let Val::Map(src) = m.value else { continue };
                    for mut e in src {
                        e.value.mark_copied();
                        match find(&members, index.as_ref(), &e.key) {
                            Some(i) => {
                                members[i].value = e.value;
                                merged[i] = true;
                            }
                            None => {
                                push(&mut members, &mut index, e);
                                merged.push(true);
                            }
                        }
                    }
                }
                continue;
            }
            let key = key_string(&key_node)?;
            match find(&members, index.as_ref(), &key) {
                Some(i) => {
                    if !merged[i] {
                        self.duplicates.push(Duplicate {
                            first: members[i].key_start,
                            second: kat,
                        });
                    }
                    members[i].key_start = kat;
                    members[i].value = value;
                    merged[i] = false;
                }
                None => {
                    push(
                        &mut members,
                        &mut index,
                        Member {
                            key,
                            key_start: kat,
                            value,
                        },
                    );
                    merged.push(false);
                }
            }
        };
        if entered {
            self.flow.pop();
        }
        let flow = self.byte_at(start) == Some(b'{') && first_key.is_none_or(|k| k > start);
        let node = Node {
            start: if flow {
                start
            } else {
                first_key.unwrap_or(start)
            },
            end: if flow { end + 1 } else { 0 },
            style: if flow { Style::Flow } else { Style::Indented },
            copied: false,
            value: Val::Map(members),
        };
        self.anchor(anchor, &node)?;
        Ok(node)
    }
}

/// What `<<` merges, in the order go-yaml v2 applies it (`decode.go` `merge`, lines 786–811):
/// a map, or a sequence of maps applied last to first so that earlier ones win.
fn merge_sources(value: Node, at: u32) -> Result<Vec<Node>, ReadError> {
    let want_map = || ReadError {
        message: String::from(
            "not valid YAML: map merge requires map or sequence of maps as the value",
        ),
        offset: at,
    };
    match value.value {
        Val::Map(_) => Ok(vec![value]),
        Val::Seq(items) => {
            if items.iter().any(|n| !matches!(n.value, Val::Map(_))) {
                return Err(want_map());
            }
            Ok(items.into_iter().rev().collect())
        }
        Val::Scalar(_) => Err(want_map()),
    }
}

fn tag_name(t: &Tag) -> String {
    format!("{}{}", t.handle, t.suffix)
}

fn scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Scalar, String> {
    match (tag, style) {
        (Some(t), _) => resolve::tagged(&tag_name(t), text),
        (None, TScalarStyle::Plain) => Ok(resolve::plain(text)),
        (None, _) => Ok(Scalar::Str(text.to_owned())),
    }
}

/// A map key as a JSON member name (sigs.k8s.io/yaml yaml.go lines 208–250).
fn key_string(key: &Node) -> Result<String, ReadError> {
    let refuse = |what: &str| ReadError {
        message: format!("kubectl cannot use {what} as a map key"),
        offset: key.start,
    };
    match &key.value {
        Val::Scalar(Scalar::Str(s)) => Ok(s.clone()),
        Val::Scalar(Scalar::Int(i)) => Ok(i.to_string()),
        Val::Scalar(Scalar::Bool(b)) => Ok(b.to_string()),
        Val::Scalar(Scalar::Float(f)) => Ok(resolve::float_key(*f)),
        Val::Scalar(Scalar::Uint(_)) => Err(refuse("an integer above 2^63")),
        Val::Scalar(Scalar::Null) => Err(refuse("null (an empty or `~` key)")),
        Val::Seq(_) | Val::Map(_) => Err(refuse("a list or map")),
    }
}

/// Turns yaml-rust2's character indices into byte offsets of the whole input. Events come in
/// text order, so a cursor moving forward makes the conversion linear overall. When the text
/// read is a repaired copy, `shifts` maps its offsets back to the original.
struct Offsets<'a> {
    original: &'a str,
    text: &'a str,
    shifts: &'a [(usize, usize)],
    ascii: bool,
    base: u32,
    chars: usize,
    bytes: usize,
}

impl<'a> Offsets<'a> {
    fn new(original: &'a str, text: &'a str, base: u32, shifts: &'a [(usize, usize)]) -> Self {
        Offsets {
            original,
            text,
            shifts,
            ascii: text.is_ascii(),
            base,
            chars: 0,
            bytes: 0,
        }
    }

    fn at(&mut self, mark: &Marker) -> u32 {
        self.at_char(mark.index())
    }

    /// The offset in the original text of the character at `index` of the text read.
    fn at_char(&mut self, index: usize) -> u32 {
        let mut byte = if self.ascii {
            index.min(self.text.len())
        } else {
            // Marks mostly move forward, but the scanner reports some behind the last one
            // (a key's start after its value was scanned): step back from where the last
            // mark was, never from the start, so a document costs what its length does.
            if index < self.chars {
                let mut back = self.text[..self.bytes].chars().rev();
                while self.chars > index {
                    match back.next() {
                        Some(c) => {
                            self.chars -= 1;
                            self.bytes -= c.len_utf8();
                        }
                        None => {
                            self.chars = 0;
                            self.bytes = 0;
                        }
                    }
                }
            }
            let mut it = self.text[self.bytes..].chars();
            while self.chars < index {
                match it.next() {
                    Some(c) => {
                        self.chars += 1;
                        self.bytes += c.len_utf8();
                    }
                    None => break,
                }
            }
            self.bytes
        };
        if !self.shifts.is_empty() {
            let mut original = byte;
            let mut seen = 0usize;
            for &(at, n) in self.shifts {
                if at + seen > byte {
                    break;
                }
                seen += n;
                original = byte.saturating_sub(seen).max(at.min(byte));
            }
            byte = original.min(self.original.len());
        }
        self.base + u32::try_from(byte).unwrap_or(u32::MAX - self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits these tests read with: 1,000 alias nodes per document.
    const L: crate::read::limits::Limits = crate::read::limits::Limits {
        max_bytes: 4 * 1024 * 1024,
        max_depth: 128,
        max_aliases: 100,
        max_alias_nodes: 1000,
    };

    /// A fresh budget for one small input.
    fn b() -> Budget {
        Budget::for_input(&L, 0)
    }

    fn one(text: &str) -> YamlDoc {
        let mut docs = read(text, 0, &mut b());
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap()
    }

    fn json(text: &str) -> String {
        let mut out = Vec::new();
        one(text).root.write_json(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn offsets_step_back_to_earlier_marks_in_non_ascii_text() {
        // Character index → byte offset, in any order of marks: the scanner reports some marks
        // behind the last one, and each must still map to its byte (a mark going back used to
        // rescan from the start of the text, quadratic in a long non-ASCII document).
        let text = "a: ×\nbé: ✓✓\nc: 1\n";
        let byte_of = |i: usize| text.char_indices().nth(i).map_or(text.len(), |(b, _)| b);
        let mut offsets = Offsets::new(text, text, 7, &[]);
        let n = text.chars().count();
        for i in [0, 5, 3, 3, 9, 1, n, 2, n - 1, 0, 8] {
            let got = offsets.at_char(i);
            assert_eq!(got, 7 + u32::try_from(byte_of(i)).unwrap(), "char {i}");
        }
    }

    #[test]
    fn scalars_resolve_like_kubectl() {
        assert_eq!(
            json("a: 0400\nb: yes\nc: \"yes\"\nd: !!str 12\ne: ~\nf: |\n  on\ng: 1_000\n"),
            r#"{"a":256,"b":true,"c":"yes","d":"12","e":null,"f":"on\n","g":1000}"#
        );
        assert_eq!(json("!!binary aGk=: 1\n"), r#"{"hi":1}"#);
        assert_eq!(
            json("yes: 1\n12: 2\n1.5: 3\n"),
            r#"{"1.5":3,"12":2,"true":1}"#
        );
    }

    #[test]
    fn duplicates_keep_the_last_and_are_reported() {
        let d = one("kind: ConfigMap\nspec: 1\nkind: StatefulSet\n");
        let mut out = Vec::new();
        d.root.write_json(&mut out).unwrap();
        assert_eq!(out, br#"{"kind":"StatefulSet","spec":1}"#);
        assert_eq!(d.duplicates.len(), 1);
        assert_eq!((d.duplicates[0].first, d.duplicates[0].second), (0, 24));
    }

    #[test]
    fn merge_keys_apply_in_go_yaml_v2_order() {
        // Keys after `<<` override it, keys before it are overridden (decode.go 661–680), and
        // in a sequence the earlier map wins (lines 795–807). None of these is a duplicate.
        let d = one("a: &a {x: 1, p: 1}\nb: &b {x: 2, z: 2}\nm:\n  x: 0\n  <<: [*a, *b]\n  p: 9\n");
        let mut out = Vec::new();
        d.root.get("m").unwrap().write_json(&mut out).unwrap();
        assert_eq!(out, br#"{"p":9,"x":1,"z":2}"#);
        assert!(d.duplicates.is_empty());
    }

    #[test]
    fn alias_expansion_is_budgeted_before_copying() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let docs = read(&text, 0, &mut b());
        let err = docs[0].as_ref().unwrap_err();
        assert!(err.message.contains("maxAliasNodes"), "{err:?}");
    }

    #[test]
    fn depth_is_refused_early_and_fast() {
        let text = "[".repeat(100_000);
        let docs = read(&text, 0, &mut b());
        let err = docs[0].as_ref().unwrap_err();
        assert!(
            err.message.contains("maxDepth") || err.message.contains("recursion"),
            "{err:?}"
        );
    }

    #[test]
    fn offsets_are_bytes_of_the_whole_input() {
        let text = "é: ü\nk: v\n";
        let d = one(text);
        let Val::Map(m) = &d.root.value else { panic!() };
        assert_eq!(m[1].key_start, 7);
        assert_eq!(&text[m[1].key_start as usize..], "k: v\n");
        let docs = read("a: [1, 2]\n", 100, &mut b());
        let root = &docs[0].as_ref().unwrap().root;
        let a = root.get("a").unwrap();
        assert_eq!((a.start, a.end, a.style), (103, 109, Style::Flow));
    }

    #[test]
    fn quoted_scalars_indented_as_libyaml_allows() {
        // Argo's examples/secrets.yaml: continuation lines at the block's own indentation.
        let text = "a:\n  args: ['\n    x\n  ']\n  b: 1\n";
        let d = one(text);
        let a = d.root.get("a").unwrap();
        assert_eq!(
            a.get("args").unwrap().to_value(),
            serde_json::json!([" x "])
        );
        let Val::Map(m) = &a.value else { panic!() };
        assert_eq!(&text[m[1].key_start as usize..], "b: 1\n");
    }

    #[test]
    fn repair_of_an_empty_multiline_quoted_scalar_does_not_overflow() {
        // Found by fuzzing: `e: "` and three line breaks.
        let _ = read("e: \"\n\n\n\"", 0, &mut b());
        let _ = read("a:\n  b: '\n x\n '\n  c: '\n y\n '\n", 0, &mut b());
    }

    #[test]
    fn control_characters_are_refused_where_they_are() {
        let docs = read("a: 1\nb: x\u{0}y\nc: hidden\n", 10, &mut b());
        let e = docs[0].as_ref().unwrap_err();
        assert_eq!(e.offset, 10 + 9);
        assert!(e.message.contains("U+0000"), "{e:?}");
        assert!(read("a: \u{1b}[2K\n", 0, &mut b())[0].is_err());
        assert!(read("a: \tb\r\n", 0, &mut b())[0].is_ok());
    }

    /// go-yaml v2 (`scannerc.go` `yaml_parser_scan_plain_scalar`) ends a plain scalar at `?`
    /// inside a flow collection; each refused input below is one kubectl v1.35.4 refuses, each
    /// read one it reads the same way.
    #[test]
    fn question_mark_in_flow_plain_scalars_is_refused_as_go_yaml_does() {
        for refused in [
            "a: {image: nginx? x}\n",
            "a: [x, http://h/p?q=1]\n",
            "a: {b?: c}\n",
            "a: {b: c\n  d?e}\n",
            "a: [[b?]]\n",
            "a: {b: ?c}\n",
        ] {
            let docs = read(refused, 0, &mut b());
            let e = docs[0].as_ref().map(|_| ()).unwrap_err();
            assert!(e.message.contains("go-yaml v2"), "{refused:?}: {e:?}");
            assert_eq!(
                refused.as_bytes()[e.offset as usize],
                b'?',
                "{refused:?}: {e:?}"
            );
        }
        // Outside flow collections, quoted, or an explicit key with its space: read as before.
        assert_eq!(json("a: nginx? x\n"), r#"{"a":"nginx? x"}"#);
        assert_eq!(json("a: [\"b?\", 'c?']\n"), r#"{"a":["b?","c?"]}"#);
        assert_eq!(json("a: {? b: c}\n"), r#"{"a":{"b":"c"}}"#);
        assert_eq!(json("a: |\n  {b: c?}\n"), "{\"a\":\"{b: c?}\\n\"}");
        // The flow context ends with its collection.
        assert_eq!(json("a: [b]\nc: d?\n"), r#"{"a":["b"],"c":"d?"}"#);
        // A block mapping whose first key is a flow mapping: its value is not in flow context
        // (refused for another reason: kubectl cannot use a map as a key).
        let docs = read("{a: b}: c?\n", 0, &mut b());
        let e = docs[0].as_ref().map(|_| ()).unwrap_err();
        assert!(!e.message.contains("go-yaml v2"), "{e:?}");
    }

    /// kubectl v1.35.4 on a block scalar whose last line is only blanks with no line break:
    /// apimachinery's `LineReader` gives go-yaml that line with a break.
    #[test]
    fn a_last_line_of_blanks_is_an_empty_line_as_kubectl_reads_it() {
        for (text, want) in [
            ("x: |\n  line\n  ", r#"{"x":"line\n"}"#),
            ("x: |+\n  line\n  ", r#"{"x":"line\n\n"}"#),
            ("x: |+\n  line\n ", r#"{"x":"line\n\n"}"#),
            ("x: |\n  line\n    ", r#"{"x":"line\n  \n"}"#),
            ("x: >\n  line\n\n  ", r#"{"x":"line\n"}"#),
            ("x: |-\n  line\n  ", r#"{"x":"line"}"#),
            ("x: |\n  line", r#"{"x":"line\n"}"#),
        ] {
            assert_eq!(json(text), want, "{text:?}");
        }
        // An error at the end is placed within the text as given.
        let docs = read("x: [a\n  ", 5, &mut b());
        let e = docs[0].as_ref().map(|_| ()).unwrap_err();
        assert!(e.offset <= 5 + 8, "{e:?}");
    }

    /// go-yaml v2 reads a tab after a value's `:` as the blank it needs; kubectl v1.35.4 gives
    /// these values.
    #[test]
    fn a_tab_after_a_values_colon_is_read_as_go_yaml_reads_it() {
        assert_eq!(json("a:\tb\n"), r#"{"a":"b"}"#);
        assert_eq!(json("a:\t\tb\nc:\t'd:\te'\n"), r#"{"a":"b","c":"d:\te"}"#);
        assert_eq!(json("- a:\t|\n    x\n"), r#"[{"a":"x\n"}]"#);
        // Offsets are those of the text as given.
        let doc = one("a:\tb\n");
        let Val::Map(m) = &doc.root.value else {
            panic!("{doc:?}")
        };
        assert_eq!(m[0].value.start, 3);
        // The repair is bounded: past MAX_REPAIRS tabs the file is refused, not read slowly.
        let many: String = (0..=MAX_REPAIRS).map(|i| format!("k{i}:\tv\n")).collect();
        assert!(read(&many, 0, &mut b())[0].is_err());
    }

    /// go-yaml checks no indentation inside a flow collection; kubectl v1.35.4 reads these.
    #[test]
    fn flow_collections_continued_less_indented_are_read_as_go_yaml_reads_them() {
        for (text, want) in [
            ("a:\n  - {b: c, d:\n e}\n", r#"{"a":[{"b":"c","d":"e"}]}"#),
            ("a:\n  b: [c,\n d]\n", r#"{"a":{"b":["c","d"]}}"#),
            ("a:\n  b: [c\n d e,\n  f]\n", r#"{"a":{"b":["c d e","f"]}}"#),
            ("a:\n    b: [c\n  d]\n", r#"{"a":{"b":["c d"]}}"#),
            (
                "a:\n  b: {c: 'x\n y',\n# note\n d: [e,\nf]}\n",
                r#"{"a":{"b":{"c":"x y","d":["e","f"]}}}"#,
            ),
            ("a: [b,\nc]\n", r#"{"a":["b","c"]}"#),
        ] {
            assert_eq!(json(text), want, "{text:?}");
        }
        // Offsets are those of the text as given: `e` is at byte 18.
        let doc = one("a:\n  - {b: c, d:\n e}\n");
        let Val::Map(m) = &doc.root.value else {
            panic!("{doc:?}")
        };
        let Val::Seq(items) = &m[0].value.value else {
            panic!("{doc:?}")
        };
        let Val::Map(item) = &items[0].value else {
            panic!("{doc:?}")
        };
        assert_eq!(item[1].value.start, 18);
        // What go-yaml refuses stays refused.
        assert!(read("a:\n  b: {c: d\n  e: f}\n", 0, &mut b())[0].is_err());
        assert!(read("a:\n  b: [c,\n  - d]\n", 0, &mut b())[0].is_err());
    }

    /// yaml-rust2 reports a tab in indentation at the start of the plain scalar before it; the
    /// error names the tab itself, in the chunk's coordinates.
    #[test]
    fn a_tab_in_indentation_is_reported_where_the_tab_is() {
        let text = "a:\n- name: c\n\timage: x\n";
        let e = read(text, 0, &mut b()).remove(0).unwrap_err();
        assert_eq!(e.offset as usize, text.find('\t').unwrap(), "{e:?}");
        assert!(e.message.contains("a tab indents this line"), "{e:?}");
        // After blank lines, and with spaces before the tab, in a chunk at offset 100.
        let text = "a:\n- name: c\n\n  \t\n  \timage: x\n";
        let e = read(text, 100, &mut b()).remove(0).unwrap_err();
        assert_eq!(e.offset as usize, 100 + text.rfind('\t').unwrap(), "{e:?}");
    }

    #[test]
    fn errors_and_keys() {
        assert!(read("a: [\n", 0, &mut b())[0].is_err());
        assert!(read("~: 1\n", 0, &mut b())[0].is_err());
        assert!(read("? [a]\n: 1\n", 0, &mut b())[0].is_err());
        assert!(read("a: *nope\n", 0, &mut b())[0].is_err());
        assert!(read("a: !!int abc\n", 0, &mut b())[0].is_err());
    }
}
