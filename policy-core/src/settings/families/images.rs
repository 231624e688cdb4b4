//! Settings `images`, compiled for the image rules (`judge/rules/images.rs`:
//! `image-digest-required`, `image-mutable-tag`, `pin-digests`).

use std::collections::HashMap;

use crate::model::image_ref::{self, ImageRef};
use crate::settings::error::SettingsProblem;
use crate::settings::glob::Globs;
use crate::settings::Settings;

/// `images.allow` as globs and the `images.digests` lock map keyed by normalized `repo:tag`.
#[derive(Debug, Default)]
pub(crate) struct Images {
    /// Settings `images.allow`: images that need no digest.
    pub allow: Globs,
    /// Lock map keyed by normalized `repo:tag`.
    pub digests: HashMap<String, String>,
}

impl Images {
    /// Compiles settings `images`: each lock-map key must be a `repo:tag` reference without a
    /// digest and each value a valid digest; each `allow` entry a valid glob.
    pub fn compile(s: &Settings, problems: &mut Vec<SettingsProblem>) -> Self {
        let mut digests = HashMap::new();
        for (reference, digest) in &s.images.digests {
            let key_ptr = crate::read::pointer::join("/images/digests", &[reference]);
            match ImageRef::parse(reference) {
                Ok(r) if r.digest.is_none() => {
                    digests.insert(r.normalized_name_tag(), digest.clone());
                }
                Ok(_) => problems.push(SettingsProblem::new(
                    key_ptr.clone(),
                    format!("lock map key `{reference}` already has a digest; use `repo:tag`"),
                )),
                Err(e) => problems.push(SettingsProblem::new(
                    key_ptr.clone(),
                    format!("lock map key `{reference}` is not an image reference: {e}"),
                )),
            }
            if let Err(e) = image_ref::validate_digest(digest) {
                problems.push(SettingsProblem::new(
                    key_ptr,
                    format!("digest `{digest}` for `{reference}` is invalid: {e}"),
                ));
            }
        }
        Images {
            allow: Globs::new("/images/allow", &s.images.allow, problems),
            digests,
        }
    }
}
