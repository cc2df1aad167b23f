#!/usr/bin/env bash
# Builds {{name}}.wasm: Rust for wasm32-wasip2, whose linker makes components.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --target wasm32-wasip2 --target-dir "$target"
cp "$target/wasm32-wasip2/release/{{crate_file}}.wasm" {{name}}.wasm
echo "built {{name}}.wasm"
