#!/usr/bin/env bash
# Runs every test of floe, from a fresh clone on a fresh machine: builds the
# example plugins (Rust for wasm32-wasip2, Python with componentize-py), the
# floe binary, then runs the Rust tests (cargo nextest, unit + end-to-end),
# the doc tests and the Python SDK's tests.
#
# `.ci/run` calls this script. Everything it needs it installs itself.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

step() { printf '\n== %s\n' "$*" >&2; }

step "example plugins (Rust, wasm32-wasip2)"
bash scripts/build-plugins.sh
step "example plugins (Python, componentize-py)"
bash scripts/build-python-plugins.sh
step "floe binary"
cargo build --release --locked -p floe

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --release --locked --workspace --no-fail-fast
else
    echo "cargo-nextest not found; using cargo test" >&2
    cargo test --release --locked --workspace --no-fail-fast
fi
step "doc tests"
cargo test --release --locked --workspace --doc

step "Python SDK tests"
.venv/bin/python -m pytest -q guest-sdk/python/tests
