"""Soak: several gunicorn workers on PostgreSQL under a mixed load for a while.

A fresh database ``bench_soak`` on PostgreSQL (127.0.0.1:5432, trust), ``sanfang init``
and ``sanfang demo``, then ``gunicorn -w --workers`` on a loopback port and, until
``--duration`` seconds have passed:

- ``--clients`` threads, each the commissioner (专员) of its own demo compound, logged in
  like a browser (session cookie, CSRF token), each looping over: its inbox (``/work/``),
  raising a bell (``POST /work/new/bell``), reading one of its items and taking the next
  transition on it (accept → start, or decline with the form's reason);
- ``--units`` threads, each a user of a summoned unit (a department, a property company),
  looping over: its summonses (``/work/?view=summons``), reading one of their items and
  reporting in or completing its open summons there (``POST /work/summons/N/...``);
- one thread running the deadline sweep (what ``sanfang sweep`` runs) every
  ``--sweep-every`` seconds, as cron would.

Afterwards it counts, straight from the database: items the clients were told were
raised against the items in the table, transitions and summons actions acknowledged
against the audit events of those users, each item's state against the one its client
last saw, and every stored count (``engine/supervision/tallies.py``, ``medians.py``: the
open items by node and day, open summonses, summons day counts, items touched, the late
summonses by the day and hour of their deadlines, the resolution histograms) against a
recount from the rows, which concurrent writers must not have let drift. Prints a
markdown table: requests, p50/p95/p99 per kind, errors (5xx, refused connections,
timeouts, anything unexpected — must be 0), conflicts (409: the item changed since it was
read; a correct answer, counted apart) and lost writes (must be 0). Exits 1 if there
were errors or lost writes. Stops the server, drops the database.
Traffic goes to 127.0.0.1 only.

Run: python bench/soak.py [--duration 600] [--workers 3] [--clients 6] [--units 4] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import random
import re
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import PASSWORD, load, pct, sanfang, serving

CATEGORIES = ["环境卫生", "停车秩序", "违章搭建", "消防通道", "物业服务", "设施维修", "其他"]
# A bell, as its commissioner moves it: accept (or, one in five, decline with a reason),
# then start handling, which summons the departments (their part is not simulated).
NEXT = {"collected": "accept", "liaising": "start"}
AFTER = {"accept": "liaising", "decline": "declined", "start": "handling"}
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf-token" content="([^"]+)"'
)
VERSION = re.compile(r'name="version" value="(\d+)"')
SUMMONS_ACTION = re.compile(r'action="/work/summons/(\d+)/(report_in|complete)"')
ITEM_LINK = re.compile(r'href="/work/items/(\d+)"')


class Recorder:
    """What the load saw: latencies per kind, errors, conflicts and acknowledged writes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: list[str] = []
        self.error_kinds: collections.Counter[str] = collections.Counter()
        self.conflicts: collections.Counter[str] = collections.Counter()
        self.raised: set[int] = set()
        self.transitions: collections.Counter[int] = collections.Counter()
        self.summons_actions: collections.Counter[tuple[int, str]] = collections.Counter()
        self.states: dict[int, str] = {}

    def took(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.seconds[kind].append(seconds)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.error_kinds[kind] += 1
            if len(self.errors) < 20:
                self.errors.append(f"{kind}: {what}")


def _token(page: str) -> str:
    found = CSRF.search(page)
    if not found:
        raise SystemExit("no CSRF token on the page")
    return found[1] or found[2]


def _gist(text: str) -> str:
    """The part of an HTML answer that says what went wrong."""
    body = text[text.find("<main") :] if "<main" in text else text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()[:200]


class Browser:
    """One user's browser: a keep-alive connection to the server, its session cookie."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookie = ""
        self.csrf = ""

    def call(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, Any, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrf_token": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                self.cookie = header.split(";", 1)[0]
        return response.status, response, text

    def login(self, username: str) -> None:
        _status, _r, page = self.call("GET", "/login")
        self.csrf = _token(page)
        status, _r, _page = self.call(
            "POST", "/login", {"username": username, "password": PASSWORD}
        )
        if status != 303:
            raise SystemExit(f"login as {username}: {status}")
        _status, _r, page = self.call("GET", "/work/")  # a new session after login: a new token
        self.csrf = _token(page)


def timed(
    rec: Recorder,
    kind: str,
    browser: Browser,
    method: str,
    path: str,
    form: dict[str, str] | None = None,
    ok: tuple[int, ...] = (200,),
) -> tuple[int, Any, str] | None:
    """One request, timed under ``kind``; an unexpected answer or a failure is an error."""
    start = time.perf_counter()
    try:
        status, response, text = browser.call(method, path, form)
    except (http.client.HTTPException, OSError) as exc:
        rec.error(kind, f"{method} {path}: {exc!r}")
        return None
    rec.took(kind, time.perf_counter() - start)
    if status == 409:
        with rec.lock:
            rec.conflicts[kind] += 1
        return None
    if status not in ok:
        rec.error(kind, f"{method} {path}: {status} {_gist(text)!r}")
        return None
    return status, response, text


def client(base: str, username: str, node: str, deadline: float, rec: Recorder, seed: int) -> None:
    """A commissioner at work: inbox, raise, read and move its own items."""
    rng = random.Random(seed)
    browser = Browser(base)
    browser.login(username)
    mine: dict[int, str] = {}
    while time.monotonic() < deadline:
        movable = [i for i, state in mine.items() if state in NEXT]
        roll = rng.random()
        if roll < 0.4:
            timed(rec, "inbox", browser, "GET", "/work/")
        elif roll < 0.6 or not movable:
            answer = timed(
                rec,
                "raise",
                browser,
                "POST",
                f"/work/new/bell?node={node}",
                {
                    "category": rng.choice(CATEGORIES),
                    "summary": f"浸泡测试 {username} 第{len(mine) + 1}件",
                },
                ok=(303,),
            )
            if answer:
                found = re.search(r"/work/items/(\d+)", answer[1].headers.get("Location", ""))
                if not found:
                    rec.error("raise", f"no item in Location {answer[1].headers.get('Location')!r}")
                    continue
                with rec.lock:
                    rec.raised.add(int(found[1]))
                    rec.states[int(found[1])] = mine[int(found[1])] = "collected"
        else:
            item_id = rng.choice(movable)
            key = NEXT[mine[item_id]]
            if key == "accept" and rng.random() < 0.2:
                key = "decline"
            page = timed(rec, "item", browser, "GET", f"/work/items/{item_id}")
            if page and key == "decline":  # a transition with a form: its own page
                page = timed(
                    rec, "transition form", browser, "GET", f"/work/items/{item_id}/t/{key}"
                )
            version = VERSION.search(page[2]) if page else None
            if not version:
                if page:
                    rec.error("item", f"/work/items/{item_id}: no version on the page for {key}")
                continue
            form = {"version": version[1]}
            if key == "decline":
                form["reason"] = "属于私人纠纷,已引导至人民调解。"
            answer = timed(
                rec,
                "transition",
                browser,
                "POST",
                f"/work/items/{item_id}/t/{key}",
                form,
                ok=(303,),
            )
            if answer:
                with rec.lock:
                    rec.transitions[item_id] += 1
                    rec.states[item_id] = mine[item_id] = AFTER[key]


def unit_client(base: str, username: str, deadline: float, rec: Recorder, seed: int) -> None:
    """A summoned unit's user at work: its summonses, and on their items reporting in
    (then completing, with what was done) the open summons it may act on."""
    rng = random.Random(seed)
    browser = Browser(base)
    browser.login(username)
    known: list[int] = []
    while time.monotonic() < deadline:
        if not known or rng.random() < 0.3:
            page = timed(rec, "summonses", browser, "GET", "/work/?view=summons")
            if page:
                known = list(dict.fromkeys(int(i) for i in ITEM_LINK.findall(page[2])))
            if not known:
                time.sleep(0.5)  # nothing summoned yet: the commissioners start items
            continue
        item_id = rng.choice(known)
        page = timed(rec, "unit item", browser, "GET", f"/work/items/{item_id}")
        actions = SUMMONS_ACTION.findall(page[2]) if page else []
        if not actions:
            known.remove(item_id)
            continue
        summons, action = actions[0]
        form = {"item": str(item_id)}
        if action == "complete":
            form["reply"] = f"已现场处置({username})。"
        answer = timed(
            rec,
            "report in" if action == "report_in" else "complete",
            browser,
            "POST",
            f"/work/summons/{summons}/{action}",
            form,
            ok=(303,),
        )
        if answer:
            with rec.lock:
                rec.summons_actions[(int(summons), action)] += 1


def sweeper(url: str, every: float, deadline: float, rec: Recorder) -> None:
    """The deadline sweep (``engine.workflow.escalation.sweep``, what ``sanfang sweep`` runs from
    cron) every ``every`` seconds, in this process, on its own connection."""
    from engine.core import clock
    from engine.store.db import database, open_database
    from engine.workflow.escalation import sweep

    open_database(url)
    while time.monotonic() + every < deadline:
        time.sleep(every)
        start = time.perf_counter()
        try:
            with database.connection_context():
                sweep(now=clock.now())
        except Exception as exc:  # noqa: BLE001 - any failure of a sweep is an error to report
            rec.error("sweep", repr(exc)[:300])
            continue
        rec.took("sweep", time.perf_counter() - start)


def users_of(url: str, count: int) -> list[tuple[str, str, int]]:
    """(username, compound key, user id) of ``count`` demo commissioners, one per compound."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT u.username, n.key, u.id FROM "grant" g JOIN "user" u ON u.id = g.user_id
                       JOIN org_node n ON n.id = g.node_id
                       WHERE g.role = 'commissioner' AND n.kind = 'compound' AND u.username LIKE %s
                       ORDER BY n.key LIMIT %s""",
            ("%-zy", count),
        )
        found = [(str(a), str(b), int(c)) for a, b, c in cur.fetchall()]
    conn.close()
    if len(found) < count:
        raise SystemExit(f"only {len(found)} demo commissioners; use more --compounds")
    return found


def unit_users_of(url: str, count: int) -> list[tuple[str, int]]:
    """(username, user id) of ``count`` demo users of summoned units (departments,
    property companies), one per unit, the units with most open summonses first."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT ON (g.node_id) u.username, u.id,
                       (SELECT COUNT(*) FROM assignment a WHERE a.unit_id = g.node_id AND a.open)
                       FROM "grant" g JOIN "user" u ON u.id = g.user_id
                       WHERE g.role IN ('department', 'property') AND u.active
                       ORDER BY g.node_id, u.username""",
        )
        found = sorted(cur.fetchall(), key=lambda r: (-r[2], r[0]))
    conn.close()
    if len(found) < count:
        raise SystemExit(f"only {len(found)} demo units with a user; use fewer --units")
    return [(str(a), int(b)) for a, b, _open in found[:count]]


def counts_drift(url: str) -> dict[str, int]:
    """Per kind of stored count, how many of its keys differ from a recount of the rows
    (``tallies.py``, ``medians.py``): the triggers keep them in each writer's transaction,
    and writers that ran at the same time must not have made them drift."""
    from engine.store.db import database, open_database
    from engine.supervision import medians, tallies

    open_database(url)
    pairs = {
        "open items by node and day": (tallies.stored, tallies.recount),
        "items by area and day": (tallies.area_stored, tallies.area_recount),
        "items by area and hour": (tallies.area_hour_stored, tallies.area_hour_recount),
        "items by area and ten minutes": (tallies.area_slot_stored, tallies.area_slot_recount),
        "items by area and month": (tallies.area_month_stored, tallies.area_month_recount),
        "open summonses by unit and node": (tallies.summons_stored, tallies.summons_recount),
        "summons day counts": (tallies.day_stored, tallies.day_recount),
        "items touched by unit and day": (tallies.item_stored, tallies.item_recount),
        "units' open items": (tallies.open_items_stored, tallies.open_items_recount),
        "late summonses by unit, day and hour": (tallies.due_stored, tallies.due_recount),
        "units' earliest deadline per item": (
            tallies.pairs_due_stored,
            tallies.pairs_due_recount,
        ),
        "resolution times by node": (medians.stored, medians.recount),
    }
    drift: dict[str, int] = {}
    with database.connection_context():
        for name, (stored, recount) in pairs.items():
            have, want = stored(), recount()
            drift[name] = sum(
                1 for key in have.keys() | want.keys() if have.get(key) != want.get(key)
            )
    return drift


def lost_writes(url: str, rec: Recorder, user_ids: list[int], since: dt.datetime) -> dict[str, int]:
    """Acknowledged writes missing from the database, and writes nobody was told of."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT id FROM item WHERE raised_by_id = ANY(%s) AND raised_at >= %s",
            (user_ids, since),
        )
        stored = {int(r[0]) for r in cur.fetchall()}
        cur.execute(
            """SELECT item_id, COUNT(*) FROM event WHERE action LIKE 'transition.%%'
                       AND actor_id = ANY(%s) AND at >= %s GROUP BY item_id""",
            (user_ids, since),
        )
        events = collections.Counter({int(i): int(n) for i, n in cur.fetchall()})
        cur.execute("SELECT id, state FROM item WHERE id = ANY(%s)", (list(rec.states),))
        states = {int(i): str(s) for i, s in cur.fetchall()}
        cur.execute(
            """SELECT substr(target, 12)::int, substr(action, 9), COUNT(*) FROM event
                       WHERE action IN ('summons.report_in', 'summons.complete') AND at >= %s
                       GROUP BY 1, 2""",
            (since,),
        )
        summons_events = collections.Counter(
            {(int(i), str(a)): int(n) for i, a, n in cur.fetchall()}
        )
    conn.close()
    return {
        "raises acknowledged": len(rec.raised),
        "raises lost": len(rec.raised - stored),
        "raises stored but not acknowledged": len(stored - rec.raised),
        "transitions acknowledged": sum(rec.transitions.values()),
        "transitions lost (no audit event)": sum(
            max(0, n - events[i]) for i, n in rec.transitions.items()
        ),
        "transition events not acknowledged": sum(
            max(0, n - rec.transitions[i]) for i, n in events.items()
        ),
        "items in another state than acknowledged": sum(
            1 for i, s in rec.states.items() if states.get(i) != s
        ),
        "summons actions acknowledged": sum(rec.summons_actions.values()),
        "summons actions lost (no audit event)": sum(
            max(0, n - summons_events[key]) for key, n in rec.summons_actions.items()
        ),
    }


def report(
    rec: Recorder,
    writes: dict[str, int],
    drift: dict[str, int],
    args: argparse.Namespace,
    seconds: float,
    before: str,
) -> str:
    lines = [
        (
            f"Soak on PostgreSQL: gunicorn -w {args.workers} (sync workers), {args.clients} clients"
            f" and {args.units} units' users, "
            f"sweep every {args.sweep_every:g} s, {seconds:.0f} s of load; demo {args.compounds} compounds, "
            f"{args.items} items; load average {before} before, {load()} after."
        ),
        "",
        "| kind | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | 409 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    kinds = ("inbox", "raise", "item", "transition form", "transition")
    kinds += ("summonses", "unit item", "report in", "complete", "sweep")
    for kind in kinds:
        took = rec.seconds.get(kind, [])
        if not took:
            lines.append(
                f"| {kind} | 0 | | | | | | {rec.error_kinds[kind]} | {rec.conflicts[kind]} |"
            )
            continue
        ms = [1000 * t for t in took]
        lines.append(
            f"| {kind} | {len(took)} | {len(took) / seconds:.1f} | {pct(ms, 50):.0f} | {pct(ms, 95):.0f} | "
            f"{pct(ms, 99):.0f} | {max(ms):.0f} | {rec.error_kinds[kind]} | {rec.conflicts[kind]} |"
        )
    lines += ["", "| writes | count |", "|---|---:|"] + [
        f"| {k} | {v} |" for k, v in writes.items()
    ]
    lines += ["", "| stored counts | keys unlike a recount |", "|---|---:|"] + [
        f"| {k} | {v} |" for k, v in drift.items()
    ]
    lines += ["", f"errors: {sum(rec.error_kinds.values())}"] + [f"- {e}" for e in rec.errors]
    return "\n".join(lines)


def fresh(args: argparse.Namespace) -> str:
    import psycopg2

    admin = psycopg2.connect(f"{args.pg}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        if not args.drop_only:
            cur.execute(f'CREATE DATABASE "{args.db}"')
    admin.close()
    return f"{args.pg}/{args.db}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients (commissioners)")
    parser.add_argument("--units", type=int, default=4, help="concurrent units' users")
    parser.add_argument("--sweep-every", type=float, default=20, help="seconds between sweeps")
    parser.add_argument("--compounds", type=int, default=20)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_soak")
    parser.add_argument("--markdown", help="also write the report here")
    parser.add_argument("--drop-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.pg.startswith(("postgresql://postgres@127.0.0.1", "postgresql://127.0.0.1")):
        raise SystemExit("--pg must be a server on 127.0.0.1")
    url = fresh(args)
    try:
        print(f"== {url}: init + demo ({args.compounds} compounds, {args.items} items)", flush=True)
        sanfang(url, "init")
        sanfang(
            url,
            "demo",
            "--compounds",
            str(args.compounds),
            "--items",
            str(args.items),
            "--seed",
            "1",
        )
        users = users_of(url, args.clients)
        unit_users = unit_users_of(url, args.units)
        rec = Recorder()
        since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
        before = load()
        with serving(url, workers=args.workers) as base:
            print(f"== {base}: {args.clients} clients for {args.duration:g} s", flush=True)
            start = time.monotonic()
            deadline = start + args.duration
            threads = [
                threading.Thread(
                    target=client, args=(base, name, node, deadline, rec, n), daemon=True
                )
                for n, (name, node, _id) in enumerate(users)
            ]
            threads += [
                threading.Thread(
                    target=unit_client, args=(base, name, deadline, rec, 100 + n), daemon=True
                )
                for n, (name, _id) in enumerate(unit_users)
            ]
            threads.append(
                threading.Thread(
                    target=sweeper, args=(url, args.sweep_every, deadline, rec), daemon=True
                )
            )
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.duration + 900)
            seconds = time.monotonic() - start
        writes = lost_writes(url, rec, [u[2] for u in users], since)
        drift = counts_drift(url)
        text = report(rec, writes, drift, args, seconds, before)
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(text + "\n")
        failed = (
            sum(rec.error_kinds.values())
            or writes["raises lost"]
            or writes["transitions lost (no audit event)"]
            or writes["items in another state than acknowledged"]
            or writes["summons actions lost (no audit event)"]
            or any(drift.values())
        )
    finally:
        args.drop_only = True
        fresh(args)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
