//! Image rules: reference grammar, digest pinning, mutable tags, pull policy, and `pin-digests`.
//!
//! Every rule walks the containers, initContainers and ephemeralContainers of every pod spec in
//! the object (a Pod's own spec, or each pod template of a workload), in that order per pod. A
//! container without an `image` field is skipped (the API server rejects it where it matters);
//! an empty string is an invalid reference.
//!
//! Decisions where SPEC is silent:
//! - An invalid reference gets only `image-reference-invalid`; the other image rules skip it.
//! - The validations judge the image as it will be admitted: when `pin-digests` will pin an image
//!   from the lock map (settings `images.digests`, or `Context::digests` for this request), the
//!   image counts as digest-pinned, so `image-digest-required` and `image-mutable-tag` stay quiet
//!   and `image-pull-policy` applies. Applying the patch and judging again gives the same findings
//!   minus the `pin-digests` info.
//! - An image without a tag is pulled as `:latest`, so it is pinned (and asked for) under the
//!   normalized key `repo:latest`.
//! - The settings lock map wins over `Context::digests`; context entries whose key is not an
//!   image reference, or whose digest is invalid, are ignored.
//! - Images matching `images.allow` are pinned when the lock map has them, but are never reported
//!   as "could not be pinned" nor returned by [`images_to_resolve`]: they may stay unpinned.
//! - `images.allow` globs are matched against the normalized reference as the runtime pulls it
//!   (`docker.io/library/nginx:latest`, with `:latest` only when there is neither tag nor digest)
//!   and against the string as written.

use crate::judge::eval::{Context, Input, Out};
use crate::judge::verdict::PatchOp;
use crate::model::catalogue::RuleId;
use crate::model::image_ref::{validate_digest, ImageRef, RefError};
use crate::model::object::{Operation, Request};
use crate::model::view::ContainerRef;
use crate::settings::policy::Policy;

/// One container's image, parsed once per evaluation.
pub(crate) struct Img<'a> {
    /// The container ([`Input::containers`]).
    c: &'a ContainerRef<'a>,
    /// The parsed reference (`None` when the field is absent).
    parsed: Option<Result<ImageRef, RefError>>,
}

impl<'a> std::ops::Deref for Img<'a> {
    type Target = ContainerRef<'a>;
    fn deref(&self) -> &ContainerRef<'a> {
        self.c
    }
}

/// Every image of the judged object, parsed once per evaluation and shared by the image rules.
pub(crate) fn cached<'a>(input: &Input<'a>) -> &'a [Img<'a>] {
    let facts: &'a crate::judge::eval::Facts<'a> = input.facts;
    facts.images.get_or_init(|| {
        input
            .containers()
            .iter()
            .map(|c| Img {
                c,
                parsed: c.image.map(ImageRef::parse),
            })
            .collect()
    })
}

/// Every image that parses, with its reference.
fn parsed<'a>(imgs: &'a [Img<'a>]) -> impl Iterator<Item = (&'a Img<'a>, &'a str, &'a ImageRef)> {
    imgs.iter()
        .filter_map(|img| match (&img.image, &img.parsed) {
            (Some(written), Some(Ok(r))) => Some((img, *written, r)),
            _ => None,
        })
}

/// Where a lock digest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockSource {
    Settings,
    Context,
}

/// The digest `pin-digests` would pin `r` to: settings lock map first, then the caller's map.
fn lock_digest(policy: &Policy, context: &Context, r: &ImageRef) -> Option<(String, LockSource)> {
    if r.is_pinned() || !policy.enabled(RuleId::PinDigests) {
        return None;
    }
    let key = r.normalized_name_tag();
    if let Some(d) = policy.digests.get(&key) {
        return Some((d.clone(), LockSource::Settings));
    }
    context.digests.iter().find_map(|(k, d)| {
        let kr = ImageRef::parse(k).ok()?;
        (!kr.is_pinned() && kr.normalized_name_tag() == key && validate_digest(d).is_ok())
            .then(|| (d.clone(), LockSource::Context))
    })
}

/// Whether `images.allow` exempts the image from digest pinning.
fn allowed(policy: &Policy, written: &str, r: &ImageRef) -> bool {
    policy.image_allow.is_match(r.normalized()) || policy.image_allow.is_match(written)
}

/// Pinned as written, or about to be pinned by `pin-digests`.
fn effectively_pinned(input: &Input<'_>, r: &ImageRef) -> bool {
    r.is_pinned() || lock_digest(input.policy, input.context, r).is_some()
}

/// `image-reference-invalid`: the image does not parse under the distribution reference grammar
/// (see [`crate::model::image_ref`] for the grammar and its upstream quirks).
pub fn check_reference(input: &Input<'_>, out: &mut Out<'_>) {
    let mut found = Vec::new();
    for img in cached(input) {
        let (Some(written), Some(Err(e))) = (img.image, &img.parsed) else {
            continue;
        };
        {
            found.push((
                img.field("image"),
                format!(
                    "{} uses `{written}`, which is not a valid image reference: {e}",
                    img.who()
                ),
            ));
        }
    }
    for (path, msg) in found {
        out.report(path, msg, None);
    }
}

/// `image-digest-required` (warning by default): an image with an explicit tag that is not pinned
/// by digest (as written or by `pin-digests`) and not matched by `images.allow`.
///
/// Seeds 000/001 ask for "immutable tags **or** digests": only a digest is what the CKS registry
/// proxy can never serve stale, so this is a warning and `image-mutable-tag` is the error. An
/// image with no tag is left to `image-mutable-tag` (one error, not two) while that rule is
/// enabled; with it disabled this rule still reports the untagged image.
pub fn check_digest_required(input: &Input<'_>, out: &mut Out<'_>) {
    let untagged_reported = input.policy.enabled(RuleId::ImageMutableTag);
    let mut found = Vec::new();
    for (img, written, r) in parsed(cached(input)) {
        if effectively_pinned(input, r) || allowed(input.policy, written, r) {
            continue;
        }
        if r.tag.is_none() && untagged_reported {
            continue;
        }
        let mut message = format!(
            "{} uses `{written}`, which is not pinned by digest; a digest is the one reference the CKS registry proxy cannot serve stale: pin it as `{written}@sha256:<digest>` or let `pin-digests` do it",
            img.who()
        );
        if let Some(t) = r.tag.as_deref() {
            let lower = t.to_ascii_lowercase();
            if lower != t && input.policy.is_mutable_tag(&lower) {
                message.push_str(&format!(
                    " (tags are case-sensitive in OCI, so `{t}` is not the mutable tag `{lower}` and `image-mutable-tag` does not name it, but a registry can move it just the same)"
                ));
            }
        }
        found.push((
            img.field("image"),
            message,
            format!(
                "pin the image as `{written}@sha256:<digest>`, or add `{}` to `images.digests` so `pin-digests` pins it",
                r.normalized_name_tag()
            ),
        ));
    }
    for (path, msg, fix) in found {
        out.report(path, msg, Some(fix));
    }
}

/// `image-mutable-tag`: no tag and no digest (implicit `latest`), or a tag in
/// `images.mutableTags`, without a digest. `name:tag@digest` is pinned: the digest is what runs.
/// `images.allow` does not exempt from this rule (SPEC lists the exemption for
/// `image-digest-required` only).
pub fn check_mutable_tag(input: &Input<'_>, out: &mut Out<'_>) {
    let mut found = Vec::new();
    for (img, written, r) in parsed(cached(input)) {
        if effectively_pinned(input, r) {
            continue;
        }
        let msg = match r.tag.as_deref() {
            None => format!(
                "{} uses `{written}` with no tag, so it runs whatever `latest` pointed to when the CKS registry proxy cached it; pin it by digest or use an immutable tag",
                img.who()
            ),
            Some(t) if input.policy.is_mutable_tag(t) => format!(
                "{} uses `{written}`, whose tag `{t}` is mutable and may be served stale by the CKS registry proxy; pin it by digest or use an immutable tag",
                img.who()
            ),
            Some(_) => continue,
        };
        found.push((img.field("image"), msg));
    }
    for (path, msg) in found {
        out.report(
            path,
            msg,
            Some(String::from(
                "pin the image by digest (`@sha256:<digest>`), or use an immutable tag such as a release version",
            )),
        );
    }
}

/// `image-pull-policy`: a digest-pinned image (as written or by `pin-digests`) with an explicit
/// `imagePullPolicy: Always`. Reported at the `imagePullPolicy` field.
pub fn check_pull_policy(input: &Input<'_>, out: &mut Out<'_>) {
    let mut found = Vec::new();
    for (img, written, r) in parsed(cached(input)) {
        if img.pull_policy != Some("Always") || !effectively_pinned(input, r) {
            continue;
        }
        let by = if r.is_pinned() {
            ""
        } else {
            " by `pin-digests`"
        };
        found.push((
            img.field("imagePullPolicy"),
            format!(
                "{} uses `{written}`, pinned by digest{by}, with `imagePullPolicy: Always`, so every start asks the registry proxy again; use `IfNotPresent`",
                img.who()
            ),
        ));
    }
    for (path, msg) in found {
        out.report(
            path,
            msg,
            Some(String::from("set `imagePullPolicy: IfNotPresent`")),
        );
    }
}

/// Whether the user asked for pinning: a lock map is configured (settings or this request's
/// context) or the host resolves digests.
fn pinning_configured(policy: &Policy, context: &Context) -> bool {
    !policy.digests.is_empty()
        || !context.digests.is_empty()
        || policy.settings().images.resolve_digests
}

/// Mutation `pin-digests`: replaces `repo:tag` (or `repo`, pulled as `repo:latest`) with
/// `<as written>@<digest>` when the lock map (settings `images.digests`, else
/// `Context::digests`) holds the normalized `repo:tag`, and reports an info finding describing
/// the change. When pinning is configured, a tag-only image with no lock entry that
/// `images.allow` does not exempt gets an info finding saying it could not be pinned.
/// Idempotent: a pinned image is never touched again.
pub fn pin_digests(input: &Input<'_>, out: &mut Out<'_>) {
    let configured = pinning_configured(input.policy, input.context);
    let mut patches = Vec::new();
    let mut found = Vec::new();
    for (img, written, r) in parsed(cached(input)) {
        if r.is_pinned() {
            continue;
        }
        let path = img.field("image");
        match lock_digest(input.policy, input.context, r) {
            Some((digest, source)) => {
                let pinned = format!("{written}@{digest}");
                let from = match source {
                    LockSource::Settings => "the `images.digests` lock map",
                    LockSource::Context => "the digests resolved for this request",
                };
                found.push((
                    path.clone(),
                    format!(
                        "{} uses `{written}`, pinned to `{pinned}` from {from}",
                        img.who()
                    ),
                ));
                patches.push(PatchOp::replace(path, serde_json::Value::String(pinned)));
            }
            None if configured && !allowed(input.policy, written, r) => {
                let key = r.normalized_name_tag();
                let why = match input.context.unresolved.get(&key) {
                    Some(reason) => format!("the registry lookup of `{key}` failed ({reason})"),
                    None => format!("no digest is known for `{key}`"),
                };
                found.push((
                    path,
                    format!(
                        "{} uses `{written}`, which could not be pinned: {why}; add it to `images.digests` or pin the image by digest",
                        img.who(),
                    ),
                ));
            }
            None => {}
        }
    }
    for op in patches {
        out.patch(op);
    }
    for (path, msg) in found {
        out.report(path, msg, None);
    }
}

/// The normalized `repo:tag` of every image `pin-digests` would pin but cannot yet: valid,
/// not pinned by digest, not exempted by `images.allow`, and absent from both the settings lock
/// map and `context.digests`. An image without a tag is asked for as `repo:latest`. In document
/// order, without duplicates; empty on DELETE and CONNECT and when `pin-digests` is disabled.
///
/// A wrapper with registry access (the Kubewarden module when `images.resolveDigests` is true, a
/// Go controller with its own client) resolves these and passes them back in
/// [`Context::digests`].
pub fn images_to_resolve(policy: &Policy, request: &Request, context: &Context) -> Vec<String> {
    let object = match request.operation {
        Operation::Create | Operation::Update => request.object.as_ref(),
        Operation::Delete | Operation::Connect => None,
    };
    let Some(object) = object else {
        return Vec::new();
    };
    if !policy.enabled(RuleId::PinDigests) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for c in crate::model::view::containers(object) {
        let Some(written) = c.image else { continue };
        let Ok(r) = ImageRef::parse(written) else {
            continue;
        };
        let r = &r;
        if r.is_pinned() || allowed(policy, written, r) || lock_digest(policy, context, r).is_some()
        {
            continue;
        }
        let key = r.normalized_name_tag();
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;
    use crate::judge::eval::evaluate;
    use crate::judge::verdict::Verdict;

    const D1: &str = "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";
    const D2: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn request(yaml: &str) -> Request {
        let v = crate::model::kubectl_yaml::parse_documents(yaml, 0)
            .remove(0)
            .unwrap();
        let policy = Policy::default();
        match crate::model::input::value_doc(policy.reading(), &v).unwrap() {
            crate::model::object::Doc::Object(o) => Request::create(*o),
            _ => panic!("not an object"),
        }
    }

    fn pod(images: &[&str]) -> Request {
        let mut y = String::from(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  tolerations: [{key: is_cpu_compute, operator: Exists, effect: NoSchedule}]\n  containers:\n",
        );
        for (i, img) in images.iter().enumerate() {
            y.push_str(&format!("  - {{name: c{i}, image: '{img}'}}\n"));
        }
        request(&y)
    }

    fn run(settings: &str, req: &Request, context: &Context) -> Verdict {
        let policy = Policy::from_slice(settings.as_bytes()).unwrap();
        evaluate(&policy, req, context)
    }

    fn rules(v: &Verdict, prefix: &str) -> Vec<String> {
        v.findings
            .iter()
            .filter(|f| f.rule.as_str().starts_with(prefix))
            .map(|f| format!("{} {}", f.rule, f.path))
            .collect()
    }

    /// Applies the engine's replace operations to the request's object images.
    fn apply(req: &Request, v: &Verdict) -> Request {
        let mut req = req.clone();
        let obj = req.object.as_mut().unwrap();
        for op in &v.patch {
            let toks = crate::read::pointer::tokens(&op.path).unwrap();
            let i: usize = toks[2].parse().unwrap();
            let value = op.value.as_ref().unwrap().as_str().unwrap().to_owned();
            obj.pods[0].spec.containers[i].image = Some(value);
        }
        req
    }

    #[test]
    fn invalid_reference_gets_only_one_finding() {
        let v = run(
            "{}",
            &pod(&["Nginx:latest", "nginx@sha256:abc"]),
            &Context::default(),
        );
        assert_eq!(
            rules(&v, "image-"),
            vec![
                "image-reference-invalid /spec/containers/0/image",
                "image-reference-invalid /spec/containers/1/image"
            ]
        );
    }

    #[test]
    fn tag_and_digest_is_pinned() {
        let v = run(
            "{}",
            &pod(&[&format!("nginx:latest@{D1}")]),
            &Context::default(),
        );
        assert!(rules(&v, "image-").is_empty(), "{:?}", v.findings);
    }

    #[test]
    fn mutable_tags_and_no_tag() {
        let v = run(
            r#"{"images": {"mutableTags": ["latest", "main"]}}"#,
            &pod(&["nginx", "nginx:main", "nginx:1.25"]),
            &Context::default(),
        );
        assert_eq!(
            rules(&v, "image-mutable-tag"),
            vec![
                "image-mutable-tag /spec/containers/0/image",
                "image-mutable-tag /spec/containers/1/image"
            ]
        );
        // The untagged image is reported once, by `image-mutable-tag`.
        assert_eq!(
            rules(&v, "image-digest-required"),
            vec![
                "image-digest-required /spec/containers/1/image",
                "image-digest-required /spec/containers/2/image"
            ]
        );
        let digest = v
            .findings
            .iter()
            .find(|f| f.rule == "image-digest-required");
        assert_eq!(
            digest.map(|f| f.severity),
            Some(crate::judge::verdict::Severity::Warning)
        );
        // With `image-mutable-tag` off, the untagged image is still reported for its digest.
        let off = run(
            r#"{"rules": {"image-mutable-tag": {"enabled": false}}}"#,
            &pod(&["nginx"]),
            &Context::default(),
        );
        assert_eq!(
            rules(&off, "image-digest-required"),
            vec!["image-digest-required /spec/containers/0/image"]
        );
    }

    #[test]
    fn allow_matches_normalized_or_written() {
        let s = r#"{"images": {"allow": ["docker.io/library/nginx:*", "registry.example.com/*"]}}"#;
        let v = run(
            s,
            &pod(&["nginx:1.25", "registry.example.com/a/b:1", "redis:7"]),
            &Context::default(),
        );
        assert_eq!(
            rules(&v, "image-digest-required"),
            vec!["image-digest-required /spec/containers/2/image"]
        );
    }

    #[test]
    fn pins_from_lock_map_idempotently() {
        let s = format!(
            r#"{{"images": {{"digests": {{"nginx:1.25": "{D1}", "docker.io/library/redis": "{D2}"}}}}}}"#
        );
        let req = pod(&[
            "nginx:1.25",
            "docker.io/library/nginx:1.25",
            "index.docker.io/library/redis",
            "busybox:1",
        ]);
        let v = run(&s, &req, &Context::default());
        let images: Vec<_> = v
            .patch
            .iter()
            .map(|p| p.value.as_ref().unwrap().as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            images,
            vec![
                format!("nginx:1.25@{D1}"),
                format!("docker.io/library/nginx:1.25@{D1}"),
                format!("index.docker.io/library/redis@{D2}"),
            ]
        );
        // Only busybox is left for the digest and tag rules; it could not be pinned.
        assert_eq!(
            rules(&v, "image-"),
            vec!["image-digest-required /spec/containers/3/image"]
        );
        assert_eq!(rules(&v, "pin-digests").len(), 4);
        assert!(v.findings[v.findings.len() - 1]
            .message
            .contains("could not be pinned"));
        let again = run(&s, &apply(&req, &v), &Context::default());
        assert!(again.patch.is_empty());
        assert_eq!(rules(&again, "image-"), rules(&v, "image-"));
        assert_eq!(rules(&again, "pin-digests").len(), 1);
    }

    #[test]
    fn context_digests_fill_gaps_and_settings_win() {
        let s = format!(r#"{{"images": {{"digests": {{"nginx:1.25": "{D1}"}}}}}}"#);
        let mut context = Context::default();
        context.digests.insert("nginx:1.25".into(), D2.into());
        context.digests.insert("busybox:1".into(), D2.into());
        context.digests.insert("Bad Key".into(), D2.into());
        context.digests.insert("redis:7".into(), "md5:x".into());
        let req = pod(&["nginx:1.25", "busybox:1", "redis:7"]);
        let v = run(&s, &req, &context);
        let images: Vec<_> = v
            .patch
            .iter()
            .map(|p| p.value.as_ref().unwrap().as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            images,
            vec![format!("nginx:1.25@{D1}"), format!("busybox:1@{D2}")]
        );
        let policy = Policy::from_slice(s.as_bytes()).unwrap();
        assert_eq!(
            images_to_resolve(&policy, &req, &context),
            vec!["docker.io/library/redis:7"]
        );
    }

    #[test]
    fn nothing_to_pin_without_configuration() {
        let v = run("{}", &pod(&["nginx:1.25"]), &Context::default());
        assert!(v.patch.is_empty());
        assert!(rules(&v, "pin-digests").is_empty());
        let v = run(
            r#"{"images": {"resolveDigests": true}}"#,
            &pod(&["nginx:1.25"]),
            &Context::default(),
        );
        assert_eq!(rules(&v, "pin-digests").len(), 1);
    }

    #[test]
    fn resolve_list_is_deduplicated_and_skips_allowed() {
        let policy =
            Policy::from_slice(br#"{"images": {"allow": ["registry.example.com/*"]}}"#).unwrap();
        let req = pod(&[
            "nginx",
            "docker.io/library/nginx:latest",
            "registry.example.com/app:1",
            &format!("redis@{D1}"),
            "Bad",
            "gcr.io/x/y:2",
        ]);
        assert_eq!(
            images_to_resolve(&policy, &req, &Context::default()),
            vec!["docker.io/library/nginx:latest", "gcr.io/x/y:2"]
        );
        let mut del = req.clone();
        del.operation = Operation::Delete;
        del.old_object = del.object.take();
        assert!(images_to_resolve(&policy, &del, &Context::default()).is_empty());
        let off = Policy::from_slice(br#"{"rules": {"pin-digests": {"enabled": false}}}"#).unwrap();
        assert!(images_to_resolve(&off, &req, &Context::default()).is_empty());
    }

    #[test]
    fn pull_policy_only_for_pinned_always() {
        let req = request(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - {{name: a, image: 'x@{D1}', imagePullPolicy: Always}}\n  - {{name: b, image: 'x:1', imagePullPolicy: Always}}\n  - {{name: c, image: 'x@{D1}', imagePullPolicy: IfNotPresent}}\n"
        ));
        let v = run("{}", &req, &Context::default());
        assert_eq!(
            rules(&v, "image-pull-policy"),
            vec!["image-pull-policy /spec/containers/0/imagePullPolicy"]
        );
    }

    #[test]
    fn walks_init_and_ephemeral_containers_in_templates() {
        let req = request(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      initContainers: [{name: i, image: 'a:1'}]\n      containers: [{name: c, image: 'b:1'}, {name: m}]\n      ephemeralContainers: [{name: e, image: 'c:1'}]\n",
        );
        let v = run("{}", &req, &Context::default());
        assert_eq!(
            rules(&v, "image-digest-required"),
            vec![
                "image-digest-required /spec/template/spec/initContainers/0/image",
                "image-digest-required /spec/template/spec/containers/0/image",
                "image-digest-required /spec/template/spec/ephemeralContainers/0/image",
            ]
        );
        assert!(v.findings[0]
            .message
            .starts_with("init container `i` uses `a:1`"));
    }
}
