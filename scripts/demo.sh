#!/usr/bin/env bash
# The quick start: sets up what floe needs on a fresh machine (the C headers
# librdkafka builds against, the wasm32-wasip2 target, a Python venv with
# componentize-py, the example plugins in target/plugins/, the floe binary)
# and runs `floe demo`: an in-process Kafka broker, Debezium events, the
# example plugins, a SQLite catalog and a local warehouse in ./floe-demo.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/install-build-deps.sh
bash scripts/build-plugins.sh >/dev/null
bash scripts/build-python-plugins.sh >/dev/null
cargo build --release --locked -p floe -q
exec target/release/floe demo --dir floe-demo "$@"
