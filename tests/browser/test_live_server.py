"""The browser tests' live server stops only when no request is running, and refuses the
requests that come after (a kept-alive connection still brings them): the database's
connections are closed next, and one closed under a running statement crashed the
process. A request whose client went away is over when its handler is: it does not hold
the stop."""

from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from typing import Any

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


def test_a_request_whose_client_went_away_does_not_hold_the_stop():
    """A browser that leaves a page resets its connections. werkzeug's handler, after it
    answered, reads on what the client sent (here a body the view did not read); the reset
    fails that read, and the handler ends without closing the response: the stop waited
    its whole 30 seconds for a request no thread was serving (four browser tests each run,
    two minutes of the suite)."""
    app = Flask(__name__)
    closed = threading.Event()

    @app.post("/form")
    def form() -> Any:
        response = app.make_response("done")
        response.call_on_close(closed.set)
        return response

    live = LiveServer(app, make_server("127.0.0.1", 0, app, threaded=True))
    live.start()
    client = socket.create_connection(("127.0.0.1", live.server.server_port), timeout=5)
    body = b"x" * 200_000
    head = f"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    client.sendall(head.encode() + body)
    answer = b""
    while not answer.endswith(b"done"):
        answer += client.recv(4096)
    time.sleep(0.1)  # the handler is reading on what it did not read
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # a reset, as a browser leaving the page sends
    begun = time.monotonic()
    live.stop()
    assert time.monotonic() - begun < 5  # 30 seconds before: the whole wait
    assert closed.is_set()  # the response was closed all the same
