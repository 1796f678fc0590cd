"""A few pages against the bare route, in one process: for comparing two checkouts.

Run: .venv/bin/python bench/bench_few.py --url sqlite:////tmp/big.db [--rounds 5]
USER:PATH [USER:PATH ...]

Logs in as each USER through the Flask test client (as bench_pages.py does; the database
must exist), visits each page once to warm up, then ``--rounds`` times, each round
visiting every page once and the bare route nine times; prints each page's median CPU
time and its ratio to the bare route's median. Run it from each checkout (its own
``bench/``: the code it imports is that checkout's) on the same database, alternating,
where ``bench_pages.py --stream`` visits once and a busy machine blurs one visit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=bench_pages.DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("pages", nargs="+", help="USER:PATH")
    args = parser.parse_args()
    pages = [tuple(p.split(":", 1)) for p in args.pages]
    app = bench_pages.build_app(args.url)
    anonymous = app.test_client()
    clients = {user: bench_pages.login(app, user) for user, _ in pages}
    for user, path in pages:
        bench_pages.one(clients[user], path)
    for _ in range(30):
        bench_pages.one(anonymous, bench_pages.BARE)
    bare: list[float] = []
    times: dict[tuple[str, ...], list[float]] = {page: [] for page in pages}
    for _ in range(args.rounds):
        bare += [bench_pages.one(anonymous, bench_pages.BARE)[0] for _ in range(9)]
        for user, path in pages:
            times[(user, path)].append(bench_pages.one(clients[user], path)[0])
    base = statistics.median(bare)
    print(f"{ROOT} on {args.url}; bare route {base:.2f} ms; CPU ms, median of {args.rounds}")
    for (user, path), found in times.items():
        ms = statistics.median(found)
        print(f"| {user} | {path} | {ms:.2f} | {ms / base:.1f} |")


if __name__ == "__main__":
    main()
