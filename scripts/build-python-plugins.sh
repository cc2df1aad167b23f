#!/usr/bin/env bash
# Builds the Python plugins (plugins/mask-py) into WebAssembly components with
# componentize-py, world `transformer` of <repo>/wit, into target/plugins/<name>.wasm.
#
# A plugin is rebuilt only when its inputs changed: its .py files, the Python
# SDK (guest-sdk/python/floe_guest), the WIT files, the componentize-py pin and
# this script; their sha256 is kept beside the output in <name>.wasm.inputs.
# FORCE=1 rebuilds anyway.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup-python.sh"

out_dir="$repo/target/plugins"
mkdir -p "$out_dir"
cpy="$repo/.venv/bin/componentize-py"
sdk="$repo/guest-sdk/python"

# plugin folder name -> its app module (the file given to componentize-py)
plugins=("mask-py:app")

inputs_hash() { # <plugin dir>
    (
        cd "$repo"
        {
            find "${1#"$repo"/}" guest-sdk/python/floe_guest wit -type f \( -name '*.py' -o -name '*.wit' \) -print0 |
                LC_ALL=C sort -z | xargs -0 sha256sum
            sha256sum scripts/build-python-plugins.sh
            "$cpy" --version
        } | sha256sum | cut -d' ' -f1
    )
}

for entry in "${plugins[@]}"; do
    name="${entry%%:*}"
    module="${entry#*:}"
    dir="$repo/plugins/$name"
    out="$out_dir/$name.wasm"
    stamp="$out.inputs"
    want="$(inputs_hash "$dir")"
    if [[ "${FORCE:-0}" != 1 && -f "$out" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "build-python-plugins: $name up to date (target/plugins/$name.wasm)"
        continue
    fi
    echo "build-python-plugins: building $name (componentize-py, takes a while)"
    start=$SECONDS
    rm -f "$stamp"
    # Run from the plugin folder with a clean environment for Python paths: the
    # component gets only the plugin folder and the SDK (plus the bindings
    # componentize-py generates), never the venv's site-packages.
    (
        cd "$dir"
        env -u VIRTUAL_ENV -u PYTHONPATH "$cpy" -q -d "$repo/wit" -w transformer \
            componentize "$module" -p "$dir" -p "$sdk" -o "$out.tmp"
    )
    mv "$out.tmp" "$out"
    echo "$want" > "$stamp"
    echo "build-python-plugins: $name -> target/plugins/$name.wasm ($(du -h "$out" | cut -f1), $((SECONDS - start))s)"
done
