"""How a connection to SQLite is set up: the pragmas every connection of the pool gets."""

from __future__ import annotations

import pytest

from engine.store.db import SQLITE_MMAP_BYTES, backend, database


@pytest.fixture
def sqlite_only(app):
    if backend().name != "sqlite":
        pytest.skip("SQLite's pragmas")


def _pragma(name: str) -> object:
    return database.execute_sql(f"PRAGMA {name}").fetchone()[0]


def test_sqlite_reads_the_file_through_a_memory_map(sqlite_only, client, auth):
    """Pages come from the operating system's cache through a memory map (the library
    caps its size: 2 GiB in Python's build), on a new connection and a pooled one."""
    assert 0 < _pragma("mmap_size") <= SQLITE_MMAP_BYTES
    assert _pragma("journal_mode") == "wal" and _pragma("foreign_keys") == 1
    auth.login("xifang")  # a request takes a connection from the pool and hands it back
    assert client.get("/work/").status_code == 200
    database.close()
    database.connect()
    assert 0 < _pragma("mmap_size") <= SQLITE_MMAP_BYTES
