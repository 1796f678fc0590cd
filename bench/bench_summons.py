"""CPU time of the summons pages (the evaluation, the overdue board by department) as the
users who open them, on a large database: one warm-up visit, then the median of
``--rounds`` visits per page, with the statements each ran.

Run: .venv/bin/python bench/bench_summons.py --url sqlite:////tmp/big-copy.db
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_pages import BARE, build_app, login, one

PAGES = {
    "dept-zhifa-user": ["/review/evaluation"],
    "chaohui-ducha": ["/review/evaluation", "/review/overdue?level=department"],
    "ducha": ["/review/evaluation", "/review/overdue?level=department", "/review/overdue"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from engine.store.db import counting_queries

    app = build_app(args.url)
    anonymous = app.test_client()
    for _ in range(50):
        one(anonymous, BARE)
    bare = statistics.median(one(anonymous, BARE)[0] for _ in range(51))
    print(f"database: {args.url}; CPU ms, median of {args.rounds} after a warm-up\n")
    print("| user | page | status | ms | queries |\n|---|---|---:|---:|---:|")
    print(f"| (anonymous) | {BARE} | 200 | {bare:.2f} | 0 |", flush=True)
    for user, paths in PAGES.items():
        client = login(app, user)
        for path in paths:
            with counting_queries() as counter:
                one(client, path)
            times = [one(client, path) for _ in range(args.rounds)]
            ms = statistics.median(t for t, _ in times)
            print(f"| {user} | {path} | {times[0][1]} | {ms:.1f} | {counter.count} |", flush=True)


if __name__ == "__main__":
    main()
