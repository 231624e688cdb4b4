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

use common::{cks_in, root, scratch};
use serde_json::Value;

fn json_check(dir: &Path, paths: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(paths);
    let o = cks_in(dir, &args, None);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o:?}"));
    (o.status.code(), v)
}

/// The `input-invalid` message of the result for `source`, if there is exactly one result.
fn invalid(v: &Value, source: &str) -> String {
    let rs: Vec<&Value> = v["results"]
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
    let (code, v) = json_check(&dir, &["only"]);
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
    let (code, v) = json_check(&dir, &["m", "no/such.yaml", "m/pod.yaml"]);
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
