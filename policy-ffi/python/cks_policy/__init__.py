"""CoreWeave Kubernetes Service (CKS) policy checks, over the cks_policy C ABI.

>>> import cks_policy
>>> policy = cks_policy.Policy({"mode": "enforce"})
>>> report = policy.evaluate("apiVersion: v1\\nkind: Pod\\nmetadata: {name: web}\\n"
...                          "spec: {containers: [{name: web, image: nginx}]}\\n", source="pod.yaml")
>>> report.results[0].allowed
False

A ``Policy`` is immutable once built and safe to share between threads; calls release the GIL.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Union

from ._native import ffi, lib

__all__ = [
    "FitReason",
    "Finding",
    "FitsReport",
    "NodeFit",
    "PatchOp",
    "Policy",
    "PolicyError",
    "Problem",
    "Report",
    "Result",
    "ReviewResponse",
    "Summary",
    "Suppression",
    "rules",
    "settings_schema",
    "__version__",
]

__version__: str = ffi.string(lib.cks_policy_version()).decode()

Input = Union[str, bytes, bytearray, memoryview, Mapping[str, Any], List[Any]]


@dataclass(frozen=True)
class Problem:
    """One problem: an RFC 6901 pointer into the settings (``""`` for the whole input)."""

    path: str
    message: str
    line: Optional[int] = None
    """The problem's 1-based line in the settings text, when it is found there."""


class PolicyError(Exception):
    """A failed call: ``code`` (e.g. ``"CKS_POLICY_INVALID_SETTINGS"``) and every problem."""

    def __init__(self, code: str, problems: List[Problem]):
        self.code = code
        self.problems = problems
        detail = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in problems)
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class Suppression:
    """What silenced a finding: ``by`` is ``"settings"`` or ``"annotation"``, with its reason."""

    by: str
    reason: str


@dataclass(frozen=True)
class Finding:
    """One thing a rule found, at an RFC 6901 pointer into the document."""

    rule: str
    severity: str
    path: str
    message: str
    fix: Optional[str] = None
    line: Optional[int] = None
    #: On UPDATE: ``oldObject`` already had it, so it does not deny (ratcheting).
    preexisting: bool = False
    #: Set when an exception silences it: reported, but it does not deny or count.
    suppressed: Optional[Suppression] = None


_ABSENT: Any = None


@dataclass(frozen=True)
class PatchOp:
    """One RFC 6902 JSON Patch operation (``add``, ``replace`` or ``remove``)."""

    op: str
    path: str
    value: Any = _ABSENT


@dataclass(frozen=True)
class Result:
    """The verdict on one object."""

    source: Optional[str]
    document: int
    kind: Optional[str]
    namespace: Optional[str]
    name: Optional[str]
    allowed: bool
    findings: List[Finding]
    patch: List[PatchOp]
    #: Judged as existing cluster state (:meth:`Policy.audit`, or ``metadata.resourceVersion``).
    existing: bool = False


@dataclass(frozen=True)
class Summary:
    documents: int
    errors: int
    warnings: int
    infos: int
    #: Results by outcome: ``passed + warned + denied + invalid == documents``.
    passed: int = 0
    warned: int = 0
    denied: int = 0
    invalid: int = 0
    #: Findings an exception silenced (not counted in the severities above).
    suppressed: int = 0


@dataclass(frozen=True)
class Report:
    """The report of ``cks-policy check``; ``raw`` is the exact JSON the library produced."""

    summary: Summary
    results: List[Result]
    raw: str = field(repr=False)

    @property
    def allowed(self) -> bool:
        return all(r.allowed for r in self.results)


@dataclass(frozen=True)
class ReviewResponse:
    """An AdmissionReview response; ``raw`` is the JSON a webhook sends back."""

    uid: str
    allowed: bool
    status: Optional[Mapping[str, Any]]
    warnings: List[str]
    patch_type: Optional[str]
    patch: Optional[str]
    raw: str = field(repr=False)


@dataclass(frozen=True)
class FitReason:
    kind: str
    message: str


@dataclass(frozen=True)
class NodeFit:
    name: str
    fits: bool
    reasons: List[FitReason]
    # What was not judged (a node without status.allocatable is not judged on resources).
    notes: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class FitsReport:
    """Which nodes can take a pod; ``raw`` is the exact JSON."""

    pod: Optional[str]
    nodes: List[NodeFit]
    raw: str = field(repr=False)
    # What CKS admission adds to the pod (JSON Patch), applied before the nodes are judged.
    admission_patch: List[dict] = field(default_factory=list)


def _bytes(value: Optional[Input]) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _take(buf) -> str:
    try:
        return ffi.unpack(buf.data, buf.len).decode("utf-8")
    finally:
        lib.cks_policy_buffer_free(buf)


def _error(rc: int, err) -> PolicyError:
    code = ffi.string(lib.cks_policy_result_name(rc)).decode()
    problems: List[Problem] = []
    if err.data != ffi.NULL:
        body = json.loads(_take(err))
        problems = [
            Problem(p["path"], p["message"], p.get("line")) for p in body.get("problems", [])
        ]
    return PolicyError(code, problems)


def _known(cls: Any, d: Mapping[str, Any]) -> Dict[str, Any]:
    """The fields of ``d`` that ``cls`` (a dataclass) has: a newer engine may add fields, and an
    older wheel must still read its reports (as Go's decoder ignores unknown fields)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def _finding(f: Mapping[str, Any]) -> Finding:
    known = _known(Finding, f)
    if known.get("suppressed") is not None:
        known["suppressed"] = Suppression(**_known(Suppression, known["suppressed"]))
    return Finding(**known)


def _report(raw: str) -> Report:
    v = json.loads(raw)
    return Report(
        summary=Summary(**_known(Summary, v["summary"])),
        results=[
            Result(
                source=r["source"],
                document=r["document"],
                kind=r["kind"],
                namespace=r["namespace"],
                name=r["name"],
                allowed=r["allowed"],
                findings=[_finding(f) for f in r["findings"]],
                patch=[PatchOp(**_known(PatchOp, p)) for p in r["patch"]],
                existing=r.get("existing", False),
            )
            for r in v["results"]
        ],
        raw=raw,
    )


def _review(raw: str) -> ReviewResponse:
    r = json.loads(raw)["response"]
    return ReviewResponse(
        uid=r["uid"],
        allowed=r["allowed"],
        status=r.get("status"),
        warnings=r.get("warnings", []),
        patch_type=r.get("patchType"),
        patch=r.get("patch"),
        raw=raw,
    )


def _fits(raw: str) -> FitsReport:
    v = json.loads(raw)
    return FitsReport(
        pod=v.get("pod"),
        nodes=[
            NodeFit(
                n["name"],
                n["fits"],
                [FitReason(**_known(FitReason, x)) for x in n["reasons"]],
                list(n.get("notes", [])),
            )
            for n in v["nodes"]
        ],
        raw=raw,
        admission_patch=list(v.get("admissionPatch", [])),
    )


class Policy:
    """Compiled settings, reusable from many threads.

    ``settings`` is JSON or YAML text, bytes, a dict, or ``None`` for the CKS defaults. Raises
    :class:`PolicyError` (``code == "CKS_POLICY_INVALID_SETTINGS"``) listing every problem.
    """

    def __init__(self, settings: Optional[Input] = None):
        self._ptr = ffi.NULL
        self._lock = threading.Lock()
        self._inflight = 0
        self._closing = False
        data = _bytes(settings)
        out = ffi.new("cks_policy **")
        err = ffi.new("cks_policy_buffer *")
        rc = lib.cks_policy_new(ffi.from_buffer("uint8_t[]", data), len(data), out, err)
        if rc != lib.CKS_POLICY_OK:
            raise _error(rc, err)
        self._ptr = out[0]

    # A handle is freed only when no call is using it: close() waits for none, it defers.
    def _acquire(self):
        with self._lock:
            if self._closing or self._ptr == ffi.NULL:
                raise PolicyError("CKS_POLICY_CLOSED", [Problem("", "the policy is closed")])
            self._inflight += 1
            return self._ptr

    def _release(self) -> None:
        with self._lock:
            self._inflight -= 1
            if self._closing and self._inflight == 0:
                self._free()

    def _free(self) -> None:
        if self._ptr != ffi.NULL:
            lib.cks_policy_free(self._ptr)
            self._ptr = ffi.NULL

    def close(self) -> None:
        """Releases the policy (idempotent); later calls raise PolicyError."""
        with self._lock:
            self._closing = True
            if self._inflight == 0:
                self._free()

    def __enter__(self) -> "Policy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # The finalizer is a backstop for a forgotten close(); at interpreter shutdown the
        # module globals may already be gone, and then the process exit frees everything.
        try:
            if getattr(self, "_lock", None) is not None:
                self.close()
        except Exception:  # noqa: BLE001
            pass

    def evaluate_json(
        self,
        manifest: Input,
        source: Optional[str] = None,
        context: Optional[Input] = None,
    ) -> str:
        """The report JSON, byte for byte what ``cks-policy check --format json`` prints.

        ``manifest`` is YAML/JSON text or bytes (one or many documents, ``kind: List``, or an
        AdmissionReview), or a dict/list (sent as JSON). ``context`` is
        ``{"namespaces": {...}, "digests": {...}}``.
        """
        return self._judge_text(lib.cks_policy_evaluate, manifest, source, context)

    def audit_json(
        self,
        manifest: Input,
        source: Optional[str] = None,
        context: Optional[Input] = None,
    ) -> str:
        """The report JSON of ``cks-policy audit --format json``: manifests judged as existing
        cluster state (what ``kubectl get -A -o yaml`` prints). Change rules do not fire,
        nothing is patched, mutations say what CKS admission would have added. Arguments as
        for :meth:`evaluate_json`."""
        return self._judge_text(lib.cks_policy_audit, manifest, source, context)

    def audit(
        self,
        manifest: Input,
        source: Optional[str] = None,
        context: Optional[Input] = None,
    ) -> Report:
        """Audits manifests; see :meth:`audit_json`. ``Report.raw`` keeps the JSON."""
        return _report(self.audit_json(manifest, source, context))

    def _judge_text(
        self,
        call: Any,
        manifest: Input,
        source: Optional[str],
        context: Optional[Input],
    ) -> str:
        data = _bytes(manifest)
        ctx = _bytes(context)
        if source is not None and "\0" in source:
            raise ValueError("source must not contain NUL characters")
        src = source.encode("utf-8") if source is not None else ffi.NULL
        out = ffi.new("cks_policy_buffer *")
        err = ffi.new("cks_policy_buffer *")
        ptr = self._acquire()
        try:
            rc = call(
                ptr,
                src,
                ffi.from_buffer("uint8_t[]", data),
                len(data),
                ffi.from_buffer("uint8_t[]", ctx),
                len(ctx),
                out,
                err,
            )
        finally:
            self._release()
        if rc != lib.CKS_POLICY_OK:
            raise _error(rc, err)
        return _take(out)

    def evaluate(
        self,
        manifest: Input,
        source: Optional[str] = None,
        context: Optional[Input] = None,
    ) -> Report:
        """Judges manifests; see :meth:`evaluate_json`. ``Report.raw`` keeps the JSON."""
        return _report(self.evaluate_json(manifest, source, context))

    def review_json(self, review: Input, context: Optional[Input] = None) -> str:
        """The AdmissionReview response JSON for an AdmissionReview (or AdmissionRequest)."""
        data = _bytes(review)
        ctx = _bytes(context)
        out = ffi.new("cks_policy_buffer *")
        err = ffi.new("cks_policy_buffer *")
        ptr = self._acquire()
        try:
            rc = lib.cks_policy_review(
                ptr,
                ffi.from_buffer("uint8_t[]", data),
                len(data),
                ffi.from_buffer("uint8_t[]", ctx),
                len(ctx),
                out,
                err,
            )
        finally:
            self._release()
        if rc != lib.CKS_POLICY_OK:
            raise _error(rc, err)
        return _take(out)

    def review(self, review: Input, context: Optional[Input] = None) -> ReviewResponse:
        """Judges an AdmissionReview; raises PolicyError when the input is no request at all."""
        return _review(self.review_json(review, context))

    def fits_json(self, pod: Input, nodes: Input, pods: Optional[Input] = None) -> str:
        """The fits JSON of ``cks-policy fits --format json``; ``pods`` (what ``kubectl get pods
        -A -o yaml`` prints) are the pods already running, as ``--pods`` counts them."""
        pod_b = _bytes(pod)
        nodes_b = _bytes(nodes)
        out = ffi.new("cks_policy_buffer *")
        err = ffi.new("cks_policy_buffer *")
        ptr = self._acquire()
        try:
            if pods is None:
                rc = lib.cks_policy_fits(
                    ptr,
                    ffi.from_buffer("uint8_t[]", pod_b),
                    len(pod_b),
                    ffi.from_buffer("uint8_t[]", nodes_b),
                    len(nodes_b),
                    out,
                    err,
                )
            else:
                pods_b = _bytes(pods)
                rc = lib.cks_policy_fits_with_pods(
                    ptr,
                    ffi.from_buffer("uint8_t[]", pod_b),
                    len(pod_b),
                    ffi.from_buffer("uint8_t[]", nodes_b),
                    len(nodes_b),
                    ffi.from_buffer("uint8_t[]", pods_b),
                    len(pods_b),
                    out,
                    err,
                )
        finally:
            self._release()
        if rc != lib.CKS_POLICY_OK:
            raise _error(rc, err)
        return _take(out)

    def fits(self, pod: Input, nodes: Input, pods: Optional[Input] = None) -> FitsReport:
        """Which nodes can take ``pod`` and why the others cannot (``pods``: as for
        :meth:`fits_json`)."""
        return _fits(self.fits_json(pod, nodes, pods))


def rules() -> List[Mapping[str, Any]]:
    """The rule catalogue in run order."""
    out = ffi.new("cks_policy_buffer *")
    rc = lib.cks_policy_rules(out)
    if rc != lib.CKS_POLICY_OK:
        raise _error(rc, ffi.new("cks_policy_buffer *"))
    return json.loads(_take(out))


def settings_schema() -> Mapping[str, Any]:
    """The JSON Schema of the settings."""
    out = ffi.new("cks_policy_buffer *")
    rc = lib.cks_policy_settings_schema(out)
    if rc != lib.CKS_POLICY_OK:
        raise _error(rc, ffi.new("cks_policy_buffer *"))
    return json.loads(_take(out))
