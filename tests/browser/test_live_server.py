"""The browser tests' live server stops only when no request is running, and refuses the
requests that come after (a kept-alive connection still brings them): the database's
connections are closed next, and one closed under a running statement crashed the
process."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

from flask import Flask
from werkzeug.serving import make_server

from tests.browser.conftest import LiveServer


def test_stopping_waits_for_the_request_in_flight_and_refuses_later_ones():
    app = Flask(__name__)
    started, finished = threading.Event(), threading.Event()

    @app.get("/slow")
    def slow() -> str:
        started.set()
        time.sleep(0.5)
        finished.set()
        return "done"

    live = LiveServer(app, make_server("127.0.0.1", 0, app, threaded=True))
    live.start()
    answers: list[bytes] = []
    request = threading.Thread(
        target=lambda: answers.append(urllib.request.urlopen(live.url("/slow")).read())
    )
    request.start()
    assert started.wait(5)
    live.stop()
    assert finished.is_set()  # stop() returned only after the request ended
    request.join(5)
    assert answers == [b"done"]

    # A request after the stop, as a kept-alive connection would bring it, reaches no view.
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/slow",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
    }
    statuses: list[str] = []
    body = app.wsgi_app(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["503 Service Unavailable"] and list(body) == [b""]
    finished.clear()
    try:
        urllib.request.urlopen(live.url("/slow"), timeout=1)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # the socket is closed: nothing served
    assert not finished.is_set()
