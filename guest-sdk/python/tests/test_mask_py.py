"""plugins/mask-py: the mask plugin's behaviour, run in plain Python over the SDK."""

import datetime as dt
import hashlib
import importlib.util
import struct
import uuid
from decimal import Decimal

import pytest
from conftest import MASK_PY
from helpers import ABSENT, NULL, VALUE, A, HostCalls, batch, check_batch, fields_of, rows_of

from wit_world.exports import transform as tx

import floe_guest
from floe_guest import LONG, STRING, decimal
from floe_guest._wit import Err, from_wit_type

class O:
    """Outcome codes, as the `outcomes` bytes hold them."""

    KEEP, DROP, REPLACE, ROUTE, REJECT = (o.value for o in tx.Outcome)



def load_app():
    spec = importlib.util.spec_from_file_location("mask_py_app", MASK_PY / "app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def app(monkeypatch):
    HostCalls(monkeypatch)
    return load_app()


def run(app, config, b):
    app.Lifecycle().init(list(config.items()))
    out = app.Transform().transform(b)
    check_batch(out.replaced)
    return out


def sha(salt, raw):
    return hashlib.sha256(salt.encode() + raw).hexdigest()


@pytest.mark.parametrize("config,message", [
    ({}, "`columns` is required"),
    ({"columns": " , "}, "names no column"),
    ({"columns": "email"}, "`salt` is required"),
    ({"columns": "email", "mode": "hash"}, "`salt` is required"),
    ({"columns": "email", "mode": "scramble", "salt": "s"}, "unknown mode 'scramble'"),
])
def test_init_errors(app, config, message):
    with pytest.raises(Err) as e:
        app.Lifecycle().init(list(config.items()))
    assert message in e.value.value


def test_init_ok(app):
    app.Lifecycle().init([("columns", "email"), ("mode", "redact")])  # no salt needed
    app.Lifecycle().init([("columns", "email"), ("salt", "")])  # an empty salt is a salt


ALL_TYPES = [
    ("s", STRING, "héllo", "héllo".encode()),
    ("bin", floe_guest.BINARY, b"\x00\x01", b"\x00\x01"),
    ("b", floe_guest.BOOLEAN, True, b"\x01"),
    ("i", floe_guest.INT, -5, struct.pack("<i", -5)),
    ("l", LONG, 2**40, struct.pack("<q", 2**40)),
    ("f", floe_guest.FLOAT, 1.5, struct.pack("<f", 1.5)),
    ("d", floe_guest.DOUBLE, -2.25, struct.pack("<d", -2.25)),
    ("dec", decimal(12, 3), Decimal("-12.345"), (-12345).to_bytes(16, "little", signed=True)),
    ("dt", floe_guest.DATE, dt.date(1970, 1, 11), struct.pack("<i", 10)),
    ("tm", floe_guest.TIME, dt.time(0, 0, 0, 7), struct.pack("<q", 7)),
    ("ts", floe_guest.TIMESTAMP, dt.datetime(1970, 1, 1, 0, 0, 1), struct.pack("<q", 1_000_000)),
    ("tz", floe_guest.TIMESTAMPTZ, dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), struct.pack("<q", 0)),
    ("u", floe_guest.UUID, uuid.UUID(int=1), (1).to_bytes(16, "big")),
]


def test_hash_every_type(app):
    schema = [(n, t) for n, t, _, _ in ALL_TYPES] + [("keep", LONG)]
    row = {n: v for n, _, v, _ in ALL_TYPES}
    row["keep"] = 1
    cols = ",".join(n for n, _, _, _ in ALL_TYPES)
    out = run(app, {"columns": cols, "salt": "s3cret"}, batch(schema, [row]))
    assert list(out.outcomes) == [O.REPLACE]
    got = rows_of(out.replaced.after)[0]
    for n, _, _, raw in ALL_TYPES:
        assert got[n] == sha("s3cret", raw), n
    assert got["keep"] == 1
    types = {c.name: from_wit_type(c.type) for c in out.replaced.after.columns}
    assert all(types[n] is STRING for n, _, _, _ in ALL_TYPES) and types["keep"] is LONG


def test_hash_known_vector(app):
    out = run(app, {"columns": " email ,email,", "salt": "s3cret"},
              batch([("id", LONG), ("email", STRING)], [{"id": 1, "email": "alice@example.com"}]))
    assert rows_of(out.replaced.after)[0]["email"] == hashlib.sha256(b"s3cretalice@example.com").hexdigest()


def test_hash_null_absent_and_both_images(app):
    schema = [("id", LONG), ("email", STRING), ("phone", LONG)]
    afters = [
        {"id": 1, "email": "a@x", "phone": 5},     # insert
        {"id": 2, "email": None, "phone": A},      # null stays null, absent stays absent
        None,                                       # delete: only a before image
        {"id": 4, "email": "new@x", "phone": 7},   # update: both images
        {"id": 5},                                  # nothing to mask: kept as is
    ]
    befores = [None, None, {"id": 3, "email": "gone@x", "phone": None}, {"id": 4, "email": "old@x", "phone": 6}, None]
    out = run(app, {"columns": "email, phone", "salt": "pepper"}, batch(schema, afters, befores))
    assert list(out.outcomes) == [O.REPLACE, O.KEEP, O.REPLACE, O.REPLACE, O.KEEP]
    after = rows_of(out.replaced.after)
    before = rows_of(out.replaced.before)
    le = lambda v: struct.pack("<q", v)  # noqa: E731
    assert after == [
        {"id": 1, "email": sha("pepper", b"a@x"), "phone": sha("pepper", le(5))},
        None,
        {"id": 4, "email": sha("pepper", b"new@x"), "phone": sha("pepper", le(7))},
    ]
    assert before == [
        None,
        {"id": 3, "email": sha("pepper", b"gone@x"), "phone": None},
        {"id": 4, "email": sha("pepper", b"old@x"), "phone": sha("pepper", le(6))},
    ]
    # A NULL keeps its type: one column per (name, type), like floe's host writes them.
    phones = [(from_wit_type(c.type), list(c.presence)) for c in out.replaced.before.columns if c.name == "phone"]
    assert phones == [(LONG, [ABSENT, NULL, ABSENT]), (STRING, [ABSENT, ABSENT, VALUE])]
    assert [[(n, str(t)) for n, t, _ in row] for row in fields_of(out.replaced.before) if row] == [
        [("id", "long"), ("email", "string"), ("phone", "long")],
        [("id", "long"), ("email", "string"), ("phone", "string")],
    ]


def test_redact(app):
    schema = [("id", LONG), ("email", STRING), ("phone", LONG), ("amount", decimal(10, 2))]
    afters = [
        {"id": 1, "email": "a@x", "phone": 5, "amount": Decimal("1.00")},
        {"id": 2, "email": None, "phone": None, "amount": None},
    ]
    out = run(app, {"columns": "email,phone,amount,missing", "mode": "redact"}, batch(schema, afters))
    assert list(out.outcomes) == [O.REPLACE, O.KEEP]
    assert rows_of(out.replaced.after) == [{"id": 1, "email": "***", "phone": None, "amount": None}]
    types = {c.name: from_wit_type(c.type) for c in out.replaced.after.columns}
    assert types == {"id": LONG, "email": STRING, "phone": LONG, "amount": decimal(10, 2)}

    out = run(app, {"columns": "email", "mode": "redact", "replacement": "<hidden>"}, batch(schema, afters))
    assert rows_of(out.replaced.after)[0]["email"] == "<hidden>"


def test_large_batch(app):
    schema = [("id", LONG)] + [(f"c{i}", STRING) for i in range(8)] + [("email", STRING)]
    rows = [dict({"id": i, "email": f"user{i}@example.com"}, **{f"c{j}": f"v{i}-{j}" for j in range(8)})
            for i in range(1024)]
    out = run(app, {"columns": "email", "salt": "s"}, batch(schema, rows))
    assert list(out.outcomes) == [O.REPLACE] * 1024
    got = rows_of(out.replaced.after)
    assert got[1023] == dict(rows[1023], email=sha("s", b"user1023@example.com"))
