"""Builders of change-batches for the tests, independent of the SDK's own encoder
where it matters: values are given as (type, raw bytes) or encoded with codec."""

import struct

from wit_world.exports import transform as tx  # noqa: F401
from wit_world.imports import host
from wit_world.imports import types as wt

from floe_guest import codec
from floe_guest._wit import to_wit_type

# Presence codes, as a column's presence bytes hold them.
ABSENT, NULL, VALUE = wt.Presence.ABSENT.value, wt.Presence.NULL.value, wt.Presence.VALUE.value
A = object()  # marks an absent field in a row dict


def column(name, ctype, values):
    """A wt.Column from per-row values: A (absent), None (null), or a Python value
    (encoded with codec), or raw bytes wrapped in Raw."""
    presence, offsets, data = [], [0], bytearray()
    for v in values:
        if v is A:
            presence.append(ABSENT)
        elif v is None:
            presence.append(NULL)
        else:
            presence.append(VALUE)
            data += v.b if isinstance(v, Raw) else codec.encode(ctype, v)
        offsets.append(len(data))
    return wt.Column(name, to_wit_type(ctype), bytes(presence), offsets, bytes(data))


class Raw:
    def __init__(self, b):
        self.b = b


def images(schema, rows):
    """schema: [(name, ctype)]; rows: list of dict|None (None = image absent)."""
    present = bytes(r is not None for r in rows)
    cols = []
    for name, ctype in schema:
        cols.append(column(name, ctype, [A if r is None else r.get(name, A) for r in rows]))
    return wt.Images(present, cols)


def batch(schema, afters, befores=None, ops=None, table="db.t", keys=("id",), event_time=None, tables=None):
    n = len(afters)
    befores = befores if befores is not None else [None] * n
    if ops is None:
        ops = [wt.Op.INSERT if b is None else (wt.Op.DELETE if a is None else wt.Op.UPDATE)
               for a, b in zip(afters, befores)]
    if tables is None:
        tnames, tindex = [table], [0] * n
    else:
        tnames = sorted(set(tables))
        tindex = [tnames.index(t) for t in tables]
    times = event_time if event_time is not None else [None] * n
    return wt.ChangeBatch(
        bytes(op.value for op in ops), tnames, [list(keys) for _ in tnames], tindex,
        [0 if t is None else t for t in times], bytes(t is not None for t in times),
        images(schema, befores), images(schema, afters),
    )


def rows_of(imgs):
    """Decodes wt.Images back into per-row dicts (None when absent), via codec.decode."""
    n = len(imgs.present)
    out = [({} if imgs.present[i] else None) for i in range(n)]
    for c in imgs.columns:
        from floe_guest._wit import from_wit_type
        t = from_wit_type(c.type)
        for i in range(n):
            p = c.presence[i]
            if p == ABSENT:
                continue
            assert out[i] is not None, f"column {c.name} has a value in an absent image (row {i})"
            out[i][c.name] = None if p == NULL else codec.decode(t, c.data, c.offsets[i], c.offsets[i + 1])
    return out


def fields_of(imgs):
    """Per row, [(name, type, value)] in column order, as floe's host decodes images
    (None for an absent image)."""
    from floe_guest._wit import from_wit_type
    n = len(imgs.present)
    out = [([] if imgs.present[i] else None) for i in range(n)]
    for c in imgs.columns:
        t = from_wit_type(c.type)
        for i in range(n):
            p = c.presence[i]
            if p == ABSENT or out[i] is None:
                continue
            v = None if p == NULL else codec.decode(t, c.data, c.offsets[i], c.offsets[i + 1])
            out[i].append((c.name, t, v))
    return out


def check_batch(b):
    """Structural invariants of a change-batch."""
    n = len(b.ops)
    assert len(b.table_index) == n and len(b.event_time) == n and len(b.event_time_known) == n
    assert len(b.table_keys) == len(b.tables)
    assert all(0 <= i < len(b.tables) for i in b.table_index)
    for imgs in (b.before, b.after):
        assert len(imgs.present) == n
        from floe_guest._wit import from_wit_type
        keys = [(c.name, from_wit_type(c.type)) for c in imgs.columns]
        assert len(set(keys)) == len(keys), f"one column per (name, type): {keys}"
        for i in range(n):
            names = [c.name for c in imgs.columns if c.presence[i] != ABSENT]
            assert len(set(names)) == len(names), f"row {i} has a name twice: {names}"
        for c in imgs.columns:
            assert len(c.presence) == n and len(c.offsets) == n + 1, c.name
            assert c.offsets[0] == 0 and c.offsets[-1] == len(c.data), c.name
            for i in range(n):
                assert c.offsets[i] <= c.offsets[i + 1]
                if c.presence[i] != VALUE:
                    assert c.offsets[i] == c.offsets[i + 1], (c.name, i)


class HostCalls:
    """Replaces the host imports (which raise outside wasm) and records the calls."""

    def __init__(self, monkeypatch, config=None):
        self.logs, self.counters, self.config = [], [], dict(config or {})
        monkeypatch.setattr(host, "log", lambda level, msg: self.logs.append((level, msg)))
        monkeypatch.setattr(host, "counter_add", lambda name, d: self.counters.append((name, d)))
        monkeypatch.setattr(host, "config_get", lambda k: self.config.get(k))


def le32(v):
    return struct.pack("<i", v)


def le64(v):
    return struct.pack("<q", v)
