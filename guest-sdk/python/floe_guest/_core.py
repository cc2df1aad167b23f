"""Per-change views over a columnar ``change-batch`` and the batch loop.

Nothing here is decoded until a plugin asks for it: a ``Change`` is a row
index into the batch, an ``Image`` looks values up in the batch's columns by
name, and writes go to a small per-row overlay. Rows a plugin did not modify
leave the guest as a ``keep`` outcome without being re-encoded; modified rows
are re-encoded into the ``replaced`` batch, and columns no modified row touched
are copied there as whole byte ranges (or passed through as they are when every
row of the batch was modified).
"""

from __future__ import annotations

from itertools import accumulate as _accumulate
from operator import attrgetter as _attrgetter

from . import codec as _codec
from .codec import K_BOOLEAN as _K_BOOLEAN
from .codec import ColumnType as _ColumnType
from .codec import check_raw as _check_raw
from ._wit import Err, empty_batch, from_wit_type, host, to_wit_type, tx, wt

# Per-row lists cross the boundary as bytes: these are the codes in them.
_ABSENT = wt.Presence.ABSENT.value
_NULL = wt.Presence.NULL.value
_VALUE = wt.Presence.VALUE.value
_KEEP = tx.Outcome.KEEP.value
_DROP = tx.Outcome.DROP.value
_REPLACE = tx.Outcome.REPLACE.value
_ROUTE = tx.Outcome.ROUTE.value
_REJECT = tx.Outcome.REJECT.value
_OPS = tuple(wt.Op)  # code -> Op

_MISSING = object()  # not in an overlay
_DEL = object()  # removed from the image by the plugin

_OPS_BY_NAME = {
    "insert": wt.Op.INSERT, "c": wt.Op.INSERT,
    "update": wt.Op.UPDATE, "u": wt.Op.UPDATE,
    "delete": wt.Op.DELETE, "d": wt.Op.DELETE,
    "read": wt.Op.READ, "r": wt.Op.READ,
    "truncate": wt.Op.TRUNCATE, "t": wt.Op.TRUNCATE,
}


# ---------------------------------------------------------------------------
# Outcomes


class Outcome:
    """What becomes of a change; return one of ``Keep``, ``Drop``, ``Route(t)``, ``Reject(why)``."""

    __slots__ = ()


class _KeepType(Outcome):
    """Pass the change on: unchanged, or with the plugin's modifications.

    ``Keep`` and ``Keep()`` are the same; returning ``None`` means ``Keep`` too.
    """

    __slots__ = ()

    def __call__(self):
        return self

    def __repr__(self):
        return "Keep"


class _DropType(Outcome):
    """Drop the change silently (filter it out). ``Drop`` and ``Drop()`` are the same."""

    __slots__ = ()

    def __call__(self):
        return self

    def __repr__(self):
        return "Drop"


Keep = _KeepType()
Drop = _DropType()


class Route(Outcome):
    """Send the change to the table ``table`` instead of its own.

    A routed change the plugin also modified is sent as a replacement that
    targets ``table`` (the WIT's ``route`` outcome carries unchanged changes).
    """

    __slots__ = ("table",)

    def __init__(self, table: str):
        if not isinstance(table, str) or not table:
            raise ValueError("Route needs a non-empty table name")
        self.table = table

    def __repr__(self):
        return f"Route({self.table!r})"


class Reject(Outcome):
    """Send the change to the dead-letter queue with ``reason``; modifications are discarded."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = str(reason) or "rejected"

    def __repr__(self):
        return f"Reject({self.reason!r})"


# ---------------------------------------------------------------------------
# The input batch


class _Col:
    __slots__ = ("name", "type", "presence", "offsets", "data", "wit")

    def __init__(self, c):
        self.name = c.name
        self.type = from_wit_type(c.type)
        self.presence = c.presence
        self.offsets = c.offsets
        self.data = c.data
        self.wit = c


class _Side:
    """One image side (before or after) of the input batch.

    A name may have several columns, one per type (a column holds one type per
    batch; rows whose values have another type sit in another column of the
    same name, absent elsewhere): ``index`` has the first, ``multi`` all of them
    for such names.
    """

    __slots__ = ("label", "present", "cols", "index", "multi", "flipped")

    def __init__(self, label: str, images, n: int):
        self.label = label
        present = images.present
        if len(present) < n:  # defensive: a short list means "absent"
            present = bytes(present) + bytes(n - len(present))
        self.present = present
        self.cols = [_Col(c) for c in images.columns]
        index = {}
        multi = None
        for c in self.cols:
            first = index.setdefault(c.name, c)
            if first is not c:
                if multi is None:
                    multi = {}
                multi.setdefault(c.name, [first]).append(c)
        self.index = index
        self.multi = multi
        self.flipped = False  # some row's image was made present or absent

    def entry(self, name: str, r: int):
        """``(type, bytes or None)`` of ``name`` in row ``r`` of the input, or None when absent."""
        c = self.index.get(name)
        if c is None:
            return None
        p = c.presence[r]
        if p == _VALUE:
            offs = c.offsets
            return c.type, c.data[offs[r]:offs[r + 1]]
        if p == _NULL:
            return c.type, None
        if self.multi is not None:
            for c in self.multi.get(name, ()):
                p = c.presence[r]
                if p == _VALUE:
                    offs = c.offsets
                    return c.type, c.data[offs[r]:offs[r + 1]]
                if p == _NULL:
                    return c.type, None
        return None

    def fields(self, r: int) -> list:
        """``(name, type)`` of the input row ``r``'s columns, in column order."""
        return [(c.name, c.type) for c in self.cols if c.presence[r] != _ABSENT]


class _Batch:
    __slots__ = ("wit", "n", "ops", "tables", "table_index", "event_time", "event_time_known", "keys", "before", "after")

    def __init__(self, b):
        self.wit = b
        self.n = n = len(b.ops)
        self.ops = b.ops
        self.tables = b.tables
        self.table_index = b.table_index
        self.event_time = b.event_time
        self.event_time_known = b.event_time_known
        keys = {}
        tk = b.table_keys
        for i, t in enumerate(b.tables):
            keys.setdefault(t, tuple(tk[i]) if i < len(tk) else ())
        self.keys = keys
        self.before = _Side("before", b.before, n)
        self.after = _Side("after", b.after, n)


# ---------------------------------------------------------------------------
# Per-change views


class Image:
    """One row image (before or after) of a change: typed values by column name.

    Reading decodes only the value asked for (see ``floe_guest.codec`` for the
    Python type of each column type; ``lookup``/``raw`` give the bytes without
    decoding). Writing makes the change a replacement, re-encoded when the
    batch is returned. An image the change does not have (the after image of a
    delete, the before image of an insert) is falsy and empty; writing to it
    raises ``ValueError`` unless ``present`` is set to True first.

    Columns keep their order: a value set on an existing column stays in its
    place, a new column goes last, a renamed one keeps its place.

    Mapping-style access: ``image["c"]`` (``KeyError`` when the column is not
    part of the image, ``None`` for SQL NULL), ``image["c"] = v``, ``del
    image["c"]``, ``"c" in image``, ``len``, iteration over column names.
    """

    __slots__ = ("_side", "_row", "_over", "_order", "_present", "_orig", "_mod")

    def __init__(self, side: _Side, row: int):
        self._side = side
        self._row = row
        self._over = None  # name -> (type, bytes or None) or _DEL
        self._order = None  # explicit column order, once a rename or re-add needs one
        self._present = self._orig = side.present[row] != 0
        self._mod = False

    # -- reading -------------------------------------------------------------

    def lookup(self, name: str):
        """``(ColumnType, bytes or None)`` of column ``name`` (bytes in the WIT encoding,
        None for SQL NULL), or None when the column is not part of the image.

        The cheapest way to read a value: nothing is decoded.
        """
        o = self._over
        if o is not None:
            e = o.get(name, _MISSING)
            if e is not _MISSING:
                return None if e is _DEL else e
        if self._orig:
            return self._side.entry(name, self._row)
        return None

    def get(self, name: str, default=None):
        """The value of column ``name``: ``None`` for SQL NULL, ``default`` when absent."""
        e = self.lookup(name)
        if e is None:
            return default
        b = e[1]
        return None if b is None else _codec.decode(e[0], b, 0, len(b))

    def raw(self, name: str):
        """The value's bytes in the WIT encoding; None for NULL or when absent (see ``type_of``)."""
        e = self.lookup(name)
        return None if e is None else e[1]

    def type_of(self, name: str):
        """The ``ColumnType`` of column ``name`` in this image, or None when absent."""
        e = self.lookup(name)
        return None if e is None else e[0]

    def is_null(self, name: str) -> bool:
        """Whether column ``name`` is part of the image and holds SQL NULL."""
        e = self.lookup(name)
        return e is not None and e[1] is None

    def keys(self) -> list:
        """The names of the columns of this image (those holding a value or NULL), in order."""
        o = self._over
        if self._order is not None:
            names = [n for n in self._order if self.lookup(n) is not None]
            if o:
                known = set(self._order)
                names.extend(n for n, e in o.items() if e is not _DEL and n not in known)
            return names
        if self._orig:
            r = self._row
            names = [c.name for c in self._side.cols if c.presence[r] != _ABSENT]
        else:
            names = []
        if o:
            have = set(names)
            names = [n for n in names if o.get(n) is not _DEL]
            names.extend(n for n, e in o.items() if e is not _DEL and n not in have)
        return names

    def fields(self) -> list:
        """``(name, ColumnType)`` of the image's columns, in order."""
        if self._over is None and self._order is None:
            return self._side.fields(self._row) if self._orig else []
        return [(n, self.lookup(n)[0]) for n in self.keys()]

    def items(self) -> list:
        """``(name, value)`` pairs of ``keys()``."""
        return [(n, self.get(n)) for n in self.keys()]

    def to_dict(self) -> dict:
        """The image as a ``{name: value}`` dict (decodes every value)."""
        return {n: self.get(n) for n in self.keys()}

    def __getitem__(self, name):
        e = self.lookup(name)
        if e is None:
            raise KeyError(name)
        b = e[1]
        return None if b is None else _codec.decode(e[0], b, 0, len(b))

    def __contains__(self, name):
        return self.lookup(name) is not None

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __bool__(self):
        return self._present

    def __repr__(self):
        if not self._present:
            return f"<{self._side.label} image: absent>"
        return f"<{self._side.label} image {self.to_dict()!r}>"

    # -- presence ------------------------------------------------------------

    @property
    def present(self) -> bool:
        """Whether the change has this image. Setting False empties it; True starts an empty one."""
        return self._present

    @present.setter
    def present(self, value: bool):
        value = bool(value)
        if value == self._present:
            return
        self._present = value
        if not value:
            self._over = None
            self._order = None
            self._orig = False
        self._side.flipped = True
        self._mod = True  # a change even when no value is set

    # -- writing -------------------------------------------------------------

    def _put(self, name: str, entry):
        if not self._present:
            raise ValueError(
                f"this change has no {self._side.label} image; "
                f"check `if change.{self._side.label}:` first, or set `.present = True`"
            )
        o = self._over
        if o is None:
            if name.__class__ is not str or not name:
                raise ValueError("column names are non-empty strings")
            o = self._over = {}
        elif o.get(name) is _DEL and entry is not _DEL:
            # Removed, then set again: it goes last, like a new column.
            self._order = self.keys() + [name]
        o[name] = entry

    def _existing_type(self, name):
        e = self.lookup(name)
        if e is not None:
            return e[0]
        c = self._side.index.get(name)
        return None if c is None else c.type

    def set(self, name: str, value, type=None):
        """Sets column ``name`` to ``value`` (``None`` for SQL NULL).

        ``type`` (a ``ColumnType`` or a name such as ``"string"``) changes or
        gives the column's type; without it the column keeps its type (the
        type it has in this image, else in the batch), and a new column gets
        one inferred from ``value`` (``codec.infer_type``).
        Raises ``TypeError``/``ValueError`` when the value does not fit.
        """
        if type is not None:
            t = _codec.parse_type(type)
        else:
            t = self._existing_type(name)
            if t is None:
                if value is None:
                    raise TypeError(f"column {name!r} is new: pass a type to set it to NULL")
                t = _codec.infer_type(value)
        try:
            b = None if value is None else _codec.encode(t, value)
        except (TypeError, ValueError) as e:
            raise e.__class__(f"column {name!r}: {e}") from None
        self._put(name, (t, b))

    def set_raw(self, name: str, raw, type=None):
        """Sets column ``name`` from bytes already in the WIT encoding (``None`` for NULL).

        Without ``type`` the column keeps its type (it must exist). Fixed-width
        types are length-checked; strings must be valid UTF-8 (not checked).
        """
        if type is None:
            t = self._existing_type(name)
            if t is None:
                raise TypeError(f"column {name!r} is new: pass its type")
        elif type.__class__ is _ColumnType:
            t = type
        else:
            t = _codec.parse_type(type)
        if raw is not None:
            w = t.width
            if raw.__class__ is not bytes or (w and len(raw) != w) or t.kind == _K_BOOLEAN:
                raw = _check_raw(t, raw)  # converts, or raises
        self._put(name, (t, raw))

    def set_null(self, name: str, type=None):
        """Sets column ``name`` to SQL NULL (of ``type``, or of its current type)."""
        self.set(name, None, type)

    def __setitem__(self, name, value):
        self.set(name, value)

    def __delitem__(self, name):
        if not self.remove(name):
            raise KeyError(name)

    def remove(self, name: str) -> bool:
        """Removes column ``name`` from the image; whether it was there."""
        if self.lookup(name) is None:
            return False
        self._put(name, _DEL)
        return True

    def pop(self, name: str, default=_MISSING):
        """Removes column ``name`` from the image and returns its value."""
        v = self.get(name, _MISSING)
        if v is _MISSING:
            if default is _MISSING:
                raise KeyError(name)
            return default
        self._put(name, _DEL)
        return v

    def rename(self, old: str, new: str) -> bool:
        """Renames column ``old`` to ``new`` in place, keeping type and value; a
        column already named ``new`` is replaced. Whether ``old`` was there."""
        e = self.lookup(old)
        if e is None:
            return False
        if old == new:
            return True
        names = [n for n in self.keys() if n != new]
        names[names.index(old)] = new
        self._put(new, e)
        self._put(old, _DEL)
        self._order = names
        return True


class Change:
    """One change of a batch, as a plugin's ``transform`` sees it.

    ``op`` (``floe_guest.Op``), ``table``, ``key_columns``, ``event_time``
    (microseconds since the epoch, or None) and the ``before``/``after``
    images. ``op``, ``table``, ``key_columns`` and ``event_time`` can be
    assigned; any assignment, like any write to an image, makes the change a
    replacement. ``row`` is the change's index in the batch.
    """

    __slots__ = ("_batch", "row", "_before", "_after", "_meta")

    def __init__(self, batch: _Batch, row: int):
        self._batch = batch
        self.row = row
        self._before = None
        self._after = None
        self._meta = None  # {"op"/"table"/"keys"/"event_time": new value}, once assigned

    def _set_meta(self, key, value):
        m = self._meta
        if m is None:
            m = self._meta = {}
        m[key] = value

    @property
    def op(self):
        """The kind of change: ``Op.INSERT``, ``UPDATE``, ``DELETE``, ``READ`` (snapshot) or ``TRUNCATE``.

        Assign an ``Op`` or a name (``"insert"``, ``"u"``, ...).
        """
        m = self._meta
        if m is not None and "op" in m:
            return m["op"]
        return _OPS[self._batch.ops[self.row]]

    @op.setter
    def op(self, value):
        if isinstance(value, str):
            v = _OPS_BY_NAME.get(value.lower())
            if v is None:
                raise ValueError(f"unknown op {value!r}")
            value = v
        elif not isinstance(value, wt.Op):
            raise TypeError(f"expected Op, got {type(value).__name__}")
        self._set_meta("op", value)

    @property
    def table(self) -> str:
        """The table the change is for. Assigning sends it to another table."""
        m = self._meta
        if m is not None and "table" in m:
            return m["table"]
        b = self._batch
        return b.tables[b.table_index[self.row]]

    @table.setter
    def table(self, value: str):
        if not isinstance(value, str) or not value:
            raise ValueError("table names are non-empty strings")
        self._set_meta("table", value)

    @property
    def key_columns(self) -> tuple:
        """The names of the key columns of the change's table (empty when unknown).

        Assigning (a list of names) sets them for the change's table in the
        replacement batch; there the first change of a table with keys gives
        the table's keys."""
        m = self._meta
        if m is not None and "keys" in m:
            return m["keys"]
        return self._batch.keys.get(self.table, ())

    @key_columns.setter
    def key_columns(self, names):
        names = tuple(names)
        if not all(isinstance(n, str) and n for n in names):
            raise ValueError("key columns are non-empty column names")
        self._set_meta("keys", names)

    def key(self) -> tuple:
        """The values of ``key_columns`` from the after image (the before image for a delete)."""
        img = self.after if self.after else self.before
        return tuple(img.get(k) for k in self.key_columns)

    @property
    def event_time(self):
        """When the change happened, in microseconds since the epoch (UTC), or None."""
        m = self._meta
        if m is not None and "event_time" in m:
            return m["event_time"]
        b = self._batch
        r = self.row
        return b.event_time[r] if r < len(b.event_time_known) and b.event_time_known[r] else None

    @event_time.setter
    def event_time(self, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError("event_time is microseconds since the epoch (int) or None")
        self._set_meta("event_time", value)

    @property
    def before(self) -> Image:
        """The row as it was (updates and deletes); falsy when the change has none."""
        img = self._before
        if img is None:
            img = self._before = Image(self._batch.before, self.row)
        return img

    @property
    def after(self) -> Image:
        """The row as it is now (inserts, updates, reads); falsy when the change has none."""
        img = self._after
        if img is None:
            img = self._after = Image(self._batch.after, self.row)
        return img

    def rename_column(self, old: str, new: str) -> bool:
        """Renames column ``old`` to ``new`` in both images and in ``key_columns``; whether it was anywhere."""
        renamed = False
        for img in (self.before, self.after):
            if img:
                renamed |= img.rename(old, new)
        keys = self.key_columns
        if old in keys:
            self.key_columns = [new if k == old else k for k in keys]
            renamed = True
        return renamed

    def remove_column(self, name: str) -> bool:
        """Removes column ``name`` from both images; whether it was in either."""
        removed = False
        for img in (self.before, self.after):
            if img:
                removed |= img.remove(name)
        return removed

    @property
    def modified(self) -> bool:
        """Whether the plugin changed anything of this change."""
        b = self._before
        a = self._after
        return (
            self._meta is not None
            or (b is not None and (b._over is not None or b._mod))
            or (a is not None and (a._over is not None or a._mod))
        )

    def __repr__(self):
        return (
            f"<Change row={self.row} {self.op.name.lower()} table={self.table!r} "
            f"before={self.before!r} after={self.after!r}>"
        )


# ---------------------------------------------------------------------------
# Building the replaced batch
#
# The layout is the one floe's host and the Rust SDK write: one column per
# distinct (name, type), in the order the (name, type) pairs first appear when
# reading the rows in order and each row's columns in order; a row is absent in
# every column but the one of its value's type. NULLs keep their type.


def _message(e: BaseException) -> str:
    m = str(e)
    return m if m else type(e).__name__


def _offsets(chunks) -> list:
    return list(_accumulate(map(len, chunks), initial=0))


def _gather(c: _Col, rows):
    """The column ``c`` restricted to ``rows``, or None if absent in all of them."""
    pres = c.presence
    p_out = bytes(pres[r] for r in rows)
    if not any(p_out):
        return None
    offs = c.offsets
    data = c.data
    chunks = [data[offs[r]:offs[r + 1]] for r in rows]
    return wt.Column(c.name, c.wit.type, p_out, _offsets(chunks), b"".join(chunks))


def _build_images(side: _Side, changes, rows, attr: str, all_rows: bool):
    """The ``images`` of the replaced ``changes`` (rows ``rows``) on one side."""
    imgs = list(map(_attrgetter(attr), changes))
    m = len(rows)
    sp = side.present
    present = bytes(sp[r] if img is None else img._present for img, r in zip(imgs, rows))
    if not any(present):  # e.g. the before images of inserts
        return wt.Images(present, [])
    overs = [None if img is None else img._over for img in imgs]
    origs = [sp[r] != 0 if img is None else img._orig for img, r in zip(imgs, rows)]
    touched = set().union(*[o for o in overs if o])  # names some row has set or removed
    if side.flipped:
        touched.update(c.name for c in side.cols)

    built = {}  # (name, type) -> wt.Column
    # Columns no row touched: passed through whole, or restricted to the rows.
    for c in side.cols:
        if c.name in touched or (c.name, c.type) in built:
            continue
        if all_rows:
            if any(c.presence):
                built[(c.name, c.type)] = c.wit
        else:
            col = _gather(c, rows)
            if col is not None:
                built[(c.name, c.type)] = col
    # Touched names: each row's entry, overlay first, split by type.
    entry = side.entry
    for name in touched:
        # (type, bytes or None) per row, None where absent. Types are canonical
        # instances (see codec.ColumnType), so they compare by identity here.
        entries = [_MISSING if o is None else o.get(name, _MISSING) for o in overs]
        if _MISSING in entries or _DEL in entries:
            for j in range(m):
                e = entries[j]
                if e is _MISSING:
                    entries[j] = entry(name, rows[j]) if origs[j] else None
                elif e is _DEL:
                    entries[j] = None
        types = list({id(e[0]): e[0] for e in entries if e is not None}.values())
        for t in types:
            mine = entries if len(types) == 1 else [e if e is not None and e[0] is t else None for e in entries]
            p_out = bytes(_ABSENT if e is None else (_NULL if e[1] is None else _VALUE) for e in mine)
            chunks = [b"" if e is None or e[1] is None else e[1] for e in mine]
            built[(name, t)] = wt.Column(name, to_wit_type(t), p_out, _offsets(chunks), b"".join(chunks))

    # Order: first appearance over the rows, in each row's column order.
    remaining = set(built)
    order = []
    for j in range(m):
        if not remaining:
            break
        img = imgs[j]
        if img is None:
            fields = side.fields(rows[j]) if origs[j] else ()
        elif not img._present:
            continue
        else:
            fields = img.fields()
        for key in fields:
            if key in remaining:
                remaining.discard(key)
                order.append(key)
    order.extend(k for k in built if k in remaining)  # not expected: keep them anyway
    return wt.Images(present, [built[k] for k in order])


def _build_replaced(batch: _Batch, changes):
    all_rows = len(changes) == batch.n
    rows = list(map(_attrgetter("row"), changes))
    b = batch.wit
    if all(ch._meta is None for ch in changes):
        # Op, table, keys and event time as they came: taken from the input.
        if all_rows:
            ops, event_time, known = b.ops, b.event_time, b.event_time_known
            tables, table_keys, table_index = b.tables, b.table_keys, b.table_index
        else:
            ops = bytes(b.ops[r] for r in rows)
            et = b.event_time
            event_time = [et[r] for r in rows]
            known = bytes(b.event_time_known[r] for r in rows)
            ti = b.table_index
            used = sorted({ti[r] for r in rows})
            tables = [b.tables[i] for i in used]
            table_keys = [list(batch.keys.get(t, ())) for t in tables]
            remap = {old: new for new, old in enumerate(used)}
            table_index = [remap[ti[r]] for r in rows]
    else:
        ops = bytes(ch.op.value for ch in changes)
        times = [ch.event_time for ch in changes]
        event_time = [0 if t is None else t for t in times]
        known = bytes(t is not None for t in times)
        tables = []
        tpos = {}
        table_index = []
        table_keys = []
        for ch in changes:
            t = ch.table
            i = tpos.get(t)
            if i is None:
                i = tpos[t] = len(tables)
                tables.append(t)
                table_keys.append(list(ch.key_columns))
            elif not table_keys[i]:
                table_keys[i] = list(ch.key_columns)
            table_index.append(i)
    return wt.ChangeBatch(
        ops, tables, table_keys, table_index, event_time, known,
        _build_images(batch.before, changes, rows, "_before", all_rows),
        _build_images(batch.after, changes, rows, "_after", all_rows),
    )


# ---------------------------------------------------------------------------
# Counters, buffered per batch

_pending_counters = None


def counter_add(name: str, delta: int = 1):
    """Adds ``delta`` to the plugin counter ``name`` (exported by floe as a metric).

    Inside ``transform`` the additions are summed and sent to the host once per
    batch, so counting every change costs a dict update, not a host call.
    """
    if delta < 0:
        raise ValueError("counters only go up")
    p = _pending_counters
    if p is None:
        host.counter_add(name, delta)
    else:
        p[name] = p.get(name, 0) + delta


def _flush_counters(p: dict):
    for name, delta in p.items():
        if delta:
            host.counter_add(name, delta)


# ---------------------------------------------------------------------------
# The plugin


class Transformer:
    """Base class of a transformer plugin.

    Subclass it, take the configuration in ``__init__`` (raise ``ValueError``
    to refuse it: the host reports the message and does not use the plugin)
    and return an outcome for each change from ``transform``. Export it with
    ``Lifecycle, Transform = export_transformer(MyTransformer)`` in the module
    given to ``componentize-py``.
    """

    def __init__(self, config: dict):
        self.config = config

    def transform(self, change: Change):
        """What becomes of ``change``: ``Keep`` (the default; modifications are
        kept), ``Drop``, ``Route("table")`` or ``Reject("why")``. An exception
        rejects the change with its message."""
        return Keep


class _Runner:
    """Holds the plugin's instance; the WIT exports call into it."""

    def __init__(self, cls):
        self.cls = cls
        self.instance = None

    def init(self, config):
        cfg = {}
        for k, v in config:
            cfg[k] = v
        self.instance = None
        try:
            self.instance = self.cls(cfg)
        except Exception as e:  # any refusal: the host gets the message
            raise Err(_message(e)) from None

    def transform(self, changes):
        global _pending_counters
        inst = self.instance
        if inst is None:
            raise RuntimeError("floe_guest: transform called before a successful init")
        batch = _Batch(changes)
        n = batch.n
        outcomes = bytearray(n)  # every code _KEEP (0) to start with
        replaced = []
        routes = []
        rejected = []  # (row, reason)
        fn = inst.transform
        counters = _pending_counters = {}
        try:
            for i in range(n):
                ch = Change(batch, i)
                try:
                    r = fn(ch)
                except Exception as e:
                    outcomes[i] = _REJECT
                    rejected.append((i, _message(e)))
                    continue
                if r is None or r is Keep:
                    if ch.modified:
                        outcomes[i] = _REPLACE
                        replaced.append(ch)
                elif r is Drop:
                    outcomes[i] = _DROP
                else:
                    cls = r.__class__
                    if cls is Route:
                        if ch.modified:
                            ch._set_meta("table", r.table)
                            outcomes[i] = _REPLACE
                            replaced.append(ch)
                        else:
                            outcomes[i] = _ROUTE
                            routes.append(r.table)
                    elif cls is Reject:
                        outcomes[i] = _REJECT
                        rejected.append((i, r.reason))
                    else:
                        outcomes[i] = _REJECT
                        rejected.append((i, f"transform returned {r!r}; expected Keep, Drop, Route(...) or Reject(...)"))
        finally:
            _pending_counters = None
            _flush_counters(counters)
        out = _build_replaced(batch, replaced) if replaced else empty_batch()
        return tx.Transformed(bytes(outcomes), out, routes, [wt.Rejection(r, m) for r, m in rejected])


def export_transformer(cls):
    """Wires the ``Transformer`` subclass ``cls`` to the WIT exports.

    Returns the two classes componentize-py looks for in the app module; bind
    them there under these names::

        Lifecycle, Transform = export_transformer(Mask)

    ``lifecycle.init`` builds ``cls(config_dict)``; ``transform.transform``
    runs the batch loop over it.
    """
    if not (isinstance(cls, type) and callable(getattr(cls, "transform", None))):
        raise TypeError("export_transformer takes a class with a transform(change) method")
    runner = _Runner(cls)

    class Lifecycle:
        """The WIT export ``floe:plugin/lifecycle``."""

        def init(self, config):
            runner.init(config)

    class Transform:
        """The WIT export ``floe:plugin/transform``."""

        def transform(self, changes):
            return runner.transform(changes)

    Lifecycle.runner = Transform.runner = runner
    return Lifecycle, Transform
