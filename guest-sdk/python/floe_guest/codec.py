"""Column types and the value encodings of floe's columnar WIT contract.

This module is pure Python: it does not need the componentize-py bindings, so
it can be used (and tested) outside WebAssembly.

Every value crosses the boundary as bytes in a column's ``data`` buffer,
little-endian (see the WIT doc on ``record column``):

=================  ==========================================  =====================
type               bytes                                       Python value
=================  ==========================================  =====================
boolean            1 (0 or 1)                                  ``bool``
int                4, signed                                   ``int``
long               8, signed                                   ``int``
float              4, IEEE 754                                 ``float``
double             8, IEEE 754                                 ``float``
decimal(p, s)      16, two's-complement unscaled value         ``decimal.Decimal``
date               4, days since 1970-01-01                    ``datetime.date``
time               8, microseconds since midnight              ``datetime.time``
timestamp          8, microseconds since the epoch             naive ``datetime``
timestamptz        8, microseconds since the epoch, UTC        aware ``datetime`` (UTC)
string             UTF-8                                       ``str``
uuid               16, RFC 4122 order                          ``uuid.UUID``
binary             as is                                       ``bytes``
=================  ==========================================  =====================

Decoding dates and timestamps into ``datetime`` objects fails (``OverflowError``)
outside years 1..9999; use the raw bytes (``Image.raw``) for such values.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import struct as _struct
import uuid as _uuid

__all__ = [
    "ColumnType",
    "BOOLEAN",
    "INT",
    "LONG",
    "FLOAT",
    "DOUBLE",
    "DATE",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMPTZ",
    "STRING",
    "UUID",
    "BINARY",
    "decimal",
    "parse_type",
    "infer_type",
    "encode",
    "decode",
    "check_raw",
]

# Kind codes: the order of the cases of the WIT variant `column-type`.
K_BOOLEAN, K_INT, K_LONG, K_FLOAT, K_DOUBLE, K_DECIMAL, K_DATE, K_TIME = range(8)
K_TIMESTAMP, K_TIMESTAMPTZ, K_STRING, K_UUID, K_BINARY = range(8, 13)

_NAMES = (
    "boolean", "int", "long", "float", "double", "decimal", "date", "time",
    "timestamp", "timestamptz", "string", "uuid", "binary",
)
# Fixed byte width of each kind; 0 for variable width (string, binary).
_WIDTHS = (1, 4, 8, 4, 8, 16, 4, 8, 8, 8, 0, 16, 0)


class ColumnType:
    """An Iceberg primitive column type, as the WIT variant ``column-type`` has it.

    Use the module constants (``STRING``, ``LONG``, ...) and ``decimal(p, s)``;
    ``parse_type("decimal(10, 2)")`` accepts the names too. Instances are
    immutable and unique per type, so ``==`` and ``is`` agree.

    Attributes: ``kind`` (the case index in the WIT variant), ``name``,
    ``precision`` and ``scale`` (decimal only, else 0), ``width`` (fixed byte
    width, 0 for string and binary).
    """

    __slots__ = ("kind", "name", "precision", "scale", "width")

    _instances: dict = {}

    def __new__(cls, kind: int, precision: int = 0, scale: int = 0):
        # One instance per type: types compare (and hash) by identity too.
        key = (kind, precision, scale) if kind == K_DECIMAL else kind
        self = cls._instances.get(key)
        if self is None:
            if not 0 <= kind < len(_NAMES):
                raise ValueError(f"unknown column type kind {kind}")
            if kind == K_DECIMAL and not (1 <= precision <= 38 and 0 <= scale <= precision):
                raise ValueError(
                    f"invalid decimal({precision}, {scale}): need 1 <= precision <= 38 and 0 <= scale <= precision")
            self = object.__new__(cls)
            object.__setattr__(self, "kind", kind)
            object.__setattr__(self, "name", _NAMES[kind])
            object.__setattr__(self, "precision", precision if kind == K_DECIMAL else 0)
            object.__setattr__(self, "scale", scale if kind == K_DECIMAL else 0)
            object.__setattr__(self, "width", _WIDTHS[kind])
            cls._instances[key] = self
        return self

    def __reduce__(self):
        return (ColumnType, (self.kind, self.precision, self.scale))

    def __setattr__(self, name, value):
        raise AttributeError("ColumnType is immutable")

    # Identity equality and hashing (object's), since instances are unique.

    def __repr__(self):
        if self.kind == K_DECIMAL:
            return f"decimal({self.precision}, {self.scale})"
        return self.name

    __str__ = __repr__


BOOLEAN = ColumnType(K_BOOLEAN)
INT = ColumnType(K_INT)
LONG = ColumnType(K_LONG)
FLOAT = ColumnType(K_FLOAT)
DOUBLE = ColumnType(K_DOUBLE)
DATE = ColumnType(K_DATE)
TIME = ColumnType(K_TIME)
TIMESTAMP = ColumnType(K_TIMESTAMP)
TIMESTAMPTZ = ColumnType(K_TIMESTAMPTZ)
STRING = ColumnType(K_STRING)
UUID = ColumnType(K_UUID)
BINARY = ColumnType(K_BINARY)

# The singleton of each non-decimal kind, indexed by kind.
SIMPLE = (
    BOOLEAN, INT, LONG, FLOAT, DOUBLE, None, DATE, TIME,
    TIMESTAMP, TIMESTAMPTZ, STRING, UUID, BINARY,
)
_BY_NAME = {t.name: t for t in SIMPLE if t is not None}


def decimal(precision: int, scale: int) -> ColumnType:
    """The type ``decimal(precision, scale)`` (1 <= precision <= 38, 0 <= scale <= precision)."""
    return ColumnType(K_DECIMAL, precision, scale)


def parse_type(spec) -> ColumnType:
    """A ``ColumnType`` from a ``ColumnType`` or a name: ``"string"``, ``"decimal(10, 2)"``, ..."""
    if isinstance(spec, ColumnType):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"expected a ColumnType or a type name, got {type(spec).__name__}")
    s = spec.strip().lower()
    t = _BY_NAME.get(s)
    if t is not None:
        return t
    if s.startswith("decimal(") and s.endswith(")"):
        parts = s[8:-1].split(",")
        if len(parts) == 2:
            try:
                return decimal(int(parts[0]), int(parts[1]))
            except ValueError:
                pass
    raise ValueError(f"unknown column type {spec!r}")


# ---------------------------------------------------------------------------
# Decoding

_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_UTC = _dt.timezone.utc
_US_PER_DAY = 86_400_000_000

_i32 = _struct.Struct("<i")
_i64 = _struct.Struct("<q")
_f32 = _struct.Struct("<f")
_f64 = _struct.Struct("<d")
_unpack_i32 = _i32.unpack_from
_unpack_i64 = _i64.unpack_from
_unpack_f32 = _f32.unpack_from
_unpack_f64 = _f64.unpack_from
_timedelta = _dt.timedelta


def _micros_to_time(us: int) -> _dt.time:
    if not 0 <= us < _US_PER_DAY:
        raise OverflowError(f"time of day out of range: {us} microseconds")
    s, us = divmod(us, 1_000_000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return _dt.time(h, m, s, us)


def _unscaled_to_decimal(unscaled: int, scale: int) -> _decimal.Decimal:
    # Built from a tuple: exact for all 38 digits (Decimal arithmetic would
    # round to the context's precision).
    sign = 1 if unscaled < 0 else 0
    digits = tuple(map(int, str(-unscaled if sign else unscaled)))
    return _decimal.Decimal((sign, digits, -scale))


def decode(t: ColumnType, buf, start: int = 0, end: int | None = None):
    """The Python value of the bytes ``buf[start:end]`` of a value of type ``t``."""
    k = t.kind
    if k == K_STRING:
        return str(buf[start:end], "utf-8")
    if k == K_LONG:
        return _unpack_i64(buf, start)[0]
    if k == K_INT:
        return _unpack_i32(buf, start)[0]
    if k == K_DOUBLE:
        return _unpack_f64(buf, start)[0]
    if k == K_TIMESTAMPTZ:
        return _EPOCH_UTC + _timedelta(microseconds=_unpack_i64(buf, start)[0])
    if k == K_TIMESTAMP:
        return _EPOCH + _timedelta(microseconds=_unpack_i64(buf, start)[0])
    if k == K_DATE:
        return _EPOCH_DATE + _timedelta(days=_unpack_i32(buf, start)[0])
    if k == K_BOOLEAN:
        return buf[start] != 0
    if k == K_DECIMAL:
        return _unscaled_to_decimal(int.from_bytes(buf[start:start + 16], "little", signed=True), t.scale)
    if k == K_FLOAT:
        return _unpack_f32(buf, start)[0]
    if k == K_TIME:
        return _micros_to_time(_unpack_i64(buf, start)[0])
    if k == K_UUID:
        return _uuid.UUID(bytes=bytes(buf[start:start + 16]))
    return bytes(buf[start:end])  # binary


# ---------------------------------------------------------------------------
# Encoding


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected int for {what}, got {type(value).__name__}")
    return value


def _pack(s: _struct.Struct, v: int, what: str) -> bytes:
    try:
        return s.pack(v)
    except _struct.error:
        raise ValueError(f"{v} out of range for {what}") from None


def _timedelta_micros(td: _dt.timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def _decimal_unscaled(value, t: ColumnType) -> int:
    if isinstance(value, float):
        value = _decimal.Decimal(repr(value))
    elif isinstance(value, (int, str)) and not isinstance(value, bool):
        value = _decimal.Decimal(value)
    elif not isinstance(value, _decimal.Decimal):
        raise TypeError(f"expected Decimal, int or str for {t}, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number for {t}")
    sign, digits, exp = value.as_tuple()
    n = 0
    for d in digits:
        n = n * 10 + d
    shift = exp + t.scale
    if shift >= 0:
        n *= 10 ** shift
    else:
        n, rest = divmod(n, 10 ** -shift)
        if rest:
            raise ValueError(f"{value} has more than {t.scale} fractional digits for {t}")
    if n >= 10 ** t.precision:
        raise ValueError(f"{value} has more than {t.precision} digits for {t}")
    return -n if sign else n


def encode(t: ColumnType, value) -> bytes:
    """The bytes of ``value`` as a value of type ``t`` (see the module doc).

    Besides the Python type of the table, these are accepted: ``int`` for date
    (days), time and timestamps (microseconds); an aware ``datetime`` for
    timestamp (converted to UTC) and a naive one for timestamptz (taken as UTC);
    ``int``, ``str`` and ``float`` for decimal (which must fit the scale exactly);
    ``int`` for float and double; ``str`` and 16 ``bytes`` for uuid.
    Raises ``TypeError`` or ``ValueError`` for a value that does not fit.
    """
    k = t.kind
    if k == K_STRING:
        if not isinstance(value, str):
            raise TypeError(f"expected str for string, got {type(value).__name__}")
        return value.encode("utf-8")
    if k == K_LONG:
        return _pack(_i64, _int(value, "long"), "long")
    if k == K_INT:
        return _pack(_i32, _int(value, "int"), "int")
    if k == K_DOUBLE or k == K_FLOAT:
        if isinstance(value, bool) or not isinstance(value, (float, int)):
            raise TypeError(f"expected float for {t.name}, got {type(value).__name__}")
        try:
            return (_f64 if k == K_DOUBLE else _f32).pack(value)
        except (OverflowError, _struct.error):
            raise ValueError(f"{value} out of range for {t.name}") from None
    if k == K_BOOLEAN:
        if value is True or value is False or (type(value) is int and value in (0, 1)):
            return b"\x01" if value else b"\x00"
        raise TypeError(f"expected bool for boolean, got {value!r}")
    if k == K_TIMESTAMP or k == K_TIMESTAMPTZ:
        if isinstance(value, _dt.datetime):
            if value.tzinfo is not None and value.utcoffset() is not None:
                us = _timedelta_micros(value - _EPOCH_UTC)
            else:
                us = _timedelta_micros(value - _EPOCH)
        else:
            us = _int(value, t.name)
        return _pack(_i64, us, t.name)
    if k == K_DATE:
        if isinstance(value, _dt.datetime):
            raise TypeError("expected date for date, got datetime (use .date())")
        if isinstance(value, _dt.date):
            return _i32.pack((value - _EPOCH_DATE).days)
        return _pack(_i32, _int(value, "date"), "date")
    if k == K_TIME:
        if isinstance(value, _dt.time):
            us = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
        else:
            us = _int(value, "time")
            if not 0 <= us < _US_PER_DAY:
                raise ValueError(f"{us} out of range for time (microseconds since midnight)")
        return _i64.pack(us)
    if k == K_DECIMAL:
        return _decimal_unscaled(value, t).to_bytes(16, "little", signed=True)
    if k == K_UUID:
        if isinstance(value, _uuid.UUID):
            return value.bytes
        if isinstance(value, str):
            return _uuid.UUID(value).bytes
        if isinstance(value, (bytes, bytearray)) and len(value) == 16:
            return bytes(value)
        raise TypeError(f"expected UUID for uuid, got {type(value).__name__}")
    # binary
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"expected bytes for binary, got {type(value).__name__}")


def infer_type(value) -> ColumnType:
    """The column type a Python value gets when it starts a new column.

    bool → boolean, int → long, float → double, str → string, bytes → binary,
    Decimal → decimal(38, its scale), UUID → uuid, aware datetime → timestamptz,
    naive datetime → timestamp, date → date, time → time.
    """
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return LONG
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BINARY
    if isinstance(value, _decimal.Decimal):
        exp = value.as_tuple().exponent
        return decimal(38, min(38, -exp) if isinstance(exp, int) and exp < 0 else 0)
    if isinstance(value, _uuid.UUID):
        return UUID
    if isinstance(value, _dt.datetime):
        return TIMESTAMPTZ if value.tzinfo is not None else TIMESTAMP
    if isinstance(value, _dt.date):
        return DATE
    if isinstance(value, _dt.time):
        return TIME
    raise TypeError(f"cannot infer a column type for {type(value).__name__}; pass one")


def check_raw(t: ColumnType, raw) -> bytes:
    """``raw`` as bytes, after checking its length against ``t``'s fixed width."""
    if not isinstance(raw, bytes):
        if not isinstance(raw, (bytearray, memoryview)):
            raise TypeError(f"expected bytes, got {type(raw).__name__}")
        raw = bytes(raw)
    w = t.width
    if w and len(raw) != w:
        raise ValueError(f"{t} takes {w} bytes, got {len(raw)}")
    if t.kind == K_BOOLEAN and raw[0] > 1:
        raise ValueError("boolean takes the byte 0 or 1")
    return raw
