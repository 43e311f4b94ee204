"""Storage on SQLite and PostgreSQL: Alembic-managed schema, queries, exact bytes."""

from __future__ import annotations

from sqlalchemy import inspect, text

from uniqodo_mock.receiver.filters import parse_filter
from uniqodo_mock.receiver.migrations import VERSION_TABLE, upgrade_schema
from uniqodo_mock.receiver.model import Param, RecordedCall
from uniqodo_mock.receiver.store import CallStore
from uniqodo_mock.store.engine import create_db_engine


def _call(path: str, *params: tuple[str, str], at: int = 1, body: bytes = b"") -> RecordedCall:
    return RecordedCall(
        "POST", path, "", [("h", "v")], body, at, params=[Param("form", n, v) for n, v in params]
    )


def test_schema_comes_from_alembic_in_its_own_version_table(fresh_db_url: str) -> None:
    engine = create_db_engine(fresh_db_url)
    upgrade_schema(engine)
    upgrade_schema(engine)  # idempotent: a restart runs it again
    names = set(inspect(engine).get_table_names())
    assert {
        "receiver_calls",
        "receiver_call_params",
        "receiver_response_rules",
        VERSION_TABLE,
    } <= names
    assert "alembic_version" not in names  # the mock's own version table stays free
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == "r0004"
    engine.dispose()


def test_insert_filter_delete(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    store = CallStore(engine)
    ids = store.insert_many(
        [
            _call("/hook", ("code", "AB12E3GH"), at=10),
            _call("/hook", ("code", "OTHER"), at=20),
            _call("/other/x", ("code", "AB12E3GH"), at=30, body=bytes(range(256))),
        ]
    )
    assert ids == sorted(ids)
    assert [c.id for c in store.list(parse_filter([("param", "code:AB12E3GH")]))] == [
        ids[0],
        ids[2],
    ]
    assert [c.id for c in store.list(parse_filter([("path", "/other/*")]))] == [ids[2]]
    assert [
        c.id for c in store.list(parse_filter([("since", "1970-01-01T00:00:00.000020Z")]))
    ] == ids[1:]
    assert store.count(parse_filter([("param", "code")])) == 3
    assert store.get(ids[2]).body == bytes(range(256))  # type: ignore[union-attr]
    assert store.delete(parse_filter([("param", "code:OTHER")])) == 1
    assert store.count(parse_filter([])) == 2
    assert store.delete(parse_filter([])) == 2
    with engine.connect() as conn:  # the parameter index is cleaned up too
        assert conn.execute(text("SELECT count(*) FROM receiver_call_params")).scalar() == 0
    engine.dispose()


def test_nul_and_long_values_are_storable(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    store = CallStore(engine)
    [call_id] = store.insert_many([_call("/a\x00b", ("n\x00", "v" * 10_000))])
    call = store.get(call_id)
    assert call is not None and call.params[0].value == "v" * 10_000
    assert call.params[0].name == "n\x00"  # exact in the JSON copy
    engine.dispose()


def test_a_batch_indexes_each_parameter_under_its_own_call(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    store = CallStore(engine)
    ids = store.insert_many(
        [
            _call("/a", ("code", "A1"), ("orderId", "o1")),
            _call("/b"),  # no parameters in the middle of the batch
            _call("/c", ("code", "C1"), ("orderId", "o3"), ("code", "C2")),
        ]
    )
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT call_id, name, value FROM receiver_call_params")).all()
    assert sorted(tuple(row) for row in rows) == sorted(
        [
            (ids[0], "code", "A1"),
            (ids[0], "orderId", "o1"),
            (ids[2], "code", "C1"),
            (ids[2], "orderId", "o3"),
            (ids[2], "code", "C2"),
        ]
    )
    engine.dispose()


def test_a_filtered_delete_takes_exactly_its_calls_index_rows(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    store = CallStore(engine)
    kept, _ = store.insert_many(
        [_call("/keep", ("code", "K1"), ("orderId", "o1")), _call("/gone", ("code", "G1"))]
    )
    assert store.delete(parse_filter([("param", "code:G1")])) == 1
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT call_id, name, value FROM receiver_call_params")).all()
    assert sorted(tuple(row) for row in rows) == [(kept, "code", "K1"), (kept, "orderId", "o1")]
    assert store.count(parse_filter([("param", "code:K1")])) == 1
    engine.dispose()


def test_upgrading_from_r0001_keeps_the_parameter_index(fresh_db_url: str) -> None:
    engine = create_db_engine(fresh_db_url)
    upgrade_schema(engine, "r0001")
    with engine.begin() as conn:
        old = conn.execute(
            text(
                "INSERT INTO receiver_calls (received_at, method, path, query, headers, body, "
                "body_size, rejected, response_status, params, looks_like_callback, problems) "
                "VALUES (1, 'POST', '/old', '', '[]', :body, 0, false, 204, "
                '\'[["form","code","OLD1"]]\', false, \'[]\') RETURNING id'
            ),
            {"body": b""},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO receiver_call_params (call_id, name, value) VALUES (:id, 'code', 'OLD1')"
            ),
            {"id": old},
        )
    upgrade_schema(engine)
    store = CallStore(engine)
    assert [c.id for c in store.list(parse_filter([("param", "code:OLD1")]))] == [old]
    [new] = store.insert_many([_call("/new", ("code", "NEW1"))])
    assert new > old
    assert store.delete(parse_filter([])) == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM receiver_call_params")).scalar() == 0
    engine.dispose()


def test_ids_of_deleted_calls_are_never_drawn_again(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    store = CallStore(engine)
    ids = store.insert_many([_call("/a"), _call("/b"), _call("/c")])
    assert store.delete(parse_filter([("path", "/c")])) == 1  # the newest
    [again] = store.insert_many([_call("/d")])
    assert again > max(ids)
    assert store.delete(parse_filter([])) == 3
    [after_all] = store.insert_many([_call("/e")])
    assert after_all > again
    assert [c.path for c in store.list(parse_filter([]))] == ["/e"]
    engine.dispose()


def test_upgrading_from_r0003_keeps_the_calls_and_their_ids(fresh_db_url: str) -> None:
    engine = create_db_engine(fresh_db_url)
    upgrade_schema(engine, "r0003")
    ids = []
    with engine.begin() as conn:  # as the r0003 writer stored them
        for path in ("/old", "/newest"):
            ids.append(
                conn.execute(
                    text(
                        "INSERT INTO receiver_calls (received_at, method, path, query, headers, "
                        "body, body_size, rejected, response_status, params, looks_like_callback,"
                        " problems) VALUES (1, 'POST', :path, '', '[]', :body, 0, false, 204, "
                        "'[]', false, '[]') RETURNING id"
                    ),
                    {"path": path, "body": b""},
                ).scalar_one()
            )
        conn.execute(
            text(
                "INSERT INTO receiver_call_params (call_id, name, value) VALUES (:id, 'code', 'OLD1')"
            ),
            {"id": ids[0]},
        )
    upgrade_schema(engine)
    store = CallStore(engine)
    assert [c.id for c in store.list(parse_filter([("param", "code:OLD1")]))] == [ids[0]]
    assert store.delete(parse_filter([("path", "/newest")])) == 1
    [new] = store.insert_many([_call("/new")])
    assert new > ids[1]
    engine.dispose()
