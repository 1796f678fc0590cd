"""Copy a bench database from SQLite into PostgreSQL, for the page benchmarks on the
production backend at a million items.

Run: .venv/bin/python bench/copy_to_postgres.py /tmp/hist.db
     postgresql://postgres@127.0.0.1:5432/bench_hist

(``make_big_db.py`` writes SQLite's SQL; this moves its result.) Drops and makes the
target database, makes the schema with ``create_tables`` (tables, indexes, triggers),
then copies every table but the derived ones in foreign-key order with ``COPY`` while the
session's triggers and foreign-key checks are off (``session_replication_role =
replica``: the stored counts' triggers would fire per row), sets each id sequence past
its largest id, rebuilds the stored counts from the copied rows (``tallies.rebuild()``,
``medians.rebuild()``, ``durations.rebuild()``) and takes the planner's statistics
(``ANALYZE``). Needs a superuser (the replica role). Prints what it did and how long.
"""

from __future__ import annotations

import argparse
import csv
import io
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 50_000  # rows per COPY


def _fresh_database(url: str) -> None:
    """Drop and make the database ``url`` names, from the server's ``postgres`` one."""
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _cell(value: Any, kind: str) -> Any:
    """A SQLite value as PostgreSQL's CSV reads it into a column of type ``kind``."""
    if value is None:
        return r"\N"
    if kind == "boolean":
        return "t" if value else "f"
    if kind == "bytea":
        return "\\x" + bytes(value).hex()
    return value


def _copy_table(src: sqlite3.Connection, cur: Any, table: str) -> tuple[int, bool]:
    """Copy ``table``'s rows; how many, and whether it has an ``id`` (a sequence to set)."""
    names = [row[1] for row in src.execute(f'PRAGMA table_info("{table}")')]
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
        (table,),
    )
    kinds = dict(cur.fetchall())
    names = [n for n in names if n in kinds]  # a column the new schema dropped stays behind
    listed = ", ".join(f'"{n}"' for n in names)
    statement = f"COPY \"{table}\" ({listed}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    rows = src.execute(f'SELECT {listed} FROM "{table}"')
    copied = 0
    while chunk := rows.fetchmany(CHUNK):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in chunk:
            writer.writerow([_cell(v, kinds[n]) for n, v in zip(names, row, strict=True)])
        buffer.seek(0)
        cur.copy_expert(statement, buffer)
        copied += len(chunk)
    return copied, "id" in kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sqlite", help="the bench database file (make_big_db.py's --out)")
    parser.add_argument("url", help="the PostgreSQL database to make (dropped first)")
    args = parser.parse_args()
    start = time.monotonic()

    def say(what: str) -> None:
        print(f"[{time.monotonic() - start:7.1f} s] {what}", flush=True)

    from peewee import sort_models

    from engine.store.db import database, open_database
    from engine.store.models import ALL_MODELS, DERIVED_MODELS, create_tables
    from engine.supervision import durations, medians, tallies

    _fresh_database(args.url)
    open_database(args.url, pool=False)
    database.connect()
    create_tables()
    say("schema made")
    src = sqlite3.connect(args.sqlite)
    derived = set(DERIVED_MODELS)
    connection = database.connection()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        for model in sort_models(ALL_MODELS):
            if model in derived:
                continue
            table = model._meta.table_name
            copied, has_id = _copy_table(src, cur, table)
            if copied and has_id:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
                    f' (SELECT MAX(id) FROM "{table}"))'
                )
            if copied:
                say(f"{table}: {copied} rows")
        cur.execute("SET session_replication_role = origin")
    connection.commit()
    src.close()
    say("rebuilding the stored counts")
    tallies.rebuild()
    medians.rebuild()
    durations.rebuild()
    say("ANALYZE")
    database.execute_sql("ANALYZE")
    database.close()
    say("done")


if __name__ == "__main__":
    main()
