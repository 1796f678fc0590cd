"""What every logged-in page pays before its own work, in one process: a bare route, the
same behind the login (session, user and grants), an empty page in the layout
(base.html: header, navigation, CSRF token), then the near-empty pages.

Run: .venv/bin/python bench/bench_floor.py [--url sqlite:////tmp/pagecost.db] [--rounds 150]

Uses bench_pages.py's demo database (``--url``, built when empty), app and login; prints
the median CPU time of each (``time.process_time``, rounds interleaved) and its ratio to
the bare route of the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import BARE, DEFAULT_URL, DEMO_ARGS, build_app, ensure_demo, login


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=150)
    args = parser.parse_args()
    ensure_demo(args.url, DEMO_ARGS)
    app = build_app(args.url)
    from flask import render_template

    from pages.auth import login_required

    app.add_url_rule("/_bench/login", "bench_login", login_required(lambda: "ok"))
    layout = login_required(lambda: render_template("base.html"))
    app.add_url_rule("/_bench/layout", "bench_layout", layout)
    cases = [
        (None, BARE),
        ("ducha", "/_bench/login"),
        ("ducha", "/_bench/layout"),
        ("xifang", "/notifications"),
        ("lvzhou-yezhu1", "/r/new/bell"),
    ]
    clients = {user: login(app, user) if user else app.test_client() for user, _ in cases}
    for user, path in cases:
        for _ in range(5):
            clients[user].get(path)
    samples: dict[tuple[str | None, str], list[float]] = {case: [] for case in cases}
    for _ in range(args.rounds):
        for user, path in cases:
            start = time.process_time()
            clients[user].get(path)
            samples[(user, path)].append(time.process_time() - start)
    bare = statistics.median(samples[cases[0]])
    print(f"database: {args.url}; rounds: {args.rounds}; CPU ms per request (median)\n")
    print("| user | page | ms | × bare |\n|---|---|---:|---:|")
    for user, path in cases:
        ms = statistics.median(samples[(user, path)])
        print(f"| {user or '(anonymous)'} | {path} | {ms * 1000:.2f} | {ms / bare:.1f} |")


if __name__ == "__main__":
    main()
