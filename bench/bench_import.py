"""Excel import of 10,000 households, on SQLite and PostgreSQL side by side.

For each backend: a fresh database (SQLite ``/tmp/import_bench.db``, PostgreSQL
database ``import_bench``), ``sanfang init`` + ``sanfang demo --compounds 1000 --items
2000``, then ``--buildings`` buildings per demo compound through the org import, and a
households workbook of ``--households`` rows over those buildings (the template's
columns). Timed:

  (a) engine: parse the workbook (``pages.imports.read_rows``) + ``imports.run`` into an
      empty household table — no HTTP;
  (b) page: the same file uploaded to ``/import/households`` with the Flask test client
      (after the households of (a) are deleted);
  (c) engine: the same file again with ``--changed`` of the owners changed (updates and
      owner-change reminders to commissioners);
  (d) page: the original file again (the changed owners change back: reminders again).

Prints numbers and the load average, asserts nothing. Drops its databases unless
``--keep``.

Run: python bench/bench_import.py [--households 10000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import drop_database, fresh_database, load, sanfang

SQLITE_PATH = "/tmp/import_bench.db"
PG_NAME = "import_bench"


def workbook(headers: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["说明"])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def households(buildings: list[str], count: int, rng: random.Random) -> list[list[Any]]:
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    rows = []
    for i in range(count):
        building = buildings[i % len(buildings)]
        room = f"{i // len(buildings) // 4 + 1}-{i // len(buildings) % 4 + 1:02d}01"
        rows.append(
            [
                building,
                room,
                rng.choice(surnames) + rng.choice("伟芳娜敏静丽强磊军洋"),
                f"138{rng.randrange(10**8):08d}",
                round(rng.uniform(40, 160), 1),
            ]
        )
    return rows


def timed(label: str, out: dict[str, Any], fn: Any) -> Any:
    start = time.perf_counter()
    result = fn()
    out[label] = time.perf_counter() - start
    print(f"   {label}: {out[label]:.2f} s (load {load()})", flush=True)
    return result


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.core import clock
    from engine.org.actors import actor_for
    from engine.records import imports
    from engine.store.db import backend, database
    from engine.store.models import Event, Notification, OrgNode, User
    from engine.store.tables import Household

    out: dict[str, Any] = {"load before": load()}
    url = fresh_database(backend, args)
    print(f"== {backend}: {url}", flush=True)
    sanfang(url, "init")
    print(
        "  ",
        sanfang(
            url,
            "demo",
            "--compounds",
            str(args.compounds),
            "--items",
            str(args.items),
            "--seed",
            "1",
        ),
        flush=True,
    )
    from pages import create_app
    from pages.imports import read_rows

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-import",
            "WTF_CSRF_ENABLED": False,
            "CREATE_TABLES": False,
        }
    )
    database.connect(reuse_if_open=True)
    try:
        backend().analyze()
        admin = User.get(User.username == "admin")
        actor = actor_for(admin)
        compounds = list(
            OrgNode.select(OrgNode.key).where(OrgNode.kind == "compound").order_by(OrgNode.id)
        )
        org_rows = [
            (
                n + 3,
                {"key": f"{c.key}-bb{b}", "name": f"{b}幢", "kind": "building", "parent": c.key},
            )
            for n, (c, b) in enumerate(
                (c, b) for c in compounds for b in range(1, args.buildings + 1)
            )
        ]
        org = timed(
            f"org import, {len(org_rows):,} buildings",
            out,
            lambda: imports.run(actor, "org", org_rows, now=clock.now()),
        )
        assert org.imported, org.rejected[:5]
        buildings = [r["key"] for _n, r in org_rows]
        rng = random.Random(1)
        headers = [c for c, _x in imports.columns("households")]
        rows = households(buildings, args.households, rng)
        original = workbook(headers, rows)
        changed_rows = [list(r) for r in rows]
        for i in rng.sample(range(len(rows)), int(len(rows) * args.changed)):
            changed_rows[i][2] = changed_rows[i][2] + "新"
        changed = workbook(headers, changed_rows)
        print(f"   workbook {len(original) / 1e6:.2f} MB, {len(rows):,} rows", flush=True)

        def engine_call(data: bytes) -> Any:
            parsed, problems = read_rows(data, headers)
            assert not problems, problems[:5]
            return imports.run(actor, "households", parsed, now=clock.now())

        with app.test_request_context():  # parse errors would be translated; none expected
            first = timed("(a) engine, first import", out, lambda: engine_call(original))
        out["(a) created"] = first.created
        Household.delete().execute()
        client = app.test_client()
        with client.session_transaction() as session:
            session["user_id"] = admin.id

        def page(data: bytes) -> Any:
            response = client.post(
                "/import/households",
                data={"file": (io.BytesIO(data), "h.xlsx")},
                content_type="multipart/form-data",
            )
            assert response.status_code == 200, response.status_code
            return response

        database.close()  # the app opens and closes its own connection per request
        timed("(b) page, first import", out, lambda: page(original))
        database.connect(reuse_if_open=True)
        out["(b) households"] = Household.select().count()
        notes = Notification.select().count()
        with app.test_request_context():
            second = timed("(c) engine, 5% owners changed", out, lambda: engine_call(changed))
        out["(c) updated / reminders"] = f"{second.updated:,} / {second.reminders:,}"
        database.close()
        timed("(d) page, changed back", out, lambda: page(original))
        database.connect(reuse_if_open=True)
        out["(d) reminders"] = Notification.select().count() - notes - second.reminders
        out["owner-change events"] = (
            Event.select().where(Event.action == "household.owner_change").count()
        )
    finally:
        database.close()
        if not args.keep:
            drop_database(backend, args)
    out["load after"] = load()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--compounds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--buildings", type=int, default=2, help="buildings per compound")
    parser.add_argument(
        "--changed", type=float, default=0.05, help="share of owners changed on the second import"
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    args.sqlite, args.pg_name = SQLITE_PATH, PG_NAME  # where bench_scale.fresh_database makes them
    results = {b: run_backend(b, args) for b in args.backends.split(",")}
    print(
        f"\n{args.households:,} households, {args.compounds:,} compounds × {args.buildings} buildings; "
        f"{os.cpu_count()} CPUs\n"
    )
    names = list(results)
    print("| | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for key in results[names[0]]:
        cells = [results[n].get(key, "") for n in names]
        print(
            f"| {key} | "
            + " | ".join(f"{c:.2f}" if isinstance(c, float) else str(c) for c in cells)
            + " |"
        )


if __name__ == "__main__":
    main()
