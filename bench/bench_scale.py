"""Queues, sweep and evaluation at scale, on SQLite and PostgreSQL side by side.

For each backend: a fresh database (SQLite file under /tmp, PostgreSQL database
``bench_sf``), ``sanfang init`` + ``sanfang demo`` at the requested scale (timed), then

  (a) in-process: a commissioner's inbox and a department's summons list, first page
      by deadline (``engine.workflow.queues``), p50/p95 over ``--runs`` runs, with the plans;
  (b) over HTTP: gunicorn -w 2 serving the app on loopback, wrk -t2 -c8 against
      /work/ as the commissioner and as the department user → p50/p95;
  (c) department evaluation (``evaluation.evaluate`` + the pack's score rule) for the
      current quarter over all departments, as an admin, timed;
  (d) ``--overdue`` open summons moved past their deadlines (every other deadline
      moved a year ahead; on PostgreSQL the two tables are then vacuumed, as
      autovacuum would after such a mass update), one ``escalation.sweep`` timed.

``--reuse`` measures kept databases again (``--keep``); the sweep needs a database
no sweep has run on (else its steps are done already).

Prints a markdown table (SQLite | PostgreSQL) and the query plans; ``--markdown
PATH`` also writes them. Prints numbers, asserts nothing. Stops its servers and drops
its databases (``--keep`` keeps them).

Run: python bench/bench_scale.py [--items 100000] [--compounds 1000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WRK = "/usr/bin/wrk"
BIN = Path(sys.executable).parent
SQLITE_PATH = "/tmp/sanfang_bench_scale.db"
PG_NAME = "bench_sf"
SECRET = "bench-scale-secret"
DEPARTMENT_USER = "sanfangban-user"  # 三方办: the most summoned department of the seed pack
PASSWORD = "demo1234"
WRK_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%d p95=%d p99=%d requests=%d non2xx=%d errors=%d\\n",
    latency:percentile(50.0), latency:percentile(95.0), latency:percentile(99.0),
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sanfang(url: str, *args: str, timeout: float = 7200, cwd: Path = ROOT) -> str:
    """Run the CLI of the checkout at ``cwd`` on ``url``; its output."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SANFANG_SECRET_KEY": SECRET,
        "SANFANG_BACKGROUND_SWEEP": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", "from pages.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"sanfang {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def database_url(backend: str, args: argparse.Namespace) -> str:
    return f"sqlite:///{args.sqlite}" if backend == "sqlite" else f"{args.pg}/{args.pg_name}"


def existing_items(backend: str, args: argparse.Namespace) -> int:
    """Items in the database ``--reuse`` would take (0 when there is none)."""
    if backend == "sqlite":
        if not Path(args.sqlite).exists():
            return 0
        import sqlite3

        with sqlite3.connect(args.sqlite) as conn:
            try:
                return int(conn.execute("SELECT COUNT(*) FROM item").fetchone()[0])
            except sqlite3.Error:
                return 0
    import psycopg2

    try:
        conn = psycopg2.connect(database_url(backend, args))
    except psycopg2.OperationalError:
        return 0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM item")
            return int(cur.fetchone()[0])
    except psycopg2.Error:
        return 0
    finally:
        conn.close()


def fresh_database(backend: str, args: argparse.Namespace) -> str:
    drop_database(backend, args)
    if backend == "postgresql":
        import psycopg2

        admin = psycopg2.connect(f"{args.pg}/postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {args.pg_name}")
        admin.close()
    return database_url(backend, args)


def drop_database(backend: str, args: argparse.Namespace) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(args.sqlite + suffix).unlink(missing_ok=True)
        return
    import psycopg2

    admin = psycopg2.connect(f"{args.pg}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            f"DROP DATABASE IF EXISTS {args.pg_name} WITH (FORCE)"
        )  # an app's pooled connections may linger
    admin.close()


# -- in-process -------------------------------------------------------------------------


def explain(query: Any) -> str:
    from engine.store.db import backend

    return backend().explain(*query.sql())


def time_runs(fn: Any, runs: int, budget: float = 20.0) -> tuple[float, float]:
    """p50/p95 in ms over ``runs`` runs, or fewer (at least 10) once ``budget`` seconds pass."""
    fn()  # warm
    took: list[float] = []
    until = time.perf_counter() + budget
    while len(took) < runs and (len(took) < 10 or time.perf_counter() < until):
        start = time.perf_counter()
        fn()
        took.append((time.perf_counter() - start) * 1000)
    return pct(took, 50), pct(took, 95)


def pick_commissioner() -> tuple[str, int]:
    """The commissioner of the compound with the most open items, and that count."""
    from peewee import fn

    from engine.store.models import Grant, Item, User

    node, count = (
        Item.select(Item.node, fn.COUNT(Item.id))
        .where(~Item.closed)
        .group_by(Item.node)
        .order_by(fn.COUNT(Item.id).desc(), Item.node)
        .limit(1)
        .tuples()
    ).get()
    user = (
        User.select(User.username)
        .join(Grant, on=(Grant.user == User.id))
        .where((Grant.role == "commissioner") & (Grant.node == node))
        .order_by(User.id)
        .get()
    )
    return user.username, int(count)


def in_process(out: dict[str, Any], runs: int) -> None:
    from engine.org.actors import actor_for
    from engine.org.scope import visible_item_parts
    from engine.store.db import database
    from engine.store.models import Assignment, Event, Item, User
    from engine.workflow import queues

    out["items"] = Item.select().count()
    out["open items"] = Item.select().where(~Item.closed).count()
    out["summons"] = Assignment.select().count()
    out["open summons"] = Assignment.select().where(Assignment.open).count()
    out["events"] = Event.select().count()
    username, count = pick_commissioner()
    out["commissioner"] = f"{username} ({count} open items)"
    commissioner = actor_for(User.get(User.username == username))
    department = actor_for(User.get(User.username == DEPARTMENT_USER))
    out["department open summons"] = queues.summons_filtered(department).count()
    page = queues.PAGE_SIZE

    def dated_items(actor: Any) -> list[Any]:  # the first queries queues.inbox runs, one per part
        return [
            queues.items_filtered(actor, base=part.select(*queues.LIST_FIELDS))
            .where(Item.due_at.is_null(False))
            .order_by(Item.due_at, Item.id.desc())
            .limit(page)
            for part in visible_item_parts(actor)
        ]

    def dated_summons(actor: Any) -> Any:  # the first query queues.summons runs
        return (
            queues.summons_filtered(actor)
            .where(Assignment.next_due_at.is_null(False))
            .order_by(Assignment.next_due_at, Assignment.id)
            .limit(page)
        )

    def sql_alone(queries: list[Any]) -> tuple[float, float]:
        """The statements alone: executed and fetched on the raw cursor, no row objects."""

        def run() -> None:
            for query in queries:
                sql, params = query.sql()
                database.execute_sql(sql, params).fetchall()

        return time_runs(run, runs)

    out["plan inbox"] = "\n-- next part --\n".join(explain(q) for q in dated_items(commissioner))
    out["plan summons"] = explain(dated_summons(department))
    out["plan department inbox"] = "\n-- next part --\n".join(
        explain(q) for q in dated_items(department)
    )
    out["sql inbox"] = sql_alone(dated_items(commissioner))
    out["sql summons"] = sql_alone([dated_summons(department)])
    out["plan commissioner summons"] = explain(dated_summons(commissioner))
    out["plan summons, one ORDER BY"] = explain(queues.summons_query(department).paginate(1, page))
    out["q inbox"] = time_runs(lambda: queues.inbox(commissioner), runs)
    out["q summons"] = time_runs(lambda: queues.summons(department), runs)
    out["q department inbox"] = time_runs(lambda: queues.inbox(department), runs)
    out["q commissioner summons"] = time_runs(lambda: queues.summons(commissioner), runs)
    # The former single query (ORDER BY due IS NULL, due, id), for comparison.
    out["q summons, one ORDER BY"] = time_runs(
        lambda: list(queues.summons_query(department).paginate(1, page)), runs
    )
    out["q department inbox, one ORDER BY"] = time_runs(
        lambda: list(queues.items_query(department).paginate(1, page)), runs
    )
    out["_users"] = (username, DEPARTMENT_USER)


def make_overdue(count: int, now: dt.datetime) -> int:
    """Move every open deadline a year ahead, then ``count`` open summons (on open items of
    escalating types, spread over the table) three days into the past."""
    from engine.store.db import database
    from engine.store.models import Assignment, Item
    from engine.workflow.escalation import _escalating

    ahead, past = now + dt.timedelta(days=365), now - dt.timedelta(days=3)
    with database.atomic():
        Item.update(due_at=ahead).where(~Item.closed & Item.due_at.is_null(False)).execute()
        for column in (Assignment.next_due_at, Assignment.report_due_at, Assignment.handle_due_at):
            Assignment.update({column: ahead}).where(
                Assignment.open & column.is_null(False)
            ).execute()
    ids = [
        a
        for (a,) in Assignment.select(Assignment.id)
        .join(Item)
        .where(Assignment.open & ~Item.closed & Item.version.in_(list(_escalating())))
        .order_by(Assignment.id)
        .tuples()
    ]
    stride = max(1, len(ids) // count)
    chosen = ids[::stride][:count]
    with database.atomic():
        for start in range(0, len(chosen), 500):
            chunk = chosen[start : start + 500]
            for column in (
                Assignment.next_due_at,
                Assignment.report_due_at,
                Assignment.handle_due_at,
            ):
                Assignment.update({column: past}).where(
                    Assignment.id.in_(chunk) & column.is_null(False)
                ).execute()
    return len(chosen)


def sweep(out: dict[str, Any], overdue: int, pg_url: str | None) -> None:
    from engine.workflow import escalation

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out["overdue summons"] = make_overdue(overdue, now)
    if pg_url:
        # make_overdue rewrote every open summons and item at once (no district does);
        # vacuum them as autovacuum would, so the sweep does not wade through the dead rows.
        import psycopg2

        conn = psycopg2.connect(pg_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE assignment, item")
        conn.close()
    start = time.perf_counter()
    result = escalation.sweep(now=now)
    out["sweep s"] = time.perf_counter() - start
    out["sweep result"] = str(result)
    out["sweep steps"] = result.total
    start = time.perf_counter()
    again = escalation.sweep(now=now)
    out["sweep again s"] = time.perf_counter() - start
    out["sweep again steps"] = again.total


def evaluate(out: dict[str, Any]) -> None:
    from engine.org.actors import actor_for
    from engine.store.models import Grant, User
    from engine.supervision import evaluation, scoring

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    admin = actor_for(
        User.select().join(Grant, on=(Grant.user == User.id)).where(Grant.role == "admin").get()
    )
    period = evaluation.quarter_of(now)
    found = scoring.evaluations()
    took = []
    for _ in range(3):
        start = time.perf_counter()
        rows = evaluation.evaluate(admin, period, now=now)
        scoring.score_rows(found[0] if found else None, rows, skip=lambda r: not r.summoned)
        took.append(time.perf_counter() - start)
    out["evaluation s"] = statistics.median(took)
    out["evaluation rows"] = (
        f"{len(rows)} departments, {sum(r.summoned for r in rows)} summons, {period.start}..{period.end}"
    )


# -- over HTTP --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def login(base: str, username: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "/login", timeout=30) as response:
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', response.read().decode()
        )
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrf_token": token[1] if token else ""}
    ).encode()
    with opener.open(base + "/login", data=body, timeout=30) as response:
        response.read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "session")
    request = urllib.request.Request(base + "/work/", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200 or response.url.rstrip("/").endswith("/login"):
            raise SystemExit(f"login as {username} failed")
    return cookie


def wrk(
    base: str, cookie: str, seconds: int, script: str, connections: int = 8, path: str = "/work/"
) -> dict[str, float]:
    done = subprocess.run(
        [
            WRK,
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            script,
            "-H",
            f"Cookie: {cookie}",
            base + path,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    found = re.search(
        r"BENCH p50=(\d+) p95=(\d+) p99=(\d+) requests=(\d+) non2xx=(\d+) errors=(\d+)", done.stdout
    )
    if not found:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    p50, p95, p99, requests, non2xx, errors = (int(x) for x in found.groups())
    return {
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "rps": requests / seconds,
        "non2xx": non2xx,
        "errors": errors,
    }


@contextmanager
def serving(url: str, cwd: Path = ROOT, workers: int = 2) -> Iterator[str]:
    """gunicorn -w ``workers`` serving the checkout at ``cwd`` on ``url``, on a free loopback
    port; yields its base URL once it answers, and stops it after."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SANFANG_SECRET_KEY": SECRET,
        "SANFANG_BACKGROUND_SWEEP": "0",
    }
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "pages:create_app()",
        ],
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
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
        yield base
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=5)


@contextmanager
def wrk_script() -> Iterator[str]:
    """The Lua hook that makes wrk print p50/p95/p99, as a file for ``wrk -s``."""
    with tempfile.TemporaryDirectory() as tmp:
        script = str(Path(tmp) / "p95.lua")
        Path(script).write_text(WRK_LUA)
        yield script


def over_http(url: str, out: dict[str, Any], seconds: int) -> None:
    with serving(url) as base, wrk_script() as script:
        commissioner, department = out["_users"]
        for label, username in (("commissioner", commissioner), ("department", department)):
            cookie = login(base, username)
            wrk(base, cookie, 2, script)  # warm both workers
            out[f"http {label}"] = wrk(base, cookie, seconds, script)
            # One connection: a request's own time, without waiting behind 3 others per worker.
            out[f"http1 {label}"] = wrk(base, cookie, seconds, script, connections=1)
        # A department lands on its summons list; the items it was ever summoned to are a tab away.
        out["http1 department items"] = wrk(
            base, cookie, seconds, script, connections=1, path="/work/?view=items"
        )


# -- one backend ------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.store.db import database, open_database

    out: dict[str, Any] = {"load before": load()}
    found = existing_items(backend, args) if args.reuse else 0
    if found == args.items:
        url = database_url(backend, args)
        print(f"== {backend}: {url} (reused: {found:,} items)", flush=True)
        out["init s"] = out["demo s"] = None
        sanfang(url, "init")  # schema and pack up to date; keeps the data
    else:
        url = fresh_database(backend, args)
        print(f"== {backend}: {url}", flush=True)
        start = time.perf_counter()
        sanfang(url, "init")
        out["init s"] = time.perf_counter() - start
        start = time.perf_counter()
        print(
            sanfang(
                url,
                "demo",
                "--compounds",
                str(args.compounds),
                "--items",
                str(args.items),
                "--seed",
                str(args.seed),
            ),
            flush=True,
        )
        out["demo s"] = time.perf_counter() - start
        print(f"   init {out['init s']:.1f} s, demo {out['demo s']:.1f} s", flush=True)
    out["load after demo"] = load()
    open_database(url)
    database.connect(reuse_if_open=True)
    try:
        if backend == "postgresql":
            database.execute_sql("ANALYZE")  # what autovacuum does soon after a bulk load
        in_process(out, args.runs)
        print(f"   in-process done ({load()})", flush=True)
        database.close()
        if "http" not in args.skip:
            over_http(url, out, args.seconds)
            print(f"   http done ({load()})", flush=True)
        database.connect(reuse_if_open=True)
        # Evaluation first: the sweep's set-up rewrites every open deadline at once.
        if "evaluation" not in args.skip:
            evaluate(out)
            print(f"   evaluation {out['evaluation s']:.2f} s ({load()})", flush=True)
        if "sweep" not in args.skip:
            sweep(out, args.overdue, url if backend == "postgresql" else None)
            print(f"   sweep {out['sweep s']:.1f} s ({load()})", flush=True)
    finally:
        database.close()
        if not (args.keep or args.reuse):
            drop_database(backend, args)
    out["load after"] = load()
    return out


def _cell(cell: Any, result: dict[str, Any]) -> str:
    try:
        return str(cell(result))
    except KeyError:  # a part --skip left out
        return "–"


def table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    names = list(results)
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

    def ms(pair: tuple[float, float]) -> str:
        return f"{pair[0]:.2f} / {pair[1]:.2f}"

    def http(d: dict[str, float]) -> str:
        bad = f", {int(d['non2xx'])} non-2xx" if d["non2xx"] else ""
        return f"{d['p50']:.1f} / **{d['p95']:.1f}** ({d['rps']:.0f} req/s{bad})"

    rows: list[tuple[str, Any]] = [
        ("items / open items", lambda r: f"{r['items']:,} / {r['open items']:,}"),
        ("summons / open summons", lambda r: f"{r['summons']:,} / {r['open summons']:,}"),
        ("events", lambda r: f"{r['events']:,}"),
        (
            "`init` + `demo`, s (items/s)",
            lambda r: (
                "reused"
                if r["demo s"] is None
                else f"{r['init s'] + r['demo s']:.0f} ({args.items / r['demo s']:,.0f})"
            ),
        ),
        (
            "first page's SQL alone (raw cursor), commissioner's inbox: p50 / p95 ms",
            lambda r: ms(r["sql inbox"]),
        ),
        (
            "first page's SQL alone (raw cursor), department's summons: p50 / p95 ms",
            lambda r: ms(r["sql summons"]),
        ),
        (
            "inbox (`queues.inbox`, rows and their types, versions, nodes), commissioner: p50 / p95 ms",
            lambda r: ms(r["q inbox"]),
        ),
        ("summons list (`queues.summons`), department: p50 / p95 ms", lambda r: ms(r["q summons"])),
        ("inbox query, department: p50 / p95 ms", lambda r: ms(r["q department inbox"])),
        ("summons query, commissioner: p50 / p95 ms", lambda r: ms(r["q commissioner summons"])),
        (
            (
                "former single query (`ORDER BY due IS NULL, due`): department summons / inbox, p95 ms"
            ),
            lambda r: (
                f"{r['q summons, one ORDER BY'][1]:.2f} / {r['q department inbox, one ORDER BY'][1]:.2f}"
            ),
        ),
        (
            "GET /work/, commissioner, wrk -t2 -c8: p50 / **p95** ms",
            lambda r: http(r["http commissioner"]),
        ),
        (
            "GET /work/ (its summons list), department, wrk -t2 -c8: p50 / **p95** ms",
            lambda r: http(r["http department"]),
        ),
        ("same, one connection (-t1 -c1), commissioner", lambda r: http(r["http1 commissioner"])),
        ("same, one connection (-t1 -c1), department", lambda r: http(r["http1 department"])),
        (
            "GET /work/?view=items (items it was summoned to), department, one connection",
            lambda r: http(r["http1 department items"]),
        ),
        (
            "sweep, overdue summons → steps applied",
            lambda r: f"{r['overdue summons']:,} → {r['sweep steps']:,}",
        ),
        ("sweep, s", lambda r: f"**{r['sweep s']:.1f}**"),
        ("second sweep (nothing due), s", lambda r: f"{r['sweep again s']:.2f}"),
        ("evaluation, one quarter, all departments, s", lambda r: f"**{r['evaluation s']:.2f}**"),
        ("load average before / after", lambda r: f"{r['load before']} / {r['load after']}"),
    ]
    lines = ["| | " + " | ".join(label[n] for n in names) + " |", "|---|" + "---:|" * len(names)]
    for title, cell in rows:
        lines.append(f"| {title} | " + " | ".join(_cell(cell, results[n]) for n in names) + " |")
    first = results[names[0]]
    counts = ", ".join(str(results[n]["department open summons"]) for n in names)
    who = (
        f"Commissioner: {first['commissioner']}; department user: {DEPARTMENT_USER} "
        f"({counts} open summons); evaluation: {first.get('evaluation rows', 'not run')}."
    )
    lines += ["", who]
    for n in names:
        lines += ["", f"Sweep on {label[n]}: {results[n].get('sweep result', 'not run')}"]
    for n in names:
        for key in (
            "plan inbox",
            "plan summons",
            "plan department inbox",
            "plan commissioner summons",
            "plan summons, one ORDER BY",
        ):
            lines += ["", f"{label[n]}, {key[5:]}:", "", "```", results[n][key], "```"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--compounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take the databases a former --reuse/--keep run left if they hold --items items "
        "(else make and keep them); the sweep step has moved their deadlines",
    )
    parser.add_argument(
        "--skip",
        type=lambda v: set(filter(None, v.split(","))),
        default=set(),
        help="leave out parts: http,sweep,evaluation",
    )
    parser.add_argument("--sqlite", default=SQLITE_PATH, help="SQLite database file")
    parser.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database name")
    parser.add_argument(
        "--drop", action="store_true", help="only drop the databases (after --keep) and stop"
    )
    args = parser.parse_args()
    if args.drop:
        for backend in args.backends.split(","):
            drop_database(backend, args)
        return
    started = time.perf_counter()
    results = {b: run_backend(b, args) for b in args.backends.split(",")}
    head = (
        f"{args.compounds:,} compounds, {args.items:,} items (seed {args.seed}); {dt.date.today()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; {time.perf_counter() - started:.0f} s in all"
    )
    text = head + "\n\n" + table(results, args)
    print(text)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
