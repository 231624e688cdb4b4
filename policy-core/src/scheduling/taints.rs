//! Toleration matching, exactly as `k8s.io/api/core/v1.Toleration.ToleratesTaint`.

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// Whether `toleration` tolerates `taint` (Kubernetes semantics):
/// - an empty toleration effect matches every effect, otherwise effects must be equal;
/// - an empty toleration key with operator `Exists` matches every key (and so every taint);
/// - operator `Exists` (any value) or `Equal`/empty operator with equal values (a missing value is
///   the empty string, so `Equal` without a value matches a taint with an empty value);
/// - any other operator never matches.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let t_effect = toleration.effect.as_deref().unwrap_or("");
    if !t_effect.is_empty() && t_effect != taint.effect {
        return false;
    }
    let t_key = toleration.key.as_deref().unwrap_or("");
    let op = toleration.operator.as_deref().unwrap_or("Equal");
    if t_key.is_empty() {
        // An empty key is only valid with Exists, and then matches every key.
        return op == "Exists";
    }
    if t_key != taint.key {
        return false;
    }
    match op {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// Whether any toleration in `tolerations` tolerates `taint`.
pub fn any_tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// A taint value for building checks in code.
pub fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
    Taint {
        key: key.to_owned(),
        value: value.map(str::to_owned),
        effect: effect.to_owned(),
        time_added: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, op: Option<&str>, value: Option<&str>, effect: Option<&str>) -> Toleration {
        Toleration {
            key: (!key.is_empty()).then(|| key.to_owned()),
            operator: op.map(str::to_owned),
            value: value.map(str::to_owned),
            effect: effect.map(str::to_owned),
            toleration_seconds: None,
        }
    }

    #[test]
    fn toleration_table() {
        let cpu = taint("is_cpu_compute", None, "NoSchedule");
        let gpu = taint("is_gpu", Some("true"), "PreferNoSchedule");
        let lock = taint("sunk.coreweave.com/lock", Some("true"), "NoExecute");
        let cases = [
            (tol("", Some("Exists"), None, None), &cpu, true),
            (
                tol("", Some("Exists"), None, Some("NoExecute")),
                &cpu,
                false,
            ),
            (tol("", Some("Equal"), None, None), &cpu, false),
            (tol("", None, None, None), &cpu, false),
            (
                tol("is_cpu_compute", Some("Exists"), None, Some("NoSchedule")),
                &cpu,
                true,
            ),
            (
                tol("is_cpu_compute", Some("Exists"), None, None),
                &cpu,
                true,
            ),
            (tol("is_cpu_compute", Some("Equal"), None, None), &cpu, true),
            (
                tol("is_cpu_compute", None, None, Some("NoSchedule")),
                &cpu,
                true,
            ),
            (
                tol("is_cpu_compute", Some("Equal"), Some("x"), None),
                &cpu,
                false,
            ),
            (
                tol("is_cpu_compute", Some("Exists"), None, Some("NoExecute")),
                &cpu,
                false,
            ),
            (tol("is_gpu", Some("Equal"), Some("true"), None), &gpu, true),
            (tol("is_gpu", Some("Equal"), None, None), &gpu, false),
            (
                tol("is_gpu", Some("Exists"), None, Some("PreferNoSchedule")),
                &gpu,
                true,
            ),
            (
                tol(
                    "sunk.coreweave.com/lock",
                    Some("Equal"),
                    Some("true"),
                    Some("NoExecute"),
                ),
                &lock,
                true,
            ),
            (
                tol(
                    "sunk.coreweave.com/lock",
                    Some("Equal"),
                    Some("True"),
                    Some("NoExecute"),
                ),
                &lock,
                false,
            ),
            (
                tol("sunk.coreweave.com/lock", Some("Gt"), Some("true"), None),
                &lock,
                false,
            ),
            (tol("other", Some("Exists"), None, None), &lock, false),
        ];
        for (i, (t, taint, want)) in cases.iter().enumerate() {
            assert_eq!(tolerates(t, taint), *want, "case {i}: {t:?} vs {taint:?}");
        }
    }
}
