"""Times mask-py over a batch of 1,024 changes × 10 columns (inserts; one hashed
string column), in plain CPython and, when built, in the component through
wasmtime-py (whose own value conversion is measured apart and subtracted).

    .venv/bin/python guest-sdk/python/tests/bench_mask.py [--wasm]
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conftest  # noqa: E402,F401  (bindings on sys.path)
from helpers import batch  # noqa: E402

from floe_guest import DOUBLE, LONG, STRING, TIMESTAMPTZ, decimal  # noqa: E402

N = 1024


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


def main():
    from wit_world.imports import host
    host.log = lambda level, msg: None
    from test_mask_py import load_app
    b = make_batch()
    app = load_app()
    app.Lifecycle().init([("columns", "email"), ("salt", "s3cret")])
    tr = app.Transform()
    t = best(lambda: tr.transform(b), 20)
    print(f"native CPython {sys.version.split()[0]}: mask hash 1 col: {t * 1e3:.2f} ms/batch, {t / N * 1e6:.2f} µs/change")
    app.Lifecycle().init([("columns", "nope"), ("salt", "s3cret")])
    t = best(lambda: tr.transform(b), 20)
    print(f"native: untouched (column not in batch): {t * 1e3:.2f} ms/batch, {t / N * 1e6:.2f} µs/change")

    if "--wasm" in sys.argv:
        from wasm_host import Plugin, to_wasm
        from conftest import REPO
        p = Plugin(REPO / "target" / "plugins" / "mask-py.wasm")
        print(f"component compiled in {p.compile_s:.1f} s")
        arg = to_wasm(b)
        f = p._transform
        for config, label in ((dict(columns="email", salt="s3cret"), "mask hash 1 col"),
                              (dict(columns="nope", salt="s3cret"), "untouched")):
            assert p.init(config) is None

            def call():
                f(p.store, arg)
                f.post_return(p.store)
            t = best(call, 5)
            print(f"wasm (incl. wasmtime-py conversion): {label}: {t * 1e3:.1f} ms/batch")


if __name__ == "__main__":
    main()
