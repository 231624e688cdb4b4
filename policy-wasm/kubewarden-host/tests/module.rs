//! The built Kubewarden module in a real waPC host (wasmtime), against the golden fixtures and
//! the cases only a Kubewarden policy has: host lookups, settings validation, hostile input.
//!
//! One test binary, so the module is compiled once. `CKS_KUBEWARDEN_WASM` must name the built
//! module: without it every test fails (it never skips).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use cks_policy_kubewarden_host::{
    create_request, guess_resource, kubewarden_request, Answer, Instance, RequestRefused, Table,
};
use cks_policy_tests::{cases, Case};
use policy_core::{
    apply_patch, Context, Finding, Policy, Report, Severity, Verdict, EXCEPTION_ANNOTATION,
};
use serde_json::{json, Value};

const DIGEST: &str = "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";
const FALLBACK_PREFIX: &str = "control-plane-namespace: labels of namespace";

fn instance(table: Table) -> Instance {
    Instance::new(table).unwrap_or_else(|e| panic!("cannot start the module: {e}"))
}

/// What the module must answer for a verdict on `object`.
fn expected_answer(v: &Verdict, object: Option<&Value>, patch_prefix: &str) -> Answer {
    let warnings = v.warnings();
    let warnings = (!warnings.is_empty()).then_some(warnings);
    if !v.allowed() {
        return Answer {
            accepted: false,
            message: Some(v.error_messages().join("; ")),
            code: Some(
                if v.findings().iter().any(|f| f.rule() == "input-invalid") {
                    400
                } else {
                    403
                },
            ),
            mutated_object: None,
            audit_annotations: None,
            warnings,
        };
    }
    let mutated_object = (!v.patch().is_empty()).then(|| {
        let mut o = object.cloned().expect("a patch needs an object");
        let ops: Vec<_> = v
            .patch()
            .iter()
            .map(|op| {
                let mut op = op.clone();
                op.path = op
                    .path
                    .strip_prefix(patch_prefix)
                    .expect("patch inside the item")
                    .to_owned();
                op
            })
            .collect();
        apply_patch(&mut o, &ops).expect("expected patch applies");
        o
    });
    Answer {
        accepted: true,
        message: None,
        code: None,
        mutated_object,
        audit_annotations: None,
        warnings,
    }
}

/// One judged unit of a case input, lined up with one result of `expected.json`.
enum Unit {
    /// Not a parseable document (the core reports `input-invalid` without a kind).
    Garbage,
    /// A bare object; `prefix` is `/items/<i>` for a list item.
    Object { object: Value, prefix: String },
    /// An AdmissionRequest (from an AdmissionReview or bare).
    Request(Value),
    /// The outer object of a document kubectl reads as a list although its kind is not a
    /// `…List`: `check` reports it (`read-as-list`); nothing is sent to admission.
    ListHeader,
}

fn value_units(v: Value, out: &mut Vec<Unit>) {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    // Any document with a top-level `items` is a list, as kubectl reads it (the core's
    // `read::list_items`): items inherit the list's kind and apiVersion when they name
    // neither, a list inside a list is refused, and a kind that is not a `…List` is one more
    // result (its `read-as-list` finding) that the module never judges.
    if let Some(items) = v.get("items") {
        let Some(kind) = kind else {
            out.push(Unit::Garbage);
            return;
        };
        let items = match items {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            _ => {
                out.push(Unit::Garbage);
                return;
            }
        };
        if !kind.ends_with("List") {
            out.push(Unit::ListHeader);
        }
        let api_version = v
            .get("apiVersion")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty());
        let item_kind = kind.strip_suffix("List").unwrap_or(&kind).to_owned();
        for (i, mut item) in items.into_iter().enumerate() {
            if item.get("items").is_some_and(Value::is_array) {
                out.push(Unit::Garbage);
                continue;
            }
            let named = |k: &str| {
                item.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            if item.is_object() && !named("kind") && !named("apiVersion") {
                item["kind"] = json!(item_kind);
                match api_version {
                    Some(a) => item["apiVersion"] = json!(a),
                    None => {
                        if let Some(m) = item.as_object_mut() {
                            m.remove("apiVersion");
                        }
                    }
                }
            }
            out.push(Unit::Object {
                object: item,
                prefix: format!("/items/{i}"),
            });
        }
        return;
    }
    match kind.as_deref() {
        Some("AdmissionReview") => out.push(match v.get("request") {
            Some(r) => Unit::Request(r.clone()),
            None => Unit::Garbage,
        }),
        Some(_) => out.push(Unit::Object {
            object: v,
            prefix: String::new(),
        }),
        // A bare AdmissionRequest: `kind` is a group/version/kind map.
        None if v.get("operation").is_some() || v.get("object").is_some() => {
            out.push(Unit::Request(v))
        }
        None => out.push(Unit::Garbage),
    }
}

/// Splits a case input the way the core's `check` does, one unit per result.
fn units(case: &Case, policy: &Policy) -> Vec<Unit> {
    let mut out = Vec::new();
    if case.input.len() > policy.settings().limits.max_bytes {
        return vec![Unit::Garbage];
    }
    let Ok(text) = std::str::from_utf8(&case.input) else {
        return vec![Unit::Garbage];
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let limits = policy.settings().limits;
    let yaml_units = |text: &str, out: &mut Vec<Unit>| {
        for parsed in policy_core::yaml::parse_documents_within(text, 0, &limits) {
            match parsed {
                Ok(Value::Null) => {}
                Ok(v) => value_units(v, out),
                Err(_) => out.push(Unit::Garbage),
            }
        }
    };
    if text.trim_start().starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            value_units(v, &mut out);
            return out;
        }
        // A JSON stream, as kubectl reads one (apimachinery `NewYAMLOrJSONDecoder`): values one
        // after another, `null` skipped; after exactly one value the rest is read as YAML,
        // after more kubectl stops with an error (the core's `judge_json_stream`).
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let (mut count, mut after) = (0usize, 0usize);
        let failed = loop {
            match values.next() {
                None => break false,
                Some(Ok(v)) => {
                    count += 1;
                    after = values.byte_offset();
                    if !v.is_null() {
                        value_units(v, &mut out);
                    }
                }
                Some(Err(_)) => break true,
            }
        };
        if failed {
            if count == 1 {
                let mut rest = after;
                for c in text[after..].chars() {
                    if !c.is_whitespace() {
                        break;
                    }
                    rest += c.len_utf8();
                    if c == '\n' {
                        break;
                    }
                }
                yaml_units(&text[rest..], &mut out);
            } else {
                out.push(Unit::Garbage);
            }
        }
        return out;
    }
    yaml_units(text, &mut out);
    out
}

/// The host table for a case: its context's namespaces and digests.
fn table_for(context: &Context) -> Table {
    Table {
        namespaces: context.namespaces.clone(),
        digests: context
            .digests
            .iter()
            .map(|(k, v)| (k.clone(), Ok(v.clone())))
            .collect(),
        ..Table::default()
    }
}

fn request_namespace(request: &Value) -> Option<String> {
    request
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            ["object", "oldObject"].iter().find_map(|k| {
                request
                    .get(*k)?
                    .get("metadata")?
                    .get("namespace")?
                    .as_str()
                    .filter(|s| !s.is_empty())
            })
        })
        .map(str::to_owned)
}

/// Whether a golden unit was a manifest object (sent as a CREATE) or an AdmissionRequest.
enum UnitKind {
    Object,
    Request,
}

#[test]
fn every_golden_case_matches_expected() {
    let all = cases();
    assert!(!all.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    let (mut judged, mut garbage, mut exported, mut annotated) = (0usize, 0usize, 0usize, 0usize);
    let mut refused = 0usize;
    let mut unread = 0usize;
    for case in &all {
        let policy = Policy::from_slice(&case.settings)
            .unwrap_or_else(|e| panic!("{}: settings: {e}", case.name));
        let context: Context = serde_json::from_slice(&case.context)
            .unwrap_or_else(|e| panic!("{}: context: {e}", case.name));
        let expected: Report = serde_json::from_str(
            &case
                .expected_pretty()
                .unwrap_or_else(|| panic!("{}: no expected.json", case.name)),
        )
        .unwrap_or_else(|e| panic!("{}: expected.json: {e}", case.name));
        let mut settings: Value = serde_json::from_slice(&case.settings)
            .unwrap_or_else(|e| panic!("{}: settings are not JSON: {e}", case.name));
        if settings.is_null() {
            settings = json!({});
        }
        // Caller-resolved digests reach the module only through the host's OCI capability.
        if !context.digests.is_empty() {
            settings["images"]["resolveDigests"] = json!(true);
        }
        // The API server sends the module JSON it has already decoded: text that is not UTF-8
        // never reaches it, so such a manifest case has no admission form to compare.
        if std::str::from_utf8(&case.input).is_err() {
            continue;
        }
        // A key written twice is a problem of the text: the API server's strict decoding
        // refuses it before admission, and what the module would see is the decoded object.
        if expected
            .results
            .iter()
            .flat_map(|r| r.findings())
            .any(|f| f.rule() == "input-invalid" && f.message().contains("is set twice"))
        {
            continue;
        }
        // Likewise where kubectl stops reading a stream, or a byte order mark begins a later
        // document: properties of the text, which no AdmissionRequest carries.
        let text_level = expected.results.iter().flat_map(|r| r.findings()).any(|f| {
            f.rule() == "input-invalid" && f.message().starts_with("kubectl stops reading")
        }) || std::str::from_utf8(&case.input)
            .is_ok_and(|t| t.get(3..).is_some_and(|rest| rest.contains('\u{feff}')));
        if text_level {
            continue;
        }
        let module = instance(table_for(&context));
        let units = units(case, &policy);
        assert_eq!(
            units.len(),
            expected.results.len(),
            "{}: the input splits into {} units but expected.json has {} results",
            case.name,
            units.len(),
            expected.results.len()
        );
        for (i, (unit, want)) in units.into_iter().zip(&expected.results).enumerate() {
            let label = format!("{} result #{i} (document {})", case.name, want.document);
            let (request, object, prefix, unit_kind) = match unit {
                Unit::Garbage => {
                    garbage += 1;
                    continue;
                }
                Unit::ListHeader => {
                    assert!(
                        want.findings().iter().all(|f| f.rule() == "read-as-list"),
                        "{label}: a list's outer object has only its read-as-list finding"
                    );
                    continue;
                }
                Unit::Object { object, prefix } => (
                    create_request(&object),
                    Some(object),
                    prefix,
                    UnitKind::Object,
                ),
                Unit::Request(r) => {
                    let o = r.get("object").filter(|o| o.is_object()).cloned();
                    (r, o, String::new(), UnitKind::Request)
                }
            };
            let got = match module.validate(&request, &settings) {
                Ok(a) => a,
                // Kubewarden refuses the request before the module sees it: right only for a
                // request the core finds unreadable too.
                Err(e) if e.downcast_ref::<RequestRefused>().is_some() => {
                    refused += 1;
                    let core_refuses = !want.allowed()
                        && want.findings().iter().any(|f| f.rule() == "input-invalid");
                    if !core_refuses {
                        failures.push(format!(
                            "{label}: Kubewarden would refuse it ({e}) but the core judges it"
                        ));
                    }
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{label}: the module failed: {e}"));
                    continue;
                }
            };
            // A manifest whose only problem is a wrongly typed field no rule reads: the API
            // server refuses it before admission, and admission reads only the fields the rules
            // read (README, "Admission reads only what the rules read"), so sent as a CREATE the
            // module must agree with the core's admission read of it, not with `check`.
            let unread_only = want.kind.is_none()
                && matches!(&unit_kind, UnitKind::Object)
                && policy_core::evaluate_request(
                    &policy,
                    &serde_json::to_vec(&request).unwrap(),
                    &context,
                )
                .is_ok_and(|(_, v)| {
                    v.findings()
                        .iter()
                        .all(|f| f.rule() != policy_core::RuleId::InputInvalid)
                });
            if unread_only {
                unread += 1;
                if got
                    .message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("input-invalid: "))
                {
                    failures.push(format!(
                        "{label}: the core's admission read judges it, the module refuses it: {got:?}"
                    ));
                }
                continue;
            }
            if want.kind.is_none() {
                // Unreadable object: the module must refuse it too (its message carries the
                // JSON location instead of the YAML line, so only the verdict is compared).
                garbage += 1;
                if got.accepted
                    || !got
                        .message
                        .as_deref()
                        .is_some_and(|m| m.starts_with("input-invalid: "))
                {
                    failures.push(format!("{label}: unreadable object admitted: {got:?}"));
                }
                continue;
            }
            judged += 1;
            // An object read back from a cluster (`metadata.resourceVersion`) is judged by
            // `check` as existing state, but an admission request is judged by its operation:
            // sent here as a CREATE, the module must agree with the core on that CREATE. (How
            // the module answers Kubewarden's background audit is issue 10's remaining work.)
            // Likewise a manifest carrying the exception annotation: `check` honours it (the
            // author's own file), admission only with `exceptions.annotations: true`.
            let self_excepted = matches!(&unit_kind, UnitKind::Object)
                && object
                    .as_ref()
                    .and_then(|o| o["metadata"]["annotations"].get(EXCEPTION_ANNOTATION))
                    .is_some();
            if self_excepted {
                annotated += 1;
            }
            let verdict = if want.existing || self_excepted {
                exported += usize::from(want.existing);
                native(&request, &settings, &context, Vec::new())
            } else {
                // A request carries no lines, so its findings keep the order the rules report
                // them in, where `check` orders a file's by line: the vector fixes which
                // findings and patch the answer holds, the core's own answer on the same
                // request their order.
                let v = native(&request, &settings, &context, Vec::new());
                // The finding as JSON, without its line and with its path relative to the
                // judged object.
                let key = |f: &Finding, strip: &str| {
                    let mut json = serde_json::to_value(f).unwrap();
                    let map = json.as_object_mut().unwrap();
                    map.remove("line");
                    map.insert(
                        String::from("path"),
                        json!(f.path().strip_prefix(strip).unwrap_or(f.path())),
                    );
                    serde_json::to_string(&json).unwrap()
                };
                let mut core: Vec<String> = v.findings().iter().map(|f| key(f, "")).collect();
                let mut golden: Vec<String> =
                    want.findings().iter().map(|f| key(f, &prefix)).collect();
                core.sort();
                golden.sort();
                let golden_patch: Vec<_> = want
                    .patch
                    .iter()
                    .map(|op| {
                        let mut op = op.clone();
                        op.path = op
                            .path
                            .strip_prefix(prefix.as_str())
                            .unwrap_or(&op.path)
                            .to_owned();
                        op
                    })
                    .collect();
                if core != golden || v.allowed() != want.allowed() || v.patch() != golden_patch {
                    failures.push(format!(
                        "{label}: the core's verdict on the request is not the vector's:\n  core:   {core:?}\n  vector: {golden:?}"
                    ));
                    continue;
                }
                v
            };
            // The core's own verdict on the request has paths relative to the object.
            let want_answer = expected_answer(&verdict, object.as_ref(), "");
            let mut got = got;
            // Namespaces missing from the case's context are refused by the host table: the
            // module then says so in a warning (tested on its own below).
            let ns = request_namespace(&request);
            if let Some(w) = got.warnings.as_mut() {
                let before = w.len();
                w.retain(|s| !s.starts_with(FALLBACK_PREFIX));
                if w.len() != before
                    && ns
                        .as_ref()
                        .is_some_and(|n| context.namespaces.contains_key(n))
                {
                    failures.push(format!(
                        "{label}: fallback warning although the host knew the namespace"
                    ));
                }
                if w.is_empty() {
                    got.warnings = None;
                }
            }
            if got != want_answer {
                failures.push(format!(
                    "{label}:\n  module:   {}\n  expected: {}",
                    serde_json::to_string(&answer_json(&got)).unwrap(),
                    serde_json::to_string(&answer_json(&want_answer)).unwrap()
                ));
            }
        }
    }
    eprintln!(
        "golden: {} cases, {judged} objects judged by the module ({exported} exported and {annotated} self-excepted objects as CREATEs, compared with the core's CREATE verdict), {garbage} unreadable documents, {refused} requests refused by the host as Kubewarden refuses them",
        all.len()
    );
    assert!(exported > 0, "the exported-object cases were not sent");
    assert!(annotated > 0, "the self-excepted manifests were not sent");
    assert!(
        unread > 0,
        "no manifest with a wrongly typed field no rule reads was sent"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn answer_json(a: &Answer) -> Value {
    json!({
        "accepted": a.accepted, "message": a.message, "code": a.code,
        "mutated_object": a.mutated_object, "warnings": a.warnings,
    })
}

fn pod(namespace: &str, image: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"containers": [{"name": "web", "image": image}]},
    })
}

/// The core's verdict on `request` under `settings` and `context`, plus extra findings.
fn native(request: &Value, settings: &Value, context: &Context, extra: Vec<Finding>) -> Verdict {
    let policy = Policy::from_slice(&serde_json::to_vec(settings).unwrap()).unwrap();
    let (req, mut v) =
        policy_core::evaluate_request(&policy, &serde_json::to_vec(request).unwrap(), context)
            .unwrap();
    if !extra.is_empty() {
        policy_core::add_host_findings(&policy, &req, &mut v, extra);
    }
    v
}

fn finding(rule: &str, severity: Severity, path: &str, message: String) -> Finding {
    Finding::new(
        policy_core::RuleId::parse(rule).expect("a rule id"),
        severity,
        path,
        message,
    )
}

#[test]
fn protocol_version_is_v1() {
    let m = instance(Table::default());
    assert_eq!(m.call("protocol_version", b"").unwrap(), b"\"v1\"");
}

/// kwctl 1.31 and policy-server read every request into policy-evaluator's `AdmissionRequest`
/// (kubewarden/policy-evaluator v0.30.4, `src/admission_request.rs` lines 4-30: `uid`, `kind`,
/// `resource`, `operation`, `userInfo` are neither `Option` nor defaulted) and refuse one that
/// does not fit, with kwctl's wording (kubewarden/kwctl v1.31.0, `src/command/run/evaluator.rs`,
/// `build_validate_request`). The host does the same, before the module is called.
#[test]
fn the_host_refuses_requests_kubewarden_refuses() {
    let m = instance(Table::default());
    let full = create_request(&pod("default", &format!("nginx@{DIGEST}")));
    assert_eq!(
        full["resource"],
        json!({"group": "", "version": "v1", "resource": "pods"})
    );
    // With `resource`: read, handed to the module, admitted.
    let a = m.validate(&full, &json!({})).unwrap();
    assert!(a.accepted, "{a:?}");
    // Without it: refused by the host, the module never called.
    let mut no_resource = full.clone();
    no_resource.as_object_mut().unwrap().remove("resource");
    let e = m.validate(&no_resource, &json!({})).unwrap_err();
    assert!(e.downcast_ref::<RequestRefused>().is_some(), "{e}");
    assert_eq!(
        e.to_string(),
        "cannot build AdmissionRequest object from given input: missing field `resource`"
    );
    // Every required field, and the required fields of `kind` and `resource`.
    for (path, field) in [
        ("", "uid"),
        ("", "kind"),
        ("", "resource"),
        ("", "operation"),
        ("", "userInfo"),
        ("kind", "group"),
        ("kind", "version"),
        ("kind", "kind"),
        ("resource", "group"),
        ("resource", "version"),
        ("resource", "resource"),
    ] {
        let mut r = full.clone();
        let at = if path.is_empty() {
            &mut r
        } else {
            &mut r[path]
        };
        at.as_object_mut().unwrap().remove(field);
        let e = m.validate(&r, &json!({})).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot build AdmissionRequest object from given input: missing field `{field}`"
            ),
            "{path}/{field}"
        );
    }
    // Wrong types are refused too; optional fields may be absent or null.
    for (field, value, why) in [
        (
            "uid",
            json!(7),
            "invalid type: integer `7`, expected a string",
        ),
        (
            "dryRun",
            json!("yes"),
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            "userInfo",
            json!("alice"),
            "invalid type: string \"alice\", expected UserInfo",
        ),
    ] {
        let mut r = full.clone();
        r[field] = value;
        let e = m.validate(&r, &json!({})).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("cannot build AdmissionRequest object from given input: {why}"),
            "{field}"
        );
    }
    let mut r = full.clone();
    for field in [
        "name",
        "namespace",
        "dryRun",
        "oldObject",
        "requestKind",
        "options",
    ] {
        r.as_object_mut().unwrap().remove(field);
    }
    r["subResource"] = Value::Null;
    r["extraField"] = json!("dropped");
    let sent = kubewarden_request(&r).unwrap();
    assert!(
        sent.get("extraField").is_none() && sent.get("subResource").is_none(),
        "{sent}"
    );
    assert!(m.validate(&r, &json!({})).unwrap().accepted);
    // The module was never asked about the refused ones: only the two admitted requests
    // looked up the namespace.
    assert_eq!(m.table.calls().len(), 2, "{:?}", m.table.calls());
}

/// The plurals Kubernetes serves the kinds of the fixtures as (`kubectl api-resources`).
#[test]
fn resources_are_the_kinds_plurals() {
    for (kind, resource) in [
        ("Pod", "pods"),
        ("Deployment", "deployments"),
        ("Namespace", "namespaces"),
        ("Node", "nodes"),
        ("NodePool", "nodepools"),
        ("Ingress", "ingresses"),
        ("NetworkPolicy", "networkpolicies"),
        ("Endpoints", "endpoints"),
        (
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
        ),
    ] {
        assert_eq!(guess_resource(kind), resource);
    }
}

#[test]
fn validate_settings_accepts_valid_settings() {
    let m = instance(Table::default());
    for s in [
        &b"{}"[..],
        b"null",
        br#"{"mode": "warn", "orgId": "abc123", "orgIdHash": "f00d",
            "exemptions": {"groups": ["system:masters"], "serviceAccounts": ["kube-system/*"]},
            "images": {"allow": ["registry.example.com/**"], "resolveDigests": true},
            "controlPlaneNamespaces": ["cw-*"], "rules": {"broad-toleration": {"severity": "error"}}}"#,
    ] {
        let a = m.validate_settings(s).unwrap();
        assert_eq!(a, cks_policy_kubewarden_host::SettingsAnswer { valid: true, message: None }, "{}", String::from_utf8_lossy(s));
    }
}

#[test]
fn validate_settings_lists_every_problem() {
    let m = instance(Table::default());
    // Unknown keys and wrong types: all reported in one message.
    let a = m
        .validate_settings(br#"{"bogus": 1, "mode": "nope", "images": {"allowed": []}}"#)
        .unwrap();
    assert!(!a.valid);
    let msg = a.message.unwrap();
    for needle in ["bogus", "/mode", "allowed"] {
        assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
    }
    // Values that parse but do not compile: every one listed.
    let a = m
        .validate_settings(
            br#"{"images": {"allow": ["a[", "b{"]}, "limits": {"maxDepth": 0},
                 "rules": {"no-such-rule": {"enabled": false}}}"#,
        )
        .unwrap();
    assert!(!a.valid);
    let msg = a.message.unwrap();
    for needle in [
        "/images/allow/0",
        "/images/allow/1",
        "/limits/maxDepth",
        "no-such-rule",
    ] {
        assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
    }
    // Not settings at all.
    for garbage in [&b"\xff\xfe"[..], b"[1, 2]", b"{", b"\"str\""] {
        let a = m.validate_settings(garbage).unwrap();
        assert!(!a.valid && a.message.is_some(), "{garbage:?}: {a:?}");
    }
}

#[test]
fn invalid_settings_in_validate_reject_the_request() {
    let m = instance(Table::default());
    let a = m
        .validate(
            &create_request(&pod("default", "nginx")),
            &json!({"bogus": true}),
        )
        .unwrap();
    assert!(!a.accepted);
    assert!(a.message.unwrap().contains("bogus"));
}

#[test]
fn garbage_is_rejected_never_a_trap() {
    let m = instance(Table::default());
    let deep = format!(
        "{{\"request\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_object = {
        let mut v = json!("x");
        for _ in 0..200 {
            v = json!({ "a": v });
        }
        serde_json::to_vec(&json!({"request": create_request(&json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "data": v}))}))
        .unwrap()
    };
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("not JSON", b"\x00\x01garbage\xff".to_vec()),
        ("null", b"null".to_vec()),
        ("a list", b"[1,2,3]".to_vec()),
        (
            "truncated",
            br#"{"request": {"uid": "x", "operation": "CRE"#.to_vec(),
        ),
        (
            "request is a number",
            br#"{"request": 5, "settings": {}}"#.to_vec(),
        ),
        (
            "empty request",
            br#"{"request": {}, "settings": {}}"#.to_vec(),
        ),
        (
            "object is a string",
            br#"{"request": {"uid": "u", "operation": "CREATE", "object": "pod"}}"#.to_vec(),
        ),
        (
            "object without kind",
            br#"{"request": {"uid": "u", "operation": "CREATE", "object": {"metadata": {}}}}"#
                .to_vec(),
        ),
        (
            "containers is a map",
            serde_json::to_vec(&json!({"request": create_request(&json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": {"name": "c"}}}))}))
            .unwrap(),
        ),
        (
            "label is a bool",
            serde_json::to_vec(&json!({"request": create_request(&json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": true}},
            "spec": {"containers": []}}))}))
            .unwrap(),
        ),
        (
            "bad operation",
            br#"{"request": {"uid": "u", "operation": "EXPLODE", "object": null}}"#.to_vec(),
        ),
        ("deeply nested", deep.into_bytes()),
        ("deep object", deep_object),
        (
            "settings are a string",
            br#"{"request": {"uid": "u", "operation": "CREATE", "object": null}, "settings": "x"}"#
                .to_vec(),
        ),
    ];
    for (name, bytes) in inputs {
        let a = m
            .validate_raw(&bytes)
            .unwrap_or_else(|e| panic!("{name}: the module failed instead of answering: {e}"));
        assert!(!a.accepted, "{name}: admitted: {a:?}");
        let msg = a.message.as_deref().unwrap_or("");
        assert!(
            msg.starts_with("input-invalid: ") || msg.starts_with("invalid settings"),
            "{name}: {msg}"
        );
        assert_eq!(a.code, Some(400), "{name}");
    }
    // The instance survived all of it.
    let a = m
        .validate(
            &create_request(&pod("default", &format!("nginx@{DIGEST}"))),
            &json!({}),
        )
        .unwrap();
    assert!(a.message.is_none_or(|m| !m.starts_with("input-invalid")));
}

#[test]
fn oversize_request_is_rejected() {
    let m = instance(Table::default());
    let mut p = pod("default", "nginx");
    p["metadata"]["annotations"] = json!({"blob": "x".repeat(5 * 1024 * 1024)});
    let a = m.validate(&create_request(&p), &json!({})).unwrap();
    assert!(!a.accepted);
    let msg = a.message.unwrap();
    assert!(
        msg.starts_with("input-invalid: ") && msg.contains("limits.maxBytes"),
        "{msg}"
    );
    // The limit comes from the settings.
    let a = m
        .validate(
            &create_request(&pod("default", "nginx")),
            &json!({"limits": {"maxBytes": 64}}),
        )
        .unwrap();
    assert!(!a.accepted);
    assert!(a.message.unwrap().contains("above the limit of 64"));
}

#[test]
fn namespace_labels_come_from_the_host() {
    let labels: BTreeMap<String, String> = [(
        "ns.coreweave.cloud/org".to_owned(),
        "control-plane".to_owned(),
    )]
    .into();
    let table = Table {
        namespaces: [("cw-system".to_owned(), labels.clone())].into(),
        ..Table::default()
    };
    let m = instance(table);
    let request = create_request(&pod("cw-system", &format!("nginx@{DIGEST}")));
    let a = m.validate(&request, &json!({})).unwrap();
    // Exactly what the core says when given those labels as context.
    let context = Context {
        namespaces: [("cw-system".to_owned(), labels)].into(),
        ..Context::default()
    };
    let v = native(&request, &json!({}), &context, vec![]);
    assert_eq!(a, expected_answer(&v, request.get("object"), ""));
    assert!(a
        .warnings
        .iter()
        .flatten()
        .all(|w| !w.starts_with(FALLBACK_PREFIX)));
    let calls = m.table.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].namespace, "kubernetes");
    assert_eq!(calls[0].operation, "get_resource");
    assert_eq!(calls[0].payload["kind"], "Namespace");
    assert_eq!(calls[0].payload["api_version"], "v1");
    assert_eq!(calls[0].payload["name"], "cw-system");
}

#[test]
fn namespace_lookup_failure_falls_back_to_settings_with_a_warning() {
    let m = instance(Table {
        namespace_error: Some("namespaces \"cw-system\" is forbidden".to_owned()),
        ..Table::default()
    });
    let settings = json!({"controlPlaneNamespaces": ["cw-*"]});
    let request = create_request(&pod("cw-system", &format!("nginx@{DIGEST}")));
    let a = m.validate(&request, &settings).unwrap();
    let warning = finding(
        "control-plane-namespace",
        Severity::Warning,
        "/metadata/namespace",
        cks_policy_kubewarden_message(
            "cw-system",
            "the lookup failed: namespaces \"cw-system\" is forbidden",
        ),
    );
    let v = native(&request, &settings, &Context::default(), vec![warning]);
    assert_eq!(a, expected_answer(&v, request.get("object"), ""));
    assert!(
        a.warnings
            .iter()
            .flatten()
            .any(|w| w.starts_with(FALLBACK_PREFIX)),
        "{a:?}"
    );
    // No lookup for cluster-scoped objects, or when the rule is off.
    let m = instance(Table::default());
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
    let a = m.validate(&create_request(&node), &json!({})).unwrap();
    assert!(a
        .warnings
        .iter()
        .flatten()
        .all(|w| !w.starts_with(FALLBACK_PREFIX)));
    let off = json!({"rules": {"control-plane-namespace": {"enabled": false}}});
    m.validate(&request, &off).unwrap();
    assert!(m.table.calls().is_empty(), "{:?}", m.table.calls());
}

/// The fallback warning's text, as the core words it.
fn cks_policy_kubewarden_message(namespace: &str, why: &str) -> String {
    format!(
        "labels of namespace `{namespace}` unavailable, judged by `controlPlaneNamespaces` only: {why}"
    )
}

#[test]
fn a_refused_namespace_lookup_blames_the_missing_grant() {
    let m = instance(Table::default());
    let request = create_request(&pod("team", &format!("nginx@{DIGEST}")));
    let a = m.validate(&request, &json!({})).unwrap();
    let warning = finding(
        "control-plane-namespace",
        Severity::Warning,
        "/metadata/namespace",
        cks_policy_kubewarden_message(
            "team",
            "the policy is not granted `v1/Namespace` (add it to `contextAwareResources`)",
        ),
    );
    let v = native(&request, &json!({}), &Context::default(), vec![warning]);
    assert_eq!(a, expected_answer(&v, request.get("object"), ""));
}

#[test]
fn a_namespace_request_does_not_look_up_itself() {
    // UPDATE and DELETE of a Namespace carry `request.namespace` = its own name (as kwctl and
    // the API server send them): it is judged by its own labels, with no lookup.
    let m = instance(Table::default());
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    for op in ["UPDATE", "DELETE"] {
        let mut request = create_request(&ns);
        request["operation"] = json!(op);
        request["namespace"] = json!("team");
        request["oldObject"] = ns.clone();
        let a = m.validate(&request, &json!({})).unwrap();
        assert!(a.accepted, "{op}: {a:?}");
        assert_eq!(a.warnings, None, "{op}: {a:?}");
    }
    assert!(m.table.calls().is_empty(), "{:?}", m.table.calls());
}

#[test]
fn digests_resolve_through_the_host() {
    let image = "docker.io/library/nginx:1.25";
    let m = instance(Table {
        namespaces: [("default".to_owned(), BTreeMap::new())].into(),
        digests: [(image.to_owned(), Ok(DIGEST.to_owned()))].into(),
        ..Table::default()
    });
    let settings = json!({"images": {"resolveDigests": true}});
    let request = create_request(&pod("default", "nginx:1.25"));
    let a = m.validate(&request, &settings).unwrap();
    let context = Context {
        digests: [(image.to_owned(), DIGEST.to_owned())].into(),
        ..Context::default()
    };
    let v = native(&request, &settings, &context, vec![]);
    assert_eq!(a, expected_answer(&v, request.get("object"), ""));
    let oci: Vec<_> = m
        .table
        .calls()
        .into_iter()
        .filter(|c| c.namespace == "oci")
        .collect();
    assert_eq!(oci.len(), 1, "{oci:?}");
    assert_eq!(oci[0].operation, "v1/manifest_digest");
    assert_eq!(oci[0].payload, json!(image));
    let pinned = a.mutated_object.expect("pinned");
    assert_eq!(
        pinned["spec"]["containers"][0]["image"],
        format!("nginx:1.25@{DIGEST}")
    );
}

#[test]
fn failed_digest_lookup_reports_at_the_configured_severity() {
    let image = "docker.io/library/nginx:1.25";
    let table = || Table {
        namespaces: [("default".to_owned(), BTreeMap::new())].into(),
        digests: [(image.to_owned(), Err("registry unreachable".to_owned()))].into(),
        ..Table::default()
    };
    let request = create_request(&pod("default", "nginx:1.25"));
    // `rules.pin-digests.severity: error`: the unpinned image denies, naming the reason.
    let settings = json!({"images": {"resolveDigests": true}, "rules": {"pin-digests": {"severity": "error"}}});
    let m = instance(table());
    let a = m.validate(&request, &settings).unwrap();
    assert!(!a.accepted, "{a:?}");
    let msg = a.message.clone().unwrap();
    assert!(
        msg.contains(&format!(
            "pin-digests: container `web` uses `nginx:1.25`, which could not be pinned: the registry lookup of `{image}` failed (registry unreachable)"
        )),
        "{msg}"
    );
    let mut context = Context::default();
    context
        .unresolved
        .insert(image.to_owned(), "registry unreachable".to_owned());
    let v = native(&request, &settings, &context, vec![]);
    assert_eq!(a, expected_answer(&v, request.get("object"), ""));
    // The default severity (info) admits the pod unpinned; the digest rule still warns.
    let settings = json!({"images": {"resolveDigests": true}});
    let a = instance(table()).validate(&request, &settings).unwrap();
    let v = native(&request, &settings, &context, vec![]);
    assert!(a.accepted, "{a:?}");
    assert_eq!(a, expected_answer(&v, request.get("object"), ""));
    // Without `resolveDigests` the host is never asked.
    let m = instance(Table::default());
    m.validate(&request, &json!({})).unwrap();
    assert!(m.table.calls().iter().all(|c| c.namespace != "oci"));
}
