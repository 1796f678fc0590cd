"""Build a large SQLite database for the page benchmarks, reproducibly and in minutes.

Run: .venv/bin/python bench/make_big_db.py --items 1000000 --out /tmp/big.db

``sanfang init`` and ``sanfang demo --compounds 1000 --items 4000 --seed 1`` (``--base``,
``--compounds``; the generator is slow, about 65 items/s on the shared machine) make a
district with every role's users and stories; then its items, their summonses (and, with
``--events``, their events and escalations) are copied in SQL under new ids until there
are ``--items`` items. Copy *k* keeps each item's node, raiser, type and state, and moves
every date of the item and its rows by the same number of hours (between −96 and +96,
fixed by *k*), so deadlines and resolution times spread as they would in a real district
instead of piling on the base's dates. Foreign keys stay consistent (a copied summons
points at its copied item, units and nodes are the base's own, so org scoping is the
same). Indexes are dropped during the copy and made again after, then the stored counts
(``engine.supervision.tallies``) are rebuilt, the facts cache refreshed and the planner's
statistics taken (``ANALYZE``). The same arguments give the same database.

Two shapes. By default (a stress test) every copy is of the whole base, within four days
of it: 193 copies of the base's present at once, so a quarter of the million items are
open (264,812), 7,753 open emergencies, a department on 17,650 open items. With ``--years
Y`` (a district's history) the base stays the present and each copy holds only the base's
closed items, moved back by its share of ``Y`` years: copy *k* of *n* by *k* × Y × 8,760 /
*n* hours (and the same jitter). Then the million items are the years behind today's
open items, as a deployment reaches a million items: the open ones, the deadlines of the
day and the live board are the base's; what counts history (a quarter's evaluation, the
medians, the counts of closed items) holds a quarter's share of the million. Copies take
ids after the base's, so a list newest by id meets the old copies first.

SQLite only (the SQL below is SQLite's): it is a bench tool, not a feature.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLES = ("item", "assignment", "escalation", "event")


def sanfang(url: str, *args: str) -> None:
    exe = Path(sys.executable).with_name("sanfang")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(exe), *args], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in con.execute(f'PRAGMA table_info("{table}")')]


def date_columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in con.execute(f'PRAGMA table_info("{table}")') if row[2] == "DATETIME"]


def shift_hours(k: int) -> int:
    """The hours copy ``k`` moves its dates by: fixed, spread over −96..+96."""
    return (k * 7919) % 193 - 96


def copy_expression(
    con: sqlite3.Connection, table: str, hours: int, offsets: dict[str, str]
) -> str:
    """The SELECT list copying ``table``'s rows with their dates moved by ``hours``."""
    dates = set(date_columns(con, table))
    parts = []
    for name in columns(con, table):
        if name in offsets:
            parts.append(offsets[name])
        elif name in dates:
            parts.append(f"datetime(\"{name}\", '{hours:+d} hours')")
        else:
            parts.append(f'"{name}"')
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--out", default="/tmp/sanfang_big.db")
    parser.add_argument("--compounds", type=int, default=1000)
    parser.add_argument("--base", type=int, default=4000, help="items the demo generator makes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", action="store_true", help="copy events and escalations too")
    parser.add_argument(
        "--years",
        type=float,
        help="a district's history: copies of the closed items only, spread over these years",
    )
    parser.add_argument(
        "--base-db", help="start from a copy of this database (made by an earlier run's demo)"
    )
    args = parser.parse_args()
    out = Path(args.out)
    url = f"sqlite:///{out}"
    started = time.monotonic()

    def say(what: str) -> None:
        print(f"[{time.monotonic() - started:7.1f} s] {what}", file=sys.stderr, flush=True)

    for suffix in ("", "-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    if args.base_db:
        say(f"copying {args.base_db}")
        shutil.copy(args.base_db, out)
    else:
        say(f"sanfang init + demo --compounds {args.compounds} --items {args.base}")
        sanfang(url, "init")
        sanfang(url, "demo", "--compounds", str(args.compounds), "--items", str(args.base),
                "--seed", str(args.seed))  # fmt: skip
    con = sqlite3.connect(out, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    con.execute("PRAGMA temp_store=MEMORY")
    base_items = con.execute("SELECT COUNT(*), MAX(id) FROM item").fetchone()
    count, span = int(base_items[0]), int(base_items[1])
    # a copy: the whole base (stress), or its closed items moved back (history)
    copied = "1 = 1"
    if args.years:
        copied = "closed = 1"
    per_copy = int(con.execute(f"SELECT COUNT(*) FROM item WHERE {copied}").fetchone()[0])
    copies = -(-(args.items - count) // per_copy)  # beyond the base
    step = args.years * 8760 / copies if args.years else 0.0
    say(
        f"base: {count} items (ids up to {span}); {copies} copies of {per_copy} to reach {args.items}"
    )
    tables = TABLES if args.events else ("item", "assignment")
    spans = {
        t: int(con.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{t}"').fetchone()[0]) for t in tables
    }
    saved = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
        f" AND tbl_name IN ({', '.join(repr(t) for t in TABLES)})"
    ).fetchall()
    for name, _sql in saved:
        kind = "TRIGGER" if _sql.upper().startswith("CREATE TRIGGER") else "INDEX"
        con.execute(f'DROP {kind} "{name}"')
    say(f"dropped {len(saved)} indexes and triggers")
    limit = args.items  # the last copy stops at exactly --items
    for k in range(1, copies + 1):
        con.execute("BEGIN")
        room = limit - count - per_copy * (k - 1)
        hours = shift_hours(k) - round(k * step)
        offsets = {"id": f'"id" + {k * spans["item"]}'}
        con.execute(
            f"INSERT INTO item SELECT {copy_expression(con, 'item', hours, offsets)} FROM item"
            f" WHERE id <= {spans['item']} AND {copied} ORDER BY id LIMIT {min(room, per_copy)}"
        )
        item_off = k * spans["item"]
        last = item_off + spans["item"]
        for table in tables[1:]:
            offsets = {"id": f'"id" + {k * spans[table]}', "item_id": f'"item_id" + {item_off}'}
            if "assignment_id" in columns(con, table):
                offsets["assignment_id"] = f'"assignment_id" + {k * spans["assignment"]}'
            con.execute(
                f'INSERT INTO "{table}" SELECT {copy_expression(con, table, hours, offsets)}'
                f' FROM "{table}" WHERE id <= {spans[table]} AND item_id IS NOT NULL'
                f' AND "item_id" + {item_off} IN (SELECT id FROM item WHERE id > {item_off}'
                f" AND id <= {last})"
            )
        con.execute("COMMIT")
        if k % 25 == 0 or k == copies:
            say(f"copy {k}/{copies}")
    say("making the indexes and triggers again")
    for _name, sql in saved:
        con.execute(sql)
    con.close()
    from engine.store.db import database, open_database

    open_database(url)
    database.connect(reuse_if_open=True)
    from engine.store.models import (
        NodeTally,
        ResolutionTally,
        SummonsDurationTally,
        create_tables,
    )
    from engine.supervision import durations, medians, tallies

    say("rebuilding the stored counts")
    # first: a base made before a derived table gets it made (and counted) here, and the
    # rebuilds below count every table that exists
    create_tables()
    if NodeTally.table_exists():
        tallies.rebuild()
    if ResolutionTally.table_exists():
        medians.rebuild()
    if SummonsDurationTally.table_exists():
        durations.rebuild()
    database.close()
    say("sanfang facts refresh")
    sanfang(url, "facts", "refresh")
    con = sqlite3.connect(out)
    say("ANALYZE")
    con.execute("ANALYZE")
    numbers = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    con.close()
    say(f"done: {numbers}; {out.stat().st_size / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
