"""floe_guest: write floe transformer plugins in Python.

A plugin is a class with a per-change ``transform`` method; the SDK does the
batch loop inside the WebAssembly guest, over floe's columnar ``change-batch``::

    from floe_guest import Transformer, Change, Keep, Drop, Route, Reject, export_transformer

    class Mask(Transformer):
        def __init__(self, config: dict[str, str]):
            if "columns" not in config:
                raise ValueError("`columns` is required")   # refuses the config
            self.columns = config["columns"].split(",")

        def transform(self, change: Change):
            if change.after and "email" in change.after:
                change.after["email"] = "***"
            return Keep

    Lifecycle, Transform = export_transformer(Mask)   # what componentize-py exports

Build it with ``componentize-py -d wit -w transformer componentize app -p . -p
<repo>/guest-sdk/python -o plugin.wasm`` (see guest-sdk/python/README.md).

Public names: ``Transformer``, ``Change``, ``Image``, the outcomes ``Keep``,
``Drop``, ``Route``, ``Reject``, ``export_transformer``, ``Op``, the column
types (``STRING``, ``LONG``, ``decimal(p, s)``, ... from ``floe_guest.codec``),
``log`` (``log.info(...)``), ``counter_add`` and ``config_get``.
"""

from . import codec, log
from ._core import (
    Change,
    Drop,
    Image,
    Keep,
    Outcome,
    Reject,
    Route,
    Transformer,
    counter_add,
    export_transformer,
)
from ._wit import host as _host
from ._wit import wt as _wt
from .codec import (
    BINARY,
    BOOLEAN,
    DATE,
    DOUBLE,
    FLOAT,
    INT,
    LONG,
    STRING,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    UUID,
    ColumnType,
    decimal,
)

Op = _wt.Op
"""The kind of a change: ``Op.INSERT``, ``UPDATE``, ``DELETE``, ``READ``, ``TRUNCATE``."""


def config_get(key: str):
    """The value of one key of the plugin's configuration (host import), or None."""
    return _host.config_get(key)


__version__ = "0.1.0"

__all__ = [
    "Transformer", "Change", "Image", "Outcome", "Keep", "Drop", "Route", "Reject",
    "export_transformer", "Op", "log", "counter_add", "config_get", "codec",
    "ColumnType", "BOOLEAN", "INT", "LONG", "FLOAT", "DOUBLE", "DATE", "TIME",
    "TIMESTAMP", "TIMESTAMPTZ", "STRING", "UUID", "BINARY", "decimal",
]
