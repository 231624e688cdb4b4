"""``python -m cks_policy check|audit [--settings FILE] [--context FILE] FILE``: quick use.

Prints the report JSON the library produced for FILE (``-`` reads stdin), byte for byte what
``cks-policy check --format json FILE`` prints for one file, and exits as the CLI does: 0 no
error findings, 1 error findings (unreadable input included), 2 usage or I/O errors and
invalid settings or context. It only marshals: every verdict and count is the library's.
For directories, other formats and the rest of the commands, use the ``cks-policy`` CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from . import Policy, PolicyError


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m cks_policy",
        description="Check a Kubernetes manifest file against the CKS rules (JSON report).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("check", "judge a manifest file (YAML/JSON, multi-document, List, AdmissionReview)"),
        ("audit", "judge a file of existing cluster state (kubectl get -A -o yaml)"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--settings", metavar="FILE", help="settings file (JSON or YAML)")
        p.add_argument("--context", metavar="FILE", help="cluster context file (JSON)")
        p.add_argument("file", metavar="FILE", help="the file to judge; - for stdin")
    args = parser.parse_args(argv)  # usage errors exit 2, as the CLI's do

    try:
        settings = _read(args.settings) if args.settings else None
        context = _read(args.context) if args.context else None
        manifest = _read(args.file)
    except OSError as e:
        print(f"cks-policy: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        with Policy(settings) as policy:
            judge = policy.audit_json if args.command == "audit" else policy.evaluate_json
            raw = judge(manifest, source=args.file, context=context)
    except PolicyError as e:
        print(f"cks-policy: {e}", file=sys.stderr)
        return 2
    print(raw)
    return 1 if json.loads(raw)["summary"]["errors"] > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
