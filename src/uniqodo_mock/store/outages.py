"""Which database errors mean "the database is away or busy" rather than "the request is
wrong": the callers answer those 503 with ``Retry-After`` and keep serving."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from uniqodo_mock.store.commit_guard import Abandoned

__all__ = ["DatabaseError", "is_outage"]

# Every error the store raises for a database problem (the base of SQLAlchemy's errors).
DatabaseError = SQLAlchemyError


def is_outage(error: BaseException) -> bool:
    """Connection refused or lost, a lock or pool wait that timed out, a transaction abandoned
    by the request it served."""
    if isinstance(error, OperationalError | PoolTimeoutError | Abandoned):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
