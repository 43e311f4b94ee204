"""Has anyone committed to this SQLite database? Answered from shared memory, without a lock.

``PRAGMA data_version`` answers it too, but as a statement: on a WAL database every statement
outside a transaction takes and releases a read lock on the wal-index with two ``fcntl`` system
calls, which cost more than the rest of a cached answer in a virtual machine. The wal-index
(the ``-shm`` file, mapped by every connection) begins with a header that SQLite rewrites on
every commit (its change counter, last frame, salts and checksum; see "The WAL-Index Format",
https://www.sqlite.org/walformat.html). Writers write the header's second copy, then the first;
readers read the first, then the second, and trust them only when they are equal. This module
maps the header read-only and does the same: equal copies are a token that changes with every
commit; unequal copies (a commit in progress) give None, and the caller asks the pragma.

The mapping must only be read while a connection of this process holds the database open:
SQLite truncates the ``-shm`` file only when it is the first to open the database, which cannot
happen while another connection has it open. ``ThreadReadConnections`` keeps one header per
read connection and closes it before the connection.
"""

from __future__ import annotations

import contextlib
import mmap
import os

__all__ = ["WalIndexHeader"]

_HEADER = 48  # one copy of WalIndexHdr
_VERSION = 3007000  # WalIndexHdr.iVersion of every SQLite 3.7.0 and later


class WalIndexHeader:
    """A read-only view of the two copies of a WAL database's wal-index header."""

    def __init__(self, view: mmap.mmap) -> None:
        self._view = view

    @classmethod
    def open(cls, database_path: str) -> WalIndexHeader | None:
        """The header of ``database_path``'s ``-shm`` file, or None when there is none to read
        (not in WAL mode, not initialised yet, another platform's layout)."""
        try:
            fd = os.open(database_path + "-shm", os.O_RDONLY)
        except OSError:
            return None
        try:
            if os.fstat(fd).st_size < 2 * _HEADER:
                return None
            view = mmap.mmap(fd, 2 * _HEADER, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        finally:
            os.close(fd)
        header = cls(view)
        first = header.token()
        if first is None or int.from_bytes(first[:4], "little") != _VERSION:
            # SQLite writes the header in the machine's byte order: little-endian here, or an
            # uninitialised or unknown layout. Not ours to read.
            header.close()
            return None
        return header

    def token(self) -> bytes | None:
        """The header's bytes, when both copies agree; None while a commit is writing them
        (or after ``close``)."""
        try:
            first = self._view[:_HEADER]
            second = self._view[_HEADER : 2 * _HEADER]
        except ValueError:  # closed
            return None
        return first if first == second else None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed
            self._view.close()
