//! Finding the manifest files named on the command line.
//!
//! Directories are walked recursively, following symbolic links (as `kubectl apply -R -f`
//! does), for `*.yaml`, `*.yml` and `*.json`. What cannot be read becomes one input that the
//! core reports as `input-invalid` ([`policy_core::unreadable`]), and the rest of the batch is
//! still judged: a missing path, an unreadable file, a broken or looping symbolic link, a
//! directory named like a manifest, and a FIFO, socket or device met in a walk (reported, never
//! opened: reading one can block forever). A FIFO or device named on the command line is read,
//! since the user asked for it (`cks-policy check <(helm template chart)`).

use std::collections::BTreeSet;
use std::fs::{FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use policy_core::SourceProblem;

/// One input: its source name and either its bytes or why it could not be read.
pub struct Input {
    /// The path as given or found (`-` for stdin).
    pub source: String,
    /// The bytes, or the problem the core reports for this source.
    pub content: Result<Vec<u8>, SourceProblem>,
}

/// Reads every input: files as named, directories recursively (sorted by path), `-` as stdin.
/// Only a failure to read stdin is an error (exit 2); every other problem is an [`Input`]
/// that carries it.
pub fn collect(paths: &[String]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            out.push(Input {
                source: "-".to_owned(),
                content: Ok(buf),
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
                };
                walk.dir(path, &meta);
                found.sort_by(|a, b| a.source.cmp(&b.source));
                out.extend(found);
            }
            // Named on the command line: read it, whatever it is (a FIFO from `<(…)` too).
            Ok(_) => out.push(read(p.clone(), path)),
        }
    }
    Ok(out)
}

fn io_problem(source: String, e: &std::io::Error) -> Input {
    Input {
        source,
        content: Err(SourceProblem::Io(e.to_string())),
    }
}

fn read(source: String, path: &Path) -> Input {
    match std::fs::read(path) {
        Ok(bytes) => Input {
            source,
            content: Ok(bytes),
        },
        Err(e) => io_problem(source, &e),
    }
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
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, meta: &Metadata) {
        let id = dir_id(dir, meta);
        if let Some((_, ancestor)) = self.stack.iter().find(|(a, _)| *a == id) {
            self.out.push(Input {
                source: dir.to_string_lossy().into_owned(),
                content: Err(SourceProblem::Loop {
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
        paths.sort();
        self.stack.push((id, dir.to_path_buf()));
        for path in paths {
            self.entry(&path);
        }
        self.stack.pop();
    }

    fn entry(&mut self, path: &Path) {
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
        if meta.is_dir() {
            if manifest {
                self.out.push(Input {
                    source,
                    content: Err(SourceProblem::Directory),
                });
            } else {
                self.dir(path, &meta);
            }
            return;
        }
        if !manifest {
            return;
        }
        if meta.is_file() {
            self.out.push(read(source, path));
        } else {
            self.out.push(Input {
                source,
                content: Err(SourceProblem::NotAFile {
                    what: special(&meta.file_type()),
                }),
            });
        }
    }
}
