"""Validates JSON documents for cli/tests/formats.rs (see README.md).

Usage:
  validate.py schema SCHEMA.json DOC.json
  validate.py crd-list DOC.json CRD.yaml...   (DOC is a v1 List of objects of those CRDs)

Prints every problem and exits 1 when there is one; exits 0 when the document is valid.
"""
import json
import sys

import jsonschema
import yaml


def strict(schema):
    """Refuse unknown fields wherever the schema lists the fields, as pruning would drop them."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for v in schema.values():
            strict(v)
    elif isinstance(schema, list):
        for v in schema:
            strict(v)
    return schema


def problems(validator, doc, where):
    return [
        f"{where}{''.join(f'/{p}' for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(doc)
    ]


def main(argv):
    out = []
    if argv[1] == "schema":
        schema = json.load(open(argv[2], encoding="utf-8"))
        doc = json.load(open(argv[3], encoding="utf-8"))
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        out = problems(cls(schema), doc, "")
    elif argv[1] == "crd-list":
        doc = json.load(open(argv[2], encoding="utf-8"))
        kinds = {}
        for path in argv[3:]:
            crd = yaml.safe_load(open(path, encoding="utf-8"))
            group = crd["spec"]["group"]
            for v in crd["spec"]["versions"]:
                schema = strict(v["schema"]["openAPIV3Schema"])
                kinds[(f"{group}/{v['name']}", crd["spec"]["names"]["kind"])] = (
                    crd["spec"]["scope"],
                    jsonschema.Draft7Validator(schema),
                )
        if doc.get("apiVersion") != "v1" or doc.get("kind") != "List":
            out.append("not a v1 List")
        for i, item in enumerate(doc.get("items", [])):
            key = (item.get("apiVersion"), item.get("kind"))
            if key not in kinds:
                out.append(f"/items/{i}: no CRD for {key}")
                continue
            scope, validator = kinds[key]
            namespaced = "namespace" in item.get("metadata", {})
            if namespaced != (scope == "Namespaced"):
                out.append(f"/items/{i}: a {scope} kind with namespaced={namespaced}")
            out += problems(validator, item, f"/items/{i}")
    else:
        out.append(f"unknown mode {argv[1]}")
    for p in out:
        print(p)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
