//! Accelerator detection shared by the toleration, SUNK, interruption and accelerator rules, and
//! the small part of Kubernetes resource quantities those rules need.
//!
//! A pod spec requests an accelerator when:
//! - a container or initContainer requests or limits an NVIDIA device-plugin resource
//!   ([`is_nvidia_gpu_resource`]: `nvidia.com/gpu`, `nvidia.com/gpu.shared`, any
//!   `nvidia.com/mig-<profile>` slice), `sunk.coreweave.com/accelerator`, or a resource matching
//!   the `accelerators.resources` globs, with a quantity that is not zero; or
//! - the pod has DRA `resourceClaims` (at least one entry), unless
//!   `accelerators.draClaimsAreAccelerators` is false.
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - A quantity of zero (`0`, `0.0`, `0m`, `0Gi`, …) does not count: Kubernetes allocates no
//!   device for it. Any other quantity counts, including one that does not parse (the API server
//!   rejects those anyway, and counting them keeps the `is_cpu_compute` mutation away from pods
//!   whose intent is a GPU).
//! - Ephemeral containers cannot set resources, so they are not consulted.
//! - Every DRA claim counts, whatever its device class: a claim template's class is not in the
//!   pod, and on CKS claims are used for GPUs and IMEX channels. Settings can turn this off.

use k8s_openapi::api::core::v1::{Container, PodSpec};

use crate::settings::policy::Policy;

/// The NVIDIA device plugin's resource.
pub const NVIDIA_GPU: &str = "nvidia.com/gpu";
/// SUNK's second name for the same GPUs.
pub const SUNK_ACCELERATOR: &str = "sunk.coreweave.com/accelerator";

/// What made a pod an accelerator pod (the first thing found, in document order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceleratorUse {
    /// A container (or initContainer) requests or limits an accelerator resource.
    Resource {
        /// The container's name.
        container: String,
        /// The resource name (`nvidia.com/gpu`).
        resource: String,
    },
    /// The pod has DRA resource claims.
    ResourceClaims,
}

/// The prefix of the NVIDIA device plugin's MIG resources under the `mixed` MIG strategy
/// (`nvidia.com/mig-1g.5gb`, `nvidia.com/mig-3g.40gb`, and their `.shared` time-sliced forms).
pub const NVIDIA_MIG_PREFIX: &str = "nvidia.com/mig-";

/// Whether `name` is a resource the NVIDIA device plugin (NVIDIA/k8s-device-plugin README,
/// "Configuring the NVIDIA device plugin": MIG strategies and shared access) advertises for a
/// GPU or a part of one: `nvidia.com/gpu` (also under the `single` MIG strategy),
/// `nvidia.com/gpu.shared` (time-slicing or MPS with `renameByDefault`), and every
/// `nvidia.com/mig-<profile>` (`mixed` strategy, optionally `.shared`). A MIG slice is a GPU.
pub fn is_nvidia_gpu_resource(name: &str) -> bool {
    name == NVIDIA_GPU
        || name == "nvidia.com/gpu.shared"
        || name
            .strip_prefix(NVIDIA_MIG_PREFIX)
            .is_some_and(|profile| !profile.is_empty())
}

/// Whether `name` is an accelerator resource: an NVIDIA device-plugin resource
/// ([`is_nvidia_gpu_resource`]), `sunk.coreweave.com/accelerator` or a match of the
/// `accelerators.resources` globs.
pub fn is_accelerator_resource(policy: &Policy, name: &str) -> bool {
    is_nvidia_gpu_resource(name)
        || name == SUNK_ACCELERATOR
        || policy.accelerators.resources.is_match(name)
}

fn container_accelerator<'c>(policy: &Policy, c: &'c Container) -> Option<&'c str> {
    let r = c.resources.as_ref()?;
    [r.requests.as_ref(), r.limits.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|m| m.iter())
        .find(|(name, q)| is_accelerator_resource(policy, name) && !is_zero(&q.0))
        .map(|(name, _)| name.as_str())
}

/// The first accelerator use of a pod spec, or `None` when it requests no accelerator.
pub fn accelerator_use(policy: &Policy, spec: &PodSpec) -> Option<AcceleratorUse> {
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        if let Some(resource) = container_accelerator(policy, c) {
            return Some(AcceleratorUse::Resource {
                container: c.name.clone(),
                resource: resource.to_owned(),
            });
        }
    }
    let claims = spec.resource_claims.as_ref().is_some_and(|c| !c.is_empty());
    if claims && policy.settings().accelerators.dra_claims_are_accelerators {
        return Some(AcceleratorUse::ResourceClaims);
    }
    None
}

/// The first extended resource a pod spec requests or limits that is not an accelerator here
/// (`google.com/tpu`, `amd.com/gpu`, …): a name with a domain other than Kubernetes' own
/// (`*kubernetes.io/`) and `rdma/` (CKS's RDMA boolean), with a quantity that is not zero.
pub fn other_extended_resource(spec: &PodSpec) -> Option<&str> {
    spec.init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .filter_map(|c| c.resources.as_ref())
        .flat_map(|r| [r.requests.as_ref(), r.limits.as_ref()])
        .flatten()
        .flat_map(|m| m.iter())
        .find(|(name, q)| {
            name.split_once('/')
                .is_some_and(|(domain, _)| !domain.ends_with("kubernetes.io") && domain != "rdma")
                && !is_zero(&q.0)
        })
        .map(|(name, _)| name.as_str())
}

/// How messages say that a pod requests no accelerator: `requests no accelerator`, or, when it
/// requests another extended resource (a TPU, …), that this resource is not one CKS schedules
/// GPUs by, so a TPU pod is never told it requests none.
pub fn no_accelerator(spec: &PodSpec) -> std::borrow::Cow<'static, str> {
    match other_extended_resource(spec) {
        Some(r) => std::borrow::Cow::Owned(format!(
            "requests `{r}`, which is not a GPU CKS schedules (`nvidia.com/gpu`, `nvidia.com/mig-*`; list it in `accelerators.resources` if it is an accelerator here)"
        )),
        None => std::borrow::Cow::Borrowed("requests no accelerator"),
    }
}

/// Whether a pod spec requests an accelerator (see the module documentation).
pub fn requests_accelerator(policy: &Policy, spec: &PodSpec) -> bool {
    accelerator_use(policy, spec).is_some()
}

/// True when a quantity is zero. Anything else, including text that is not a quantity, is not.
pub fn is_zero(quantity: &str) -> bool {
    parse_quantity(quantity) == Some(0)
}

/// Parses a Kubernetes quantity (`1`, `500m`, `1.5Gi`, `2e3`, `+4k`) into billionths of a unit
/// (so `1` and `1000m` compare equal), saturating at the `i128` range. `None` when the text is not
/// a quantity.
pub fn parse_quantity(quantity: &str) -> Option<i128> {
    let s = quantity.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return None;
    }
    // Decimal exponent (10^exp) and binary multiplier from the suffix.
    let (exp10, binary): (i32, i128) = match suffix {
        "" => (0, 1),
        "n" => (-9, 1),
        "u" => (-6, 1),
        "m" => (-3, 1),
        "k" => (3, 1),
        "M" => (6, 1),
        "G" => (9, 1),
        "T" => (12, 1),
        "P" => (15, 1),
        "E" => (18, 1),
        "Ki" => (0, 1 << 10),
        "Mi" => (0, 1 << 20),
        "Gi" => (0, 1 << 30),
        "Ti" => (0, 1 << 40),
        "Pi" => (0, 1 << 50),
        "Ei" => (0, 1 << 60),
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().ok()?;
            (e, 1)
        }
        _ => return None,
    };
    // value = digits × 10^(exp10 − len(frac) + 9) × binary, in billionths.
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    let scale = i64::from(exp10) - frac_part.len() as i64 + 9;
    let digits_value = |d: &str| {
        d.bytes().fold(0i128, |v, b| {
            v.saturating_mul(10).saturating_add(i128::from(b - b'0'))
        })
    };
    let value = if scale >= 0 {
        let mut v = digits_value(digits);
        for _ in 0..scale.min(40) {
            v = v.saturating_mul(10);
        }
        v
    } else {
        // Below a billionth: round up, as Kubernetes does (a tiny fraction is not zero).
        let drop = usize::try_from(-scale).unwrap_or(usize::MAX);
        if drop >= digits.len() {
            1
        } else {
            let (head, tail) = digits.split_at(digits.len() - drop);
            let round = i128::from(tail.bytes().any(|b| b != b'0'));
            digits_value(head).saturating_add(round)
        }
    };
    let value = value.saturating_mul(binary);
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        let b = 1_000_000_000i128;
        let cases: &[(&str, Option<i128>)] = &[
            ("0", Some(0)),
            ("0.0", Some(0)),
            ("0m", Some(0)),
            ("0Gi", Some(0)),
            ("+0", Some(0)),
            ("1", Some(b)),
            ("1000m", Some(b)),
            ("1.5", Some(3 * b / 2)),
            ("500m", Some(b / 2)),
            ("1Ki", Some(1024 * b)),
            ("1.5Gi", Some(3 * (1 << 29) * b)),
            ("2e3", Some(2000 * b)),
            ("1k", Some(1000 * b)),
            ("8", Some(8 * b)),
            ("1n", Some(1)),
            ("0.1n", Some(1)),
            ("-1", Some(-b)),
            ("", None),
            ("x", None),
            ("1x", None),
            ("1.2.3", None),
            (".", None),
            (".5", Some(b / 2)),
        ];
        for (q, want) in cases {
            assert_eq!(parse_quantity(q), *want, "quantity {q:?}");
        }
        assert!(is_zero("0"));
        assert!(!is_zero("1"));
        assert!(!is_zero("bogus"));
    }

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn detection() {
        let p = Policy::from_slice(br#"{"accelerators":{"resources":["amd.com/*"]}}"#).unwrap();
        let d = Policy::default();
        let gpu = spec(
            json!({"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"8"}}}]}),
        );
        assert_eq!(
            accelerator_use(&d, &gpu),
            Some(AcceleratorUse::Resource {
                container: "a".into(),
                resource: NVIDIA_GPU.into()
            })
        );
        let zero = spec(
            json!({"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"0"}}}]}),
        );
        assert!(!requests_accelerator(&d, &zero));
        let sunk = spec(
            json!({"containers":[{"name":"a"}],"initContainers":[{"name":"i","resources":{"requests":{"sunk.coreweave.com/accelerator":"1"}}}]}),
        );
        assert!(requests_accelerator(&d, &sunk));
        let amd =
            spec(json!({"containers":[{"name":"a","resources":{"limits":{"amd.com/gpu":"1"}}}]}));
        assert!(!requests_accelerator(&d, &amd));
        assert!(requests_accelerator(&p, &amd));
        // MIG slices and shared GPUs are GPUs (NVIDIA/k8s-device-plugin README: MIG strategy
        // `mixed`, time-slicing `renameByDefault`).
        for r in [
            "nvidia.com/mig-1g.12gb",
            "nvidia.com/mig-3g.40gb.shared",
            "nvidia.com/gpu.shared",
        ] {
            let mig = spec(json!({"containers":[{"name":"a","resources":{"limits":{r:"1"}}}]}));
            assert!(requests_accelerator(&d, &mig), "{r}");
        }
        for r in [
            "nvidia.com/mig-",
            "nvidia.com/migx",
            "nvidia.com/gpu-shared",
        ] {
            assert!(!is_nvidia_gpu_resource(r), "{r}");
        }
        let tpu = spec(
            json!({"containers":[{"name":"a","resources":{"limits":{"google.com/tpu":"4","rdma/ib":"1","kubernetes.io/x":"1"}}}]}),
        );
        assert!(!requests_accelerator(&d, &tpu));
        assert_eq!(other_extended_resource(&tpu), Some("google.com/tpu"));
        assert!(no_accelerator(&tpu).starts_with("requests `google.com/tpu`, which is not a GPU"));
        let rdma = spec(
            json!({"containers":[{"name":"a","resources":{"limits":{"rdma/ib":"1","cpu":"4"}}}]}),
        );
        assert!(!requests_accelerator(&d, &rdma));
        assert_eq!(no_accelerator(&rdma), "requests no accelerator");
        let dra = spec(
            json!({"containers":[{"name":"a"}],"resourceClaims":[{"name":"gpu","resourceClaimTemplateName":"t"}]}),
        );
        assert_eq!(
            accelerator_use(&d, &dra),
            Some(AcceleratorUse::ResourceClaims)
        );
        let off =
            Policy::from_slice(br#"{"accelerators":{"draClaimsAreAccelerators":false}}"#).unwrap();
        assert!(!requests_accelerator(&off, &dra));
        let empty_claims = spec(json!({"containers":[{"name":"a"}],"resourceClaims":[]}));
        assert!(!requests_accelerator(&d, &empty_claims));
    }
}
