"""Fixtures for the browser tests: a live server with CSRF on, Debian's Chromium via Playwright.

The live server is the only app in these tests: the peewee proxy in engine/store/db.py is
process-global, so the `app`/`client` fixtures must not be mixed in. Its request
threads open their own connections (peewee keeps connection state per thread);
the test thread only touches the database inside `live_server.db()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import ClosingIterator

from engine.definitions.definitions import clear_runtime_cache
from engine.store.db import database
from tests.conftest import close_all

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


_BODY = "sanfang.live_server.body"  # in a counted request's environ: its response body


class _Closing(ClosingIterator):
    """A response body closed once, whoever closes it first (werkzeug or the handler)."""

    def close(self) -> None:
        if not getattr(self, "_closed", False):
            self._closed = True
            super().close()


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, telling the live server when a request is over."""

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            self.server.live_server.ended(getattr(self, "environ", {}))  # type: ignore[attr-defined]


class LiveServer:
    """The app served over HTTP on 127.0.0.1 in a background thread.

    Stopping it waits for the requests in flight, their responses sent and closed (a
    static file's left open failed a test as an unclosed file), and refuses new ones (a kept-alive
    connection can still bring one after the server stopped accepting): the pool's
    ``close_all`` afterwards closes connections in use by other threads, and a SQLite
    connection closed while a request thread ran a statement on it crashed the process
    (a segmentation fault in ``session_actor``, the browser still polling).

    A request is in flight until its handler returns, not until the server closes its
    response: werkzeug's handler, after answering, reads on what the client sent, and
    when the client reset the connection (a browser leaving the page) that read fails and
    the handler ends without closing the response. The stop then waited 30 seconds for a
    request nobody served; the handler closes such a response itself now.
    """

    def __init__(self, app: Flask, server: BaseWSGIServer) -> None:
        self.app = app
        self.server = server
        self.base = f"http://127.0.0.1:{server.server_port}"
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=server.serve_forever, name="live-server", daemon=True
        )
        self._busy = 0
        self._stopping = False
        self._idle = threading.Condition()
        inner = app.wsgi_app

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            with self._idle:
                if self._stopping:
                    start_response("503 Service Unavailable", [("Content-Length", "0")])
                    return [b""]
                self._busy += 1
            environ[_BODY] = None  # counted: its handler ends it (``ended``)
            environ[_BODY] = _Closing(inner(environ, start_response))
            return environ[_BODY]

        app.wsgi_app = counted
        server.RequestHandlerClass = _Handler
        server.live_server = self  # type: ignore[attr-defined]

    def ended(self, environ: dict[str, Any]) -> None:
        """A request's handler returned: its response closed (once), it is over."""
        if _BODY not in environ:  # refused, or not a request at all
            return
        try:
            if environ[_BODY] is not None:
                environ[_BODY].close()
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def url(self, path: str) -> str:
        return self.base + path

    @contextmanager
    def db(self) -> Iterator[None]:
        """A connection for the test thread itself (setting up data, checking it)."""
        with database.connection_context():
            yield

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        with self._idle:
            self._stopping = True
            self._idle.wait_for(lambda: self._busy == 0, timeout=30)
        self._thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh copy of the seeded database served with CSRF enabled, as in production."""
    from pages import create_app

    clear_runtime_cache()
    app = create_app(
        {
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": True,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveServer(app, server)

    def record(sender: Flask, exception: BaseException, **extra: Any) -> None:
        live.errors.append(exception)

    got_request_exception.connect(record, app)
    live.start()
    try:
        yield live
    finally:
        live.stop()
        got_request_exception.disconnect(record, app)
        close_all()
        clear_runtime_cache()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, launched once per module; never a downloaded browser."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; explicit waits time out fast."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def shot(page: Any, tmp_path: Path) -> Any:
    """Save a full-page screenshot of the current step under tmp_path/shots."""
    folder = tmp_path / "shots"
    folder.mkdir()
    count = 0

    def take(name: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page: Any, live_server: LiveServer) -> Any:
    """Log in through the real form (CSRF token included) and wait for the home page."""

    def log_in(username: str, password: str = "demo1234") -> None:
        page.goto(live_server.url("/login"))
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.locator("form:has(#password) button").click()
        assert "/login" not in page.url, f"login as {username} failed: {page.url}"

    return log_in
