"""A minimal floe host in Python (wasmtime-py's component API) for testing
Python plugin components: runs `init` and `transform` of a `transformer`
component with the binding dataclasses as arguments, and normalizes results so
they compare with the same plugin run in plain Python (`normalize`)."""

import dataclasses
import enum
import time

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Linker, Record, Variant

PKG = "floe:plugin"
VER = "0.1.0"


def _kebab(s):
    return s.replace("_", "-")


def to_wasm(v):
    """Binding values (dataclasses, enums, lists) -> wasmtime-py component values."""
    if isinstance(v, enum.Enum):
        return _kebab(v.name.lower())
    if dataclasses.is_dataclass(v):
        cls = type(v).__name__
        if "_" in cls:  # a variant case, e.g. ColumnType_Decimal
            tag = _kebab(cls.split("_", 1)[1].lower())
            fields = dataclasses.fields(v)
            return Variant(tag, to_wasm(getattr(v, fields[0].name)) if fields else None)
        r = Record()
        for f in dataclasses.fields(v):
            setattr(r, _kebab(f.name), to_wasm(getattr(v, f.name)))
        return r
    if isinstance(v, list):
        return [to_wasm(x) for x in v]
    if isinstance(v, tuple):
        return tuple(to_wasm(x) for x in v)
    return v


def normalize(v):
    """Binding values or wasmtime-py values -> plain, comparable Python data."""
    if isinstance(v, enum.Enum):
        return _kebab(v.name.lower())
    if isinstance(v, Variant):
        return {"tag": v.tag, "payload": normalize(v.payload)}
    if dataclasses.is_dataclass(v):
        cls = type(v).__name__
        if "_" in cls:
            fields = dataclasses.fields(v)
            return {"tag": _kebab(cls.split("_", 1)[1].lower()),
                    "payload": normalize(getattr(v, fields[0].name)) if fields else None}
        return {_kebab(f.name): normalize(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, Record):
        return {k: normalize(x) for k, x in vars(v).items()}
    if isinstance(v, (list, tuple)):
        return [normalize(x) for x in v]
    return v


class Plugin:
    """One instance of a transformer component."""

    def __init__(self, path, engine=None, component=None):
        self.logs, self.counters = [], {}
        self.engine = engine or Engine()
        t = time.perf_counter()
        self.component = component or Component.from_file(self.engine, str(path))
        self.compile_s = time.perf_counter() - t
        linker = Linker(self.engine)
        linker.add_wasip2()
        self.config = {}
        with linker.root() as root:
            with root.add_instance(f"{PKG}/host@{VER}") as h:
                h.add_func("log", lambda store, level, msg: self.logs.append((level, msg)))
                h.add_func("config-get", lambda store, key: self.config.get(key))
                h.add_func("counter-add", self._counter)
        self.store = Store(self.engine)
        self.store.set_wasi(WasiConfig())  # nothing granted
        self.instance = linker.instantiate(self.store, self.component)
        self._init = self._func("lifecycle", "init")
        self._transform = self._func("transform", "transform")

    def _counter(self, store, name, delta):
        self.counters[name] = self.counters.get(name, 0) + delta

    def _func(self, iface, name):
        st, inst = self.store, self.instance
        idx = inst.get_export_index(st, f"{PKG}/{iface}@{VER}")
        assert idx is not None, f"component does not export {PKG}/{iface}@{VER}"
        f = inst.get_func(st, inst.get_export_index(st, name, idx))
        assert f is not None, f"no {name} in {iface}"
        return f

    def init(self, config: dict):
        """Returns None on success, the error string on refusal."""
        self.config = dict(config)
        r = self._init(self.store, list(config.items()))
        self._init.post_return(self.store)
        return r

    def transform(self, batch, raw=False):
        """``batch``: a wt.ChangeBatch. Returns the normalized `transformed`."""
        arg = to_wasm(batch)
        r = self._transform(self.store, arg)
        self._transform.post_return(self.store)
        return r if raw else normalize(r)
