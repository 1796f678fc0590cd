"""Votes at scale: a compound of 5,000 units, 5,000 ballots over HTTP, the result recounted.

On a fresh database (SQLite file under /tmp by default; ``--pg`` for PostgreSQL):

  (a) setup, in-process: 5,000 resident accounts, each owning one exclusive unit with a
      registered area, an API token each, and one open vote (``polls.open_poll``);
  (b) over HTTP: gunicorn (``--workers``, sync) on loopback; ``--connections`` client
      threads, each on its own keep-alive connection, POST one ballot per owner to
      /api/v1/polls/<id>/ballots → ballots/s, statuses; then ``--dupes`` owners send
      their ballot again all at once (changes, not new ballots); then the database is
      checked: exactly one ballot per unit, none lost;
  (c) the result recounted from the 5,000 ballots: in-process ``polls.recount`` and over
      HTTP ``GET /api/v1/polls/<id>/result`` (an open vote is always recounted), p50/p95.

Prints numbers, asserts nothing (a lost or duplicated ballot is printed as such).
Run: python bench/bench_polls.py [--units 5000] [--connections 8] [--workers 4] [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import load, pct, sanfang, serving

SQLITE = "/tmp/sanfang_bench_polls.db"


def _models() -> None:
    """Import the models first, as the app does (engine.org.actors alone would import them
    half-way through engine.accounts.logins)."""
    import engine.store.models  # noqa: F401


def setup(url: str, units: int) -> tuple[int, list[str]]:
    """Accounts, households, tokens and an open vote; the poll id and the owners' tokens."""
    _models()
    from engine.accounts.tokens import _digest
    from engine.core import clock
    from engine.decisions import polls
    from engine.org.actors import actor_for
    from engine.store.db import bulk_insert, database, open_database
    from engine.store.models import Grant, OrgNode, Token, User
    from engine.store.tables import Household

    open_database(url)
    now = clock.now()
    compound = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    buildings = list(OrgNode.select().where(OrgNode.parent == compound).order_by(OrgNode.id))
    tokens = [f"sf_bench_{i:06d}_{os.urandom(8).hex()}" for i in range(units)]
    with database.atomic():
        bulk_insert(
            User,
            [
                {
                    "username": f"bench-owner-{i}",
                    "name": f"业主{i}",
                    "password_hash": "!",
                    "locale": "zh_CN",
                    "active": True,
                    "created_at": now,
                }
                for i in range(units)
            ],
        )
        ids = dict(
            User.select(User.username, User.id)
            .where(User.username.startswith("bench-owner-"))
            .tuples()
        )
        owner = [ids[f"bench-owner-{i}"] for i in range(units)]
        bulk_insert(Grant, [{"user": u, "role": "resident", "node": compound.id} for u in owner])
        bulk_insert(
            Token,
            [
                {
                    "user": u,
                    "digest": _digest(t),
                    "label": "bench",
                    "created_at": now,
                    "revoked": False,
                    "expires_at": now + dt.timedelta(days=2),
                }
                for u, t in zip(owner, tokens, strict=True)
            ],
        )
        bulk_insert(
            Household,
            [
                {
                    "building": buildings[i % len(buildings)].id,
                    "compound": compound.id,
                    "room": f"{i // len(buildings) + 1}",
                    "owner_name": f"业主{i}",
                    "phone": "",
                    "area": None,
                    "registered_area": 6000 + (i * 37) % 9000,
                    "owner_key": f"o{i // 2}" if i % 50 == 0 else "",
                    "developer_held": i % 97 == 0,
                    "owner_user": u,
                    "updated_at": now,
                }
                for i, u in enumerate(owner)
            ],
        )
    committee = actor_for(User.get(User.username == "lvzhouhuayuan-ywh"))
    poll = polls.open_poll(
        committee, "owners-decision", compound, "基准测试表决", category="fund-use", now=now
    )
    database.close()
    return poll.id, tokens


def cast_all(
    base: str, poll: int, tokens: list[str], connections: int
) -> tuple[float, dict[int, int]]:
    """Each token casts once, spread over ``connections`` keep-alive connections."""
    host, port = base.removeprefix("http://").split(":")
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    body = json.dumps({"choices": ["yes"]})

    def worker(share: list[str]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for i, token in enumerate(share):
            choice = "yes" if i % 5 else "no"
            conn.request(
                "POST",
                f"/api/v1/polls/{poll}/ballots",
                body=body.replace("yes", choice),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    threads = [
        threading.Thread(target=worker, args=(tokens[i::connections],)) for i in range(connections)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, statuses


def timed_gets(base: str, path: str, token: str, runs: int) -> list[float]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--dupes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--pg", default="", help="a PostgreSQL URL to use instead of SQLite")
    parser.add_argument(
        "--result-only", action="store_true", help="only (c), on the database a run left"
    )
    args = parser.parse_args()
    if args.result_only:
        result_only(args)
        return
    if args.pg:
        url = args.pg
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(SQLITE + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE}"
    print(f"# bench_polls: {args.units} units, {platform.node()}, load {load()}")
    start = time.perf_counter()
    sanfang(url, "init")
    poll, tokens = setup(url, args.units)
    print(
        f"setup (init + {args.units} owners, units, tokens, vote): {time.perf_counter() - start:.1f} s"
    )
    with serving(url, workers=args.workers) as base:
        seconds, statuses = cast_all(base, poll, tokens, args.connections)
        print(
            f"ballots over HTTP: {args.units} in {seconds:.1f} s = {args.units / seconds:.0f} ballots/s "
            f"({args.connections} connections, {args.workers} workers), statuses {statuses}"
        )
        dupes = tokens[: args.dupes]
        seconds, again = cast_all(base, poll, dupes, min(args.connections, len(dupes)))
        print(f"the same {len(dupes)} owners again, at once: {again} in {seconds:.1f} s")
        owner_token = tokens[0]  # an owner reads the live count
        http_ms = timed_gets(base, f"/api/v1/polls/{poll}/result", owner_token, args.runs)
    from engine.decisions import polls
    from engine.store.db import database, open_database
    from engine.store.polls import Ballot

    open_database(url)
    found = polls.get_poll(poll)
    ballots = Ballot.select().where(Ballot.poll == poll).count()
    units = Ballot.select(Ballot.unit).where(Ballot.poll == poll).distinct().count()
    print(
        f"ballots stored: {ballots}, distinct units: {units}, lost: {args.units - units}, "
        f"duplicated: {ballots - units}"
    )
    runs, cpu, result = recounts(polls, found, args.runs)
    print(
        f"result recounted in-process over {result['units']['voted']} ballots: "
        f"p50 {statistics.median(runs):.1f} ms, p95 {pct(runs, 95):.1f} ms "
        f"(CPU time p50 {statistics.median(cpu):.1f} ms, p95 {pct(cpu, 95):.1f} ms)"
    )
    print(
        f"GET /api/v1/polls/<id>/result (recounted): p50 {statistics.median(http_ms):.1f} ms, "
        f"p95 {pct(http_ms, 95):.1f} ms; quorum {result['quorum']}, passed {result['passed']}"
    )
    database.close()


def recounts(polls: Any, found: Any, runs: int) -> tuple[list[float], list[float], Any]:
    """``runs`` recounts: wall and CPU milliseconds each, and the last result."""
    wall, cpu, result = [], [], None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        result = polls.recount(found)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu, result


def result_only(args: argparse.Namespace) -> None:
    """(c) again on the vote a previous run left (poll 1), without setting anything up."""
    _models()
    from engine.accounts.tokens import _digest
    from engine.decisions import polls
    from engine.store.db import database, open_database
    from engine.store.models import Token

    url = args.pg or f"sqlite:///{SQLITE}"
    open_database(url)
    found = polls.get_poll(1)
    raw = f"sf_bench_result_{os.urandom(8).hex()}"
    owner = Token.select().order_by(Token.id.desc()).first()
    Token.create(
        user=owner.user,
        digest=_digest(raw),
        label="bench",
        created_at=owner.created_at,
        expires_at=owner.expires_at,
    )
    runs, cpu, result = recounts(polls, found, args.runs)
    database.close()
    print(f"# load {load()}")
    print(
        f"result recounted in-process over {result['units']['voted']} ballots: "
        f"p50 {statistics.median(runs):.1f} ms, p95 {pct(runs, 95):.1f} ms "
        f"(CPU time p50 {statistics.median(cpu):.1f} ms, p95 {pct(cpu, 95):.1f} ms)"
    )
    with serving(url, workers=args.workers) as base:
        http_ms = timed_gets(base, "/api/v1/polls/1/result", raw, args.runs)
    print(
        f"GET /api/v1/polls/<id>/result (recounted): p50 {statistics.median(http_ms):.1f} ms, "
        f"p95 {pct(http_ms, 95):.1f} ms"
    )


if __name__ == "__main__":
    main()
