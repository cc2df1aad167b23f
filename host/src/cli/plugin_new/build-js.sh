#!/usr/bin/env bash
# Builds {{name}}.wasm with ComponentizeJS (npm, pinned in package.json):
# app.js and the SDK in floe-guest/, world `{{world}}` of wit/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cjs="${COMPONENTIZE_JS:-}"
if [[ -z "$cjs" ]]; then
    [[ -x node_modules/.bin/componentize-js ]] || npm install --no-audit --no-fund --loglevel=error
    cjs=node_modules/.bin/componentize-js
fi
# No outbound HTTP (`fetch`) in the engine: floe grants plugins no sockets.
"$cjs" --wit wit --world-name {{world}} --disable http fetch-event -o {{name}}.wasm app.js >/dev/null
echo "built {{name}}.wasm"
