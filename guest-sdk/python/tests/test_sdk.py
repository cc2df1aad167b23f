"""The batch loop of floe_guest: per-change views, outcomes, the replaced batch."""

import datetime as dt
from decimal import Decimal

import pytest
from helpers import ABSENT, NULL, VALUE, A, HostCalls, batch, check_batch, fields_of, rows_of

from wit_world.exports import transform as tx
from wit_world.imports import host
from wit_world.imports import types as wt

import floe_guest
from floe_guest import (
    DOUBLE, LONG, STRING, Drop, Keep, Op, Reject, Route, Transformer, counter_add,
    decimal, export_transformer, log,
)
from floe_guest._wit import Err, from_wit_type

class O:
    """Outcome codes, as the `outcomes` bytes hold them."""

    KEEP, DROP, REPLACE, ROUTE, REJECT = (o.value for o in tx.Outcome)

SCHEMA = [("id", LONG), ("email", STRING), ("price", decimal(10, 2)), ("score", DOUBLE)]


def run(cls, b, config=None):
    lc, tr = export_transformer(cls)
    lc().init(list((config or {}).items()))
    out = tr().transform(b)
    check_batch(out.replaced)
    assert len(out.outcomes) == len(b.ops)
    assert out.outcomes.count(O.REPLACE) == len(out.replaced.ops)
    assert out.outcomes.count(O.ROUTE) == len(out.routes)
    assert out.outcomes.count(O.REJECT) == len(out.rejected)
    assert [r.row for r in out.rejected] == sorted(r.row for r in out.rejected)
    return out


def people(n=4):
    return [{"id": i, "email": f"u{i}@x.org", "price": Decimal(f"{i}.50"), "score": i / 2} for i in range(n)]


@pytest.fixture(autouse=True)
def hostcalls(monkeypatch):
    return HostCalls(monkeypatch)


def make(fn, init=None):
    class T(Transformer):
        def __init__(self, config):
            super().__init__(config)
            if init:
                init(config)

        def transform(self, change):
            return fn(change)

    return T


def test_read_values_and_metadata():
    seen = []

    def fn(c):
        seen.append((c.op, c.table, c.key_columns, c.event_time, c.after.to_dict(), bool(c.before), c.key()))
        assert c.after["email"] == c.after.get("email")
        assert c.after.get("missing", 7) == 7
        assert "missing" not in c.after and "id" in c.after
        with pytest.raises(KeyError):
            c.after["missing"]
        assert c.after.type_of("price") == decimal(10, 2)
        return Keep

    rows = people(2)
    rows[1]["email"] = None
    b = batch(SCHEMA, rows, event_time=[5, None])
    out = run(make(fn), b)
    assert list(out.outcomes) == [O.KEEP, O.KEEP]
    assert list(out.replaced.ops) == [] and out.routes == [] and out.rejected == []
    assert seen[0] == (Op.INSERT, "db.t", ("id",), 5, rows[0], False, (0,))
    assert seen[1][4]["email"] is None and seen[1][3] is None
    assert seen[1][4]["price"] == Decimal("1.50")


def test_absent_fields_and_images():
    def fn(c):
        if c.op == Op.DELETE:
            assert not c.after and c.after.to_dict() == {} and len(c.after) == 0
            assert c.before["id"] == 1
            with pytest.raises(ValueError, match="no after image"):
                c.after["id"] = 5
        else:
            assert c.after.keys() == ["id"]  # email absent, not null
        return Keep

    b = batch(SCHEMA, [{"id": 0}, None], befores=[None, {"id": 1, "email": "a"}])
    assert list(run(make(fn), b).outcomes) == [O.KEEP, O.KEEP]


def test_outcomes_in_order():
    def fn(c):
        i = c.after["id"]
        return [Keep, Drop, Route("other"), Reject("nope"), Drop(), Keep(), None, Route("x")][i]

    out = run(make(fn), batch(SCHEMA, people(8)))
    assert list(out.outcomes) == [O.KEEP, O.DROP, O.ROUTE, O.REJECT, O.DROP, O.KEEP, O.KEEP, O.ROUTE]
    assert out.routes == ["other", "x"]
    assert [(r.row, r.reason) for r in out.rejected] == [(3, "nope")]


def test_exception_rejects_with_message():
    def fn(c):
        if c.after["id"] == 1:
            raise ValueError("bad email")
        if c.after["id"] == 2:
            c.after["id"] = "not a number"  # TypeError from the SDK
        if c.after["id"] == 3:
            return 42
        return Keep

    out = run(make(fn), batch(SCHEMA, people(4)))
    assert list(out.outcomes) == [O.KEEP, O.REJECT, O.REJECT, O.REJECT]
    reasons = [r.reason for r in out.rejected]
    assert reasons[0] == "bad email"
    assert "column 'id'" in reasons[1] and "expected int" in reasons[1]
    assert "transform returned 42" in reasons[2]


def test_modified_rows_are_replaced_others_kept():
    def fn(c):
        if c.after["id"] % 2:
            c.after["email"] = c.after["email"].upper()
        return Keep

    b = batch(SCHEMA, people(4))
    out = run(make(fn), b)
    assert list(out.outcomes) == [O.KEEP, O.REPLACE, O.KEEP, O.REPLACE]
    r = out.replaced
    assert list(r.ops) == [Op.INSERT.value, Op.INSERT.value] and r.tables == ["db.t"] and r.table_keys == [["id"]]
    rows = rows_of(r.after)
    assert rows == [dict(people(4)[1], email="U1@X.ORG"), dict(people(4)[3], email="U3@X.ORG")]
    assert rows_of(r.before) == [None, None]
    assert r.before.columns == []  # all-absent columns are left out


def test_all_rows_replaced_passes_untouched_columns_through():
    def fn(c):
        c.after["email"] = "x"
        return Keep

    b = batch(SCHEMA, people(3))
    out = run(make(fn), b)
    by_name = {c.name: c for c in out.replaced.after.columns}
    assert by_name["id"] is b.after.columns[0]  # the input column object itself
    assert by_name["email"].data == b"xxx" and by_name["email"].offsets == [0, 1, 2, 3]


def test_set_type_null_delete_rename_and_new_columns():
    def fn(c):
        a = c.after
        if a["id"] == 0:
            a.set("id", "zero", STRING)  # type change
            a.set_null("score")
            del a["email"]
            a.rename("price", "cost")
            a["note"] = "new"  # new column, type inferred
            a.set("flag", None, "boolean")
        else:
            a.set("id", str(a["id"]), "string")
        return Keep

    out = run(make(fn), batch(SCHEMA, people(2)))
    r = out.replaced
    types = {c.name: c.type for c in r.after.columns}
    # Row 0 first: id, cost (price renamed in place), score, note, flag; then row 1's email, price.
    assert [c.name for c in r.after.columns] == ["id", "cost", "score", "note", "flag", "email", "price"]
    assert isinstance(types["id"], wt.ColumnType_String)
    assert isinstance(types["cost"], wt.ColumnType_Decimal) and types["cost"].value == wt.DecimalType(10, 2)
    assert isinstance(types["flag"], wt.ColumnType_Boolean)
    rows = rows_of(r.after)
    assert rows[0] == {"id": "zero", "score": None, "cost": Decimal("0.50"), "note": "new", "flag": None}
    assert rows[1] == {"id": "1", "email": "u1@x.org", "price": Decimal("1.50"), "score": 0.5}
    # price only in row 1, cost only in row 0: absent elsewhere
    price = {c.name: c for c in r.after.columns}.get("price")
    assert price is None or list(price.presence) == [ABSENT, VALUE]


def test_reads_see_own_writes():
    def fn(c):
        a = c.after
        a["email"] = "new@x"
        assert a["email"] == "new@x" and a.raw("email") == b"new@x"
        del a["score"]
        assert "score" not in a and a.get("score", "gone") == "gone"
        a.rename("email", "mail")
        assert a.keys() == ["id", "mail", "price"]  # renamed in place
        assert a.pop("id") == 0 and "id" not in a
        a["id"] = 9  # re-added: the column is long, like in the batch
        assert a.type_of("id") == LONG
        return Keep

    out = run(make(fn), batch(SCHEMA, people(1)))
    assert rows_of(out.replaced.after) == [{"id": 9, "price": Decimal("0.50"), "mail": "new@x"}]


def test_null_set_keeps_column_type():
    def fn(c):
        c.after["price"] = None
        return Keep

    out = run(make(fn), batch(SCHEMA, people(1)))
    price = [c for c in out.replaced.after.columns if c.name == "price"][0]
    assert list(price.presence) == [NULL] and price.type.value == wt.DecimalType(10, 2)


def test_route_of_modified_change_is_a_replacement_to_that_table():
    def fn(c):
        if c.after["id"] == 0:
            c.after["email"] = "m"
            return Route("db.masked")
        return Route("db.plain")

    out = run(make(fn), batch(SCHEMA, people(2)))
    assert list(out.outcomes) == [O.REPLACE, O.ROUTE]
    assert out.routes == ["db.plain"]
    r = out.replaced
    assert [r.tables[i] for i in r.table_index] == ["db.masked"]
    assert r.table_keys == [[]]  # unknown table: keys unknown


def test_op_table_event_time_changes():
    def fn(c):
        if c.op == Op.DELETE:  # soft delete: an update with a flag
            c.op = "update"
            c.after.present = True
            for k in c.before:
                c.after[k] = c.before[k]
            c.after["deleted"] = True
            c.event_time = 99
        elif c.after["id"] == 1:
            c.table = "db.t"  # same table, still counts as modified
        return Keep

    b = batch(SCHEMA, [people(2)[0], people(2)[1], None], befores=[None, None, people(3)[2]])
    out = run(make(fn), b)
    assert list(out.outcomes) == [O.KEEP, O.REPLACE, O.REPLACE]
    r = out.replaced
    assert list(r.ops) == [Op.INSERT.value, Op.UPDATE.value]
    assert r.event_time == [0, 99] and list(r.event_time_known) == [0, 1]
    assert list(r.after.present) == [True, True] and list(r.before.present) == [False, True]
    assert rows_of(r.after)[1] == dict(people(3)[2], deleted=True)
    assert rows_of(r.before)[1] == people(3)[2]


def test_making_an_image_absent():
    def fn(c):
        c.before.present = False
        return Keep

    b = batch(SCHEMA, [people(1)[0]], befores=[people(1)[0]])
    out = run(make(fn), b)
    assert list(out.replaced.before.present) == [False]
    assert out.replaced.before.columns == []
    assert rows_of(out.replaced.after) == [people(1)[0]]


def test_types_per_row_split_columns_by_type():
    def fn(c):
        i = c.after["id"]
        if i == 0:
            c.after.set("score", "high", STRING)
        elif i == 1:
            c.after["email"] = "y"  # score stays a double
        elif i == 2:
            c.after.set("score", None, STRING)  # a NULL of type string
        return Keep

    out = run(make(fn), batch(SCHEMA, people(4)))
    assert list(out.outcomes) == [O.REPLACE, O.REPLACE, O.REPLACE, O.KEEP]
    cols = [(c.name, str(from_wit_type(c.type)), list(c.presence)) for c in out.replaced.after.columns]
    assert cols == [
        ("id", "long", [VALUE] * 3),
        ("email", "string", [VALUE] * 3),
        ("price", "decimal(10, 2)", [VALUE] * 3),
        ("score", "string", [VALUE, ABSENT, NULL]),
        ("score", "double", [ABSENT, VALUE, ABSENT]),
    ]
    rows = fields_of(out.replaced.after)
    assert [(n, str(t), v) for n, t, v in rows[1]][3] == ("score", "double", 0.5)
    assert [n for n, _, _ in rows[1]] == ["id", "email", "price", "score"]


def test_split_input_columns_are_read_and_kept():
    # The host sends a name with rows of two types as two columns of that name.
    b = batch(SCHEMA, people(3))
    b.after.columns.append(wt.Column("code", wt.ColumnType_String(), bytes([VALUE, ABSENT, NULL]), [0, 1, 1, 1], b"x"))
    b.after.columns.append(wt.Column("code", wt.ColumnType_Long(), bytes([ABSENT, VALUE, ABSENT]), [0, 0, 8, 8], (7).to_bytes(8, "little")))
    seen = []

    def fn(c):
        seen.append((c.after.get("code"), str(c.after.type_of("code"))))
        if c.after["id"] == 2:
            c.after["email"] = "z"
        return Keep

    out = run(make(fn), b)
    assert seen == [("x", "string"), (7, "long"), (None, "string")]
    assert list(out.outcomes) == [O.KEEP, O.KEEP, O.REPLACE]
    assert fields_of(out.replaced.after)[0][-1] == ("code", floe_guest.STRING, None)

    def all_(c):
        c.after["email"] = "z"
        return Keep

    out = run(make(all_), b)
    assert [(c.name, str(from_wit_type(c.type))) for c in out.replaced.after.columns][-2:] == [("code", "string"), ("code", "long")]
    assert [f[-1] for f in fields_of(out.replaced.after)] == [
        ("code", floe_guest.STRING, "x"), ("code", LONG, 7), ("code", floe_guest.STRING, None)]


def test_column_order_follows_first_appearance_like_the_host():
    # Row 0 lacks "email"; in the replacement it is first seen in row 1, after "score".
    rows = people(2)
    del rows[0]["email"]

    def fn(c):
        c.after["id"] = c.after["id"] + 10
        return Keep

    out = run(make(fn), batch(SCHEMA, rows))
    assert [c.name for c in out.replaced.after.columns] == ["id", "price", "score", "email"]


def test_rename_in_place_remove_and_readd_goes_last():
    def fn(c):
        a = c.after
        if a["id"] == 0:
            assert a.rename("email", "mail") and not a.rename("nope", "x")
        elif a["id"] == 1:
            a.remove("email")
            a["email"] = "back"
        else:
            assert c.rename_column("id", "ident")
            assert c.key_columns == ("ident",)
            c.remove_column("score")
        return Keep

    out = run(make(fn), batch(SCHEMA, people(3)))
    names = [[n for n, _, _ in row] for row in fields_of(out.replaced.after)]
    assert names[0] == ["id", "mail", "price", "score"]
    assert names[1] == ["id", "price", "score", "email"]
    # The host reads a row's columns in batch order: row 2's "ident" is a column first seen
    # after row 0's and row 1's (the Rust SDK writes the same layout).
    assert names[2] == ["price", "email", "ident"]
    assert out.replaced.table_keys == [["id"]]  # the table's first change gives its keys


def test_init_refusal_and_config():
    def init(config):
        if "bad" in config:
            raise ValueError("bad config: " + config["bad"])

    lc, tr = export_transformer(make(lambda c: Keep, init))
    with pytest.raises(Err) as e:
        lc().init([("bad", "x")])
    assert e.value.value == "bad config: x"
    with pytest.raises(RuntimeError):  # no instance after a refused init
        tr().transform(batch(SCHEMA, people(1)))
    lc().init([("ok", "1")])
    assert list(tr().transform(batch(SCHEMA, people(1))).outcomes) == [O.KEEP]


def test_counters_are_summed_per_batch_and_logs_go_to_host(hostcalls):
    def fn(c):
        counter_add("seen")
        counter_add("ids", c.after["id"])
        return Keep

    log.info("hello")
    log.error("oops")
    run(make(fn), batch(SCHEMA, people(4)))
    assert sorted(hostcalls.counters) == [("ids", 6), ("seen", 4)]
    assert hostcalls.logs == [(host.Level.INFO, "hello"), (host.Level.ERROR, "oops")]
    counter_add("outside", 2)  # outside a batch: straight to the host
    assert hostcalls.counters[-1] == ("outside", 2)
    hostcalls.config["k"] = "v"
    assert floe_guest.config_get("k") == "v" and floe_guest.config_get("nope") is None


def test_empty_batch():
    out = run(Transformer, batch(SCHEMA, []))
    assert list(out.outcomes) == [] and list(out.replaced.ops) == []


def test_multiple_tables_and_keys():
    seen = []

    def fn(c):
        seen.append((c.table, c.key_columns))
        c.after["email"] = "z"
        return Keep

    b = batch(SCHEMA, people(3), tables=["a", "b", "a"])
    b.table_keys = [["id"], ["email", "id"]]
    out = run(make(fn), b)
    assert seen == [("a", ("id",)), ("b", ("email", "id")), ("a", ("id",))]
    r = out.replaced
    assert r.tables == ["a", "b"] and r.table_index == [0, 1, 0] and r.table_keys == [["id"], ["email", "id"]]

    def some(c):
        if c.row > 0:
            c.after["email"] = "z"
        return Keep

    r = run(make(some), b).replaced
    assert [r.tables[i] for i in r.table_index] == ["b", "a"]
    assert {t: k for t, k in zip(r.tables, r.table_keys)} == {"a": ["id"], "b": ["email", "id"]}
    assert list(r.ops) == [b.ops[1], b.ops[2]]


def test_subset_gather_is_exact_for_all_types():
    import uuid
    schema = [("b", floe_guest.BOOLEAN), ("i", floe_guest.INT), ("f", floe_guest.FLOAT),
              ("d", floe_guest.DATE), ("t", floe_guest.TIME), ("ts", floe_guest.TIMESTAMP),
              ("tz", floe_guest.TIMESTAMPTZ), ("u", floe_guest.UUID), ("bin", floe_guest.BINARY),
              ("s", STRING)]
    rows = []
    for i in range(6):
        rows.append({"b": i % 2 == 0, "i": -i, "f": i + 0.5, "d": dt.date(2000, 1, 1 + i),
                     "t": dt.time(1, 2, i), "ts": dt.datetime(2001, 1, 1, 0, 0, i),
                     "tz": dt.datetime(2001, 1, 1, 0, 0, i, tzinfo=dt.timezone.utc),
                     "u": uuid.UUID(int=i), "bin": bytes(range(i)), "s": "é" * i})
    rows[2]["s"] = None
    rows[3]["u"] = A
    rows[4] = None  # image absent (a delete's after image)

    def fn(c):
        if c.after and c.after["i"] % 2 == 0:
            c.after["s"] = "mod"
            return Keep
        if c.after:
            c.after.set("b", True)
        return Keep

    out = run(make(fn), batch(schema, rows, ops=[Op.INSERT] * 6))
    got = rows_of(out.replaced.after)
    expect = [dict(r, s="mod") if r["i"] % 2 == 0 else dict(r, b=True) for r in rows if r is not None]
    for e in expect:
        if e["u"] is A:
            del e["u"]
    assert got == expect
