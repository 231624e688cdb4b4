//! Image rules: reference grammar, digest pinning, mutable tags, pull policy, and `pin-digests`.
//!
//! Every rule walks the containers, initContainers and ephemeralContainers of every pod spec in
//! the object (a Pod's own spec, or each pod template of a workload), in that order per pod, then
//! the pod's image volumes (`volumes[].image.reference`); then the KServe storage URIs served as
//! images (`storageUri: oci://…`, see `inline_pods::oci_storage_uris`). A container
//! without an `image` field is skipped (the API server rejects it where it matters); an empty
//! string is an invalid reference. `image-pull-policy` reads an image volume's `pullPolicy`; a
//! KServe URI has none. `pin-digests` keeps a KServe URI's scheme (`oci://…@sha256:…`).
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
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
use crate::model::inline_pods::OCI_SCHEMES;
use crate::model::object::Object;
use crate::model::object::{Operation, Request};
use crate::model::view::ContainerRef;
use crate::read::pointer;
use crate::settings::policy::Policy;

/// One image of the judged object, parsed once per evaluation: a container's `image`, an image
/// volume's `reference`, or a KServe `storageUri: oci://…`.
pub(crate) struct Img<'a> {
    /// Pointer to the field holding the reference.
    path: String,
    /// Pointer to the field holding the pull policy, where the source has one.
    pull_policy_path: Option<String>,
    /// How messages name the source (`container `app``).
    who: String,
    /// The reference (`None` when the field is absent); for a KServe URI, without `oci://`.
    image: Option<&'a str>,
    /// What the field holds before the reference (`oci://` for a KServe URI), kept when
    /// `pin-digests` rewrites it.
    scheme: &'static str,
    /// The pull policy as written.
    pull_policy: Option<&'a str>,
    /// The parsed reference (`None` when the field is absent).
    parsed: Option<Result<ImageRef, RefError>>,
    /// For a container's image, the container's index in [`Input::containers`].
    container: Option<usize>,
}

impl Img<'_> {
    fn who(&self) -> &str {
        &self.who
    }
    /// The reference as the user wrote the field (`oci://` included).
    fn written(&self, reference: &str) -> String {
        format!("{}{reference}", self.scheme)
    }
}

/// Every image source of `object`, given its containers ([`crate::model::view::containers`]): per
/// pod its containers, then its image volumes; then the KServe `oci://` model URIs.
///
/// An image volume (`volumes[].image`, Kubernetes 1.33+: k8s.io/api `core/v1/types.go`
/// `ImageVolumeSource`) is an OCI object the kubelet pulls like a container image, with the same
/// pull policies and defaulting ("Defaults to Always if :latest tag is specified, or
/// IfNotPresent otherwise", the `pullPolicy` field's documentation), so the image rules judge it
/// at `volumes/N/image/reference`.
fn sources<'a>(object: &'a Object, containers: &[ContainerRef<'a>]) -> Vec<Img<'a>> {
    let mut out: Vec<Img<'a>> = Vec::with_capacity(containers.len());
    let mut next = 0;
    for (i, pod) in object.pod_refs().enumerate() {
        while let Some(c) = containers.get(next).filter(|c| c.pod == i) {
            out.push(Img {
                path: c.field("image"),
                pull_policy_path: Some(c.field("imagePullPolicy")),
                who: c.who(),
                image: c.image,
                scheme: "",
                pull_policy: c.pull_policy,
                parsed: c.image.map(ImageRef::parse),
                container: Some(next),
            });
            next += 1;
        }
        for (j, v) in pod.spec.volumes.iter().flatten().enumerate() {
            let Some(src) = &v.image else { continue };
            let mut at = pointer::join(pod.spec_pointer, &["volumes"]);
            pointer::push_index(&mut at, j);
            let image = src.reference.as_deref();
            out.push(Img {
                path: pointer::join(&at, &["image", "reference"]),
                pull_policy_path: Some(pointer::join(&at, &["image", "pullPolicy"])),
                who: format!("image volume `{}`", v.name),
                image,
                scheme: "",
                pull_policy: src.pull_policy.as_deref(),
                parsed: image.map(ImageRef::parse),
                container: None,
            });
        }
    }
    for (path, uri) in &object.oci_models {
        let Some((scheme, image)) = OCI_SCHEMES
            .iter()
            .find_map(|s| uri.strip_prefix(s).map(|rest| (*s, rest)))
        else {
            continue;
        };
        let image = Some(image);
        out.push(Img {
            path: path.clone(),
            pull_policy_path: None,
            who: format!("KServe model `{}`", component(path)),
            image,
            scheme,
            pull_policy: None,
            parsed: image.map(ImageRef::parse),
            container: None,
        });
    }
    out
}

/// `predictor.model` for `/spec/predictor/model/storageUri`: the component field as KServe's
/// documentation names it.
fn component(path: &str) -> String {
    let inner = path.strip_suffix("/storageUri").unwrap_or(path);
    let inner = inner.strip_prefix("/spec/").unwrap_or(inner);
    inner.replace('/', ".")
}

/// Every image of the judged object, parsed once per evaluation and shared by the image rules.
pub(crate) fn cached<'a>(input: &Input<'a>) -> &'a [Img<'a>] {
    let facts: &'a crate::judge::eval::Facts<'a> = input.facts;
    facts
        .images
        .get_or_init(|| sources(input.object, input.containers()))
}

/// Every container whose image parses, with its reference, in [`Input::containers`] order: the
/// references [`cached`] parsed once per evaluation, for the rules outside this family.
pub(crate) fn container_refs<'a>(
    input: &Input<'a>,
) -> impl Iterator<Item = (&'a ContainerRef<'a>, &'a ImageRef)> {
    let containers = input.containers();
    cached(input)
        .iter()
        .filter_map(move |img| match (img.container, &img.parsed) {
            (Some(i), Some(Ok(r))) => Some((containers.get(i)?, r)),
            _ => None,
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
    if let Some(d) = policy.images.digests.get(&key) {
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
    policy.images.allow.is_match(r.normalized()) || policy.images.allow.is_match(written)
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
                img.path.clone(),
                format!(
                    "{} uses `{}`, which is not a valid image reference: {e}",
                    img.who(),
                    img.written(written)
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
/// CKS asks for "immutable tags **or** digests" (README, rule `image-digest-required`): only a digest is what the CKS registry
/// proxy can never serve stale, so this is a warning and `image-mutable-tag` is the error. An
/// image with no tag is left to `image-mutable-tag` (one error, not two) while that rule is
/// enabled (the catalogue line's `defers_to`); with it disabled this rule still reports it.
pub fn check_digest_required(input: &Input<'_>, out: &mut Out<'_>) {
    let untagged_reported = RuleId::ImageDigestRequired
        .info()
        .defers_to
        .is_some_and(|r| input.policy.enabled(r));
    let mut found = Vec::new();
    for (img, written, r) in parsed(cached(input)) {
        if effectively_pinned(input, r) || allowed(input.policy, written, r) {
            continue;
        }
        if r.tag.is_none() && untagged_reported {
            continue;
        }
        let shown = img.written(written);
        let mut message = format!(
            "{} uses `{shown}`, which is not pinned by digest; a digest is the one reference the CKS registry proxy cannot serve stale: pin it as `{shown}@sha256:<digest>` or let `pin-digests` do it",
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
            img.path.clone(),
            message,
            format!(
                "pin the image as `{shown}@sha256:<digest>`, or add `{}` to `images.digests` so `pin-digests` pins it",
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
/// `images.allow` does not exempt from this rule (README, "Settings", lists the exemption for
/// `image-digest-required` only).
pub fn check_mutable_tag(input: &Input<'_>, out: &mut Out<'_>) {
    let mut found = Vec::new();
    for (img, written, r) in parsed(cached(input)) {
        if effectively_pinned(input, r) {
            continue;
        }
        let written = img.written(written);
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
        found.push((img.path.clone(), msg));
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
        let Some(policy_path) = &img.pull_policy_path else {
            continue;
        };
        if img.pull_policy != Some("Always") || !effectively_pinned(input, r) {
            continue;
        }
        let by = if r.is_pinned() {
            ""
        } else {
            " by `pin-digests`"
        };
        let field = if policy_path.ends_with("/pullPolicy") {
            "pullPolicy"
        } else {
            "imagePullPolicy"
        };
        found.push((
            policy_path.clone(),
            format!(
                "{} uses `{written}`, pinned by digest{by}, with `{field}: Always`, so every start asks the registry proxy again; use `IfNotPresent`",
                img.who()
            ),
            format!("set `{field}: IfNotPresent`"),
        ));
    }
    for (path, msg, fix) in found {
        out.report(path, msg, Some(fix));
    }
}

/// Whether the user asked for pinning: a lock map is configured (settings or this request's
/// context) or the host resolves digests.
fn pinning_configured(policy: &Policy, context: &Context) -> bool {
    !policy.images.digests.is_empty()
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
        let path = img.path.clone();
        match lock_digest(input.policy, input.context, r) {
            Some((digest, source)) => {
                let pinned = img.written(&format!("{written}@{digest}"));
                let written = img.written(written);
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
                        "{} uses `{}`, which could not be pinned: {why}; add it to `images.digests` or pin the image by digest",
                        img.who(),
                        img.written(written),
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
/// map and `context.digests`. An image without a tag is asked for as `repo:latest`. In the image
/// rules' order (per pod its containers, then its image volumes; then KServe `oci://` model
/// URIs), without duplicates; empty on DELETE and CONNECT and when `pin-digests` is disabled.
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
    let containers = crate::model::view::containers(object);
    for img in sources(object, &containers) {
        let (Some(written), Some(Ok(r))) = (img.image, &img.parsed) else {
            continue;
        };
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
        v.findings()
            .iter()
            .filter(|f| f.rule().as_str().starts_with(prefix))
            .map(|f| format!("{} {}", f.rule(), f.path()))
            .collect()
    }

    /// Applies the engine's replace operations to the request's object images.
    fn apply(req: &Request, v: &Verdict) -> Request {
        let mut req = req.clone();
        let obj = req.object.as_mut().unwrap();
        for op in v.patch() {
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
        assert!(rules(&v, "image-").is_empty(), "{:?}", v.findings());
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
            .findings()
            .iter()
            .find(|f| f.rule() == "image-digest-required");
        assert_eq!(
            digest.map(|f| f.severity()),
            Some(crate::model::catalogue::Severity::Warning)
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
            .patch()
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
        assert!(v.findings()[v.findings().len() - 1]
            .message()
            .contains("could not be pinned"));
        let again = run(&s, &apply(&req, &v), &Context::default());
        assert!(again.patch().is_empty());
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
            .patch()
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
        assert!(v.patch().is_empty());
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
    fn image_volumes_and_kserve_oci_models_are_images() {
        let req = request(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: 'x@{D1}'}}]\n      volumes:\n      - {{name: a, image: {{reference: 'models/a:latest'}}}}\n      - {{name: b, emptyDir: {{}}}}\n      - {{name: c, image: {{reference: 'models/c@{D1}', pullPolicy: Always}}}}\n      - {{name: d, image: {{pullPolicy: Always}}}}\n"
        ));
        let v = run("{}", &req, &Context::default());
        assert_eq!(
            rules(&v, "image-"),
            vec![
                "image-digest-required /spec/template/spec/volumes/0/image/reference",
                "image-mutable-tag /spec/template/spec/volumes/0/image/reference",
                "image-pull-policy /spec/template/spec/volumes/2/image/pullPolicy",
            ]
        );
        let isvc = request(
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m}\nspec:\n  predictor:\n    model: {modelFormat: {name: x}, storageUri: 'oci://models/m:v1'}\n  explainer:\n    art: {storageUri: 's3://bucket/art:v1', image: 'art:v2'}\n",
        );
        let s = format!(r#"{{"images": {{"digests": {{"models/m:v1": "{D1}"}}}}}}"#);
        let v = run(&s, &isvc, &Context::default());
        let patched: Vec<_> = v
            .patch()
            .iter()
            .map(|p| format!("{} {}", p.path, p.value.as_ref().unwrap()))
            .collect();
        assert_eq!(
            patched,
            vec![format!(
                "/spec/predictor/model/storageUri \"oci://models/m:v1@{D1}\""
            )]
        );
        let policy = Policy::default();
        assert_eq!(
            images_to_resolve(&policy, &isvc, &Context::default()),
            vec!["docker.io/library/art:v2", "docker.io/models/m:v1"]
        );
        assert_eq!(
            images_to_resolve(&policy, &req, &Context::default()),
            vec!["docker.io/models/a:latest"]
        );
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
        assert!(v.findings()[0]
            .message()
            .starts_with("init container `i` uses `a:1`"));
    }
}
