"""target/plugins/mask-py.wasm run through wasmtime (wasmtime-py): the component
has the transformer world's exports and gives the results the same plugin gives
in plain Python. Skipped when the component is not built
(scripts/build-python-plugins.sh)."""

import os
import struct
from pathlib import Path

import pytest
from conftest import REPO
from helpers import HostCalls, batch
from test_mask_py import load_app

from floe_guest import LONG, STRING, decimal

WASM = Path(os.environ.get("FLOE_MASK_PY_WASM", REPO / "target" / "plugins" / "mask-py.wasm"))
pytestmark = pytest.mark.skipif(not WASM.exists(), reason=f"{WASM} not built")


@pytest.fixture(scope="module")
def plugin():
    from wasm_host import Plugin
    return Plugin(WASM)


def test_component_world(plugin):
    engine = plugin.engine
    ty = plugin.component.type
    exports = set(ty.exports(engine))
    imports = set(ty.imports(engine))
    assert {"floe:plugin/lifecycle@0.1.0", "floe:plugin/transform@0.1.0"} <= exports
    assert "floe:plugin/host@0.1.0" in imports
    # Only WASI 0.2 interfaces besides floe's own (the host links WASI with nothing granted).
    assert all(i.startswith("wasi:") or i.startswith("floe:plugin/") for i in imports), imports
    # componentize-py keeps its pre-initialisation hook as an extra export named "exports".
    assert exports <= {"floe:plugin/lifecycle@0.1.0", "floe:plugin/transform@0.1.0", "exports"}, exports


def test_init_errors_in_wasm(plugin):
    assert "`columns` is required" in plugin.init({})
    assert "unknown mode" in plugin.init({"columns": "a", "mode": "x", "salt": "s"})
    assert plugin.init({"columns": "email", "salt": "s"}) is None


def sample_batch(n=64):
    schema = [("id", LONG), ("email", STRING), ("phone", LONG), ("amount", decimal(10, 2))]
    afters, befores = [], []
    for i in range(n):
        row = {"id": i, "email": f"u{i}@x.org", "phone": 1000 + i, "amount": f"{i}.25"}
        if i % 5 == 1:
            row["email"] = None
        if i % 7 == 2:
            del row["phone"]
        afters.append(None if i % 6 == 3 else row)
        befores.append(dict(row, email=f"old{i}@x.org") if i % 4 == 0 else None)
    return batch(schema, afters, befores)


@pytest.mark.parametrize("config", [
    {"columns": "email,phone,amount", "salt": "s3cret"},
    {"columns": "email,phone,amount", "mode": "redact", "replacement": "#"},
])
def test_wasm_matches_plain_python(plugin, monkeypatch, config):
    from wasm_host import normalize
    b = sample_batch()
    assert plugin.init(config) is None
    got = plugin.transform(b)
    HostCalls(monkeypatch)
    app = load_app()
    app.Lifecycle().init(list(config.items()))
    want = normalize(app.Transform().transform(b))
    assert got == want
    from wit_world.exports import transform as tx
    assert tx.Outcome.REPLACE.value in got["outcomes"] and tx.Outcome.KEEP.value in got["outcomes"]


def test_hash_vector_in_wasm(plugin):
    import hashlib
    assert plugin.init({"columns": "email,id", "salt": "s3cret"}) is None
    got = plugin.transform(batch([("id", LONG), ("email", STRING)], [{"id": 7, "email": "alice@example.com"}]))
    cols = {c["name"]: c for c in got["replaced"]["after"]["columns"]}
    assert cols["email"]["data"].decode() == hashlib.sha256(b"s3cretalice@example.com").hexdigest()
    assert cols["id"]["data"].decode() == hashlib.sha256(b"s3cret" + struct.pack("<q", 7)).hexdigest()
    assert cols["id"]["type"] == {"tag": "string", "payload": None}
