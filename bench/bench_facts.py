"""Facts, indices and the district dashboard at scale, on SQLite and PostgreSQL.

For each database — given with ``--url`` (an existing, demo-filled database: only the
facts cache and index snapshots are written) or built fresh with ``--items N
--compounds N`` (SQLite /tmp/facts_bench.db, PostgreSQL database ``facts_bench``) —

  (a) a full facts refresh (``facts.refresh``), timed ``--refreshes`` times;
  (b) a full index recompute from the cached facts: ``indices.scores`` of every index
      (every compound, rolled up to community, street and district), and
      ``indices.snapshot_all`` (the same, stored);
  (c) the district dashboard built in-process (``dashboard.build``), p50/p95;
  (d) over HTTP: gunicorn -w 2 on loopback, wrk -t2 -c8 and -t1 -c1 against
      /review/n/<district> as the district supervisor → p50/p95.

``--code DIR`` measures another checkout's code (e.g. main, for before/after) on the
same databases. Prints a markdown table; asserts nothing.

Run: python bench/bench_facts.py --url sqlite:////tmp/sf1m.db --url postgresql://postgres@127.0.0.1:5432/sf1m
     python bench/bench_facts.py --items 100000 --compounds 1000 [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from bench.bench_scale import (
    fresh_database,
    load,
    login,
    sanfang,
    serving,
    time_runs,
    wrk,
    wrk_script,
)

SQLITE_PATH = "/tmp/facts_bench.db"
PG_NAME = "facts_bench"
REVIEWER = "ducha"  # the district supervisor (督查) of the seed pack's demo


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def in_process(out: dict[str, Any], refreshes: int, runs: int) -> None:
    from engine.metrics import dashboard, facts, indices
    from engine.org.actors import actor_for
    from engine.store.models import Assignment, IndexSnapshot, Item, OrgNode, User

    out["items"] = Item.select().count()
    out["summons"] = Assignment.select().count()
    out["compounds"] = OrgNode.select().where(OrgNode.kind == "compound").count()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    took: list[float] = []
    out["nodes"] = facts.NodeFacts.select().count() if refreshes == 0 else 0
    for _ in range(refreshes):
        seconds, out["nodes"] = timed(lambda: facts.refresh(now=now))
        took.append(seconds)
        print(f"   refresh {seconds:.2f} s ({load()})", flush=True)
    out["refresh s"] = took
    versions = indices.index_versions()
    out["indices"] = len(versions)

    def recompute() -> None:
        getattr(indices, "_SCORES", {}).clear()  # scores kept per process: time the recompute
        for version in versions:
            indices.scores(version)

    out["scores s"] = min(timed(recompute)[0] for _ in range(3))
    before = IndexSnapshot.select().count()
    out["snapshot s"], taken = timed(lambda: indices.snapshot_all(None, now=now))
    out["snapshot rows"] = taken
    # Leave the database as it was but for the facts: the snapshots were only timed.
    IndexSnapshot.delete().where(IndexSnapshot.taken_at == now).execute()
    assert IndexSnapshot.select().count() == before
    district = OrgNode.get(OrgNode.kind == "district")
    reviewer = actor_for(User.get(User.username == REVIEWER))
    out["build ms"] = time_runs(lambda: dashboard.build(reviewer, district, now=now), runs)
    out["district"] = district.key


def over_http(code: Path, url: str, out: dict[str, Any], seconds: int) -> None:
    with serving(url, cwd=code) as base, wrk_script() as script:
        cookie = login(base, REVIEWER)
        page = f"/review/n/{out['district']}"
        wrk(base, cookie, 2, script, path=page)  # warm both workers
        out["http"] = wrk(base, cookie, seconds, script, path=page)
        out["http1"] = wrk(base, cookie, seconds, script, connections=1, path=page)


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.store.db import database, open_database

    out: dict[str, Any] = {"url": url, "load before": load()}
    print(f"== {url} ({args.code})", flush=True)
    open_database(url)
    database.connect(reuse_if_open=True)
    try:
        in_process(out, args.refreshes, args.runs)
    finally:
        database.close()
    print(f"   in-process done ({load()})", flush=True)
    over_http(args.code, url, out, args.seconds)
    out["load after"] = load()
    return out


def table(results: list[dict[str, Any]]) -> str:
    def http(d: dict[str, float]) -> str:
        bad = f", {int(d['non2xx'])} non-2xx" if d["non2xx"] else ""
        bad += f", {int(d['errors'])} errors/timeouts" if d["errors"] else ""
        return f"{d['p50']:.1f} / **{d['p95']:.1f}** ({d['rps']:.0f} req/s{bad})"

    rows: list[tuple[str, Any]] = [
        (
            "compounds / items / summons",
            lambda r: f"{r['compounds']:,} / {r['items']:,} / {r['summons']:,}",
        ),
        (
            "full facts refresh, s (each run)",
            lambda r: (
                (" · ".join(f"**{s:.1f}**" for s in r["refresh s"]) or "not run")
                + f" ({r['nodes']:,} nodes)"
            ),
        ),
        (
            "index scores from cached facts, all indices, s",
            lambda r: f"**{r['scores s']:.2f}** ({r['indices']} indices)",
        ),
        (
            "index snapshot_all (scores + store), s",
            lambda r: f"{r['snapshot s']:.2f} ({r['snapshot rows']:,} rows)",
        ),
        (
            "district dashboard, in-process build: p50 / p95 ms",
            lambda r: f"{r['build ms'][0]:.1f} / {r['build ms'][1]:.1f}",
        ),
        ("GET district dashboard, wrk -t2 -c8: p50 / **p95** ms", lambda r: http(r["http"])),
        ("same, one connection (-t1 -c1)", lambda r: http(r["http1"])),
        ("load average before / after", lambda r: f"{r['load before']} / {r['load after']}"),
    ]
    names = [("SQLite" if r["url"].startswith("sqlite") else "PostgreSQL") for r in results]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(results)]
    for title, cell in rows:
        lines.append(f"| {title} | " + " | ".join(cell(r) for r in results) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", action="append", default=[], help="an existing demo database (repeatable)"
    )
    parser.add_argument(
        "--items", type=int, default=None, help="build fresh databases with this many items"
    )
    parser.add_argument("--compounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql", help="with --items")
    parser.add_argument(
        "--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument(
        "--code", type=Path, default=HERE, help="the checkout whose code is measured"
    )
    parser.add_argument("--refreshes", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    args.sqlite, args.pg_name = SQLITE_PATH, PG_NAME  # with --items: bench_scale.fresh_database's
    args.code = args.code.resolve()
    sys.path.insert(0, str(args.code))  # before HERE: the measured code's engine
    urls = list(args.url)
    started = time.perf_counter()
    if args.items:
        for backend in args.backends.split(","):
            url = fresh_database(backend, args)
            sanfang(url, "init", cwd=args.code)
            took, said = timed(
                lambda url=url: sanfang(
                    url,
                    "demo",
                    "--compounds",
                    str(args.compounds),
                    "--items",
                    str(args.items),
                    "--seed",
                    str(args.seed),
                    cwd=args.code,
                )
            )
            print(f"{said}\n   demo {took:.0f} s ({load()})", flush=True)
            if backend == "postgresql":
                subprocess.run(["psql", url, "-qc", "ANALYZE"], check=False)
            urls.append(url)
    if not urls:
        parser.error("give --url or --items")
    results = [run(url, args) for url in urls]
    print(
        f"\ncode {args.code}; {dt.date.today()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{time.perf_counter() - started:.0f} s in all\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
