//! Finding the manifest files named on the command line, and reading them with a bound.
//!
//! Directories are walked recursively, following symbolic links (as `kubectl apply -R -f`
//! does) that stay inside the directories named on the command line, for `*.yaml`, `*.yml`
//! and `*.json`. What cannot be read becomes one input that the core reports as
//! `input-invalid` ([`policy_core::unreadable`]), and the rest of the batch is still judged: a
//! missing path, an unreadable file, a broken or looping symbolic link, a link that leads
//! outside the named directories (not followed unless asked), a directory named like a
//! manifest, a FIFO, socket or device met in a walk (reported, never opened: reading one can
//! block forever), and an input above `limits.maxBytes`. A FIFO or device named on the command
//! line is read, since the user asked for it (`cks-policy check <(helm template chart)`).
//!
//! Nothing is read past its limit: [`read_at_most`] stops one byte past it, whatever
//! the input is (stdin, a FIFO, `/dev/zero`, a file that grows while read), and never sizes a
//! buffer from what the file system says.

use std::collections::BTreeSet;
use std::fs::{FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use policy_core::SourceProblem;

/// The most bytes a settings file may hold: settings are read before the limits they set, so
/// their own bound is fixed (the default `limits.maxBytes`).
pub const SETTINGS_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The first buffer of a read; it doubles from there up to the limit.
const CHUNK: usize = 64 * 1024;

/// What the core's `check` accepts beyond `limits.maxBytes`: a UTF-8 byte order mark, which it
/// strips before measuring.
const BOM_LEN: usize = 3;

/// One input found on the command line, not yet read.
pub struct Input {
    /// The path as given or found (`-` for stdin).
    pub source: String,
    /// Where its bytes come from, or why there are none.
    pub origin: Origin,
    /// Found in a directory walk rather than named: its documents that are not Kubernetes
    /// manifests are skipped and counted instead of judged.
    pub walked: bool,
}

/// Where an [`Input`]'s bytes come from.
pub enum Origin {
    /// Standard input.
    Stdin,
    /// A file; `writable` is false when it was reached through a link leading outside the
    /// directories named (`--follow-symlinks-outside`), so `--fix --write` leaves it alone.
    File {
        /// The path to open.
        path: PathBuf,
        /// Whether `--fix --write` may rewrite it.
        writable: bool,
    },
    /// The problem the core reports for this source.
    Problem(SourceProblem),
}

/// Why reading an input stopped.
pub enum ReadError {
    /// The operating system refused (the message names the source).
    Io(std::io::Error),
    /// Past `limit` bytes; `size` when the file system knows the whole size.
    TooLarge {
        /// The whole size, for a regular file.
        size: Option<u64>,
    },
}

/// Finds every input: files as named, directories recursively (sorted by path), `-` as stdin.
/// Nothing is read yet. A symbolic link in a walk that leads outside every directory named is
/// an [`Origin::Problem`] unless `follow_outside`. A file or directory met in a walk whose path
/// relative to the directory named matches `exclude` is left out (a directory is not entered).
pub fn collect(paths: &[String], follow_outside: bool, exclude: &GlobSet) -> Vec<Input> {
    // The directories named, canonical: a link inside a walk may lead anywhere among them.
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.as_str() != "-")
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_dir()))
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            out.push(Input {
                source: "-".to_owned(),
                origin: Origin::Stdin,
                walked: false,
            });
            continue;
        }
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Err(e) => out.push(io_problem(p.clone(), &e)),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                let mut walk = Walk {
                    out: &mut found,
                    visited: BTreeSet::new(),
                    stack: Vec::new(),
                    roots: &roots,
                    follow_outside,
                    root: path,
                    exclude,
                };
                walk.dir(path, &meta, true);
                found.sort_by(|a, b| a.source.cmp(&b.source));
                out.extend(found);
            }
            // Named on the command line: read it, whatever it is (a FIFO from `<(…)` too).
            Ok(_) => out.push(Input {
                source: p.clone(),
                origin: Origin::File {
                    path: path.to_path_buf(),
                    writable: true,
                },
                walked: false,
            }),
        }
    }
    out
}

/// Reads at most `cap` bytes of `r`: the bytes and whether the input ended within them (false:
/// `cap` bytes were read and more may follow). Holds at most `cap` bytes: the buffer grows by
/// doubling up to `cap`, never from a size the input claims, and each read goes straight into
/// its spare capacity (`read_to_end` through `take`, which neither zeroes that space first nor
/// grows the buffer past what `take` allows).
pub fn read_at_most(r: &mut impl Read, cap: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        if buf.len() >= cap {
            return Ok((buf, false));
        }
        let grown = buf.capacity().saturating_mul(2).max(CHUNK).min(cap);
        buf.reserve_exact(grown.saturating_sub(buf.len()));
        let room = buf.capacity().min(cap) - buf.len();
        let before = buf.len();
        // `read_to_end` retries `Interrupted` itself.
        Read::take(&mut *r, room as u64).read_to_end(&mut buf)?;
        if buf.len() - before < room {
            return Ok((buf, true));
        }
    }
}

/// Reads a manifest input for `check` or `audit`: at most `limit` bytes (plus a byte order
/// mark, which the core strips before measuring).
pub fn read_manifest(origin_path: Option<&Path>, limit: usize) -> Result<Vec<u8>, ReadError> {
    read_bounded(origin_path, limit.saturating_add(BOM_LEN))
}

/// Reads `path` (`None`: stdin), refusing it once it is past `limit` bytes.
pub fn read_bounded(path: Option<&Path>, limit: usize) -> Result<Vec<u8>, ReadError> {
    let cap = limit.saturating_add(1);
    match path {
        None => {
            let (bytes, ended) =
                read_at_most(&mut std::io::stdin().lock(), cap).map_err(ReadError::Io)?;
            if ended {
                Ok(bytes)
            } else {
                Err(ReadError::TooLarge { size: None })
            }
        }
        Some(path) => {
            let mut file = std::fs::File::open(path).map_err(ReadError::Io)?;
            // A regular file's size says it is too large without reading it; it never sizes
            // a buffer (a file may grow or shrink while read).
            let size = file
                .metadata()
                .ok()
                .filter(Metadata::is_file)
                .map(|m| m.len());
            if let Some(size) = size.filter(|&s| s >= cap as u64) {
                return Err(ReadError::TooLarge { size: Some(size) });
            }
            let (bytes, ended) = read_at_most(&mut file, cap).map_err(ReadError::Io)?;
            if ended {
                Ok(bytes)
            } else {
                Err(ReadError::TooLarge { size: None })
            }
        }
    }
}

/// Sorts the entries of one directory into `Path` order (component by component), cheaply:
/// they are all `dir.join(name)` with the same `dir`, and a name is one component, so that
/// order is the byte order of the whole paths. `Path`'s own comparison parses components on
/// every call, which cost more than the rest of the walk.
fn sort_entries(paths: &mut [PathBuf]) {
    paths.sort_unstable_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
}

fn io_problem(source: String, e: &std::io::Error) -> Input {
    Input {
        source,
        origin: Origin::Problem(SourceProblem::Io(e.to_string())),
        walked: false,
    }
}

/// Compiles the `--exclude` globs (globset syntax: `*` and `?` also match `/`, `**` any number
/// of directories, `{a,b}` either, `[ab]` one of).
pub fn excludes(globs: &[String]) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for g in globs {
        set.add(Glob::new(g).map_err(|e| format!("--exclude `{g}`: {e}"))?);
    }
    set.build().map_err(|e| format!("--exclude: {e}"))
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|x| x.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// What a non-regular, non-directory file is, with its article.
fn special(ft: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    let _ = ft;
    "not a regular file"
}

/// The identity of a directory for loop detection: device and inode on Unix (robust against
/// bind mounts and renames during the walk), else the canonical path.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum DirId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn dir_id(path: &Path, meta: &Metadata) -> DirId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        DirId::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        DirId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

struct Walk<'a> {
    out: &'a mut Vec<Input>,
    /// Every directory walked so far: one reached again through another link is not walked
    /// twice (its files are judged once).
    visited: BTreeSet<DirId>,
    /// The directories from the root to the one being walked, to tell a loop.
    stack: Vec<(DirId, PathBuf)>,
    /// The directories named on the command line, canonical.
    roots: &'a [PathBuf],
    /// Whether links leading outside `roots` are followed (`--follow-symlinks-outside`).
    follow_outside: bool,
    /// The directory named on the command line that this walk started from.
    root: &'a Path,
    /// `--exclude`, matched against paths relative to `root`.
    exclude: &'a GlobSet,
}

impl Walk<'_> {
    /// Walks `dir`; `inside` is false under a link that led outside the named directories.
    fn dir(&mut self, dir: &Path, meta: &Metadata, inside: bool) {
        let id = dir_id(dir, meta);
        if let Some((_, ancestor)) = self.stack.iter().find(|(a, _)| *a == id) {
            self.out.push(Input {
                walked: true,
                source: dir.to_string_lossy().into_owned(),
                origin: Origin::Problem(SourceProblem::Loop {
                    target: ancestor.to_string_lossy().into_owned(),
                }),
            });
            return;
        }
        if !self.visited.insert(id.clone()) {
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.out
                    .push(io_problem(dir.to_string_lossy().into_owned(), &e));
                return;
            }
        };
        let mut paths = Vec::new();
        for e in entries {
            match e {
                Ok(e) => paths.push(e.path()),
                Err(e) => {
                    self.out
                        .push(io_problem(dir.to_string_lossy().into_owned(), &e));
                }
            }
        }
        sort_entries(&mut paths);
        self.stack.push((id, dir.to_path_buf()));
        for path in paths {
            self.entry(&path, inside);
        }
        self.stack.pop();
    }

    /// Where the symbolic link at `path` leads when that is outside every named directory
    /// (`None`: not a link, or a link that stays inside).
    fn outside(&self, path: &Path) -> Option<PathBuf> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            return None;
        }
        // A link that cannot be resolved here was resolved by `metadata` a moment ago: it
        // changed under the walk, so treat it as outside rather than follow it blind.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        (!self.roots.iter().any(|r| target.starts_with(r))).then_some(target)
    }

    /// Whether `--exclude` leaves out `path`, by its path relative to the walk's root with `/`
    /// between components.
    fn excluded(&self, path: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let Ok(relative) = path.strip_prefix(self.root) else {
            return false;
        };
        let parts: Vec<std::borrow::Cow<'_, str>> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        self.exclude.is_match(parts.join("/"))
    }

    fn entry(&mut self, path: &Path, inside: bool) {
        if self.excluded(path) {
            return;
        }
        let source = path.to_string_lossy().into_owned();
        let manifest = is_manifest_name(path);
        // `metadata` follows symbolic links: a link to a directory is walked, a link to a file
        // read; a broken or looping link fails here.
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                // Reported where a manifest could be: on a `*.yaml` name whatever the error,
                // and on any link that loops or cannot be followed (it may have led to a
                // directory of manifests). A dangling link with another name is ignored, like
                // any other file that is not a manifest.
                let is_link = std::fs::symlink_metadata(path)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(true);
                if manifest || (is_link && e.kind() != std::io::ErrorKind::NotFound) {
                    self.out.push(io_problem(source, &e));
                }
                return;
            }
        };
        // What would be walked or read: a directory, or a regular file named like a manifest
        // (FIFOs, sockets and devices are reported below without being opened).
        let followed = if meta.is_dir() {
            !manifest
        } else {
            manifest && meta.is_file()
        };
        let mut inside = inside;
        if followed {
            if let Some(target) = self.outside(path) {
                if !self.follow_outside {
                    self.out.push(Input {
                        walked: true,
                        source,
                        origin: Origin::Problem(SourceProblem::OutsideRoots {
                            target: target.to_string_lossy().into_owned(),
                        }),
                    });
                    return;
                }
                inside = false;
            }
        }
        if meta.is_dir() {
            if manifest {
                self.out.push(Input {
                    walked: true,
                    source,
                    origin: Origin::Problem(SourceProblem::Directory),
                });
            } else {
                self.dir(path, &meta, inside);
            }
            return;
        }
        if !manifest {
            return;
        }
        if meta.is_file() {
            self.out.push(Input {
                walked: true,
                source,
                origin: Origin::File {
                    path: path.to_path_buf(),
                    writable: inside,
                },
            });
        } else {
            self.out.push(Input {
                walked: true,
                source,
                origin: Origin::Problem(SourceProblem::NotAFile {
                    what: special(&meta.file_type()),
                }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless input that hands out odd-sized reads, like a pipe or a file still growing.
    struct Endless(usize);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0 += 1;
            let n = buf.len().min(1 + self.0 * 7919 % 100_000);
            buf[..n].fill(b'y');
            Ok(n)
        }
    }

    #[test]
    fn an_endless_input_stops_at_the_cap_and_holds_no_more() {
        for cap in [1, 2, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 4 * 1024 * 1024 + 4] {
            let (bytes, ended) = read_at_most(&mut Endless(0), cap).unwrap();
            assert!(!ended);
            assert_eq!(bytes.len(), cap);
            assert!(bytes.capacity() <= cap, "{cap}: {}", bytes.capacity());
        }
    }

    /// One directory's entries sorted by bytes come out in `Path`'s component order, whatever
    /// the directory's spelling and the names' punctuation (`a` sorts before `a-b`, `a.b`,
    /// `a/b`'s directory `a` before both, names that are not UTF-8 by their bytes).
    #[test]
    fn entries_sort_in_path_order() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let names: Vec<&OsStr> = [
            &b"a"[..],
            b"a-b",
            b"a.b",
            b"a b",
            b"a_b",
            b"ab",
            b"a0",
            b"A",
            b"B",
            b"a~",
            b".a",
            b"a.b.c",
            b"a.yaml",
            b"a-yaml",
            b"\xc3\xa9",
            b"a\xff",
            b"a\x7f",
            b"z",
            b"-",
            b"..a",
        ]
        .into_iter()
        .map(OsStr::from_bytes)
        .collect();
        for dir in ["d", "d/", "./d", "/tmp/x y/d.e", "../a-b/a", "."] {
            let mut by_bytes: Vec<PathBuf> = names.iter().map(|n| Path::new(dir).join(n)).collect();
            by_bytes.reverse();
            let mut by_components = by_bytes.clone();
            by_components.sort();
            sort_entries(&mut by_bytes);
            assert_eq!(by_bytes, by_components, "{dir}");
        }
    }

    /// A reader that hands out at most `step` bytes a call, with an `Interrupted` between.
    struct Trickle<'a>(&'a [u8], usize, bool);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.2 = !self.2;
            if self.2 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_and_interrupted_reads_are_read_whole() {
        let text = b"kind: Pod\n".repeat(20_000);
        for step in [1, 7, 4096, CHUNK + 3] {
            let (bytes, ended) = read_at_most(&mut Trickle(&text, step, false), 1 << 20).unwrap();
            assert!(ended, "{step}");
            assert_eq!(bytes, text, "{step}");
            let (bytes, ended) = read_at_most(&mut Trickle(&text, step, false), 1000).unwrap();
            assert!(!ended && bytes == text[..1000], "{step}");
        }
    }

    #[test]
    fn an_input_within_the_cap_is_read_whole() {
        let text = b"apiVersion: v1\n".repeat(10_000);
        let (bytes, ended) = read_at_most(&mut &text[..], text.len() + 1).unwrap();
        assert!(ended);
        assert_eq!(bytes, text);
        // Exactly the cap: more may follow, so it is not known to have ended.
        let (bytes, ended) = read_at_most(&mut &text[..], text.len()).unwrap();
        assert!(!ended);
        assert_eq!(bytes.len(), text.len());
        let (bytes, ended) = read_at_most(&mut &b""[..], 10).unwrap();
        assert!(ended && bytes.is_empty());
    }
}
