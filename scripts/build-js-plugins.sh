#!/usr/bin/env bash
# Builds the JavaScript plugins (plugins/mask-js, plugins/canal-js) into
# WebAssembly components with ComponentizeJS, into target/plugins/<name>.wasm.
#
# A plugin is rebuilt only when its inputs changed: its .js files, the JS SDK
# (guest-sdk/js/src), the WIT files, the SDK's lock file and this script; their
# sha256 is kept beside the output in <name>.wasm.inputs. FORCE=1 rebuilds anyway.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup-js.sh"

out_dir="$repo/target/plugins"
mkdir -p "$out_dir"
cjs="$repo/guest-sdk/js/node_modules/.bin/componentize-js"

# plugin folder name -> its world
plugins=("mask-js:transformer" "canal-js:decoder")

inputs_hash() { # <plugin dir>
    (
        cd "$repo"
        {
            find "${1#"$repo"/}" guest-sdk/js/src wit -type f \( -name '*.js' -o -name '*.wit' \) -print0 |
                LC_ALL=C sort -z | xargs -0 sha256sum
            sha256sum guest-sdk/js/package-lock.json scripts/build-js-plugins.sh
        } | sha256sum | cut -d' ' -f1
    )
}

for entry in "${plugins[@]}"; do
    name="${entry%%:*}"
    world="${entry#*:}"
    dir="$repo/plugins/$name"
    out="$out_dir/$name.wasm"
    stamp="$out.inputs"
    want="$(inputs_hash "$dir")"
    if [[ "${FORCE:-0}" != 1 && -f "$out" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "build-js-plugins: $name up to date (target/plugins/$name.wasm)"
        continue
    fi
    echo "build-js-plugins: building $name (ComponentizeJS, about 20 s)"
    start=$SECONDS
    rm -f "$stamp"
    # No outbound HTTP (`fetch`) in the engine: floe grants plugins no sockets.
    "$cjs" --wit "$repo/wit" --world-name "$world" --disable http fetch-event \
        -o "$out.tmp" "$dir/app.js" >/dev/null
    mv "$out.tmp" "$out"
    echo "$want" > "$stamp"
    echo "build-js-plugins: $name -> target/plugins/$name.wasm ($(du -h "$out" | cut -f1), $((SECONDS - start))s)"
done
