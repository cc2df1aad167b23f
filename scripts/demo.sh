#!/usr/bin/env bash
# The quick start: sets up what floe needs on a fresh machine (the
# wasm32-wasip2 target, a Python venv with componentize-py, the example
# plugins in target/plugins/, the floe binary) and shows the plugins at work.
#
# Until `floe demo` (the whole pipeline on embedded parts) lands, this runs
# the example plugins over change events with `floe plugin check` and
# `floe plugin test`: the same host, sandbox and contract the pipeline uses.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export FLOE_LOG="${FLOE_LOG:-warn}"

bash scripts/build-plugins.sh >/dev/null
bash scripts/build-python-plugins.sh >/dev/null
cargo build --release --locked -p floe -q
floe=target/release/floe
plugins=target/plugins

show() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

show "$floe" plugin check "$plugins/mask.wasm" "$plugins/mask-py.wasm" "$plugins/maxwell.wasm"
show "$floe" plugin test "$plugins/mask.wasm" --config columns=email --config salt=s3cret --input plugins/demo/customers.jsonl
show "$floe" plugin test "$plugins/mask-py.wasm" --config columns=email --config salt=s3cret --input plugins/demo/customers.jsonl
show "$floe" plugin test "$plugins/filter.wasm" --config drop_ops=delete --config "drop_if=region == 'apac'" --input plugins/demo/customers.jsonl
show "$floe" plugin test "$plugins/route.wasm" --config column=region --config "routes=eu:sales.customers_eu,us:sales.customers_us" --config default=sales.customers_rest --input plugins/demo/customers.jsonl
show "$floe" plugin test "$plugins/maxwell.wasm" --input plugins/demo/maxwell.jsonl
printf '\nThe example plugins are in %s; write your own with guest-sdk/README.md.\n' "$plugins"
