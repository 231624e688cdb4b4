#!/usr/bin/env python3
"""Writes the hostile inputs of the kubectl differential test into a folder (one file each).

Each targets a place where a reader can part from kubectl's builder: list flattening, stream
splitting, YAML 1.1 scalars, duplicate keys, anchors and merge keys, encodings and line ends.
Usage: hostile.py DIR
"""
import json
import os
import sys

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n"
STS = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "hidden", "labels": {"qos.coreweave.cloud/interruptable": "true"}},
    "spec": {
        "selector": {"matchLabels": {"app": "x"}},
        "serviceName": "x",
        "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:latest", "securityContext": {"privileged": True}}]},
        },
    },
}


def pod(name):
    return POD.format(name=name)


def pod_json(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}


CASES = {
    # --- lists -------------------------------------------------------------------------------
    # kubectl: any object with a non-null `items` is a list (apimachinery unstructured.go).
    "items-in-configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\nitems:\n- " + json.dumps(STS) + "\n",
    "items-in-deployment.json": json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                                            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx:1"}]}}},
                                            "items": [STS]}),
    "items-in-crd-kind.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nitems:\n- " + json.dumps(STS) + "\n",
    "list-nested.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - " + json.dumps(pod_json("inner")) + "\n- " + json.dumps(pod_json("outer")) + "\n",
    "list-items-null.yaml": "apiVersion: v1\nkind: List\nmetadata: {}\nitems: null\n",
    "list-items-empty.yaml": "apiVersion: v1\nkind: List\nitems: []\n",
    "list-items-map.yaml": "apiVersion: v1\nkind: List\nitems: {a: b}\n",
    "list-item-without-kind.yaml": "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n  spec: {containers: [{name: c, image: nginx}]}\n",
    "list-item-without-apiversion.yaml": "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n  spec: {containers: [{name: c, image: nginx}]}\n",
    "list-item-scalar.yaml": "apiVersion: v1\nkind: List\nitems:\n- 3\n- " + json.dumps(pod_json("p")) + "\n",
    "podlist.yaml": "apiVersion: v1\nkind: PodList\nitems:\n- " + json.dumps(pod_json("a")) + "\n- " + json.dumps(pod_json("b")) + "\n",
    "list-with-resourceversion.yaml": "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"7\"}\nitems:\n- " + json.dumps(pod_json("a")) + "\n",
    "list-json.json": json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod_json("a"), STS]}),
    "list-kind-no-items.yaml": "apiVersion: example.com/v1\nkind: PriorityList\nmetadata: {name: p}\nspec: {}\n",
    # --- documents and streams ---------------------------------------------------------------
    "multi-empty-docs.yaml": "---\n---\n# only a comment\n---\n" + pod("a") + "---\n~\n---\nnull\n---\n\n...\n---\n" + pod("b") + "---\n",
    "separator-edge.yaml": "--- # comment\n" + pod("a") + "---\t\n" + pod("b") + "----\n",
    "separator-inline.yaml": "--- " + json.dumps(pod_json("inline")) + "\n--- !!map\n" + pod("tagged"),
    "separator-indented.yaml": pod("a") + " ---\n",
    "separator-no-newline.yaml": pod("a") + "---",
    "document-end-marker.yaml": pod("a") + "...\n---\n" + pod("b") + "...\n",
    "only-comments.yaml": "# nothing here\n# at all\n",
    "empty.yaml": "",
    "whitespace.yaml": "\n\n   \n",
    "json-stream-concatenated.json": json.dumps(pod_json("a")) + json.dumps(pod_json("b")),
    "json-stream-newlines.json": json.dumps(pod_json("a")) + "\n" + json.dumps(pod_json("b")) + "\n",
    "json-then-yaml.yaml": json.dumps(pod_json("a")) + "\n---\n" + pod("b"),
    "json-trailing-garbage.json": json.dumps(pod_json("a")) + '"\n',
    "json-array.json": json.dumps([pod_json("a")]),
    "json-pretty.json": json.dumps(pod_json("a"), indent=2),
    "yaml-flow-json-first.yaml": "# leading comment\n" + json.dumps(pod_json("a")) + "\n",
    "bad-doc-in-middle.yaml": pod("a") + "---\nkind: [\n---\n" + pod("c"),
    "scalar-doc.yaml": "just a string\n",
    "sequence-doc.yaml": "- a\n- b\n",
    "directive-yaml.yaml": "%YAML 1.1\n---\n" + pod("a"),
    "helm-source.yaml": "---\n# Source: chart/templates/a.yaml\n" + pod("a") + "---\n# Source: chart/templates/b.yaml\n" + pod("b"),
    # --- keys and scalars --------------------------------------------------------------------
    "duplicate-keys.yaml": "apiVersion: v1\nkind: ConfigMap\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: a, name: b}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    spec:\n      containers:\n      - {name: a, image: nginx, image: \"nginx:1\"}\n",
    "duplicate-keys.json": '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"c","image":"nginx:1"}]}}',
    "yaml11-scalars.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: n\nspec:\n  securityContext: {runAsUser: 0400, runAsGroup: 0x10, fsGroup: 1_000}\n  containers:\n  - name: c\n    image: nginx:1\n    securityContext: {privileged: yes, allowPrivilegeEscalation: off, readOnlyRootFilesystem: Y}\n",
    "yaml11-label-bool.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: n\n  labels: {enabled: yes}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    "yaml11-name-number.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 0123\n",
    "yaml12-octal.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: o}\nspec:\n  securityContext: {runAsUser: 0o17}\n  containers: [{name: c, image: nginx}]\n",
    "yaml-null-forms.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: ~\n  annotations: null\nspec:\n  nodeSelector: Null\n  containers: [{name: c, image: nginx, securityContext: NULL}]\n",
    "anchors-merge.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: &l {app: a, tier: web}\nspec:\n  selector: {matchLabels: *l}\n  template:\n    metadata: {labels: *l}\n    spec:\n      containers:\n      - &c\n        name: a\n        image: nginx\n        resources: &r {limits: {cpu: 1}}\n      - <<: *c\n        name: b\n      - <<: [*c, {resources: *r}]\n        name: d\n",
    "merge-overrides-name.yaml": "base: &b {name: from-merge, namespace: ns1}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: *b\n  name: own\n",
    "merge-after-key.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own\n  <<: {name: merged, labels: {a: b}}\n",
    "anchor-kind.yaml": "apiVersion: v1\nkind: &k Pod\nmetadata: {name: a, labels: {k: *k}}\nspec: {containers: [{name: c, image: nginx}]}\n",
    "tagged-scalars.yaml": "apiVersion: !!str v1\nkind: !!str Pod\nmetadata: {name: !!str 123}\nspec: {containers: [{name: c, image: !!str nginx}]}\n",
    "binary-key.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    !!binary cW9zLmNvcmV3ZWF2ZS5jbG91ZC9pbnRlcnJ1cHRhYmxl: \"true\"\nspec:\n  containers: [{name: a, image: nginx}]\n",
    "quoted-keys.yaml": "\"apiVersion\": v1\n'kind': Pod\n? metadata\n: {name: a}\nspec: {containers: [{name: c, image: nginx}]}\n",
    "block-scalars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: >-\n    folded\n  annotations:\n    a: |\n      line1\n      line2\n    b: |+\n      kept\n\n",
    "big-int.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  parallelism: 9223372036854775808\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: nginx}]\n",
    "float-int.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  parallelism: 2.0\n  completions: 1e1\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: nginx}]\n",
    "nan-inf.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {x: .inf}}\n",
    "missing-kind.yaml": "apiVersion: v1\nmetadata: {name: a}\n",
    "missing-apiversion.yaml": "kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: nginx}]}\n",
    "empty-kind.yaml": "apiVersion: v1\nkind: \"\"\nmetadata: {name: a}\n",
    "metadata-null.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: null\n",
    "metadata-list.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [a]\n",
    "no-name.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {generateName: gen-}\nspec: {containers: [{name: c, image: nginx}]}\n",
    "namespace-empty.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: \"\"}\nspec: {containers: [{name: c, image: nginx}]}\n",
    "unicode-names.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"caf\\u00e9\"\n  labels: {\"\u00e9\": \"\u2603\"}\n  annotations: {note: \"line\\u2028sep \\U0001F600\"}\n",
    # --- encodings and whitespace ------------------------------------------------------------
    "tabs-indent.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: a\n",
    "tab-after-colon.yaml": "apiVersion:\tv1\nkind:\tPod\nmetadata: {name:\ta}\nspec:\n  containers:\n  - name:\tc\n    image:\tnginx\n",
    "tabs-in-flow.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {\tname: a,\tlabels: {x:\ty}\t}\nspec: {containers: [{name: c, image: nginx}]}\n",
    # A literal block scalar whose last line is only its indentation, with no final newline.
    "block-scalar-eof-spaces.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: |\n      line\n      ",
    # go-yaml v2 ends a plain scalar at `?` in a flow collection (scannerc.go), YAML 1.2 does not.
    "flow-plain-question.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - {name: c, image: nginx? x}\n",
    # A flow mapping continued on a line indented less than its block.
    "flow-continuation-indent.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - {name: c, image:\n nginx}\n",
    "trailing-spaces.yaml": "apiVersion: v1   \nkind: Pod  \nmetadata:   \n  name: a   \nspec: {containers: [{name: c, image: nginx}]}   \n",
}

BYTES = {
    "crlf.yaml": (pod("a") + "---\n" + pod("b")).replace("\n", "\r\n").encode(),
    "cr-only.yaml": pod("a").replace("\n", "\r").encode(),
    "crlf-separator-mixed.yaml": (pod("a") + "---\r\n" + pod("b")).encode(),
    "bom.yaml": b"\xef\xbb\xbf" + pod("a").encode(),
    "bom.json": b"\xef\xbb\xbf" + json.dumps(pod_json("a")).encode(),
    "bom-second-doc.yaml": (pod("a") + "---\n").encode() + b"\xef\xbb\xbf" + pod("b").encode(),
    "utf16le-bom.yaml": b"\xff\xfe" + pod("a").encode("utf-16-le"),
    "latin1.yaml": pod("a").encode().replace(b"name: a", b"name: caf\xe9"),
    "nul-byte.yaml": pod("a").encode() + b"x: \"a\x00b\"\n",
    "control-char.yaml": pod("a").encode().replace(b"name: a", b"name: \"a\x1bb\""),
    "invalid-utf8-second-doc.yaml": (pod("a") + "---\n").encode() + pod("b").encode().replace(b"name: b", b"name: b\xff"),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, text in CASES.items():
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    for name, data in BYTES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    # Generated sizes: deep nesting (within and past the default depth limit).
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: {}\nx: " + "[" * 200 + "]" * 200 + "\n"
    with open(os.path.join(out, "deep-flow.yaml"), "w") as f:
        f.write(deep)
    many = "".join("---\n" + pod(f"p{i}") for i in range(300))
    with open(os.path.join(out, "many-docs.yaml"), "w") as f:
        f.write(many)


if __name__ == "__main__":
    main()
