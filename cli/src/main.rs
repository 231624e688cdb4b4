//! `cks-policy`: judge Kubernetes manifests and AdmissionReviews against the CKS rules.
//!
//! Exit status: 0 no error findings, 1 error findings (including `input-invalid`, which is also
//! what a path that cannot be read becomes), 2 usage or I/O errors (stdin or an output file).

mod files;
mod output;
mod read;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use output::FormatSpec;
use policy_core::call::Call;
use policy_core::{Judgement, Policy, Report};

#[derive(Parser)]
#[command(
    name = "cks-policy",
    version,
    about = "Check Kubernetes manifests against the rules of CoreWeave Kubernetes Service (CKS)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ShortFormat {
    Human,
    Json,
}

/// `rules` output: the short formats, or the Markdown table of README and USAGE.md.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum RulesFormat {
    Human,
    Json,
    Markdown,
}

/// What `check` and `audit` share: settings, context, format and the files to judge.
#[derive(clap::Args)]
struct JudgeArgs {
    /// Settings file (JSON or YAML). Without it, `.cks-policy.yaml` is used when found in the
    /// current directory or a parent up to the repository root (the first with `.git`).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Cluster context file (JSON): `{"namespaces": {"<ns>": {<labels>}}}`.
    #[arg(long)]
    context: Option<PathBuf>,
    /// Output format, optionally written to a file: `human`, `json`, `sarif`, `github`,
    /// `junit` or `openreports`, as `FORMAT` or `FORMAT=FILE`. Repeat it for several outputs
    /// (`--format sarif=out.sarif --format human`); at most one goes to stdout.
    #[arg(long = "format", value_name = "FORMAT[=FILE]", value_parser = output::parse_spec, default_value = "human", action = clap::ArgAction::Append)]
    formats: Vec<FormatSpec>,
    /// Follow symbolic links met in a directory that lead outside every directory named
    /// (by default each is one `input-invalid` finding and is not followed). `--fix --write`
    /// still rewrites nothing reached that way.
    #[arg(long)]
    follow_symlinks_outside: bool,
    /// Leave out files and directories of a directory walk whose path relative to the
    /// directory named matches GLOB (`*` also matches `/`, `**` any number of directories,
    /// `{a,b}` either): `--exclude 'charts/**' --exclude '*.tpl.yaml'`. Repeatable; a file named
    /// on the command line is always judged.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Files or directories (searched recursively for *.yaml, *.yml, *.json, following
    /// symbolic links that stay inside them; there a document with neither `apiVersion` nor
    /// `kind` is skipped and counted, not judged); `-` for stdin.
    #[arg(required = true)]
    paths: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Judge manifest files (YAML/JSON, multi-document, `kind: List`, AdmissionReviews).
    Check {
        #[command(flatten)]
        judge: JudgeArgs,
        /// Print the documents with the mutations applied instead of the findings (a `--format`
        /// with `=FILE` is still written).
        #[arg(long)]
        fix: bool,
        /// With --fix: rewrite the files in place (other documents are kept byte for byte).
        #[arg(long, requires = "fix")]
        write: bool,
    },
    /// Judge manifests as existing cluster state (`kubectl get -A -o yaml | cks-policy audit -`):
    /// change rules do not fire, and mutations are reported as what CKS admission would have
    /// added, with no patch. Same exit status as `check`.
    Audit {
        #[command(flatten)]
        judge: JudgeArgs,
    },
    /// Read an AdmissionReview (JSON or YAML) and print the AdmissionReview response a webhook
    /// would return.
    Review {
        /// Settings file (JSON or YAML).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Cluster context file (JSON).
        #[arg(long)]
        context: Option<PathBuf>,
        /// The AdmissionReview file (JSON, or YAML holding one document), or `-` for stdin.
        file: String,
    },
    /// Say which nodes can take a pod and why the others cannot.
    Fits {
        /// Settings file (JSON or YAML).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: ShortFormat,
        /// Nodes: a multi-document file or a `kind: List` (`kubectl get nodes -o yaml`).
        #[arg(long)]
        nodes: String,
        /// Pods already running: a multi-document file or a `kind: List` (`kubectl get pods -A
        /// -o yaml`); each counts against the node in its `spec.nodeName` unless it has finished.
        #[arg(long)]
        pods: Option<String>,
        /// The pod (or a workload: its first pod template), or `-` for stdin.
        pod: String,
    },
    /// List the rules: id, default severity, and what each checks.
    Rules {
        /// Output format (`markdown`: the rule table of README and the Kubewarden USAGE.md).
        #[arg(long, value_enum, default_value = "human")]
        format: RulesFormat,
    },
    /// Print native Kubernetes policies (ValidatingAdmissionPolicy + binding) for the rules CEL
    /// expresses, and on 1.36+ the MutatingAdmissionPolicy that appends the `is_cpu_compute`
    /// toleration, as a YAML stream for `kubectl apply -f -`.
    Vap {
        /// Settings file (JSON or YAML).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Kubernetes version the policies are for (`1.33` or later).
        #[arg(long, default_value = "1.35")]
        kubernetes_version: String,
        /// Write one file per object into this folder instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of the settings.
    Schema,
    /// Print what the reader built from each input as JSON lines (for the kubectl differential
    /// test, `e2e/kubectl-diff`): per result its kind, namespace, name, `input-invalid`
    /// messages and the object's fields the rules read.
    #[command(hide = true)]
    Read {
        /// Settings file (JSON or YAML).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Files or directories, as for `check`; `-` for stdin.
        #[arg(required = true)]
        paths: Vec<String>,
    },
}

/// A usage or I/O error: exit status 2.
struct Fatal(String);

/// The words of a refusal past `limit` bytes, as the core says it.
fn too_large(size: Option<u64>, limit: usize) -> String {
    policy_core::SourceProblem::TooLarge { size, limit }.to_string()
}

/// Reads `path` (`-`: stdin) for `review` and `fits`, refusing it past `limit` bytes
/// (`limits.maxBytes`) without reading further. `what` names it in errors.
fn read_input(what: &str, path: &str, limit: usize) -> Result<Vec<u8>, Fatal> {
    let file = (path != "-").then(|| std::path::Path::new(path));
    files::read_bounded(file, limit).map_err(|e| match e {
        files::ReadError::Io(e) if path == "-" => Fatal(format!("cannot read stdin: {e}")),
        files::ReadError::Io(e) => Fatal(format!("cannot read {what}`{path}`: {e}")),
        files::ReadError::TooLarge { size } => {
            Fatal(format!("{what}`{path}`: {}", too_large(size, limit)))
        }
    })
}

/// The name of the settings file found without `--settings`.
const SETTINGS_FILE: &str = ".cks-policy.yaml";

/// The settings to use: `--settings` when given, else `.cks-policy.yaml` in the current
/// directory or a parent up to the repository root (the first directory with `.git`; outside
/// a repository only the current directory is looked at). Says on stderr which file it found.
fn settings_file(explicit: Option<PathBuf>) -> Option<PathBuf> {
    if explicit.is_some() {
        return explicit;
    }
    let cwd = std::env::current_dir().ok()?;
    let in_repo = cwd.ancestors().any(|d| d.join(".git").exists());
    for dir in cwd.ancestors() {
        let candidate = dir.join(SETTINGS_FILE);
        if candidate.is_file() {
            let shown = candidate
                .strip_prefix(&cwd)
                .map_or_else(|_| candidate.clone(), Path::to_path_buf);
            eprintln!("cks-policy: settings: {}", shown.display());
            return Some(shown);
        }
        if !in_repo || dir.join(".git").exists() {
            break;
        }
    }
    None
}

fn load_policy(settings: Option<&PathBuf>) -> Result<Policy, Fatal> {
    let bytes = match settings {
        Some(p) => files::read_bounded(Some(p), files::SETTINGS_MAX_BYTES).map_err(|e| {
            Fatal(match e {
                files::ReadError::Io(e) => format!("cannot read settings `{}`: {e}", p.display()),
                files::ReadError::TooLarge { size } => format!(
                    "settings `{}` are above the limit of {} bytes for a settings file{}",
                    p.display(),
                    files::SETTINGS_MAX_BYTES,
                    size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
                ),
            })
        })?,
        None => Vec::new(),
    };
    Policy::from_slice(&bytes).map_err(|e| {
        let mut msg = String::from("invalid settings:");
        let file = settings.map(|p| p.display().to_string());
        for p in e.problems() {
            match (&file, p.line) {
                (Some(f), Some(l)) => msg.push_str(&format!("\n  {f}:{l}: {p}")),
                _ => msg.push_str(&format!("\n  {p}")),
            }
        }
        Fatal(msg)
    })
}

/// The call layer with the context file read (refused past `limits.maxBytes` like any input);
/// what its bytes mean is the core's to say.
fn load_context<'p>(policy: &'p Policy, path: Option<&PathBuf>) -> Result<Call<'p>, Fatal> {
    let Some(p) = path else {
        return Call::new(policy, None).map_err(|e| Fatal(e.to_string()));
    };
    // A file, even one named `-` (stdin is the manifests').
    let limit = policy.settings().limits.max_bytes;
    let bytes = files::read_bounded(Some(p), limit).map_err(|e| {
        Fatal(match e {
            files::ReadError::Io(e) => {
                format!("cannot read context `{}`: {e}", p.display())
            }
            files::ReadError::TooLarge { size } => {
                format!("context `{}`: {}", p.display(), too_large(size, limit))
            }
        })
    })?;
    Call::new(policy, Some(&bytes)).map_err(|e| Fatal(format!("{}: {e}", p.display())))
}

fn print(s: &str) -> Result<(), Fatal> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Fatal(format!("cannot write output: {e}")))
}

/// Checks that at most one format goes to stdout and no file is named twice.
fn check_formats(formats: &[FormatSpec]) -> Result<(), Fatal> {
    if formats.iter().filter(|f| f.file.is_none()).count() > 1 {
        return Err(Fatal(String::from(
            "at most one --format can go to stdout; write the others to files (`--format sarif=out.sarif`)",
        )));
    }
    for (i, f) in formats.iter().enumerate() {
        if let Some(file) = &f.file {
            if formats[..i].iter().any(|g| g.file.as_ref() == Some(file)) {
                return Err(Fatal(format!("--format names the file `{file}` twice")));
            }
        }
    }
    Ok(())
}

/// Writes the report in every format to its file, then the one for stdout (unless `stdout`
/// is false: `--fix` prints the documents instead). A human format already streamed to stdout
/// only has its summary left to print.
fn emit(
    report: &Report,
    formats: &[FormatSpec],
    stdout: bool,
    streamed: bool,
) -> Result<(), Fatal> {
    let cwd = std::env::current_dir().ok();
    let base_dir = cwd.as_deref().and_then(|d| d.to_str());
    for f in formats {
        match &f.file {
            Some(file) => std::fs::write(file, output::render(report, f.format, base_dir))
                .map_err(|e| Fatal(format!("cannot write `{file}`: {e}")))?,
            None if stdout && streamed && f.format == output::Format::Human => {
                print(&output::human_summary(report))?;
            }
            None if stdout => print(&output::render(report, f.format, base_dir))?,
            None => {}
        }
    }
    Ok(())
}

/// How `check` and `audit` go through their inputs.
struct Judging<'a> {
    paths: &'a [String],
    /// `limits.maxBytes`: no input is read past it.
    limit: usize,
    follow_outside: bool,
    /// `--exclude`.
    exclude: globset::GlobSet,
    /// The human format streamed to stdout as each input is judged (then only the summary is
    /// left for the end).
    stream: Option<output::HumanStream>,
}

/// Judges every input (`check` or `audit`), one at a time: each is read (never past `limit`),
/// judged and dropped before the next. An input that could not be read is the core's
/// `input-invalid` result for it. Calls `each` with every readable input's source, whether
/// `--fix --write` may rewrite it, and its bytes. In a file found by a directory walk, the
/// documents the core says are not Kubernetes manifests are dropped and counted in the summary.
fn judge(
    judging: &mut Judging<'_>,
    mut each: impl FnMut(&str, bool, &[u8]) -> Result<Report, Fatal>,
) -> Result<Report, Fatal> {
    let inputs = files::collect(judging.paths, judging.follow_outside, &judging.exclude);
    let limit = judging.limit;
    let mut results = Vec::new();
    let (mut not_manifests, mut skipped_documents) = (0, 0);
    for input in inputs {
        let (path, writable) = match input.origin {
            files::Origin::Problem(p) => {
                let report = policy_core::unreadable(&input.source, &p);
                judged(judging, &report)?;
                results.extend(report.results);
                continue;
            }
            files::Origin::Stdin => (None, false),
            files::Origin::File { path, writable } => (Some(path), writable),
        };
        let mut report = match files::read_manifest(path.as_deref(), limit) {
            Ok(bytes) => each(&input.source, writable, &bytes)?,
            Err(files::ReadError::Io(e)) if path.is_none() => {
                return Err(Fatal(format!("cannot read stdin: {e}")));
            }
            Err(files::ReadError::Io(e)) => policy_core::unreadable(
                &input.source,
                &policy_core::SourceProblem::Io(e.to_string()),
            ),
            Err(files::ReadError::TooLarge { size }) => policy_core::unreadable(
                &input.source,
                &policy_core::SourceProblem::TooLarge { size, limit },
            ),
        };
        if input.walked {
            let before = report.results.len();
            report.results.retain(|r| !r.is_not_a_manifest());
            match before - report.results.len() {
                0 => {}
                _ if report.results.is_empty() => not_manifests += 1,
                n => skipped_documents += n,
            }
        }
        judged(judging, &report)?;
        results.extend(report.results);
    }
    let mut report = Report::new(results);
    report.summary.not_manifests = not_manifests;
    report.summary.skipped_documents = skipped_documents;
    Ok(report)
}

/// Prints one input's results now when the human format is streamed to stdout.
fn judged(judging: &mut Judging<'_>, report: &Report) -> Result<(), Fatal> {
    match &mut judging.stream {
        Some(stream) => print(&stream.results(&report.results)),
        None => Ok(()),
    }
}

/// The streamed human format, when `formats` sends it to stdout (and stdout is the report's).
fn human_stream(formats: &[FormatSpec], stdout: bool) -> Option<output::HumanStream> {
    let streamed = stdout
        && formats
            .iter()
            .any(|f| f.file.is_none() && f.format == output::Format::Human);
    streamed.then(output::HumanStream::default)
}

fn run(cli: Cli) -> Result<u8, Fatal> {
    match cli.command {
        Command::Audit {
            judge:
                JudgeArgs {
                    settings,
                    context,
                    formats,
                    follow_symlinks_outside,
                    exclude,
                    paths,
                },
        } => {
            check_formats(&formats)?;
            let exclude = files::excludes(&exclude).map_err(Fatal)?;
            let policy = load_policy(settings_file(settings).as_ref())?;
            let call = load_context(&policy, context.as_ref())?;
            let mut judging = Judging {
                paths: &paths,
                limit: policy.settings().limits.max_bytes,
                follow_outside: follow_symlinks_outside,
                exclude,
                stream: human_stream(&formats, true),
            };
            let report = judge(&mut judging, |source, _, bytes| {
                Ok(call
                    .judge(bytes, Some(source), Judgement::Audit, false)
                    .report)
            })?;
            emit(&report, &formats, true, judging.stream.is_some())?;
            Ok(u8::from(report.has_errors()))
        }
        Command::Check {
            judge:
                JudgeArgs {
                    settings,
                    context,
                    formats,
                    follow_symlinks_outside,
                    exclude,
                    paths,
                },
            fix,
            write,
        } => {
            check_formats(&formats)?;
            let exclude = files::excludes(&exclude).map_err(Fatal)?;
            let policy = load_policy(settings_file(settings).as_ref())?;
            let call = load_context(&policy, context.as_ref())?;
            let mut fixed = String::new();
            // `--fix` prints the fixed documents instead of the findings; `--fix --write`
            // rewrites the files and prints the findings that remain.
            let findings_to_stdout = !fix || write;
            let mut written = 0;
            let mut judging = Judging {
                paths: &paths,
                limit: policy.settings().limits.max_bytes,
                follow_outside: follow_symlinks_outside,
                exclude,
                stream: human_stream(&formats, findings_to_stdout),
            };
            let report = judge(&mut judging, |source, writable, bytes| {
                let judged = call.judge(bytes, Some(source), Judgement::Admission, fix);
                let report = judged.report;
                if let Some(out) = judged.fixed {
                    let out = out.map_err(|e| Fatal(format!("{source}: {e}")))?;
                    if write {
                        if source == "-" || !out.changed {
                        } else if !writable {
                            eprintln!("cks-policy: `{source}` was reached through a symbolic link that leads outside the directories named; it was not rewritten");
                        } else {
                            std::fs::write(source, &out.text)
                                .map_err(|e| Fatal(format!("cannot write `{source}`: {e}")))?;
                            written += 1;
                            let n: usize = report.results.iter().map(|r| r.patch.len()).sum();
                            eprintln!("{source}: wrote {n} fix{}", if n == 1 { "" } else { "es" });
                            // What still fails is judged from what was written.
                            return Ok(call
                                .judge(
                                    out.text.as_bytes(),
                                    Some(source),
                                    Judgement::Admission,
                                    false,
                                )
                                .report);
                        }
                    } else {
                        fixed.push_str(&out.text);
                    }
                }
                Ok(report)
            })?;
            if fix && !write {
                print(&fixed)?;
            }
            if write && written == 0 {
                eprintln!("cks-policy: nothing to fix: no file was rewritten");
            }
            emit(
                &report,
                &formats,
                findings_to_stdout,
                judging.stream.is_some(),
            )?;
            Ok(u8::from(report.has_errors()))
        }
        Command::Review {
            settings,
            context,
            file,
        } => {
            let policy = load_policy(settings_file(settings).as_ref())?;
            let call = load_context(&policy, context.as_ref())?;
            let bytes = read_input("", &file, policy.settings().limits.max_bytes)?;
            let response = call
                .review(&bytes)
                .map_err(|e| Fatal(format!("{file}: {e}")))?;
            let json = serde_json::to_string(&response)
                .map_err(|e| Fatal(format!("cannot encode response: {e}")))?;
            print(&format!("{json}\n"))?;
            Ok(u8::from(!response.response.allowed))
        }
        Command::Fits {
            settings,
            format,
            nodes,
            pods,
            pod,
        } => {
            let policy = load_policy(settings_file(settings).as_ref())?;
            let limit = policy.settings().limits.max_bytes;
            let pod_bytes = read_input("", &pod, limit)?;
            let node_bytes = read_input("nodes ", &nodes, limit)?;
            let pods_bytes = pods
                .as_deref()
                .map(|p| read_input("pods ", p, limit))
                .transpose()?;
            output::fits(
                &policy,
                &pod_bytes,
                &node_bytes,
                pods_bytes.as_deref(),
                format == ShortFormat::Json,
            )
            .map_err(Fatal)
            .and_then(|(text, any_fit)| {
                print(&text)?;
                Ok(u8::from(!any_fit))
            })
        }
        Command::Rules { format } => {
            let text = match format {
                RulesFormat::Human => output::rules_table(),
                RulesFormat::Markdown => policy_core::rules_markdown(),
                RulesFormat::Json => format!("{}\n", output::rules_json()),
            };
            print(&text)?;
            Ok(0)
        }
        Command::Vap {
            settings,
            kubernetes_version,
            out,
        } => {
            let policy = load_policy(settings.as_ref())?;
            let minor = kubernetes_version
                .strip_prefix('v')
                .unwrap_or(&kubernetes_version)
                .strip_prefix("1.")
                .and_then(|m| m.split('.').next())
                .and_then(|m| m.parse::<u32>().ok())
                .filter(|m| *m >= 30)
                .ok_or_else(|| {
                    Fatal(format!(
                        "--kubernetes-version `{kubernetes_version}`: expected 1.30 or later, e.g. `1.35`"
                    ))
                })?;
            let native = policy_core::native_policies(&policy, minor);
            for note in &native.notes {
                eprintln!("cks-policy vap: {note}");
            }
            match out {
                None => {
                    let mut text = String::new();
                    for m in &native.manifests {
                        text.push_str("---\n");
                        text.push_str(&output::yaml(m));
                    }
                    print(&text)?;
                }
                Some(dir) => {
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| Fatal(format!("cannot create `{}`: {e}", dir.display())))?;
                    for (i, m) in native.manifests.iter().enumerate() {
                        let kind = m["kind"].as_str().unwrap_or("object");
                        let name = m["metadata"]["name"].as_str().unwrap_or("unnamed");
                        let file =
                            dir.join(format!("{i:02}-{name}-{}.yaml", kind.to_ascii_lowercase()));
                        std::fs::write(&file, output::yaml(m)).map_err(|e| {
                            Fatal(format!("cannot write `{}`: {e}", file.display()))
                        })?;
                    }
                }
            }
            Ok(0)
        }
        Command::Read { settings, paths } => {
            let policy = load_policy(settings.as_ref())?;
            let call = load_context(&policy, None)?;
            let limit = policy.settings().limits.max_bytes;
            for input in files::collect(&paths, false, &globset::GlobSet::empty()) {
                let problem = match input.origin {
                    files::Origin::Problem(p) => p,
                    files::Origin::Stdin | files::Origin::File { .. } => {
                        let path = match &input.origin {
                            files::Origin::File { path, .. } => Some(path.as_path()),
                            _ => None,
                        };
                        match files::read_manifest(path, limit) {
                            Ok(bytes) => {
                                print(&read::read(&call, &input.source, &bytes))?;
                                continue;
                            }
                            Err(files::ReadError::Io(e)) => {
                                policy_core::SourceProblem::Io(e.to_string())
                            }
                            Err(files::ReadError::TooLarge { size }) => {
                                policy_core::SourceProblem::TooLarge { size, limit }
                            }
                        }
                    }
                };
                print(&read::line(
                    &input.source,
                    &policy_core::unreadable(&input.source, &problem),
                    &[],
                ))?;
            }
            Ok(0)
        }
        Command::Schema => {
            print(&policy_core::settings_schema())?;
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(msg)) => {
            eprintln!("cks-policy: {msg}");
            ExitCode::from(2)
        }
    }
}
