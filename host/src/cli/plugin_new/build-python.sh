#!/usr/bin/env bash
# Builds {{name}}.wasm with componentize-py (PyPI: `pip install componentize-py`):
# app.py and the SDK in floe_guest/, world `{{world}}` of wit/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cpy="${COMPONENTIZE_PY:-componentize-py}"
env -u VIRTUAL_ENV -u PYTHONPATH "$cpy" -q -d wit -w {{world}} componentize app -p . -o {{name}}.wasm
echo "built {{name}}.wasm"
