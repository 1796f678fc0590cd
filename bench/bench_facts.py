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
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from bench.bench_scale import WRK, WRK_LUA, free_port, load, login, pct

SQLITE_PATH = "/tmp/facts_bench.db"
PG_NAME = "facts_bench"
SECRET = "bench-facts-secret"
REVIEWER = "ducha"  # the district supervisor (督查) of the seed pack's demo


def sanfang(code: Path, url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "SANFANG_SECRET_KEY": SECRET, "SANFANG_BACKGROUND_SWEEP": "0"}
    done = subprocess.run([sys.executable, "-c", "from pages.cli import main; main()", *args], cwd=code, env=env,
                          capture_output=True, text=True, timeout=7200, check=False)
    if done.returncode:
        raise SystemExit(f"sanfang {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def fresh_database(backend: str, pg_base: str) -> str:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    import psycopg2

    admin = psycopg2.connect(f"{pg_base}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
        cur.execute(f"CREATE DATABASE {PG_NAME}")
    admin.close()
    return f"{pg_base}/{PG_NAME}"


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def in_process(out: dict[str, Any], refreshes: int, runs: int) -> None:
    from engine import dashboard, facts, indices
    from engine.actors import actor_for
    from engine.models import Assignment, IndexSnapshot, Item, OrgNode, User

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
    build = lambda: dashboard.build(reviewer, district, now=now)
    build()
    samples = []
    until = time.perf_counter() + 20
    while len(samples) < runs and (len(samples) < 10 or time.perf_counter() < until):
        samples.append(timed(build)[0] * 1000)
    out["build ms"] = (pct(samples, 50), pct(samples, 95))
    out["district"] = district.key


def wrk(url: str, cookie: str, seconds: int, script: str, connections: int) -> dict[str, float]:
    done = subprocess.run(
        [WRK, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
         "-H", f"Cookie: {cookie}", url], capture_output=True, text=True, timeout=seconds + 60, check=False)
    found = re.search(r"BENCH p50=(\d+) p95=(\d+) p99=(\d+) requests=(\d+) non2xx=(\d+) errors=(\d+)", done.stdout)
    if not found:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    p50, p95, _, requests, non2xx, errors = (int(x) for x in found.groups())
    return {"p50": p50 / 1000, "p95": p95 / 1000, "rps": requests / seconds, "non2xx": non2xx, "errors": errors}


def over_http(code: Path, url: str, out: dict[str, Any], seconds: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "SANFANG_SECRET_KEY": SECRET, "SANFANG_BACKGROUND_SWEEP": "0"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--graceful-timeout",
         "5", "--log-level", "warning", "pages:create_app()"], cwd=code, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with {server.returncode}")
            try:
                with urllib.request.urlopen(base + "/login", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer within 60 s") from None
                time.sleep(0.3)
        cookie = login(base, REVIEWER)
        page = f"{base}/review/n/{out['district']}"
        with tempfile.TemporaryDirectory() as tmp:
            script = str(Path(tmp) / "p95.lua")
            Path(script).write_text(WRK_LUA)
            wrk(page, cookie, 2, script, 8)  # warm both workers
            out["http"] = wrk(page, cookie, seconds, script, 8)
            out["http1"] = wrk(page, cookie, seconds, script, 1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=5)


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.db import database, open_database

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
        ("compounds / items / summons", lambda r: f"{r['compounds']:,} / {r['items']:,} / {r['summons']:,}"),
        ("full facts refresh, s (each run)", lambda r: (" · ".join(f"**{s:.1f}**" for s in r["refresh s"])
                                                         or "not run") + f" ({r['nodes']:,} nodes)"),
        ("index scores from cached facts, all indices, s", lambda r: f"**{r['scores s']:.2f}** ({r['indices']} indices)"),
        ("index snapshot_all (scores + store), s", lambda r: f"{r['snapshot s']:.2f} ({r['snapshot rows']:,} rows)"),
        ("district dashboard, in-process build: p50 / p95 ms", lambda r: f"{r['build ms'][0]:.1f} / {r['build ms'][1]:.1f}"),
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", default=[], help="an existing demo database (repeatable)")
    parser.add_argument("--items", type=int, default=None, help="build fresh databases with this many items")
    parser.add_argument("--compounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql", help="with --items")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--code", type=Path, default=HERE, help="the checkout whose code is measured")
    parser.add_argument("--refreshes", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    args.code = args.code.resolve()
    sys.path.insert(0, str(args.code))  # before HERE: the measured code's engine
    urls = list(args.url)
    started = time.perf_counter()
    if args.items:
        for backend in args.backends.split(","):
            url = fresh_database(backend, args.pg)
            sanfang(args.code, url, "init")
            took, said = timed(lambda url=url: sanfang(args.code, url, "demo", "--compounds", str(args.compounds),
                                                       "--items", str(args.items), "--seed", str(args.seed)))
            print(f"{said}\n   demo {took:.0f} s ({load()})", flush=True)
            if backend == "postgresql":
                subprocess.run(["psql", url, "-qc", "ANALYZE"], check=False)
            urls.append(url)
    if not urls:
        parser.error("give --url or --items")
    results = [run(url, args) for url in urls]
    print(f"\ncode {args.code}; {dt.date.today()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{time.perf_counter() - started:.0f} s in all\n")
    print(table(results))


if __name__ == "__main__":
    main()
