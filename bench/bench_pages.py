"""What each main page costs against a bare Flask route of the same app, in one process.

Run: .venv/bin/python bench/bench_pages.py [--url sqlite:////tmp/pagecost.db] [--rounds 15]

Builds the demo database when ``--url``'s database has no items (`sanfang init`,
`sanfang demo --compounds 40 --items 400 --seed 1`, `sanfang facts refresh`, as
`make run` does; ``--demo-args`` changes the size), logs in as each role's demo user
through the Flask test client and, per page, prints the CPU time of one request
(``time.process_time``, median of ``--rounds`` requests, rounds interleaved over all
pages so a busy machine slows every page alike), its ratio to the bare route measured
in the same rounds (with ``--runs``, the median of several runs' ratios), and the number
of SQL statements it ran. Asserts nothing; with
``--check`` it exits 1 when a page is over the budget (``--max-ratio``, ``--max-queries``).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "sqlite:////tmp/sanfang_bench_pages.db"
DEMO_ARGS = "--compounds 40 --items 400 --seed 1"
BARE = "/_bench/bare"


def sanfang(url: str, *args: str) -> None:
    exe = Path(sys.executable).with_name("sanfang")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(exe), *args], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def ensure_demo(url: str, demo_args: str) -> None:
    """Make the demo database at ``url`` unless it already has items."""
    from engine.store.db import database, open_database
    from engine.store.models import Item

    open_database(url)
    try:
        database.connect(reuse_if_open=True)
        has_items = Item.table_exists() and Item.select().exists()
    finally:
        database.close()
    if has_items:
        return
    print(f"building the demo database ({demo_args}) ...", file=sys.stderr)
    sanfang(url, "init")
    sanfang(url, "demo", *demo_args.split())
    sanfang(url, "facts", "refresh")


def pages_by_user() -> dict[str, list[str]]:
    """Each demo user's main pages, item pages picked from what they may see."""
    from peewee import fn

    from engine.org.actors import actor_for
    from engine.org.scope import visible_assignments, visible_items
    from engine.store.models import Assignment, Definition, Grant, Item, User

    def actor(name: str) -> Any:
        return actor_for(User.get(User.username == name))

    def first_item(name: str) -> int:
        """A visible item with a history: the one with most summonses."""
        a = actor(name)
        ids = [i.id for i in visible_items(a).order_by(Item.id).limit(200)]
        counts = {i: 0 for i in ids}
        for (item_id,) in (
            Assignment.select(Assignment.item).where(Assignment.item.in_(ids)).tuples()
        ):
            counts[item_id] += 1
        return max(ids, key=lambda i: (counts[i], -i))

    def summoned_item(name: str) -> int:
        row = visible_assignments(actor(name)).order_by(Assignment.id).first()
        return int(row.item_id) if row else first_item(name)

    def node_key(name: str) -> str:
        return actor(name).grants[0].node_key

    # The README's resident may have raised nothing in the demo: the busiest one shows a list.
    raisers = (
        User.select(User.username, fn.COUNT(Item.id).alias("n"))
        .join(Item, on=(Item.raised_by == User.id))
        .join(Grant, on=(Grant.user == User.id))
        .where(Grant.role == "resident")
        .group_by(User.username)
        .order_by(fn.COUNT(Item.id).desc(), User.username)
    )
    resident = raisers.first().username
    raisable = (
        Definition.select().where(Definition.kind == "item_type").order_by(Definition.id).first()
    )
    compound = node_key("xifang")
    street = node_key("chaohui-ducha")
    district = node_key("ducha")
    return {
        "xifang": [
            "/work/",
            "/work/?view=summons",
            "/work/?all=1",
            f"/work/items/{first_item('xifang')}",
            f"/work/new?node={compound}",
            f"/review/n/{compound}",
            "/notifications",
        ],
        "lvzhouhuayuan-wy": [
            "/work/",
            "/work/?view=items",
            f"/work/items/{summoned_item('lvzhouhuayuan-wy')}",
        ],
        "dept-zhifa-user": [
            "/work/",
            "/work/?view=items",
            f"/work/items/{summoned_item('dept-zhifa-user')}",
            "/review/evaluation",
            "/review/live",
        ],
        "chaohui-ducha": [
            "/review/",
            "/review/overdue",
            "/review/overdue?level=compound",
            "/review/overdue?level=department",  # late summonses of its streets' items
            "/review/dashboards",
            f"/review/n/{street}",
            f"/review/n/{street}/items?filter=overdue",
            "/review/evaluation",
            "/review/live",
            "/work/",
            "/work/?all=1",  # a street's closed items: ten years of them at a million
            f"/work/items/{first_item('chaohui-ducha')}",
        ],
        "ducha": [
            "/review/",
            f"/review/?node={street}",
            "/review/overdue",
            "/review/overdue?level=department",
            "/review/dashboards",
            f"/review/n/{district}",
            f"/review/n/{district}/items?filter=all",
            f"/review/n/{district}/items?filter=overdue",
            "/review/evaluation",
            "/work/",
        ],
        "lvzhou-yezhu1": ["/r/", f"/r/new/{raisable.key}"],
        resident: ["/r/", f"/r/items/{first_item(resident)}"],
        "admin": ["/review/", "/work/", "/admin/"],
    }


AREAS = ("/work/", "/r/", "/review/")
HREF = re.compile(r'href="([^"#]+)"')


def wider(app: Any, pages: dict[str, list[str]], depth: int = 2) -> dict[str, list[str]]:
    """Each user's pages and, per route of /work, /r and /review not among them, the first
    page of that route found by following their links ``depth`` clicks deep (no exports,
    no language switches): every kind of page a user reaches, one of each."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, list[str]] = {}
    for user, paths in pages.items():
        client = login(app, user)
        seen = {adapter.match(p.split("?")[0])[0] for p in paths}
        more: list[str] = []
        frontier = list(paths)
        for _ in range(depth):
            after = []
            for path in frontier:
                page = client.get(path).get_data(as_text=True)
                for href in HREF.findall(page):
                    href = html.unescape(href)
                    bare = href.split("?")[0]
                    if not bare.startswith(AREAS) or "lang=" in href or bare.endswith(".xlsx"):
                        continue
                    try:
                        endpoint = adapter.match(bare)[0]
                    except HTTPException:  # a link outside the app's routes
                        endpoint = None
                    if endpoint and endpoint not in seen:
                        seen.add(endpoint)
                        more.append(href)
                        after.append(href)
            frontier = after
        found[user] = list(paths) + more
    return found


def build_app(url: str) -> Any:
    from pages import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "BACKGROUND_SWEEP": False,
        }
    )
    app.add_url_rule(BARE, "bench_bare", lambda: "ok")
    return app


def login(app: Any, username: str) -> Any:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "demo1234"})
    if response.status_code != 303:
        raise SystemExit(f"login as {username} failed: {response.status_code}")
    return client


def one(client: Any, path: str) -> tuple[float, int]:
    start = time.process_time()
    response = client.get(path)
    elapsed = time.process_time() - start
    return elapsed * 1000, response.status_code


def stream(url: str, *, wide: bool = False) -> None:
    """Each page once after a warm-up visit, a row printed as soon as it is measured: on
    a database of a million items some pages take seconds, and the table comes in rows.
    ``wide``: also the other kinds of page (:func:`wider`)."""
    from engine.store.db import counting_queries, database

    app = build_app(url)
    with app.app_context():
        database.connect(reuse_if_open=True)
        pages = pages_by_user()
        database.close()
    if wide:
        pages = wider(app, pages)
    anonymous = app.test_client()
    for _ in range(50):
        one(anonymous, BARE)
    bare = statistics.median(one(anonymous, BARE)[0] for _ in range(51))
    print(f"database: {url}; one visit per page after a warm-up; CPU ms\n", flush=True)
    print("| user | page | status | ms | × bare | queries |\n|---|---|---:|---:|---:|---:|")
    print(f"| (anonymous) | {BARE} | 200 | {bare:.2f} | 1 | 0 |", flush=True)
    for user, paths in pages.items():
        client = login(app, user)
        for path in paths:
            one(client, path)
            with counting_queries() as counter:
                ms, status = one(client, path)
            print(
                f"| {user} | {path} | {status} | {ms:.1f} | {ms / bare:.0f} | {counter.count} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="database (built when it has no items)")
    parser.add_argument("--demo-args", default=DEMO_ARGS)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="repeat the rounds this many times, each run with its own bare route; a page's "
        "ratio is the median of the runs' (one run's moves by up to 15 %% on a shared machine)",
    )
    parser.add_argument("--max-ratio", type=float, default=10.0)
    parser.add_argument("--max-queries", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is over budget")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument(
        "--wide",
        action="store_true",
        help="also each other kind of page of /work, /r and /review a user reaches in two clicks",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="measure only the pages whose 'user path' contains this text (repeatable)",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="one timed visit per page after one warm-up, printed as it goes (large databases)",
    )
    args = parser.parse_args()
    if args.stream:
        stream(args.url, wide=args.wide)
        return

    ensure_demo(args.url, args.demo_args)
    app = build_app(args.url)
    from engine.store.db import counting_queries, database

    with app.app_context():
        database.connect(reuse_if_open=True)
        pages = pages_by_user()
        database.close()
    if args.wide:
        pages = wider(app, pages)
    anonymous = app.test_client()
    cases = [
        (user, path)
        for user, paths in pages.items()
        for path in paths
        if not args.only or any(part in f"{user} {path}" for part in args.only)
    ]
    clients = {user: login(app, user) for user in dict.fromkeys(user for user, _ in cases)}

    status: dict[tuple[str, str], int] = {}
    queries: dict[tuple[str, str], int] = {}
    for user, path in cases:  # warm up (templates, runtime caches) and count statements
        one(clients[user], path)
        with counting_queries() as counter:
            _, status[(user, path)] = one(clients[user], path)
        queries[(user, path)] = counter.count
    one(anonymous, BARE)
    with counting_queries() as counter:
        one(anonymous, BARE)
    bare_queries = counter.count

    ratios: dict[Any, list[float]] = {case: [] for case in cases}
    times: dict[Any, list[float]] = {case: [] for case in cases}
    bares: list[float] = []
    for _ in range(args.runs):
        samples: dict[Any, list[float]] = {case: [] for case in cases}
        bare: list[float] = []
        for _ in range(args.rounds):
            bare.append(one(anonymous, BARE)[0])
            for user, path in cases:
                samples[(user, path)].append(one(clients[user], path)[0])
            bare.append(one(anonymous, BARE)[0])
        bares.append(statistics.median(bare))
        for case in cases:
            times[case].append(statistics.median(samples[case]))
            ratios[case].append(times[case][-1] / bares[-1])
    bare_ms = statistics.median(bares)

    runs = (
        f"; runs: {args.runs}, each page's ratio the median of the runs'" if args.runs > 1 else ""
    )
    lines = [
        f"database: {args.url}; rounds: {args.rounds}; CPU ms per request (median){runs}",
        "",
        "| user | page | status | ms | × bare | queries |",
        "|---|---|---:|---:|---:|---:|",
        f"| (anonymous) | {BARE} | 200 | {bare_ms:.2f} | 1.0 | {bare_queries} |",
    ]
    over = []
    for case in cases:
        ms = statistics.median(times[case])
        ratio = statistics.median(ratios[case])
        flag = ""
        if ratio > args.max_ratio or queries[case] > args.max_queries or status[case] >= 400:
            over.append(case)
            flag = " ⚠"
        lines.append(
            f"| {case[0]} | {case[1]} | {status[case]} | {ms:.2f} | {ratio:.1f}{flag} | {queries[case]} |"
        )
    lines.append("")
    lines.append(
        f"budget: ≤ {args.max_ratio:g} × bare and ≤ {args.max_queries} queries; over: {len(over)} of {len(cases)}"
    )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    if args.check and over:
        sys.exit(1)


if __name__ == "__main__":
    main()
