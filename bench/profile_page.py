"""Where one page's CPU time goes: a sampling profile of repeated requests as one user.

Run: .venv/bin/python bench/profile_page.py USER PATH [--url sqlite:////tmp/pagecost.db]
[--requests 150] [--top 40]

Logs in as USER through the Flask test client (as bench_pages.py does; the database must
exist, bench_pages.py builds the demo), requests PATH a few times to warm up, then
requests it ``--requests`` times under a CPU timer signal (every 0.2 ms of process time).
Each sample walks the stack and credits the project's own frames: Python functions as
``module:function`` and template code as ``template:line`` (the template's own line, not
the compiled module's). Prints the share of samples that had each frame anywhere on the
stack (inclusive), that had it as the innermost own frame, and the innermost template
line. Unlike cProfile it does not slow small calls more than large ones, so Jinja's
per-row work and peewee's per-row conversions keep their true weight.
"""

from __future__ import annotations

import argparse
import collections
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_pages

OWN = str(ROOT) + "/"


def _label(frame: FrameType) -> str | None:
    name = frame.f_code.co_filename
    if not name.startswith(OWN) or "/.venv/" in name or name.startswith(OWN + "bench/"):
        return None
    if name.endswith(".html"):
        template = frame.f_globals.get("__jinja_template__")
        line = template.get_corresponding_lineno(frame.f_lineno) if template else frame.f_lineno
        return f"{name.split('templates/')[-1]}:{line}"
    return f"{name[len(OWN) :]}:{frame.f_code.co_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("user")
    parser.add_argument("path")
    parser.add_argument("--url", default=bench_pages.DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    client = bench_pages.login(bench_pages.build_app(args.url), args.user)
    for _ in range(5):
        client.get(args.path)
    inclusive: collections.Counter[str] = collections.Counter()
    innermost: collections.Counter[str] = collections.Counter()
    template_lines: collections.Counter[str] = collections.Counter()
    samples = [0]

    def sample(signum: int, frame: Any) -> None:
        samples[0] += 1
        seen: set[str] = set()
        first = first_template = None
        while frame is not None:
            label = _label(frame)
            if label is not None:
                first = first or label
                if first_template is None and ".html:" in label:
                    first_template = label
                if label not in seen:
                    seen.add(label)
                    inclusive[label] += 1
            frame = frame.f_back
        if first:
            innermost[first] += 1
        if first_template:
            template_lines[first_template] += 1

    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, 0.0002, 0.0002)
    for _ in range(args.requests):
        client.get(args.path)
    signal.setitimer(signal.ITIMER_PROF, 0, 0)

    total = max(samples[0], 1)
    print(f"{args.user} {args.path}: {samples[0]} samples over {args.requests} requests")
    for title, counts in (
        ("anywhere on the stack", inclusive),
        ("innermost own frame", innermost),
        ("innermost template line", template_lines),
    ):
        print(f"\n--- {title}")
        for label, n in counts.most_common(args.top):
            print(f"{100 * n / total:5.1f}% {label}")


if __name__ == "__main__":
    main()
