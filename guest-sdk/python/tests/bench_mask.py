"""Times mask-py over batches of 1,024 changes × 10 columns (inserts).

    .venv/bin/python guest-sdk/python/tests/bench_mask.py          # plain CPython
    .venv/bin/python guest-sdk/python/tests/bench_mask.py --wasm   # + inside the component

With --wasm it builds (into a temporary folder, ~10 s) a component of
plugins/mask-py wrapped in a module that times each `transform` call with the
guest's monotonic clock and logs it; it runs that through wasmtime-py. The
time is the SDK's and the plugin's Python work inside the guest; it leaves out
the canonical-ABI lifting/lowering of the batch (and wasmtime-py's own, much
slower, value conversion, which dominates a host-side timing here).
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import conftest  # noqa: E402  (bindings on sys.path)
from helpers import batch  # noqa: E402

from floe_guest import DOUBLE, LONG, STRING, TIMESTAMPTZ, decimal  # noqa: E402

N = 1024
CONFIGS = [
    ({"columns": "email", "salt": "s3cret"}, "hash 1 column"),
    ({"columns": "email,name,city,note", "salt": "s3cret"}, "hash 4 columns"),
    ({"columns": "email", "mode": "redact"}, "redact 1 column"),
    ({"columns": "nope", "salt": "s3cret"}, "untouched (no such column)"),
]

TIMED_APP = '''
import time
from floe_guest import log
import app
runner = app.Lifecycle.runner
class Lifecycle:
    def init(self, config):
        runner.init(config)
class Transform:
    def transform(self, changes):
        t = time.perf_counter_ns()
        r = runner.transform(changes)
        log.info("guest_ns=%d" % (time.perf_counter_ns() - t))
        return r
'''


def make_batch(n=N):
    schema = [("id", LONG), ("email", STRING), ("name", STRING), ("city", STRING), ("age", LONG),
              ("score", DOUBLE), ("balance", decimal(12, 2)), ("created", TIMESTAMPTZ),
              ("note", STRING), ("flag", LONG)]
    rows = [{"id": i, "email": f"user{i}@example.com", "name": f"User {i}", "city": "Paris",
             "age": 20 + i % 50, "score": i * 0.5, "balance": f"{i}.25", "created": 1_700_000_000_000_000 + i,
             "note": "x" * (i % 30), "flag": i % 2} for i in range(n)]
    return batch(schema, rows)


def best(fn, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def native(b):
    from test_mask_py import load_app
    from wit_world.imports import host
    host.log = lambda level, msg: None
    app = load_app()
    tr = app.Transform()
    print(f"plain CPython {sys.version.split()[0]}:")
    for config, label in CONFIGS:
        app.Lifecycle().init(list(config.items()))
        t = best(lambda: tr.transform(b), 20)
        print(f"  {label:28} {t * 1e3:6.2f} ms/batch  {t / N * 1e6:5.2f} µs/change")


def in_wasm(b):
    from wasm_host import Plugin, to_wasm
    cpy = Path(sys.executable).parent / "componentize-py"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "timed_app.py").write_text(TIMED_APP)
        wasm = Path(tmp) / "timed.wasm"
        subprocess.run([str(cpy), "-q", "-d", str(conftest.WIT), "-w", "transformer", "componentize", "timed_app",
                        "-p", tmp, "-p", str(conftest.MASK_PY), "-p", str(conftest.SDK), "-o", str(wasm)], check=True)
        p = Plugin(wasm)
    arg = to_wasm(b)
    f = p._transform
    print(f"inside the component (CPython of componentize-py, wasmtime-py; compiled in {p.compile_s:.1f} s):")
    for config, label in CONFIGS:
        assert p.init(config) is None
        p.logs.clear()
        for _ in range(7):
            f(p.store, arg)
            f.post_return(p.store)
        ns = sorted(int(m.split("=")[1]) for _, m in p.logs if m.startswith("guest_ns="))
        print(f"  {label:28} {ns[0] / 1e6:6.2f} ms/batch  {ns[0] / N / 1e3:5.2f} µs/change (best of 7, median {ns[3] / 1e6:.2f} ms)")


if __name__ == "__main__":
    b = make_batch()
    native(b)
    if "--wasm" in sys.argv:
        in_wasm(b)
