//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh scratch directory for one test, removed when dropped (also when the test panics).
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("cks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A scratch directory that removes itself and everything in it on drop.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::fs::remove_dir_all(&self.0).is_ok() {
            return;
        }
        // A test may have left a directory unreadable: make everything removable, then retry.
        writable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Gives the owner full access to `path` and, when it is a directory (not a link), to
/// everything under it.
fn writable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() {
            return;
        }
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
        if meta.is_dir() {
            for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
                writable(&e.path());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Runs `cks-policy` in `dir` with `args`, killing it after 20 s (a hang is a failure, not a
/// stuck test run).
pub fn cks_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cks-policy"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("cks-policy {args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Runs `cks-policy` in the workspace root.
pub fn cks(args: &[&str]) -> Output {
    cks_in(&root(), args, None)
}

/// Runs `cks-policy` in the workspace root with `input` on stdin.
pub fn cks_stdin(args: &[&str], input: &[u8]) -> Output {
    cks_in(&root(), args, Some(input))
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// True when `CI` says this is a CI run (`true` or `1`).
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Whether `program --version`-like probe `args` runs. When it does not, under `CI=true` the
/// test fails; elsewhere one line on stderr (not captured) says what did not run and how to get
/// the tool (`.ci/install`).
pub fn tool(what: &str, program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    assert!(
        !ci(),
        "CI=true but `{program}` is missing or fails ({args:?}): {what} cannot run; .ci/install installs it"
    );
    let _ = writeln!(
        std::io::stderr(),
        "note: {what} not run: `{program}` is missing (run .ci/install)"
    );
    false
}

/// A clean Pod manifest (digest-pinned image) in namespace `ns`.
pub fn clean_pod(name: &str, ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  tolerations: [{{key: is_cpu_compute, operator: Exists, effect: NoSchedule}}]\n  containers:\n  - name: c\n    image: registry.example.com/app@sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f\n"
    )
}

/// The `input-invalid` message of the result for `source`, if there is exactly one result.
pub fn invalid(v: &serde_json::Value, source: &str) -> String {
    let rs: Vec<&serde_json::Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == source)
        .collect();
    assert_eq!(rs.len(), 1, "one result for {source}: {v}");
    assert_eq!(rs[0]["findings"][0]["rule"], "input-invalid", "{v}");
    assert_eq!(rs[0]["allowed"], false);
    rs[0]["findings"][0]["message"].as_str().unwrap().to_owned()
}
