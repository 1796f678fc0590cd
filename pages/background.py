"""Work the app does on its own when configured: the webhook deliverer (BACKGROUND_DELIVERY)."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from engine.core import clock
from engine.delivery.deliver import Policy, deliver
from engine.store.db import database

log = logging.getLogger(__name__)


def start_delivery(app: Flask) -> threading.Thread:
    """Run the deliverer every ``DELIVERY_INTERVAL`` seconds in a daemon thread.

    Every app process may run one: rows are claimed, so none is sent twice.
    """
    policy = Policy.from_config(app.config)
    interval = float(app.config.get("DELIVERY_INTERVAL", 5))
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                with database.connection_context():
                    deliver(now=clock.now(), policy=policy)
            except Exception:  # keep the thread alive; the next round tries again
                log.exception("webhook delivery round failed")

    thread = threading.Thread(target=loop, name="sanfang-deliver", daemon=True)
    thread.start()
    app.extensions["sanfang_delivery_stop"] = stop
    return thread
