"""One module of an earlier revision against this checkout's, in one process, alternating
request by request: for a change confined to one module, where two runs of
bench_few.py, one per checkout, differ by more than the change on a busy machine.

Run: .venv/bin/python bench/bench_ab.py --rev 0bc159b --module engine.supervision.live
[--url sqlite:////tmp/big.db] [--rounds 80] USER:PATH [USER:PATH ...]

Loads ``--module`` as it was at ``--rev`` (``git show``) beside this checkout's, then for
each round requests every page once with each (in turn first), swapping the module's
names wherever another module holds them (``import … as`` or ``from … import``), and the
bare route three times; prints each page's median CPU time with either, its ratio to the
bare route and new / old. The earlier module's prepared statements are cached under keys
of their own. Its other imports are this checkout's: the module's interface must be the
same at both revisions, and its templates this checkout's.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_pages

KEYED = ("statement", "prepared", "prepared_cursor")  # engine.store.prepared's, by key


def earlier(module: str, rev: str) -> types.ModuleType:
    """``module`` as it was at ``rev``, loaded under a name of its own."""
    path = module.replace(".", "/") + ".py"
    text = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    file = Path(tempfile.mkdtemp()) / Path(path).name
    file.write_text(text)
    spec = importlib.util.spec_from_file_location(f"{module}__{rev}", file)
    assert spec and spec.loader
    old = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = old  # dataclasses look their module up
    spec.loader.exec_module(old)
    for name in KEYED:
        if hasattr(old, name):
            setattr(old, name, _keyed(getattr(old, name), rev))
    return old


def _keyed(function: Any, rev: str) -> Any:
    def keyed(key: Any, *args: Any, **kwargs: Any) -> Any:
        return function((rev, key), *args, **kwargs)

    return keyed


def holders(new: types.ModuleType) -> list[tuple[Any, str, str | None]]:
    """(module, attribute, name in ``new`` or None for the module itself) of every loaded
    module of this checkout holding ``new`` or one of its functions or classes."""
    mine = {id(v): k for k, v in vars(new).items() if getattr(v, "__module__", "") == new.__name__}
    found = []
    for module in list(sys.modules.values()):
        if module is new or not str(getattr(module, "__file__", "")).startswith(str(ROOT)):
            continue
        for attr, value in list(vars(module).items()):
            if value is new:
                found.append((module, attr, None))
            elif id(value) in mine:
                found.append((module, attr, mine[id(value)]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--url", default=bench_pages.DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("pages", nargs="+", help="USER:PATH")
    args = parser.parse_args()
    pages = [tuple(p.split(":", 1)) for p in args.pages]
    app = bench_pages.build_app(args.url)
    new = importlib.import_module(args.module)
    old = earlier(args.module, args.rev)
    held = holders(new)

    def use(module: types.ModuleType) -> None:
        for holder, attr, name in held:
            setattr(holder, attr, module if name is None else getattr(module, name))

    clients = {user: bench_pages.login(app, user) for user, _ in pages}
    bare = app.test_client()
    times: dict[tuple[str, str, str], list[float]] = {
        (user, path, which): [] for user, path in pages for which in ("old", "new")
    }
    bare_times: list[float] = []
    for round_ in range(args.rounds + 2):  # two rounds to warm up, not counted
        order = [("old", old), ("new", new)][:: 1 if round_ % 2 else -1]
        for user, path in pages:
            for which, module in order:
                use(module)
                start = time.process_time()
                status = clients[user].get(path).status_code
                if round_ >= 2:
                    times[(user, path, which)].append(time.process_time() - start)
                assert status == 200, (which, user, path, status)
        for _ in range(3):
            start = time.process_time()
            bare.get(bench_pages.BARE)
            if round_ >= 2:
                bare_times.append(time.process_time() - start)
    use(new)
    floor = statistics.median(bare_times)
    print(f"{args.module} at {args.rev} (old) and here (new) on {args.url}; CPU ms, median")
    print(f"bare route {floor * 1000:.3f} ms\n")
    print("| user | page | old | × bare | new | × bare | new / old |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for user, path in pages:
        a, b = (statistics.median(times[(user, path, w)]) for w in ("old", "new"))
        print(
            f"| {user} | {path} | {a * 1000:.2f} | {a / floor:.1f} | {b * 1000:.2f} |"
            f" {b / floor:.1f} | {b / a:.3f} |"
        )


if __name__ == "__main__":
    main()
