"""The WIT value encodings (floe_guest.codec): exact bytes and round trips."""

import datetime as dt
import struct
import uuid
from decimal import Decimal

import pytest

from floe_guest import codec
from floe_guest.codec import (
    BINARY, BOOLEAN, DATE, DOUBLE, FLOAT, INT, LONG, STRING, TIME, TIMESTAMP,
    TIMESTAMPTZ, UUID, decimal, decode, encode,
)

UTC = dt.timezone.utc

CASES = [
    (BOOLEAN, True, b"\x01"),
    (BOOLEAN, False, b"\x00"),
    (INT, -2, b"\xfe\xff\xff\xff"),
    (INT, 2**31 - 1, b"\xff\xff\xff\x7f"),
    (LONG, 1, b"\x01" + b"\x00" * 7),
    (LONG, -(2**63), b"\x00" * 7 + b"\x80"),
    (FLOAT, 1.5, struct.pack("<f", 1.5)),
    (DOUBLE, -0.25, struct.pack("<d", -0.25)),
    (decimal(10, 2), Decimal("-1.23"), (-123).to_bytes(16, "little", signed=True)),
    (decimal(38, 0), Decimal("9" * 38), int("9" * 38).to_bytes(16, "little", signed=True)),
    (decimal(38, 10), Decimal("-1234567890123456789012345678.9012345678"),
     (-12345678901234567890123456789012345678).to_bytes(16, "little", signed=True)),
    (DATE, dt.date(1970, 1, 2), b"\x01\x00\x00\x00"),
    (DATE, dt.date(1969, 12, 31), b"\xff\xff\xff\xff"),
    (TIME, dt.time(0, 0, 1, 5), struct.pack("<q", 1_000_005)),
    (TIMESTAMP, dt.datetime(1970, 1, 1, 0, 0, 0, 1), struct.pack("<q", 1)),
    (TIMESTAMP, dt.datetime(1969, 12, 31, 23, 59, 59, 999999), struct.pack("<q", -1)),
    (TIMESTAMPTZ, dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), struct.pack("<q", 1714979289123456)),
    (STRING, "héllo", "héllo".encode()),
    (UUID, uuid.UUID("12345678-1234-5678-1234-567812345678"),
     bytes.fromhex("12345678123456781234567812345678")),
    (BINARY, b"\x00\xff", b"\x00\xff"),
]


@pytest.mark.parametrize("t,value,raw", CASES, ids=lambda x: repr(x)[:30])
def test_encode_decode(t, value, raw):
    assert encode(t, value) == raw
    assert decode(t, raw, 0, len(raw)) == value
    # At an offset inside a larger buffer too.
    buf = b"xyz" + raw + b"!"
    assert decode(t, buf, 3, 3 + len(raw)) == value


def test_decimal_keeps_all_digits_and_scale():
    t = decimal(38, 4)
    v = decode(t, encode(t, Decimal("1.5")))
    assert str(v) == "1.5000"
    assert decode(t, encode(t, 7)) == Decimal("7.0000")
    with pytest.raises(ValueError, match="fractional"):
        encode(decimal(10, 2), Decimal("1.234"))
    with pytest.raises(ValueError, match="digits"):
        encode(decimal(3, 0), 1000)
    with pytest.raises(ValueError):
        encode(decimal(10, 2), Decimal("NaN"))


def test_alternative_inputs():
    assert encode(TIMESTAMP, 5) == struct.pack("<q", 5)
    # An aware datetime for a timestamp is taken in UTC; a naive one for timestamptz as UTC.
    aware = dt.datetime(1970, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert encode(TIMESTAMP, aware) == struct.pack("<q", 0)
    assert encode(TIMESTAMPTZ, dt.datetime(1970, 1, 1, 0, 0, 1)) == struct.pack("<q", 1_000_000)
    assert encode(DATE, 3) == struct.pack("<i", 3)
    assert encode(UUID, "12345678-1234-5678-1234-567812345678") == bytes.fromhex("12345678123456781234567812345678")
    assert encode(DOUBLE, 2) == struct.pack("<d", 2.0)


def test_rejects_what_does_not_fit():
    with pytest.raises(ValueError):
        encode(INT, 2**31)
    with pytest.raises(TypeError):
        encode(LONG, "1")
    with pytest.raises(TypeError):
        encode(LONG, True)
    with pytest.raises(TypeError):
        encode(STRING, b"x")
    with pytest.raises(TypeError):
        encode(DATE, dt.datetime(2020, 1, 1))
    with pytest.raises(ValueError):
        encode(TIME, -1)


def test_types():
    assert decimal(10, 2) == codec.parse_type("decimal(10, 2)") == codec.parse_type("DECIMAL(10,2)")
    assert decimal(10, 2) is decimal(10, 2)
    assert codec.parse_type("string") is STRING
    assert repr(decimal(5, 1)) == "decimal(5, 1)" and str(LONG) == "long"
    assert len({decimal(5, 1), decimal(5, 1), decimal(5, 2)}) == 2
    with pytest.raises(ValueError):
        codec.parse_type("varchar")
    with pytest.raises(ValueError):
        decimal(39, 0)
    with pytest.raises(AttributeError):
        STRING.kind = 3


def test_infer_type():
    assert codec.infer_type(True) is BOOLEAN
    assert codec.infer_type(3) is LONG
    assert codec.infer_type(3.0) is DOUBLE
    assert codec.infer_type("x") is STRING
    assert codec.infer_type(b"x") is BINARY
    assert codec.infer_type(Decimal("1.25")) == decimal(38, 2)
    assert codec.infer_type(dt.datetime(2020, 1, 1)) is TIMESTAMP
    assert codec.infer_type(dt.datetime(2020, 1, 1, tzinfo=UTC)) is TIMESTAMPTZ
    assert codec.infer_type(dt.date(2020, 1, 1)) is DATE
    assert codec.infer_type(uuid.uuid4()) is UUID


def test_check_raw():
    assert codec.check_raw(LONG, bytearray(8)) == bytes(8)
    with pytest.raises(ValueError):
        codec.check_raw(LONG, b"\x00" * 4)
    with pytest.raises(ValueError):
        codec.check_raw(BOOLEAN, b"\x02")
    assert codec.check_raw(STRING, b"") == b""
