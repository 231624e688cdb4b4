//! The root package's only target, so the root manifest is a package pre-commit can
//! `cargo install --path .` (a no-op: this binary needs the `stub` feature). Run by hand it
//! says where the real CLI is.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("this is not cks-policy; install the CLI with `cargo install --locked --path cli`");
    ExitCode::from(2)
}
