//! Turning a verdict into an `admission.k8s.io/v1` AdmissionReview response.

use serde::Serialize;

use crate::verdict::{Severity, Verdict};

/// Longest warning the API server accepts.
pub const MAX_WARNING: usize = 256;
/// Most warning bytes the API server keeps in all.
pub const MAX_WARNINGS_TOTAL: usize = 4096;

/// The `response` of an AdmissionReview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// Copied from the request.
    pub uid: String,
    /// False when a finding has severity `error`.
    pub allowed: bool,
    /// Why the request was denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Warning findings, each starting with its rule id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `JSONPatch` when there is a patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    /// Base64 of the JSON Patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

/// The status of a denied request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// HTTP-like code: 400 for unreadable input, 403 for a policy denial.
    pub code: u16,
    /// Every error message, each starting with its rule id, joined with `; `.
    pub message: String,
}

/// A whole AdmissionReview carrying a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewResponse {
    /// `admission.k8s.io/v1`.
    pub api_version: &'static str,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The answer.
    pub response: AdmissionResponse,
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let ell = '…';
    let mut end = max - ell.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = s[..end].to_owned();
    out.push(ell);
    out
}

/// Error messages of a verdict, each `rule: message`.
pub fn error_messages(v: &Verdict) -> Vec<String> {
    v.findings
        .iter()
        .filter(|f| f.denies())
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect()
}

/// Warning findings as API server warnings: each ≤ 256 bytes, 4 KiB in all.
pub fn warnings(v: &Verdict) -> Vec<String> {
    let all: Vec<String> = v
        .findings
        .iter()
        .filter(|f| f.counted_severity() == Some(Severity::Warning))
        .map(|f| truncate(&format!("{}: {}", f.rule, f.message), MAX_WARNING))
        .collect();
    let mut out = Vec::new();
    let mut total = 0;
    for (i, w) in all.iter().enumerate() {
        let rest = all.len() - i;
        let note = format!("and {rest} more warnings");
        if total + w.len() + if rest > 1 { note.len() } else { 0 } > MAX_WARNINGS_TOTAL {
            out.push(note);
            break;
        }
        total += w.len();
        out.push(w.clone());
    }
    out
}

/// Builds the response for `uid` from a verdict.
pub fn response(uid: &str, v: &Verdict) -> AdmissionResponse {
    let status = if v.allowed {
        None
    } else {
        let code = if v.findings.iter().any(|f| f.rule == "input-invalid") {
            400
        } else {
            403
        };
        Some(Status {
            code,
            message: error_messages(v).join("; "),
        })
    };
    let (patch_type, patch) = if v.patch.is_empty() || !v.allowed {
        (None, None)
    } else {
        let json = serde_json::to_vec(&v.patch).unwrap_or_default();
        (Some(String::from("JSONPatch")), Some(base64(&json)))
    };
    AdmissionResponse {
        uid: uid.to_owned(),
        allowed: v.allowed,
        status,
        warnings: warnings(v),
        patch_type,
        patch,
    }
}

/// Standard base64 (RFC 4648, padded).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Finding;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn warnings_are_bounded() {
        let f = |i: usize| Finding {
            rule: crate::RuleId::BroadToleration,
            severity: Severity::Warning,
            path: String::new(),
            message: format!("{i} {}", "é".repeat(300)),
            fix: None,
            line: None,
            preexisting: false,
            suppressed: None,
        };
        let v = Verdict {
            allowed: true,
            findings: (0..40).map(f).collect(),
            patch: vec![],
        };
        let w = warnings(&v);
        assert!(w.iter().all(|s| s.len() <= MAX_WARNING));
        assert!(w[0].starts_with("broad-toleration: 0 "));
        assert!(w.iter().map(String::len).sum::<usize>() <= MAX_WARNINGS_TOTAL);
        assert!(w.last().unwrap().starts_with("and "));
    }
}
