//! The image rules in CEL: `image-reference-invalid`, `image-mutable-tag`,
//! `image-digest-required`, `image-pull-policy` (the core: `judge/rules/images.rs`).
//!
//! Every image source the core reads (`images.rs`, `sources`): per pod its containers,
//! initContainers and ephemeralContainers and its image volumes' `reference`, the containers
//! inlined by Argo templates (and their `inline` steps and DAG tasks), KServe components and
//! framework fields, Spark roles (the application's `image` when a role names none), a TrainJob's
//! trainer, and KServe `storageUri: oci://…` (`oci+native://`) without the scheme.
//!
//! A reference is judged as the core parses it (`model/image_ref.rs`, which follows
//! `github.com/distribution/reference` `regexp.go` and `normalize.go`): valid when it matches
//! the RE2 of the grammar ([`REFERENCE`]), is not a 64-hex image ID, and its normalized
//! repository (`docker.io/library/…`) is at most 255 characters. The normalized repository is
//! computed in CEL as `splitDockerDomain` does, with the core's quirk for a registry-looking
//! first component that is no valid host.

use super::cel;
use crate::model::catalogue::RuleId;
use crate::model::inline_pods::KSERVE_CONTAINERS;
use crate::model::templates::{Inline, Leaf, Shared, LOCATIONS};
use crate::settings::policy::Policy;

/// `domain-component` (distribution `regexp.go`: `domainNameComponent`).
const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";

/// `host [":" port]`: a domain name or a bracketed IPv6 address (`regexp.go`: `domainAndPort`).
fn host_and_port() -> String {
    format!(r"(?:{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
}

/// `path-component` (`regexp.go`: `pathComponent` = `alphanumeric (separator alphanumeric)*`,
/// separator `[._]|__|[-]+`).
const PATH_COMPONENT: &str = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";

/// `tag` (`regexp.go`: `tag`).
const TAG: &str = r"[\w][\w.-]{0,127}";

/// The digests go-digest accepts (`sha256`, `sha384`, `sha512` with their exact lowercase hex
/// lengths), as the core's `validate_digest`; narrower than `regexp.go`'s `digestPat`, as
/// `reference.Parse` then refuses the other algorithms.
const DIGEST: &str = "(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})";

/// The anchored RE2 of a reference (`regexp.go`: `ReferenceRegexp` =
/// `anchored(NameRegexp, optional(":" tag), optional("@" digest))`, `NameRegexp` =
/// `optional(domainAndPort "/") pathComponent ("/" pathComponent)*`).
pub fn reference_regex() -> String {
    format!(
        "^(?:{}/)?{PATH_COMPONENT}(?:/{PATH_COMPONENT})*(?::{TAG})?(?:@{DIGEST})?$",
        host_and_port()
    )
}

/// One source of images under a holder (a pod spec, an Argo template, a KServe component, a
/// Spark role, a TrainJob trainer).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A list of containers (`image`, `imagePullPolicy`, `name`) at this sub-path.
    Containers(&'static str),
    /// One container at this sub-path (`/`-separated).
    Container(String),
    /// The pod volumes: `image.reference`, `image.pullPolicy`, `name`.
    Volumes,
    /// KServe's model and framework fields, each a container.
    Frameworks,
    /// A KServe model or framework field's `storageUri` with an OCI scheme, without it.
    Oci,
    /// A Spark role: its `image`, else the application's (a fixed pointer).
    Spark(Option<String>),
    /// A TrainJob trainer's `image`.
    Trainer,
}

/// A pointer pattern to a holder, and its image sources.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    pattern: String,
    sources: Vec<Source>,
}

/// CEL: the list of KServe's framework field names.
fn frameworks() -> String {
    let names: Vec<String> = KSERVE_CONTAINERS.iter().map(|k| cel::string(k)).collect();
    format!("[{}]", names.join(", "))
}

fn pod_sources() -> Vec<Source> {
    vec![
        Source::Containers("containers"),
        Source::Containers("initContainers"),
        Source::Containers("ephemeralContainers"),
        Source::Volumes,
    ]
}

fn argo_holders(t: &str, depth: usize, out: &mut Vec<Holder>) {
    out.push(Holder {
        pattern: t.to_owned(),
        sources: vec![
            Source::Container(String::from("container")),
            Source::Container(String::from("script")),
            Source::Containers("sidecars"),
            Source::Containers("initContainers"),
            Source::Volumes,
        ],
    });
    out.push(Holder {
        pattern: format!("{t}/containerSet"),
        sources: vec![Source::Containers("containers")],
    });
    // `inline` templates of steps and DAG tasks (`inline_pods.rs`, `argo`), one level down.
    if depth == 0 {
        argo_holders(&format!("{t}/steps/*/*/inline"), 1, out);
        argo_holders(&format!("{t}/dag/tasks/*/inline"), 1, out);
    }
}

/// The image holders of each kind of the built-in table and of settings `templates`.
fn kinds(policy: &Policy) -> Vec<(String, String, Vec<Holder>)> {
    let mut kinds = Vec::new();
    for loc in LOCATIONS {
        let shared_image = loc
            .leaves
            .iter()
            .find_map(|(p, l)| (*l == Leaf::Shared(Shared::Image)).then(|| (*p).to_owned()));
        let mut holders = Vec::new();
        for (pattern, leaf) in loc.leaves {
            let pattern = (*pattern).to_owned();
            match leaf {
                Leaf::PodTemplate | Leaf::Inline(Inline::KnativeTemplate) => holders.push(Holder {
                    pattern: format!("{pattern}/spec"),
                    sources: pod_sources(),
                }),
                Leaf::PodSpec | Leaf::Inline(Inline::PodFields | Inline::KServeRuntime) => holders
                    .push(Holder {
                        pattern,
                        sources: pod_sources(),
                    }),
                Leaf::Inline(Inline::KServeComponent | Inline::KFServingComponent) => {
                    let mut sources = pod_sources();
                    sources.push(Source::Frameworks);
                    if *leaf == Leaf::Inline(Inline::KServeComponent) {
                        sources.push(Source::Oci);
                    }
                    if *leaf == Leaf::Inline(Inline::KFServingComponent) {
                        sources.push(Source::Container(String::from("custom/container")));
                    }
                    holders.push(Holder { pattern, sources });
                }
                Leaf::Inline(Inline::ArgoTemplate) => argo_holders(&pattern, 0, &mut holders),
                Leaf::Inline(Inline::SparkDriver | Inline::SparkExecutor) => holders.push(Holder {
                    pattern,
                    sources: vec![
                        Source::Spark(shared_image.clone()),
                        Source::Containers("sidecars"),
                        Source::Containers("initContainers"),
                    ],
                }),
                Leaf::Inline(Inline::TrainJobTrainer) => holders.push(Holder {
                    pattern,
                    sources: vec![Source::Trainer],
                }),
                _ => {}
            }
        }
        if !holders.is_empty() {
            kinds.push((loc.group.to_owned(), loc.kind.to_owned(), holders));
        }
    }
    for t in &policy.settings().templates {
        let mut holders = Vec::new();
        for p in &t.pod_templates {
            holders.push(Holder {
                pattern: format!("{}/spec", p.trim_end_matches('/')),
                sources: pod_sources(),
            });
        }
        for p in &t.pod_specs {
            holders.push(Holder {
                pattern: p.clone(),
                sources: pod_sources(),
            });
        }
        kinds.push((t.api_group.clone(), t.kind.clone(), holders));
    }
    kinds
}

/// CEL: `x` is present and a string.
fn has_string(x: &str) -> String {
    format!("has({x}) && type({x}) == string")
}

/// CEL: the image record of a container-like object `c` (every value a string, so the lists
/// of records concatenate under the type checker): `k` the source, `h` `y` when it has an
/// image, `i` the image, `p` `y` for `Always`, `n` the name.
fn record(k: &str, c: &str, image: &str, pull: Option<&str>) -> String {
    let has = has_string(image);
    let pull = match pull {
        Some(p) => format!("has({p}) && {p} == 'Always' ? 'y' : ''"),
        None => String::from("''"),
    };
    format!(
        "{{'k': '{k}', 'h': {has} ? 'y' : '', 'i': {has} ? string({image}) : '', 'p': {pull}, 'n': has({c}.name) ? string({c}.name) : ''}}"
    )
}

/// CEL: the list of image records of `h` (the CEL of a holder) under `root`.
fn records(h: &str, sources: &[Source], root: &str) -> String {
    let mut lists = Vec::new();
    for s in sources {
        lists.push(match s {
            Source::Containers(l) => format!(
                "(has({h}.{l}) ? {h}.{l}.map(c, {}) : [])",
                record(l, "c", "c.image", Some("c.imagePullPolicy"))
            ),
            Source::Container(path) => {
                let at = format!("{h}.{}", path.replace('/', "."));
                let mut guard = Vec::new();
                let mut p = h.to_owned();
                for seg in path.split('/') {
                    p = format!("{p}.{seg}");
                    guard.push(format!("has({p})"));
                }
                format!(
                    "({} ? [{}] : [])",
                    guard.join(" && "),
                    record(path, &at, &format!("{at}.image"), Some(&format!("{at}.imagePullPolicy")))
                )
            }
            Source::Volumes => format!(
                "(has({h}.volumes) ? {h}.volumes.filter(c, has(c.image)).map(c, {}) : [])",
                record("volumes", "c", "c.image.reference", Some("c.image.pullPolicy"))
            ),
            Source::Frameworks => format!(
                "{}.filter(f, f in {h}).map(f, {})",
                frameworks(),
                record("frameworks", &format!("{h}[f]"), &format!("{h}[f].image"), Some(&format!("{h}[f].imagePullPolicy")))
            ),
            Source::Oci => {
                let u = format!("{h}[f].storageUri");
                format!(
                    "{}.filter(f, f in {h} && {} && ({u}.startsWith('oci://') || {u}.startsWith('oci+native://'))).map(f, {{'k': 'oci-' + f, 'h': 'y', 'i': string({u}).substring(string({u}).indexOf('://') + 3), 'p': '', 'n': ''}})",
                    frameworks(),
                    has_string(&u)
                )
            }
            Source::Spark(fallback) => {
                let own = has_string(&format!("{h}.image"));
                let (has, image) = match fallback {
                    Some(f) => {
                        let f = format!("{root}{}", f.replace('/', "."));
                        (
                            format!("(({own}) || (!has({h}.image) && {}))", has_string(&f)),
                            format!("(has({h}.image) ? {h}.image : {f})"),
                        )
                    }
                    None => (own, format!("{h}.image")),
                };
                format!("[{{'k': 'spark', 'h': {has} ? 'y' : '', 'i': {has} ? string({image}) : '', 'p': '', 'n': ''}}]")
            }
            Source::Trainer => {
                let has = has_string(&format!("{h}.image"));
                format!("[{{'k': 'trainer', 'h': {has} ? 'y' : '', 'i': {has} ? string({h}.image) : '', 'p': '', 'n': ''}}]")
            }
        });
    }
    format!("({})", lists.join(" + "))
}

/// The facts of one image, as CEL over the names [`bind`] introduces.
struct Facts {
    /// The reference (a bound name).
    im: &'static str,
    /// It has a tag.
    tagged: String,
    /// Its tag (meaningful when `tagged`).
    tag: String,
    /// It names a digest.
    pinned: String,
    /// The normalized repository (`docker.io/library/nginx`).
    repo: String,
    /// It parses.
    valid: String,
}

/// CEL: binds the image `s` and the names the facts read (one-element comprehensions, as
/// Kubernetes CEL has no `cel.bind`), then `body`.
fn bind(s: &str, body: &dyn Fn(&Facts) -> String) -> String {
    // `nt`: name and tag (before `@`); `nm`: the name; `fc`: its first component.
    let tagged = String::from("nt.matches(':[^/]*$')");
    let looks_domain = "(nm.contains('/') && (fc == 'localhost' || fc.contains('.') || fc.contains(':') || fc.matches('[A-Z]')))";
    let host = format!(
        "fc.matches({})",
        cel::string(&format!("^{}$", host_and_port()))
    );
    let path = "nm.substring(size(fc) + 1)";
    let dom = "(fc == 'index.docker.io' ? 'docker.io' : fc)";
    let repo = format!(
        "({looks_domain} ? ({host} ? ({dom} == 'docker.io' && !{path}.contains('/') ? 'docker.io/library/' + {path} : {dom} + '/' + {path}) : nm) : (nm.contains('/') ? 'docker.io/' + nm : 'docker.io/library/' + nm))"
    );
    let facts = Facts {
        im: "im",
        tag: String::from("nt.substring(nt.lastIndexOf(':') + 1)"),
        pinned: String::from("im.contains('@')"),
        valid: format!(
            "(im.matches({}) && !im.matches('^[a-f0-9]{{64}}$') && size({repo}) <= 255)",
            cel::string(&reference_regex())
        ),
        repo,
        tagged: tagged.clone(),
    };
    format!(
        "[{s}].exists(im, [im.find('^[^@]*')].exists(nt, [{tagged} ? nt.substring(0, nt.lastIndexOf(':')) : nt].exists(nm, [nm.split('/')[0]].exists(fc, {}))))",
        body(&facts)
    )
}

/// What one image rule checks of an image.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `image-reference-invalid`.
    Invalid,
    /// `image-mutable-tag`.
    MutableTag,
    /// `image-digest-required`.
    DigestRequired,
    /// `image-pull-policy`.
    PullPolicy,
}

/// CEL: the image (bound by [`bind`]) with `pull` (`pullPolicy: Always`) violates `check`.
fn violates(policy: &Policy, check: Check, f: &Facts, pull: &str) -> String {
    let name_tag = format!("{} + ':' + ({} ? {} : 'latest')", f.repo, f.tagged, f.tag);
    // `pin-digests` pins an image the lock map names, and the core judges the image it admits
    // (`images.rs`, `effectively_pinned`).
    let locked = {
        let keys: Vec<&String> = policy.native_image_digests();
        if keys.is_empty() || !policy.enabled(RuleId::PinDigests) {
            String::from("false")
        } else {
            let list: Vec<String> = keys.iter().map(|k| cel::string(k)).collect();
            format!("(({name_tag}) in [{}])", list.join(", "))
        }
    };
    let im = f.im;
    match check {
        Check::Invalid => format!("!{}", f.valid),
        Check::MutableTag => {
            let tags: Vec<String> = policy
                .native_mutable_tags()
                .iter()
                .map(|t| cel::string(t))
                .collect();
            format!(
                "{} && !{} && !{locked} && (!{} || {} in [{}])",
                f.valid,
                f.pinned,
                f.tagged,
                f.tag,
                tags.join(", ")
            )
        }
        Check::DigestRequired => {
            // An untagged image is `image-mutable-tag`'s while that rule is on (`defers_to`).
            let untagged = match RuleId::ImageDigestRequired.info().defers_to {
                Some(r) if policy.enabled(r) => f.tagged.clone(),
                _ => String::from("true"),
            };
            let allow = policy.native_image_allow();
            let allowed = if allow.is_empty() {
                String::from("false")
            } else {
                // The normalized reference (`repo:tag`, `:latest` when untagged) or as written.
                format!(
                    "([{name_tag}].exists(n, {}) || {})",
                    cel::glob_any("n", allow),
                    cel::glob_any(im, allow)
                )
            };
            format!(
                "{} && !{} && !{locked} && !{allowed} && {untagged}",
                f.valid, f.pinned
            )
        }
        Check::PullPolicy => format!("{pull} && {} && ({} || {locked})", f.valid, f.pinned),
    }
}

/// One policy part per group of kinds with the same holders.
pub fn parts(policy: &Policy, check: Check) -> Vec<super::Part> {
    let mut parts: Vec<super::Part> = Vec::new();
    let mut shapes: Vec<Vec<Holder>> = Vec::new();
    // CEL: record `r` violates the rule.
    let bad = |r: &str| {
        format!(
            "{r}.h == 'y' && {}",
            bind(&format!("{r}.i"), &|f| violates(
                policy,
                check,
                f,
                &format!("{r}.p == 'y'")
            ))
        )
    };
    for (group, kind, holders) in kinds(policy) {
        let resource = super::plural(&kind);
        if let Some(i) = shapes.iter().position(|p| *p == holders) {
            parts[i].resources.push((group, resource));
            continue;
        }
        let mut v = Vec::new();
        let mut p = Vec::new();
        for holder in &holders {
            v.push(cel::exists("object", &holder.pattern, &mut |h| {
                format!(
                    "{}.exists(r, {})",
                    records(h, &holder.sources, "object"),
                    bad("r")
                )
            }));
            // Every violating image here is one `oldObject` has at the same place, with the same
            // name and pull policy (the core compares findings by path without indices and by
            // message, which names the container and the image: eval.rs, subject).
            p.push(cel::all("object", &holder.pattern, &mut |h| {
                let old = cel::exists("oldObject", &holder.pattern, &mut |g| {
                    format!(
                        "{}.exists(q, q.k == r.k && q.h == 'y' && q.i == r.i && q.n == r.n && q.p == r.p)",
                        records(g, &holder.sources, "oldObject")
                    )
                });
                format!(
                    "{}.all(r, !({}) || {old})",
                    records(h, &holder.sources, "object"),
                    bad("r")
                )
            }));
        }
        let suffix = if group.is_empty() {
            resource.clone()
        } else {
            format!("{resource}.{group}")
        };
        shapes.push(holders);
        parts.push(super::Part {
            suffix,
            resources: vec![(group, resource)],
            violates: v.join(" || "),
            preexisting: p.join(" && "),
        });
    }
    parts
}

/// The message of each image rule, naming it.
pub fn message(rule: RuleId) -> String {
    let what = match rule {
        RuleId::ImageReferenceInvalid => "an image is not a valid image reference (the distribution reference grammar); fix the reference",
        RuleId::ImageMutableTag => "an image has no tag (implicit `latest`) or a mutable tag (`images.mutableTags`) and no digest, so the CKS registry proxy may serve it stale; pin it by digest or use an immutable tag",
        RuleId::ImageDigestRequired => "a tagged image is not pinned by digest and not allowed by `images.allow`; pin it as `<image>@sha256:<digest>`",
        _ => "a digest-pinned image has `imagePullPolicy: Always` (an image volume's `pullPolicy: Always`), so every start asks the registry proxy again; use `IfNotPresent`",
    };
    format!("{rule}: {what}")
}
