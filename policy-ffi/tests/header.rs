//! The checked-in header is exactly what the pinned cbindgen generates from `src/lib.rs`, and its
//! version macros match `Cargo.toml`. Set `CKS_POLICY_BLESS=1` to rewrite the header.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::CStr;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("include/cks_policy.h")
}

/// The version macros, from Cargo.toml. They live here rather than in cbindgen.toml because
/// maturin's cffi build reads cbindgen.toml and cffi accepts only integer `#define`s.
fn version_macros() -> String {
    let (major, minor, patch) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    format!(
        "\n#define CKS_POLICY_VERSION \"{}\"\n#define CKS_POLICY_VERSION_MAJOR {major}\n#define CKS_POLICY_VERSION_MINOR {minor}\n#define CKS_POLICY_VERSION_PATCH {patch}\n\n{}\n#define CKS_POLICY_VERSION_SYMBOL cks_policy_version_{major}_{minor}_{patch}\n",
        env!("CARGO_PKG_VERSION"),
        "// The name under which only a library of this version exports `cks_policy_version`:\n\
         // declare `const char *CKS_POLICY_VERSION_SYMBOL(void);` and call it, and a library of\n\
         // another version fails to link (the Go package does).",
    )
}

fn generate() -> String {
    let dir = crate_dir();
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("utf-8 header")
}

/// The Go module carries its own copy so it builds outside the repository tree.
fn go_header_path() -> PathBuf {
    crate_dir().join("go/cks_policy.h")
}

#[test]
fn header_is_up_to_date() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("CKS_POLICY_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        std::fs::write(go_header_path(), &generated).unwrap();
    }
    let go_copy = std::fs::read_to_string(go_header_path()).unwrap_or_default();
    assert!(
        go_copy == generated,
        "go/cks_policy.h differs from the generated header; regenerate with \
         `CKS_POLICY_BLESS=1 cargo test -p cks-policy-ffi --test header`"
    );
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let first = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "{} is stale (first difference at line {}); regenerate with \
             `CKS_POLICY_BLESS=1 cargo test -p cks-policy-ffi --test header`",
            path.display(),
            first + 1
        );
    }
}

fn macro_value(header: &str, name: &str) -> String {
    header
        .lines()
        .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
        .unwrap_or_else(|| panic!("{name} missing from the header"))
        .trim()
        .to_owned()
}

#[test]
fn version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    // Read Cargo.toml itself rather than trusting env!: the workspace version is the source.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
            .unwrap();
    let version = manifest
        .split("[workspace.package]")
        .nth(1)
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .expect("workspace.package.version");
    assert_eq!(
        macro_value(&header, "CKS_POLICY_VERSION"),
        format!("\"{version}\"")
    );
    let mut parts = version.split('.');
    for name in [
        "CKS_POLICY_VERSION_MAJOR",
        "CKS_POLICY_VERSION_MINOR",
        "CKS_POLICY_VERSION_PATCH",
    ] {
        assert_eq!(macro_value(&header, name), parts.next().unwrap());
    }
    // SAFETY: the export returns a static NUL-terminated string.
    let runtime = unsafe { CStr::from_ptr(cks_policy::cks_policy_version()) };
    assert_eq!(runtime.to_str().unwrap(), version);
    assert_eq!(policy_core::VERSION, version);
    let symbol = format!("cks_policy_version_{}", version.replace('.', "_"));
    assert_eq!(macro_value(&header, "CKS_POLICY_VERSION_SYMBOL"), symbol);
    // SAFETY: as above.
    let versioned = unsafe { CStr::from_ptr(cks_policy::cks_policy_versioned()) };
    assert_eq!(versioned.to_str().unwrap(), version);
    // The Go package refuses, at compile time, a header that is not its own version.
    let go = std::fs::read_to_string(crate_dir().join("go/ckspolicy.go")).unwrap();
    let mut parts = version.split('.');
    let (major, minor, patch) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let guard = format!(
        "#if CKS_POLICY_VERSION_MAJOR != {major} || CKS_POLICY_VERSION_MINOR != {minor} || CKS_POLICY_VERSION_PATCH != {patch}"
    );
    assert!(
        go.contains(&guard),
        "go/ckspolicy.go's preamble must check the header's version: `{guard}`"
    );
    assert!(
        go.contains(&format!("\"{version}\"")),
        "go/ckspolicy.go's PackageVersion"
    );
}
