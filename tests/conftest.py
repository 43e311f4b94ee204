"""Shared test fixtures: every storage test runs on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "UNIQODO_MOCK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPO_ROOT = Path(__file__).resolve().parents[1]


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """One PostgreSQL database for this test session (CREATE/DROP DATABASE costs seconds, so
    tests share it and ``db_url`` empties it before each test); dropped at the end."""
    import psycopg

    name = f"uqm_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(_dsn(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Tables whose rows a migration writes (part of the schema, as a fresh database has them).
_SEEDED_BY_MIGRATIONS = ("state_version",)


def empty_pg_database(url: str) -> None:
    """Delete every row of every table (the schema and its migrations stay), so the next test
    starts from an empty database, as it would from a fresh one."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT LIKE 'alembic_version%%' AND tablename <> ALL(%s)",
                (list(_SEEDED_BY_MIGRATIONS),),
            )
        ]
        if tables:
            names = ", ".join(f'"{table}"' for table in tables)
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, once per backend: a new SQLite file, then the session's
    PostgreSQL database, emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    url = request.getfixturevalue("pg_session_url")
    empty_pg_database(url)
    yield url


def create_pg_database(prefix: str = "uqm_fresh") -> str:
    """A brand-new PostgreSQL database; its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database, once per backend, for tests about the schema itself (migrations):
    no table of any earlier test exists in it. Slower than ``db_url`` on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (for tests that only make sense there)."""
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)
