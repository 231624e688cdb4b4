#!/usr/bin/env python3
"""The kubectl differential test: kubectl's resource builder as the oracle of `check`'s reader.

Every input file is given to `kubectl annotate --local -f FILE <probe> -o json` (the Builder
chain `kubectl apply` uses, without a server; see README.md in this folder) and to
`cks-policy read` (the objects `check` judged, as `policy_core::check_objects` returns them).
Per file it asserts:

- kubectl refuses the file (non-zero exit)  =>  `check` reports `input-invalid` for it;
- kubectl accepts it  =>  `check` judged the same objects in the same order: apiVersion, kind,
  namespace, name, labels and annotations (from kubectl's JSON, independently of check), and
  every field the rules read (check's own reading of each object kubectl printed must equal
  its reading of the file: pod templates, Node and NodePool specs, captured values);
- any `input-invalid` from check on a file kubectl accepts is a documented decision (README
  "kubectl differential": check refuses what the API server refuses), named by class.

A file listed in expected-differences.txt must differ (the list is emptied when the reader is
fixed); every other difference fails the run. AdmissionReviews are skipped (kubectl does not
apply them), with a count.

Usage: diff.py --kubectl BIN --cks BIN [--jobs N] [--complete] [--report FILE] LABEL=PATH...
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

PROBE_KEY = "kubectl-diff.cks-policy.test/probe"
HERE = os.path.dirname(os.path.abspath(__file__))

# Classes of `input-invalid` on a document kubectl's local builder accepts: each is a written
# decision in README.md ("kubectl differential"). Each test gets the message and the object
# kubectl built from that document. A message in none of them is a difference.
STRICTER = [
    # A key written twice: kubectl keeps the last value; apply's strict field validation (the
    # API server's, `--validate=strict`, the default) refuses the object.
    ("duplicate-key", lambda m, k: "is set twice" in m),
    # A field of the wrong type: kubectl's unstructured builder types only `metadata`
    # (cli-runtime metadata_decoder.go); the API server's typed decoding refuses the rest.
    ("field-type", lambda m, k: re.match(r"^`/[^`]*`", m) is not None),
    # check's own resource limits (depth, aliases, size), documented under "Limits".
    ("limit", lambda m, k: "limits.max" in m),
    # Not UTF-8 (Latin-1 bytes, UTF-16): kubectl reads on, check refuses the document.
    ("encoding", lambda m, k: m.startswith("not UTF-8 text")),
    # No apiVersion: kubectl asks the server for the kind's preferred version; check cannot.
    ("missing-apiversion", lambda m, k: "`apiVersion` and `kind` are required" in m
     and isinstance(k, dict) and not k.get("apiVersion") and k.get("kind")),
]


def parse_stream(text):
    """Objects of kubectl's `-o json` output: one JSON value per object, concatenated."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def run_kubectl(kubectl, path, env):
    try:
        p = subprocess.run(
            [kubectl, "annotate", "--local", "-f", path, PROBE_KEY + "=1", "-o", "json", "--show-managed-fields"],
            capture_output=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return {"rc": "timeout", "objects": [], "stderr": "timed out after 60 s"}
    stdout = p.stdout.decode("utf-8", "replace")
    try:
        objects = parse_stream(stdout)
    except ValueError as e:
        return {"rc": p.returncode, "objects": [], "stderr": f"unparsable stdout ({e}): {stdout[:300]}"}
    return {"rc": p.returncode, "objects": objects, "stderr": p.stderr.decode("utf-8", "replace").strip()}


def cks_read(cks, paths):
    """`cks-policy read` over many paths: {source: [results]}."""
    out = {}
    for i in range(0, len(paths), 400):
        chunk = paths[i:i + 400]
        p = subprocess.run([cks, "read", *chunk], capture_output=True, timeout=600)
        if p.returncode != 0:
            raise SystemExit(f"kubectl-diff: cks-policy read failed ({p.returncode}): {p.stderr.decode()[:2000]}")
        for line in p.stdout.decode().split("\n"):
            if not line:
                continue
            d = json.loads(line)
            out[d["source"]] = d["results"]
    return out


def strip_probe(obj):
    """kubectl's object without the probe annotation annotate added."""
    obj = json.loads(json.dumps(obj))
    md = obj.get("metadata")
    if isinstance(md, dict) and isinstance(md.get("annotations"), dict):
        md["annotations"].pop(PROBE_KEY, None)
        if not md["annotations"]:
            del md["annotations"]
    return obj


def norm_meta(md):
    """ObjectMeta as compared: empty maps are no map, an empty namespace is none (kubectl's
    builder drops it; the API server reads both as the request's namespace)."""
    md = dict(md or {})
    for k in ("labels", "annotations", "namespace"):
        if not md.get(k):
            md.pop(k, None)
    return md


def norm_numbers(v):
    """Integers past int64 as float64: kubectl's JSON decoding keeps no more (and the API
    server refuses such a value in any integer field)."""
    if isinstance(v, dict):
        return {k: norm_numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm_numbers(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
        return float(v)
    return v


def norm_object(o):
    o = norm_numbers(json.loads(json.dumps(o)))
    o["metadata"] = norm_meta(o.get("metadata"))
    for p in o.get("pods", []):
        if p.get("metadata") is not None:
            p["metadata"] = norm_meta(p["metadata"])
    return o


def kubectl_identity(k):
    md = k.get("metadata") if isinstance(k.get("metadata"), dict) else {}
    return {
        "apiVersion": k.get("apiVersion"),
        "kind": k.get("kind"),
        "namespace": md.get("namespace") or None,
        "name": md.get("name") or md.get("generateName") or None,
        "labels": md.get("labels") or {},
        "annotations": {a: v for a, v in (md.get("annotations") or {}).items() if a != PROBE_KEY},
    }


def check_identity(r):
    o = r["object"]
    md = o["metadata"]
    return {
        "apiVersion": o["apiVersion"],
        "kind": o["kind"],
        "namespace": md.get("namespace") or None,
        "name": md.get("name") or md.get("generateName") or None,
        "labels": md.get("labels") or {},
        "annotations": md.get("annotations") or {},
    }


def short(v, n=400):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[:n] + "…"


def first_difference(a, b, path=""):
    """The first JSON pointer where a and b differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{path}/{k}")
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}/{i}")
        return None
    return None if a == b else (path, a, b)


def at_pointer(v, pointer):
    for t in pointer.split("/")[1:] if pointer else []:
        t = t.replace("~1", "/").replace("~0", "~")
        if isinstance(v, dict):
            v = v.get(t)
        elif isinstance(v, list) and t.isdigit() and int(t) < len(v):
            v = v[int(t)]
        else:
            return None
    return v


def pod_view(spec):
    """What the rules read most, from a pod spec as plain JSON: containers' names, images and
    `privileged`, and the node selector."""
    spec = spec if isinstance(spec, dict) else {}
    view = {}
    for key in ("initContainers", "containers", "ephemeralContainers"):
        cs = spec.get(key) or []
        view[key] = [(c.get("name"), c.get("image"), ((c.get("securityContext") or {}).get("privileged")))
                     if isinstance(c, dict) else c for c in cs] if isinstance(cs, list) else cs
    view["nodeSelector"] = spec.get("nodeSelector") or {}
    return view


def stricter_class(message, kube_object=None):
    for name, test in STRICTER:
        if test(message, kube_object):
            return name
    return None


def compare(name, kube, check, round_trip):
    """Differences for one file (list of strings), the stricter classes used, and a skip reason."""
    diffs, classes = [], []
    # The outer object of a document kubectl reads as a list (`read-as-list`) is reported by
    # check but never built by kubectl: compare the items only.
    check = [r for r in check if not r.get("readAsList")]
    if any(r["kind"] is not None and r["object"] is None for r in check) or any(
            isinstance(k, dict) and k.get("kind") in ("AdmissionReview", "AdmissionRequest") for k in kube["objects"]):
        return diffs, classes, "admission-review"
    invalid = [r for r in check if r["invalid"]]
    if kube["rc"] != 0:
        if not invalid:
            if not kube["objects"] and not check and "no objects passed" in kube["stderr"]:
                return diffs, ["no-objects"], None
            diffs.append(f"kubectl refuses the file ({kube['stderr'][:300]!r}) but check reports no input-invalid "
                         f"(check: {short([(r['kind'], r['name']) for r in check])})")
        # Objects kubectl built (it reads on past a document it cannot decode, and stops at a
        # stream error) must be among check's, or be a document check refused for a documented
        # reason.
        readable = [check_identity(r) for r in check if r["object"] is not None]
        refused = [m for r in check if r["object"] is None for m in r["invalid"][:1]]
        for k in kube["objects"]:
            ki = kubectl_identity(k)
            if ki in readable:
                readable.remove(ki)
                continue
            cls = next((c for c in (stricter_class(m, k) for m in refused) if c), None)
            if cls:
                refused.remove(next(m for m in refused if stricter_class(m, k) == cls))
                classes.append(cls)
            else:
                diffs.append(f"kubectl built {short(ki)} (and then refused the file: {kube['stderr'][:200]!r}); "
                             f"check has no such object")
        return diffs, classes, None
    # kubectl accepted the file: one check result per kubectl object, in order.
    if len(check) != len(kube["objects"]):
        diffs.append(f"kubectl builds {len(kube['objects'])} object(s) {short([kubectl_identity(k) for k in kube['objects']], 600)}; "
                     f"check judges {len(check)} {short([(r['kind'], r['namespace'], r['name'], r['invalid']) for r in check], 600)}")
        return diffs, classes, None
    for i, (k, r) in enumerate(zip(kube["objects"], check)):
        for message in r["invalid"]:
            cls = stricter_class(message, k)
            if cls is None:
                diffs.append(f"object {i}: kubectl accepts it, check reports input-invalid: {message}")
            else:
                classes.append(cls)
        if r["object"] is None:
            continue
        ki, ci = kubectl_identity(k), check_identity(r)
        if ki != ci:
            d = first_difference(ki, ci)
            diffs.append(f"object {i}: kubectl {short(ki)} vs check {short(ci)} (first at {d[0] if d else '?'})")
            continue
        # The pod fields the rules read most, from kubectl's JSON independently of check.
        for pod in r["object"]["pods"]:
            if pod["assembled"]:
                continue
            kv, cv = pod_view(at_pointer(strip_probe(k), pod["specPointer"])), pod_view(pod["spec"])
            # A container without `name` gets the name its platform gives it (Knative's
            # `user-container`; policy-core inline_pods.rs): only kubectl's nameless ones.
            for key in ("initContainers", "containers", "ephemeralContainers"):
                if isinstance(kv[key], list) and isinstance(cv[key], list) and len(kv[key]) == len(cv[key]):
                    cv[key] = [(None, *c[1:]) if isinstance(kc, tuple) and kc[0] is None else c
                               for kc, c in zip(kv[key], cv[key])]
            if kv != cv:
                diffs.append(f"object {i} ({ci['kind']} {ci['name']}) pod at {pod['specPointer']}: kubectl "
                             f"{short(kv)} vs check {short(cv)}")
        # Every field the rules read: check's reading of kubectl's object equals its reading of the file.
        rt = round_trip[i]
        if rt is None or len(rt) != 1 or rt[0]["object"] is None:
            diffs.append(f"object {i}: check cannot read kubectl's own JSON of it: {short(rt)}")
            continue
        a, b = norm_object(rt[0]["object"]), norm_object(r["object"])
        if a != b:
            d = first_difference(a, b)
            diffs.append(f"object {i} ({ci['kind']} {ci['name']}): at {d[0]} kubectl has {short(d[1], 200)}, "
                         f"check read {short(d[2], 200)}")
    return diffs, classes, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--cks", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--expected", default=os.path.join(HERE, "expected-differences.txt"))
    ap.add_argument("--complete", action="store_true",
                    help="the inputs are everything: an expected difference not among them is an error")
    ap.add_argument("--report", help="write every file's comparison here as JSON lines")
    ap.add_argument("inputs", nargs="+", help="LABEL=PATH: the name a file is reported under, and where it is")
    args = ap.parse_args()

    inputs = [tuple(x.split("=", 1)) for x in args.inputs]
    expected = {}
    with open(args.expected) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                expected[line] = False
    env = dict(os.environ, KUBECONFIG=os.devnull, HOME=tempfile.mkdtemp(prefix="kubectl-diff-home-"))

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        kube = dict(zip([l for l, _ in inputs], pool.map(lambda lp: run_kubectl(args.kubectl, lp[1], env), inputs)))

    # check over the inputs, and over each object kubectl printed, written as its own JSON file.
    check = cks_read(args.cks, [p for _, p in inputs])
    tmp = tempfile.mkdtemp(prefix="kubectl-diff-")
    rt_paths = {}
    for n, (label, _) in enumerate(inputs):
        for i, obj in enumerate(kube[label]["objects"]):
            p = os.path.join(tmp, f"{n}-{i}.json")
            with open(p, "w") as f:
                json.dump(strip_probe(obj), f)
            rt_paths[(label, i)] = p
    rt = cks_read(args.cks, list(rt_paths.values())) if rt_paths else {}

    counts = {"files": 0, "kubectl-accepts": 0, "kubectl-refuses": 0, "objects": 0, "admission-review (skipped)": 0}
    stricter = {}
    failures = []
    report = open(args.report, "w") if args.report else None
    for label, path in inputs:
        k = kube[label]
        c = check.get(path, [])
        round_trip = [rt.get(rt_paths[(label, i)]) for i in range(len(k["objects"]))]
        diffs, classes, skip = compare(label, k, c, round_trip)
        counts["files"] += 1
        if skip:
            counts["admission-review (skipped)"] += 1
            continue
        counts["kubectl-accepts" if k["rc"] == 0 else "kubectl-refuses"] += 1
        counts["objects"] += len(k["objects"])
        for cls in classes:
            stricter[cls] = stricter.get(cls, 0) + 1
        if report:
            report.write(json.dumps({"file": label, "kubectl_rc": k["rc"], "kubectl_objects": len(k["objects"]),
                                     "check_results": len(c), "differences": diffs, "classes": classes}) + "\n")
        if label in expected:
            expected[label] = True
            if diffs:
                print(f"EXPECTED  {label}: {diffs[0]}")
            else:
                failures.append(f"{label}: listed in expected-differences.txt but no longer differs; remove it")
            continue
        for d in diffs:
            failures.append(f"{label}: {d}")
    for label, seen in expected.items():
        if not seen and args.complete:
            failures.append(f"{label}: listed in expected-differences.txt but not among the inputs")

    print("kubectl-diff: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if stricter:
        print("kubectl-diff: check refuses what kubectl's local builder accepts (documented in README): "
              + ", ".join(f"{v} {k}" for k, v in sorted(stricter.items())))
    if failures:
        print(f"kubectl-diff: {len(failures)} difference(s):")
        for f in failures:
            print("  DIFF " + f)
        sys.exit(1)
    print("kubectl-diff: no unexplained difference")


if __name__ == "__main__":
    main()
