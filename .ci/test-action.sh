#!/usr/bin/env bash
# Runs action.yml's steps as GitHub's runner would (.ci/test_action.py): a failing and a passing
# manifest, SARIF, settings, bad input. Builds the CLI once with `cargo install --path cli` (the
# action's own install step) into a scratch tool cache; honours CARGO_TARGET_DIR so the release
# build is shared. Needs Python 3 and network access to PyPI (PyYAML) only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
export CARGO_TARGET_DIR=$target
venv="$target/ci-venv"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "PyYAML==6.0.3"
exec "$venv/bin/python" "$root/.ci/test_action.py"
