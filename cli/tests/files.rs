//! Walking the paths named on the command line (issue 11, item 6): symbolic links are followed
//! with loop detection; FIFOs, sockets and devices met in a walk are reported, not opened; what
//! cannot be read is one `input-invalid` result for its path and the rest of the batch is judged
//! (exit 1, not 2).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::{cks_in, invalid, root, scratch};
use serde_json::Value;

fn json_check(dir: &Path, paths: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(paths);
    let o = cks_in(dir, &args, None);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o:?}"));
    (o.status.code(), v)
}

fn judged(v: &Value, source: &str) -> bool {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["source"] == source && r["kind"] == "Pod")
}

fn mkfifo(path: &Path) {
    let s = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(s.success(), "mkfifo {}", path.display());
}

#[test]
fn a_directory_holding_only_a_link_to_the_manifests_finds_them() {
    let dir = scratch("linkdir");
    std::fs::create_dir(dir.join("only")).unwrap();
    symlink(root().join("examples"), dir.join("only/manifests")).unwrap();
    // The link leads outside the folder named: one finding, not followed, unless asked.
    let (code, v) = json_check(&dir, &["only"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
    let msg = invalid(&v, "only/manifests");
    assert!(msg.contains("outside the paths named"), "{msg}");
    let (code, v) = json_check(&dir, &["--follow-symlinks-outside", "only"]);
    assert_eq!(code, Some(1), "the examples hold errors");
    let results = v["results"].as_array().unwrap();
    assert!(results.len() >= 5, "{v}");
    assert!(results
        .iter()
        .all(|r| r["source"].as_str().unwrap().starts_with("only/manifests/")));
    assert!(judged(&v, "only/manifests/cpu-pod.yaml"));
}

#[test]
fn a_symlink_loop_is_one_finding_and_the_rest_is_judged() {
    let dir = scratch("loop");
    std::fs::create_dir_all(dir.join("m/sub")).unwrap();
    std::fs::write(dir.join("m/pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    std::fs::write(dir.join("m/sub/pod.yaml"), common::clean_pod("b", "ns")).unwrap();
    // A link back to an ancestor, and two links that lead to each other.
    symlink("..", dir.join("m/sub/up")).unwrap();
    symlink("l2.yaml", dir.join("m/l1.yaml")).unwrap();
    symlink("l1.yaml", dir.join("m/l2.yaml")).unwrap();
    // A second way into `sub` (walked after it, by name): its files are judged once.
    symlink("sub", dir.join("m/zz-again")).unwrap();
    let (code, v) = json_check(&dir, &["m"]);
    assert_eq!(code, Some(1), "{v}");
    let msg = invalid(&v, "m/sub/up");
    assert!(msg.contains("leads back to `m`"), "{msg}");
    for l in ["m/l1.yaml", "m/l2.yaml"] {
        let msg = invalid(&v, l);
        assert!(msg.starts_with("cannot read this source: "), "{msg}");
    }
    assert!(judged(&v, "m/pod.yaml"));
    let sub_pods = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "b")
        .count();
    assert_eq!(sub_pods, 1, "the linked directory is judged once: {v}");
    assert_eq!(v["summary"]["errors"], 3, "{v}");
}

#[test]
fn fifos_sockets_and_devices_in_a_walk_are_reported_not_opened() {
    let dir = scratch("special");
    std::fs::create_dir(dir.join("m")).unwrap();
    std::fs::write(dir.join("m/pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    // Nobody ever writes to this FIFO: opening it would block forever (`cks_in` kills a run
    // that takes over 20 s).
    mkfifo(&dir.join("m/x.yaml"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("m/s.yaml")).unwrap();
    symlink("/dev/zero", dir.join("m/zero.json")).unwrap();
    // A directory named like a manifest.
    std::fs::create_dir(dir.join("m/d.yaml")).unwrap();
    std::fs::write(
        dir.join("m/d.yaml/inner.yaml"),
        common::clean_pod("b", "ns"),
    )
    .unwrap();
    // A FIFO with another name is not a manifest: ignored.
    mkfifo(&dir.join("m/pipe"));
    let (code, v) = json_check(&dir, &["m"]);
    assert_eq!(code, Some(1), "{v}");
    assert!(invalid(&v, "m/x.yaml").starts_with("this source is a FIFO, not a regular file"));
    assert!(invalid(&v, "m/s.yaml").starts_with("this source is a socket"));
    assert!(invalid(&v, "m/zero.json").starts_with("this source is a device"));
    assert!(invalid(&v, "m/d.yaml").contains("directory named like a manifest"));
    assert!(judged(&v, "m/pod.yaml"));
    assert_eq!(v["results"].as_array().unwrap().len(), 5, "{v}");
}

#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let dir = scratch("fifo-arg");
    let fifo = dir.join("in.yaml");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, common::clean_pod("piped", "ns")).unwrap())
    };
    let (code, v) = json_check(&dir, &["in.yaml"]);
    writer.join().unwrap();
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["results"][0]["name"], "piped");
}

/// Unreadable files: mode 000 when the tests do not run as root (root reads it anyway, so that
/// case is asserted only when the file really is unreadable), and, as anyone, a link to
/// `/proc/self/mem`, whose first page the process cannot read (EIO).
#[test]
fn unreadable_and_missing_paths_are_findings_and_the_batch_goes_on() {
    let dir = scratch("unreadable");
    std::fs::create_dir(dir.join("m")).unwrap();
    std::fs::write(dir.join("m/pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    let locked = dir.join("m/locked.yaml");
    std::fs::write(&locked, common::clean_pod("b", "ns")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let locked_is_unreadable = std::fs::read(&locked).is_err();
    let mem = Path::new("/proc/self/mem");
    assert!(mem.exists(), "this test needs Linux /proc");
    symlink(mem, dir.join("m/mem.yaml")).unwrap();
    // `/proc/self/mem` is outside the folder named: reading it takes the flag.
    let (code, v) = json_check(
        &dir,
        &[
            "--follow-symlinks-outside",
            "m",
            "no/such.yaml",
            "m/pod.yaml",
        ],
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code, Some(1), "{v}");
    let msg = invalid(&v, "m/mem.yaml");
    assert!(msg.starts_with("cannot read this source: "), "{msg}");
    let missing = invalid(&v, "no/such.yaml");
    assert!(missing.contains("No such file or directory"), "{missing}");
    if locked_is_unreadable {
        assert!(invalid(&v, "m/locked.yaml").contains("Permission denied"));
    } else {
        assert!(judged(&v, "m/locked.yaml"), "root reads a mode-000 file");
    }
    // The readable file is judged both in the walk and as named.
    let pods = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "m/pod.yaml" && r["allowed"] == true)
        .count();
    assert_eq!(pods, 2, "{v}");
    // Human output names the path too.
    let o = cks_in(&dir, &["check", "no/such.yaml"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(
        "no/such.yaml: error input-invalid: cannot read this source: No such file or directory"
    ));
}

/// A Pod that `--fix` changes: no `is_cpu_compute` toleration, which CKS admission adds.
fn fixable_pod(name: &str) -> String {
    common::clean_pod(name, "ns").replace(
        "  tolerations: [{key: is_cpu_compute, operator: Exists, effect: NoSchedule}]\n",
        "",
    )
}

/// Issue 18, item 4: a link to `/` in a checked folder (a pull request can add one) is one
/// finding; nothing behind it is read, and the rest of the folder is judged.
#[test]
fn a_link_to_the_root_of_the_file_system_costs_one_finding() {
    let dir = scratch("link-root");
    std::fs::create_dir(dir.join("m")).unwrap();
    std::fs::write(dir.join("m/pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    symlink("/", dir.join("m/everything")).unwrap();
    let (code, v) = json_check(&dir, &["m"]);
    assert_eq!(code, Some(1), "{v}");
    let msg = invalid(&v, "m/everything");
    assert!(
        msg.starts_with("this symbolic link leads to `/`, outside the paths named on the command line; it was not followed"),
        "{msg}"
    );
    assert!(judged(&v, "m/pod.yaml"));
    assert_eq!(v["results"].as_array().unwrap().len(), 2, "{v}");
    // Human output: one line for the link, one for the summary (the pod is clean).
    let o = cks_in(&dir, &["check", "m"], None);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("m/everything: error input-invalid: this symbolic link leads to `/`"));
}

#[test]
fn a_link_to_a_file_outside_is_one_finding_and_not_judged() {
    let dir = scratch("link-file-out");
    std::fs::create_dir_all(dir.join("repo/m")).unwrap();
    std::fs::write(dir.join("secret.yaml"), fixable_pod("outside")).unwrap();
    std::fs::write(dir.join("repo/m/pod.yaml"), common::clean_pod("a", "ns")).unwrap();
    symlink("../../secret.yaml", dir.join("repo/m/linked.yaml")).unwrap();
    let (code, v) = json_check(&dir.join("repo"), &["m"]);
    assert_eq!(code, Some(1), "{v}");
    let msg = invalid(&v, "m/linked.yaml");
    let target = std::fs::canonicalize(dir.join("secret.yaml")).unwrap();
    assert!(
        msg.contains(&format!("leads to `{}`", target.display())),
        "{msg}"
    );
    assert!(!judged(&v, "m/linked.yaml"), "{v}");
    assert!(!v.to_string().contains("\"outside\""), "{v}");
    // The flag follows it.
    let (_, v) = json_check(&dir.join("repo"), &["--follow-symlinks-outside", "m"]);
    assert!(judged(&v, "m/linked.yaml"), "{v}");
    // A file named on the command line is read, link or not: the user named it.
    let (_, v) = json_check(&dir.join("repo"), &["m/linked.yaml"]);
    assert!(judged(&v, "m/linked.yaml"), "{v}");
}

#[test]
fn links_that_stay_inside_the_paths_named_are_followed() {
    let dir = scratch("link-inside");
    std::fs::create_dir_all(dir.join("a/shared")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("a/shared/pod.yaml"), common::clean_pod("p", "ns")).unwrap();
    std::fs::write(dir.join("b/other.yaml"), common::clean_pod("o", "ns")).unwrap();
    // Inside the folder named, through a detour that leaves it and comes back.
    symlink("../a/shared/pod.yaml", dir.join("a/same.yaml")).unwrap();
    // Into another folder named on the same command line.
    symlink("../b", dir.join("a/to-b")).unwrap();
    let (code, v) = json_check(&dir, &["a", "b"]);
    assert_eq!(code, Some(0), "{v}");
    for s in [
        "a/same.yaml",
        "a/shared/pod.yaml",
        "a/to-b/other.yaml",
        "b/other.yaml",
    ] {
        assert!(judged(&v, s), "{s}: {v}");
    }
    // Named alone, `a` no longer contains `b`: the link to it is outside.
    let (code, v) = json_check(&dir, &["a"]);
    assert_eq!(code, Some(1), "{v}");
    assert!(invalid(&v, "a/to-b").contains("outside the paths named"));
    assert!(judged(&v, "a/same.yaml"));
}

/// `--fix --write` never writes outside the folders named: not through a link it does not
/// follow, nor through one `--follow-symlinks-outside` follows.
#[test]
fn fix_write_leaves_a_file_outside_the_folder_alone() {
    let dir = scratch("link-fix");
    std::fs::create_dir_all(dir.join("repo/m")).unwrap();
    let outside = dir.join("outside.yaml");
    std::fs::write(&outside, fixable_pod("out")).unwrap();
    let inside = dir.join("repo/m/in.yaml");
    std::fs::write(&inside, fixable_pod("in")).unwrap();
    symlink("../../outside.yaml", dir.join("repo/m/linked.yaml")).unwrap();
    symlink("in.yaml", dir.join("repo/m/alias.yaml")).unwrap();
    let repo = dir.join("repo");
    for flags in [&[][..], &["--follow-symlinks-outside"][..]] {
        std::fs::write(&inside, fixable_pod("in")).unwrap();
        let mut args = vec!["check", "--fix", "--write"];
        args.extend_from_slice(flags);
        args.push("m");
        let o = cks_in(&repo, &args, None);
        assert_ne!(o.status.code(), Some(2), "{flags:?}: {o:?}");
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            fixable_pod("out"),
            "{flags:?}: the file outside is unchanged"
        );
        let fixed = std::fs::read_to_string(&inside).unwrap();
        assert!(fixed.contains("is_cpu_compute"), "{flags:?}: {fixed}");
        if !flags.is_empty() {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains(
                    "`m/linked.yaml` was reached through a symbolic link that leads outside"
                ),
                "{err}"
            );
        }
    }
}

/// Human output is written as each input is judged: the first file's lines are out before
/// the second input (a FIFO nobody has written yet) is even opened.
#[test]
fn human_output_is_written_as_each_file_is_judged() {
    use std::io::BufRead;
    let dir = scratch("stream");
    std::fs::write(dir.join("a.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: nginx}]\n").unwrap();
    let fifo = dir.join("b.yaml");
    mkfifo(&fifo);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cks-policy"))
        .args(["check", "a.yaml", "b.yaml"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines.next().map(Result::unwrap);
        tx.send(first.clone()).unwrap();
        first
            .into_iter()
            .chain(lines.map(Result::unwrap))
            .collect::<Vec<_>>()
    });
    // Not a timing assertion: a generous bound that only a CLI that waits for every input
    // before printing (and so blocks on the FIFO forever) can exceed.
    let first = rx.recv_timeout(std::time::Duration::from_secs(20));
    // Whatever happened, let the CLI finish.
    std::fs::write(&fifo, common::clean_pod("b", "ns")).unwrap();
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    let first = first
        .expect("no output before the FIFO was written")
        .unwrap();
    assert!(first.starts_with("a.yaml:"), "{first}");
    assert_eq!(status.code(), Some(1));
    assert!(
        lines.last().unwrap().starts_with("2 documents"),
        "{lines:?}"
    );
}
