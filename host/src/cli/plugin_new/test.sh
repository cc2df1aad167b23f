#!/usr/bin/env bash
# Runs {{name}}.wasm over sample.json with `floe plugin test` and checks that
# the output holds {{expect}}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
floe="${FLOE:-floe}"
out="$("$floe" plugin test {{name}}.wasm -i sample.json)"
printf '%s\n' "$out"
if ! grep -qF '{{expect}}' <<<"$out"; then
    echo "test: FAILED: the output does not hold {{expect}}" >&2
    exit 1
fi
echo "test: ok"
