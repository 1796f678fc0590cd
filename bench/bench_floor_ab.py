"""The seventh pass's changes to the shared layer measured in one process: each round
runs every page with the changes switched off (Jinja's context and globals, Flask's
session interface, Flask-Babel's parsing, peewee's column resolution, the headers' and
translations' former code) and on, in alternating order; prints the median CPU time of
each. On a machine shared with other work, switching in one process compares like with
like where separate runs of two trees differ by more than the change.

Run: .venv/bin/python bench/bench_floor_ab.py [--url sqlite:////tmp/pagecost.db] [--rounds 300]
[--all]  (``--all``: bench_pages.py's pages as well)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import ChainMap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import BARE, DEFAULT_URL, DEMO_ARGS, build_app, ensure_demo, login


def switches(app: Any) -> Any:
    """A function turning the pass's changes off (False) or on (True)."""
    import jinja2.runtime
    from flask.sessions import SecureCookieSessionInterface
    from flask_babel import gettext
    from jinja2 import pass_eval_context
    from markupsafe import Markup

    from engine.store import prepared
    from pages import extensions, security
    from pages.templating import TemplateGlobals

    env = app.jinja_env
    ours = {
        "context": env.context_class,
        "sessions": app.session_interface,
        "locale": app.extensions["babel"].locale_selector,
        "resolved": prepared._RESOLVED_ONCE,
        "headers": app.after_request_funcs[None][0],
        "gettext": env.globals["_"],
    }

    def old_headers(response: Any) -> Any:
        for name, value in security.HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @pass_eval_context
    def old_gettext(eval_ctx: Any, string: str, **variables: Any) -> str:
        rv = extensions._translations().ugettext(string)
        if eval_ctx.autoescape:
            rv = Markup(rv)
        if not variables and "%" not in rv:
            return rv
        return rv % variables  # type: ignore[no-any-return]

    theirs = {
        "context": jinja2.runtime.Context,
        "sessions": SecureCookieSessionInterface(),
        "locale": extensions.select_locale,
        "resolved": (),
        "headers": old_headers,
        "gettext": old_gettext,
    }
    assert gettext  # the Python side is unchanged by the switch

    def switch(on: bool) -> None:
        chosen = ours if on else theirs
        env.context_class = chosen["context"]
        app.session_interface = chosen["sessions"]
        app.extensions["babel"].locale_selector = chosen["locale"]
        prepared._RESOLVED_ONCE = chosen["resolved"]
        app.after_request_funcs[None][0] = chosen["headers"]
        env.globals["_"] = env.globals["gettext"] = chosen["gettext"]
        kind = TemplateGlobals if on else ChainMap
        for template in list(env.cache.values()) if env.cache is not None else []:
            template.globals = kind(*template.globals.maps)

    return switch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--all", action="store_true", help="every page of bench_pages.py too")
    args = parser.parse_args()
    ensure_demo(args.url, DEMO_ARGS)
    app = build_app(args.url)
    from flask import render_template

    from pages.auth import login_required

    app.add_url_rule("/_bench/login", "bench_login", login_required(lambda: "ok"))
    layout = login_required(lambda: render_template("base.html"))
    app.add_url_rule("/_bench/layout", "bench_layout", layout)
    from bench_pages import pages_by_user

    from engine.store.db import database

    with app.app_context():
        database.connect(reuse_if_open=True)
        pages = pages_by_user()
        database.close()
    item = pages["xifang"][3]
    cases = [
        (None, BARE),
        ("ducha", "/_bench/login"),
        ("ducha", "/_bench/layout"),
        ("xifang", "/notifications"),
        ("lvzhou-yezhu1", "/r/new/bell"),
        ("xifang", item),
        ("ducha", "/review/"),
    ]
    if args.all:
        cases[5:] = [(user, path) for user, paths in pages.items() for path in paths]
    clients = {user: login(app, user) if user else app.test_client() for user, _ in cases}
    switch = switches(app)
    for on in (False, True):
        switch(on)
        for user, path in cases:
            for _ in range(3):
                clients[user].get(path)
    samples: dict[tuple[bool, Any], list[float]] = {(on, c): [] for on in (0, 1) for c in cases}
    for r in range(args.rounds):
        for on in (False, True) if r % 2 else (True, False):
            switch(on)
            for case in cases:
                start = time.process_time()
                clients[case[0]].get(case[1])
                samples[(on, case)].append(time.process_time() - start)
    print(f"database: {args.url}; rounds: {args.rounds}; CPU ms per request (median)\n")
    print(
        "| user | page | off ms | × bare | on ms | × bare | change |\n|---|---|---:|---:|---:|---:|---:|"
    )
    bare = {on: statistics.median(samples[(on, cases[0])]) for on in (0, 1)}
    total = [0.0, 0.0]
    for case in cases:
        off, on = (statistics.median(samples[(o, case)]) for o in (0, 1))
        print(
            f"| {case[0] or '(anonymous)'} | {case[1]} | {off * 1000:.2f} | {off / bare[0]:.1f} "
            f"| {on * 1000:.2f} | {on / bare[1]:.1f} | {(on - off) * 1000:+.2f} |"
        )
        total = [total[0] + off * 1000, total[1] + on * 1000]
    print(f"\nsum: off {total[0]:.1f} ms, on {total[1]:.1f} ms")


if __name__ == "__main__":
    main()
