//! Resource fit: kube-scheduler's NodeResourcesFit filter, with quantities read exactly.
//!
//! Sources (kubernetes/kubernetes):
//! - `staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go`: the quantity grammar
//!   (optional sign, digits with an optional fraction, then a decimal SI suffix `n u m "" k M G T
//!   P E`, a binary suffix `Ki Mi Gi Ti Pi Ei`, or a decimal exponent `e3`/`E-2`), and
//!   `MilliValue`/`Value`, which round up (ceil). Quantities are kept as milli-units in `i128`,
//!   never as floats.
//! - `pkg/apis/core/v1/defaults.go`: a container resource with a limit and no request is
//!   requested at its limit (the API server defaults it); pod-level limits without pod-level
//!   requests default to the containers' requests, or to the limit when no container requests
//!   that resource.
//! - `staging/src/k8s.io/component-helpers/resource/helpers.go` (`PodRequests`,
//!   `AggregateContainerRequests`): the pod's request is the sum of its containers plus its
//!   restartable (`restartPolicy: Always`, sidecar) init containers, raised to what any init
//!   container needs while it runs (its own request plus the sidecars started before it);
//!   pod-level `spec.resources.requests` replace that for `cpu`, `memory` and `hugepages-*`;
//!   `spec.overhead` is added last.
//! - `pkg/scheduler/framework/plugins/noderesources/fit.go` (`fitsRequest`) and
//!   `pkg/scheduler/framework/types.go` (`Resource`): one more pod must fit under the node's
//!   allocatable `pods`; `cpu` (milli-units), `memory` and `ephemeral-storage` are checked only
//!   when the pod requests more than zero; every other scalar resource the pod requests more than
//!   zero of (extended resources such as `nvidia.com/gpu`, `hugepages-*`,
//!   `*kubernetes.io/*`, `attachable-volumes-*`) is checked too, as allocatable 0 when the node
//!   lacks it. The pod fits a resource when its request is at most allocatable minus what pods
//!   already on the node request. Other resource names are ignored, as the scheduler does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::fit::{Reason, ReasonKind};

/// A quantity that does not parse, or that is too large to compare exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not in the Kubernetes quantity grammar.
    #[error("`{0}` is not a Kubernetes quantity")]
    Invalid(String),
    /// Beyond what exact comparison supports (about 10^35 units).
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Parses a Kubernetes quantity into milli-units, rounding a fraction of a milli-unit up as
/// `Quantity.MilliValue` does.
pub fn parse_milli(s: &str) -> Result<i128, QuantityError> {
    let invalid = || QuantityError::Invalid(s.to_owned());
    let too_large = || QuantityError::TooLarge(s.to_owned());
    let bytes = s.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut mantissa: i128 = 0;
    let mut digits = 0usize;
    let mut frac_len: i32 = 0;
    let mut seen_point = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(i128::from(b - b'0')))
                    .ok_or_else(too_large)?;
                digits += 1;
                if seen_point {
                    frac_len += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return Err(invalid());
    }
    let suffix = s.get(i..).ok_or_else(invalid)?;
    let (exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        e if e.starts_with(['e', 'E']) => {
            let rest = &e[1..];
            let unsigned = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            (rest.parse::<i32>().map_err(|_| too_large())?, 0)
        }
        _ => return Err(invalid()),
    };
    // value = mantissa * 2^exp2 * 10^(exp10 - frac_len); in milli-units, 10^(… + 3).
    let num = mantissa.checked_mul(1i128 << exp2).ok_or_else(too_large)?;
    let scale = exp10
        .checked_sub(frac_len)
        .and_then(|e| e.checked_add(3))
        .ok_or_else(too_large)?;
    let magnitude_ceil = if scale >= 0 {
        let pow = u32::try_from(scale)
            .ok()
            .and_then(|p| 10i128.checked_pow(p))
            .ok_or_else(too_large)?;
        num.checked_mul(pow).ok_or_else(too_large)?
    } else {
        // A divisor beyond i128 leaves less than one milli-unit.
        match u32::try_from(-i64::from(scale))
            .ok()
            .and_then(|p| 10i128.checked_pow(p))
        {
            Some(den) => num / den + i128::from(!negative && num % den != 0),
            None => i128::from(!negative && num != 0),
        }
    };
    // Ceil of a negative value truncates toward zero, which the division above already did.
    let value = if negative {
        -magnitude_ceil
    } else {
        magnitude_ceil
    };
    // Keep headroom so sums over many containers and pods cannot overflow.
    if value.unsigned_abs() > 10u128.pow(36) {
        return Err(too_large());
    }
    Ok(value)
}

/// How the scheduler treats a resource name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `cpu`, in milli-units.
    Cpu,
    /// `memory`, `ephemeral-storage` and `hugepages-*`, in bytes.
    Bytes,
    /// `pods`: counted, not requested.
    Pods,
    /// Extended and other scalar resources, in units.
    Scalar,
    /// Names the scheduler does not check.
    Ignored,
}

fn class(name: &str) -> Class {
    match name {
        "cpu" => Class::Cpu,
        "memory" | "ephemeral-storage" => Class::Bytes,
        "pods" => Class::Pods,
        n if n.starts_with("hugepages-") => Class::Bytes,
        n if n.starts_with("attachable-volumes-") => Class::Scalar,
        // Prefixed native (`*kubernetes.io/*`) and extended (any other `domain/name`, except the
        // quota-only `requests.*`) resources.
        n if n.contains('/') && !n.starts_with("requests.") => Class::Scalar,
        _ => Class::Ignored,
    }
}

/// Milli-units to the unit the scheduler compares in: milli-cpu, else whole units (ceil).
fn to_unit(name: &str, milli: i128) -> i128 {
    if class(name) == Class::Cpu {
        milli
    } else {
        milli.div_euclid(1000) + i128::from(milli.rem_euclid(1000) != 0)
    }
}

/// An amount of `name` (in its comparison unit) in a readable canonical form: `500m` or `8` cpu,
/// `16Gi` bytes when exact in a binary unit (else the number of bytes), plain counts otherwise.
pub fn show(name: &str, amount: i128) -> String {
    match class(name) {
        Class::Cpu if amount % 1000 == 0 => (amount / 1000).to_string(),
        Class::Cpu => format!("{amount}m"),
        Class::Bytes if amount != 0 => {
            const UNITS: [(&str, u32); 6] = [
                ("Ei", 60),
                ("Pi", 50),
                ("Ti", 40),
                ("Gi", 30),
                ("Mi", 20),
                ("Ki", 10),
            ];
            UNITS
                .iter()
                .find(|(_, shift)| amount % (1i128 << shift) == 0)
                .map_or_else(
                    || amount.to_string(),
                    |(unit, shift)| format!("{}{unit}", amount >> shift),
                )
        }
        _ => amount.to_string(),
    }
}

/// Resource amounts by name, each in its comparison unit.
pub type Amounts = BTreeMap<String, i128>;

fn add(into: &mut Amounts, from: &Amounts) {
    for (k, v) in from {
        let e = into.entry(k.clone()).or_insert(0);
        *e = e.saturating_add(*v);
    }
}

fn max_into(into: &mut Amounts, from: &Amounts) {
    for (k, v) in from {
        let e = into.entry(k.clone()).or_insert(*v);
        *e = (*e).max(*v);
    }
}

fn amounts(list: Option<&BTreeMap<String, Quantity>>, what: &str) -> Result<Amounts, String> {
    let mut out = Amounts::new();
    for (k, q) in list.into_iter().flatten() {
        let milli = parse_milli(&q.0).map_err(|e| format!("{what} `{k}`: {e}"))?;
        out.insert(k.clone(), to_unit(k, milli));
    }
    Ok(out)
}

/// Requests with limit-only resources requested at their limit, as the API server defaults them.
fn defaulted_requests(r: Option<&ResourceRequirements>, what: &str) -> Result<Amounts, String> {
    let mut out = amounts(r.and_then(|r| r.requests.as_ref()), what)?;
    for (k, v) in amounts(r.and_then(|r| r.limits.as_ref()), what)? {
        out.entry(k).or_insert(v);
    }
    Ok(out)
}

fn container_requests(c: &Container, what: &str) -> Result<Amounts, String> {
    defaulted_requests(
        c.resources.as_ref(),
        &format!("{what} `{}` resources", c.name),
    )
}

fn pod_level(name: &str) -> bool {
    name == "cpu" || name == "memory" || name.starts_with("hugepages-")
}

/// The pod's effective requests, as `PodRequests` computes them for the scheduler. An error
/// names the container and resource whose quantity does not parse.
pub fn pod_requests(pod: &PodSpec) -> Result<Amounts, String> {
    let mut total = Amounts::new();
    for c in &pod.containers {
        add(&mut total, &container_requests(c, "container")?);
    }
    let mut sidecars = Amounts::new();
    let mut init_peak = Amounts::new();
    for c in pod.init_containers.iter().flatten() {
        let own = container_requests(c, "init container")?;
        let running = if c.restart_policy.as_deref() == Some("Always") {
            add(&mut total, &own);
            add(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut r = own;
            add(&mut r, &sidecars);
            r
        };
        max_into(&mut init_peak, &running);
    }
    max_into(&mut total, &init_peak);
    let level = pod.resources.as_ref();
    let level_requests = amounts(
        level.and_then(|r| r.requests.as_ref()),
        "pod `spec.resources` requests",
    )?;
    let level_limits = amounts(
        level.and_then(|r| r.limits.as_ref()),
        "pod `spec.resources` limits",
    )?;
    for (k, v) in level_limits {
        if pod_level(&k) && !level_requests.contains_key(&k) && !total.contains_key(&k) {
            total.insert(k, v);
        }
    }
    for (k, v) in level_requests {
        if pod_level(&k) {
            total.insert(k, v);
        }
    }
    add(
        &mut total,
        &amounts(pod.overhead.as_ref(), "pod `spec.overhead`")?,
    );
    Ok(total)
}

/// What pods already on a node request: the sum per resource, with how many pods request it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeUsage {
    /// Pods counted on the node.
    pub pods: usize,
    /// Per resource: the summed request and the number of pods requesting more than zero.
    pub requested: BTreeMap<String, (i128, usize)>,
}

impl NodeUsage {
    /// Counts one more pod with these requests.
    pub fn add_pod(&mut self, requests: &Amounts) {
        self.pods += 1;
        for (k, v) in requests {
            let e = self.requested.entry(k.clone()).or_insert((0, 0));
            e.0 = e.0.saturating_add(*v);
            if *v > 0 {
                e.1 += 1;
            }
        }
    }
}

fn pods_word(n: usize) -> &'static str {
    if n == 1 {
        "pod"
    } else {
        "pods"
    }
}

/// Every resource the node cannot give the pod, in kube-scheduler's order (`pods`, `cpu`,
/// `memory`, `ephemeral-storage`, then scalar resources by name).
pub fn resource_reasons(
    requests: &Amounts,
    allocatable: &BTreeMap<String, Quantity>,
    usage: &NodeUsage,
) -> Vec<Reason> {
    let mut out = Vec::new();
    let reason = |message: String| Reason {
        kind: ReasonKind::Resources,
        message,
    };
    let alloc = |name: &str| -> Result<i128, String> {
        match allocatable.get(name) {
            None => Ok(0),
            Some(q) => parse_milli(&q.0).map(|m| to_unit(name, m)).map_err(|e| {
                format!("the node's `status.allocatable` `{name}`: {e}, so it cannot be judged")
            }),
        }
    };
    match alloc("pods") {
        Err(e) => out.push(reason(e)),
        Ok(allowed) => {
            let on = i128::try_from(usage.pods).unwrap_or(i128::MAX);
            if on + 1 > allowed {
                out.push(reason(if usage.pods == 0 {
                    format!("requests 1 `pods`, node has {allowed} allocatable")
                } else {
                    format!(
                        "requests 1 `pods`, node has {allowed} allocatable and {} {} already on it",
                        usage.pods,
                        if usage.pods == 1 {
                            "pod is"
                        } else {
                            "pods are"
                        }
                    )
                }));
            }
        }
    }
    let fixed = ["cpu", "memory", "ephemeral-storage"];
    let scalars = requests.keys().filter(|k| {
        !fixed.contains(&k.as_str()) && matches!(class(k), Class::Scalar | Class::Bytes)
    });
    for name in fixed.iter().copied().chain(scalars.map(String::as_str)) {
        let want = requests.get(name).copied().unwrap_or(0);
        if want <= 0 {
            continue;
        }
        let have = match alloc(name) {
            Ok(h) => h,
            Err(e) => {
                out.push(reason(e));
                continue;
            }
        };
        let (used, by) = usage.requested.get(name).copied().unwrap_or((0, 0));
        let free = have.saturating_sub(used);
        if want <= free {
            continue;
        }
        let mut msg = format!(
            "requests {} `{name}`, node has {} allocatable",
            show(name, want),
            show(name, have)
        );
        if by > 0 {
            msg.push_str(&format!(
                " and {by} {} already on it request {} ({} free)",
                pods_word(by),
                show(name, used),
                if free > 0 {
                    show(name, free)
                } else {
                    String::from("none")
                }
            ));
        }
        out.push(reason(msg));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};

    fn list(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Quantity>> {
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Quantity((*v).to_owned())))
                .collect()
        })
    }

    fn container(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
        Container {
            name: String::from("c"),
            resources: Some(ResourceRequirements {
                requests: list(requests),
                limits: list(limits),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        }
    }

    fn sidecar(requests: &[(&str, &str)]) -> Container {
        Container {
            restart_policy: Some(String::from("Always")),
            ..container(requests, &[])
        }
    }

    fn amounts_of(pairs: &[(&str, i128)]) -> Amounts {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    /// `staging/src/k8s.io/apimachinery/pkg/api/resource/quantity_test.go` (parsing and
    /// `MilliValue`, which rounds up).
    #[test]
    fn quantity_table() {
        let ok: &[(&str, i128)] = &[
            ("0", 0),
            ("1", 1000),
            ("500m", 500),
            ("0.5", 500),
            (".5", 500),
            ("1.", 1000),
            ("1.5", 1500),
            ("+2", 2000),
            ("-2", -2000),
            ("100n", 1),
            ("1u", 1),
            ("1000000n", 1),
            ("0.1m", 1),
            ("1m", 1),
            ("1k", 1_000_000),
            ("1M", 1_000_000_000),
            ("1G", 1_000_000_000_000),
            ("1T", 10i128.pow(15)),
            ("1P", 10i128.pow(18)),
            ("1E", 10i128.pow(21)),
            ("1Ki", 1024 * 1000),
            ("1Mi", (1 << 20) * 1000),
            ("16Gi", (16i128 << 30) * 1000),
            ("1.5Gi", (3i128 << 29) * 1000),
            ("1Ti", (1i128 << 40) * 1000),
            ("1Pi", (1i128 << 50) * 1000),
            ("1Ei", (1i128 << 60) * 1000),
            ("1e3", 1_000_000),
            ("1E3", 1_000_000),
            ("1e+3", 1_000_000),
            ("5e-3", 5),
            ("1e-4", 1),
            ("1e-400", 1),
            ("-1e-400", 0),
            ("0.0001", 1),
            ("12.345678m", 13),
        ];
        for (s, want) in ok {
            assert_eq!(parse_milli(s), Ok(*want), "{s}");
        }
        for bad in [
            "", "m", "-", ".", "1K", "1ki", "1 Gi", " 1", "1Gib", "1e", "1e+", "1.2.3", "abc",
            "1mm", "1e3m", "0x10", "1,5",
        ] {
            assert!(
                matches!(parse_milli(bad), Err(QuantityError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_milli("1e100"),
            Err(QuantityError::TooLarge(_))
        ));
        assert_eq!(
            parse_milli("8x").unwrap_err().to_string(),
            "`8x` is not a Kubernetes quantity"
        );
    }

    /// Comparison units and canonical display (`Quantity.MilliValue` for cpu, `Value`, ceil,
    /// for the rest; `pkg/scheduler/framework/types.go` `Resource.Add`).
    #[test]
    fn units_and_display() {
        assert_eq!(to_unit("cpu", 1500), 1500);
        assert_eq!(to_unit("memory", 1500), 2);
        assert_eq!(to_unit("nvidia.com/gpu", 1), 1);
        assert_eq!(to_unit("nvidia.com/gpu", 0), 0);
        let shown = [
            ("cpu", 500, "500m"),
            ("cpu", 8000, "8"),
            ("cpu", 0, "0"),
            ("memory", 16 << 30, "16Gi"),
            ("memory", 1536 << 20, "1536Mi"),
            ("memory", 1_000_000_000, "1000000000"),
            ("memory", 1000, "1000"),
            ("hugepages-2Mi", 2 << 20, "2Mi"),
            ("ephemeral-storage", 0, "0"),
            ("nvidia.com/gpu", 16, "16"),
        ];
        for (name, amount, want) in shown {
            assert_eq!(show(name, amount), want, "{name} {amount}");
        }
    }

    /// `staging/src/k8s.io/component-helpers/resource/helpers_test.go` (`TestPodRequests`, the
    /// sidecar cases from KEP-753) and `pkg/apis/core/v1/defaults.go` (limit-only requests).
    #[test]
    fn pod_requests_table() {
        let cases: Vec<(&str, PodSpec, Amounts)> = vec![
            (
                "containers sum",
                PodSpec {
                    containers: vec![
                        container(&[("cpu", "500m"), ("memory", "1Gi")], &[]),
                        container(&[("cpu", "1.5"), ("memory", "512Mi")], &[]),
                    ],
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 2000), ("memory", 1536 << 20)]),
            ),
            (
                "zero requests stay zero",
                PodSpec {
                    containers: vec![container(&[("cpu", "0")], &[])],
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 0)]),
            ),
            (
                "a limit without a request is the request",
                PodSpec {
                    containers: vec![container(
                        &[("cpu", "1")],
                        &[("cpu", "4"), ("nvidia.com/gpu", "8")],
                    )],
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 1000), ("nvidia.com/gpu", 8)]),
            ),
            (
                "an init container bigger than the sum",
                PodSpec {
                    containers: vec![
                        container(&[("cpu", "2"), ("memory", "1G")], &[]),
                        container(&[("cpu", "1"), ("memory", "1G")], &[]),
                    ],
                    init_containers: Some(vec![
                        container(&[("cpu", "2"), ("memory", "1G")], &[]),
                        container(&[("cpu", "2"), ("memory", "3G")], &[]),
                    ]),
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 3000), ("memory", 3_000_000_000)]),
            ),
            (
                "sidecars add to the containers and to later init containers",
                PodSpec {
                    containers: vec![container(&[("cpu", "1")], &[])],
                    init_containers: Some(vec![
                        container(&[("cpu", "2")], &[]),
                        sidecar(&[("cpu", "1")]),
                        container(&[("cpu", "2")], &[]),
                    ]),
                    ..PodSpec::default()
                },
                // Sum 1 + sidecar 1 = 2; init peaks 2 and 1 + 2 = 3.
                amounts_of(&[("cpu", 3000)]),
            ),
            (
                "sidecars only",
                PodSpec {
                    containers: vec![container(&[("cpu", "1")], &[])],
                    init_containers: Some(vec![sidecar(&[("cpu", "1")]), sidecar(&[("cpu", "1")])]),
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 3000)]),
            ),
            (
                "overhead is added last",
                PodSpec {
                    containers: vec![container(&[("cpu", "1")], &[])],
                    init_containers: Some(vec![container(&[("cpu", "4")], &[])]),
                    overhead: list(&[("cpu", "250m"), ("memory", "120Mi")]),
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 4250), ("memory", 120 << 20)]),
            ),
            (
                "pod-level requests replace cpu and memory only",
                PodSpec {
                    containers: vec![container(&[("cpu", "1"), ("nvidia.com/gpu", "1")], &[])],
                    resources: Some(ResourceRequirements {
                        requests: list(&[("cpu", "3"), ("nvidia.com/gpu", "4")]),
                        limits: list(&[("memory", "2Gi")]),
                        ..ResourceRequirements::default()
                    }),
                    ..PodSpec::default()
                },
                amounts_of(&[("cpu", 3000), ("memory", 2 << 30), ("nvidia.com/gpu", 1)]),
            ),
        ];
        for (what, spec, want) in cases {
            assert_eq!(pod_requests(&spec), Ok(want), "{what}");
        }
        let bad = PodSpec {
            containers: vec![Container {
                name: String::from("train"),
                ..container(&[("memory", "16GB")], &[])
            }],
            ..PodSpec::default()
        };
        assert_eq!(
            pod_requests(&bad).unwrap_err(),
            "container `train` resources `memory`: `16GB` is not a Kubernetes quantity"
        );
    }

    /// `pkg/scheduler/framework/plugins/noderesources/fit_test.go` (`TestEnoughRequests`):
    /// zero requests never fail cpu/memory/ephemeral-storage, a missing extended resource is
    /// allocatable 0, `pods` counts one more pod, hugepages are scalar resources.
    #[test]
    fn node_fit_table() {
        let node = list(&[
            ("cpu", "8"),
            ("memory", "32Gi"),
            ("ephemeral-storage", "100Gi"),
            ("pods", "110"),
            ("nvidia.com/gpu", "8"),
            ("hugepages-2Mi", "0"),
        ])
        .unwrap();
        let mut busy = NodeUsage::default();
        busy.add_pod(&amounts_of(&[("nvidia.com/gpu", 4), ("cpu", 1000)]));
        busy.add_pod(&amounts_of(&[("nvidia.com/gpu", 2)]));
        let full = NodeUsage {
            pods: 110,
            ..NodeUsage::default()
        };
        let none = NodeUsage::default();
        let cpu_used = NodeUsage {
            requested: [(String::from("cpu"), (9000, 1))].into(),
            ..NodeUsage::default()
        };
        let cases: Vec<(&str, Amounts, &NodeUsage, Vec<&str>)> = vec![
            ("nothing requested", Amounts::new(), &none, vec![]),
            (
                "zero requests on a full node",
                amounts_of(&[("cpu", 0), ("memory", 0), ("example.com/foo", 0)]),
                &cpu_used,
                vec![],
            ),
            ("exactly allocatable", amounts_of(&[("cpu", 8000), ("nvidia.com/gpu", 8)]), &none, vec![]),
            (
                "too much cpu and memory",
                amounts_of(&[("cpu", 8500), ("memory", 33 << 30)]),
                &none,
                vec![
                    "requests 8500m `cpu`, node has 8 allocatable",
                    "requests 33Gi `memory`, node has 32Gi allocatable",
                ],
            ),
            (
                "16 gpus on 8",
                amounts_of(&[("nvidia.com/gpu", 16)]),
                &none,
                vec!["requests 16 `nvidia.com/gpu`, node has 8 allocatable"],
            ),
            (
                "gpus used by pods already there",
                amounts_of(&[("nvidia.com/gpu", 4)]),
                &busy,
                vec!["requests 4 `nvidia.com/gpu`, node has 8 allocatable and 2 pods already on it request 6 (2 free)"],
            ),
            ("what is free fits", amounts_of(&[("nvidia.com/gpu", 2)]), &busy, vec![]),
            (
                "an extended resource the node lacks",
                amounts_of(&[("rdma/ib", 1)]),
                &none,
                vec!["requests 1 `rdma/ib`, node has 0 allocatable"],
            ),
            (
                "hugepages are checked",
                amounts_of(&[("hugepages-2Mi", 2 << 20)]),
                &none,
                vec!["requests 2Mi `hugepages-2Mi`, node has 0 allocatable"],
            ),
            ("names the scheduler ignores", amounts_of(&[("storage", 5), ("requests.foo/bar", 1)]), &none, vec![]),
            (
                "one pod too many",
                Amounts::new(),
                &full,
                vec!["requests 1 `pods`, node has 110 allocatable and 110 pods are already on it"],
            ),
        ];
        for (what, requests, usage, want) in cases {
            let got: Vec<String> = resource_reasons(&requests, &node, usage)
                .into_iter()
                .map(|r| {
                    assert_eq!(r.kind, ReasonKind::Resources);
                    r.message
                })
                .collect();
            assert_eq!(got, want, "{what}");
        }
        // No `pods` in allocatable: no pod fits, as the scheduler's AllowedPodNumber is 0.
        let no_pods = list(&[("cpu", "8")]).unwrap();
        assert_eq!(
            resource_reasons(&Amounts::new(), &no_pods, &none)[0].message,
            "requests 1 `pods`, node has 0 allocatable"
        );
        let broken = list(&[("pods", "110"), ("cpu", "eight")]).unwrap();
        assert_eq!(
            resource_reasons(&amounts_of(&[("cpu", 1000)]), &broken, &none)[0].message,
            "the node's `status.allocatable` `cpu`: `eight` is not a Kubernetes quantity, so it cannot be judged"
        );
        assert!(resource_reasons(&Amounts::new(), &broken, &none).is_empty());
    }
}
