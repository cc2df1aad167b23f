"""Test set-up: componentize-py bindings for the `transformer` world, generated
into a temporary directory and put on sys.path before floe_guest is imported.

Run with the repo's venv (scripts/setup-python.sh):
    .venv/bin/python -m pytest guest-sdk/python
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SDK = HERE.parent
REPO = SDK.parent.parent
WIT = REPO / "wit"
MASK_PY = REPO / "plugins" / "mask-py"


def _componentize_py() -> str:
    exe = Path(sys.executable).parent / "componentize-py"
    if exe.exists():
        return str(exe)
    found = shutil.which("componentize-py")
    if found:
        return found
    raise RuntimeError("componentize-py not found: run scripts/setup-python.sh and use .venv/bin/python")


def _generate_bindings() -> Path:
    out = Path(tempfile.mkdtemp(prefix="floe-py-bindings-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    subprocess.run(
        [_componentize_py(), "-d", str(WIT), "-w", "transformer", "bindings", str(out / "b")],
        check=True, stdout=subprocess.DEVNULL,
    )
    return out / "b"


if "wit_world" not in sys.modules:
    sys.path.insert(0, str(_generate_bindings()))
sys.path.insert(0, str(SDK))
os.environ.setdefault("FLOE_REPO", str(REPO))
