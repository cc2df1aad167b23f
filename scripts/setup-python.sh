#!/usr/bin/env bash
# Creates <repo>/.venv (idempotently) and installs the pinned Python tooling of
# scripts/python-requirements.txt into it: componentize-py (builds Python
# plugins into components), pytest and wasmtime (tests of the Python SDK).
#
# Quiet when the venv is already up to date. The venv is (re)installed when the
# requirements file changes: its sha256 is kept in .venv/.floe-requirements.sha256.
#
# Environment: PYTHON (default python3) picks the interpreter that creates the venv.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
reqs="$repo/scripts/python-requirements.txt"
stamp="$venv/.floe-requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$reqs" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup-python: creating $venv" >&2
    "$python" -m venv "$venv"
fi

echo "setup-python: installing $(grep -cv '^\s*\(#\|$\)' "$reqs") pinned packages from scripts/python-requirements.txt" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
echo "$want" > "$stamp"
