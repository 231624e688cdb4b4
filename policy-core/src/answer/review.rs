//! The AdmissionReview answer: bytes of a review (or bare request) in, the request and its
//! verdict or the response a webhook sends out. The façade's `parse_request`,
//! `evaluate_request` and `review`, and the Kubewarden protocol, call these.

use serde_json::Value;

use crate::answer::admission::{self, AdmissionReviewResponse};
use crate::answer::check::input_invalid;
use crate::judge::eval::{evaluate, Context};
use crate::judge::verdict::{Finding, Verdict};
use crate::model::input::json_doc;
use crate::model::object::{Doc, Request};
use crate::settings::error::ReviewError;
use crate::settings::policy::Policy;

/// Parses AdmissionReview (or bare AdmissionRequest) bytes into a typed request: JSON, or (with
/// the `yaml` feature) one YAML document, read as `check` reads YAML and within the same limits.
pub fn parse_request(policy: &Policy, bytes: &[u8]) -> Result<Request, ReviewError> {
    let limit = policy.settings().limits.max_bytes;
    if bytes.len() > limit {
        return Err(ReviewError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let json = review_json(policy, bytes)?;
    match json_doc(policy.reading(), &json) {
        Ok(Doc::Review(r) | Doc::Request(r)) => Ok(*r),
        Ok(_) => Err(ReviewError::Invalid(String::from(
            "expected an admission.k8s.io/v1 AdmissionReview or AdmissionRequest",
        ))),
        Err(p) => Err(ReviewError::Invalid(input_invalid(&p).message().to_owned())),
    }
}

/// Judges an AdmissionReview (or bare AdmissionRequest) and returns the request and verdict.
///
/// An object that cannot be read is judged as an `input-invalid` error (denied), not an `Err`;
/// `Err` means there is no request at all to answer.
pub fn evaluate_request(
    policy: &Policy,
    bytes: &[u8],
    context: &Context,
) -> Result<(Request, Verdict), ReviewError> {
    let request = parse_request(policy, bytes)?;
    let verdict = evaluate(policy, &request, context);
    Ok((request, verdict))
}

/// Judges an AdmissionReview and returns the AdmissionReview response a webhook would send.
///
/// Bytes that are not a request at all are an `Err`. A request whose `object` cannot be read is
/// denied with an `input-invalid` message, keeping the request's `uid`.
pub fn review(
    policy: &Policy,
    bytes: &[u8],
    context: &Context,
) -> Result<AdmissionReviewResponse, ReviewError> {
    let (request, verdict) = match evaluate_request(policy, bytes, context) {
        Ok(x) => x,
        Err(ReviewError::Invalid(msg)) => {
            // Keep the uid when the envelope is readable even if the object is not.
            let uid = review_json(policy, bytes)
                .ok()
                .and_then(|json| uid_of(&json))
                .ok_or_else(|| ReviewError::Invalid(msg.clone()))?;
            let v = Verdict::new(
                vec![Finding::input_invalid(String::new(), msg, None)],
                vec![],
            );
            return Ok(response_review(&uid, &v));
        }
        Err(e) => return Err(e),
    };
    Ok(response_review(&request.uid, &verdict))
}

fn response_review(uid: &str, v: &Verdict) -> AdmissionReviewResponse {
    AdmissionReviewResponse {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: admission::response(uid, v),
    }
}

/// An AdmissionReview's bytes as JSON: JSON text as it is; other text (with the `yaml`
/// feature) read as YAML, which must hold one document, written as JSON.
fn review_json<'b>(
    policy: &Policy,
    bytes: &'b [u8],
) -> Result<std::borrow::Cow<'b, [u8]>, ReviewError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    #[cfg(feature = "yaml")]
    {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ReviewError::Invalid(format!("not UTF-8 text: {e}")))?;
        let limits = policy.settings().limits;
        let mut docs = crate::model::kubectl_yaml::parse_documents_within(text, 0, &limits)
            .into_iter()
            .filter(|d| !matches!(d, Ok(Value::Null)));
        let doc = match (docs.next(), docs.next()) {
            (Some(doc), None) => {
                doc.map_err(|p| ReviewError::Invalid(input_invalid(&p).message().to_owned()))?
            }
            (None, _) => {
                return Err(ReviewError::Invalid(String::from(
                    "no AdmissionReview: the input holds no document",
                )))
            }
            (Some(_), Some(_)) => {
                return Err(ReviewError::Invalid(String::from(
                    "an AdmissionReview is one document, and this YAML holds more than one",
                )))
            }
        };
        serde_json::to_vec(&doc)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| ReviewError::Invalid(format!("cannot read the document: {e}")))
    }
    #[cfg(not(feature = "yaml"))]
    {
        let _ = policy;
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

fn uid_of(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let r = v.get("request").unwrap_or(&v);
    r.get("uid")?
        .as_str()
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review_of(container: &str) -> Vec<u8> {
        format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","kind":{{"group":"","version":"v1","kind":"Pod"}},"resource":{{"group":"","version":"v1","resource":"pods"}},"operation":"CREATE","userInfo":{{"username":"a"}},"object":{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p","managedFields":[{{"manager":"m"}}]}},"spec":{{"containers":[{container}]}}}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn admission_reads_only_what_the_rules_read() {
        let policy = Policy::default();
        let ctx = Context::default();
        // A wrongly typed field no rule reads: skipped in admission.
        let unread =
            review_of(r#"{"name":"a","image":"nginx:1","ports":[{"containerPort":"80"}]}"#);
        let (request, verdict) = evaluate_request(&policy, &unread, &ctx).unwrap();
        assert!(verdict
            .findings()
            .iter()
            .all(|f| f.rule() != crate::model::catalogue::RuleId::InputInvalid));
        let spec = &request.object.unwrap().pods[0].spec;
        assert_eq!(spec.containers[0].image.as_deref(), Some("nginx:1"));
        assert_eq!(spec.containers[0].ports, None);
        // A wrongly typed field a rule reads: refused with the full read's message.
        let read = review_of(r#"{"name":"a","image":5}"#);
        let Err(ReviewError::Invalid(msg)) = evaluate_request(&policy, &read, &ctx) else {
            panic!("a numeric image must be refused");
        };
        assert!(
            msg.contains("/request/object/spec/containers/0/image"),
            "{msg}"
        );
    }
}
