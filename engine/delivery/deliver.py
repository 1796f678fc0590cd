"""The deliverer: POST outbox rows to webhook endpoints, signed, retried with backoff.

Several deliverers may run at once (app processes, `sanfang deliver` from cron): each
claims rows before sending — ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional ``UPDATE`` on SQLite — and holds the claim for a lease, so a row is sent
by one of them; a deliverer that dies mid-send loses its lease and the row is sent
again later (receivers dedupe on ``X-Sanfang-Delivery``). Within one item and one
endpoint a row is sent only when every earlier row is delivered or dead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import random
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from engine.core import clock
from engine.store.db import backend, database
from engine.store.models import Delivery, DeliveryAttempt, OutboxMessage, WebhookEndpoint

OPEN = ("pending", "retrying")


@dataclass(frozen=True)
class Policy:
    """How hard to try: exponential backoff ``base * 2**(n-1)`` capped, plus jitter."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    jitter: float = 0.2  # up to this fraction added, so retries of many rows spread out
    max_attempts: int = 15  # then the delivery is dead (an admin may retry it by hand)
    timeout_seconds: float = 10.0
    lease_seconds: float = 120.0  # longer than a request can take
    batch: int = 20
    max_per_run: int = 1000

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        """A policy from app config keys ``WEBHOOK_<FIELD>`` (upper case), defaults otherwise."""
        names = cls.__dataclass_fields__
        return cls(
            **{
                n: type(getattr(cls, n))(config[f"WEBHOOK_{n.upper()}"])
                for n in names
                if f"WEBHOOK_{n.upper()}" in config
            }
        )


@dataclass
class Report:
    """What one run did."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, policy: Policy, rng: random.Random) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    delay = min(policy.cap_seconds, policy.base_seconds * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=delay * (1 + policy.jitter * rng.random()))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` — the X-Sanfang-Signature header."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _claimable(now: dt.datetime) -> Any:
    earlier = Delivery.alias("earlier")
    blocked = earlier.select(earlier.id).where(
        (earlier.endpoint == Delivery.endpoint)
        & (earlier.stream == Delivery.stream)
        & (earlier.id < Delivery.id)
        & earlier.status.in_(OPEN)
    )
    active = WebhookEndpoint.select(WebhookEndpoint.id).where(WebhookEndpoint.active)
    return (
        Delivery.status.in_(OPEN)
        & (Delivery.next_attempt_at <= now)
        & Delivery.endpoint.in_(active)
        & (Delivery.claimed_until.is_null() | (Delivery.claimed_until <= now))
        & ~fn.EXISTS(blocked)
    )


def claim(worker: str, *, now: dt.datetime, policy: Policy) -> list[int]:
    """Claim up to ``policy.batch`` deliveries that are due, oldest first, for ``worker``."""
    until = now + dt.timedelta(seconds=policy.lease_seconds)
    query = (
        Delivery.select(Delivery.id)
        .where(_claimable(now))
        .order_by(Delivery.id)
        .limit(policy.batch)
    )
    if backend().row_locks:
        with database.atomic():
            ids = [row.id for row in backend().for_update(query, skip_locked=True)]
            if ids:
                Delivery.update(claimed_by=worker, claimed_until=until).where(
                    Delivery.id.in_(ids)
                ).execute()
        return ids
    claimed: list[int] = []
    # Look past the batch: a deliverer that loses the race for the first rows takes the next ones.
    for row in list(query.limit(policy.batch * 4)):
        if len(claimed) == policy.batch:
            break
        # SQLite serialises writers: the first conditional UPDATE wins, the others match nothing.
        won = (
            Delivery.update(claimed_by=worker, claimed_until=until)
            .where(
                (Delivery.id == row.id)
                & Delivery.status.in_(OPEN)
                & (Delivery.claimed_until.is_null() | (Delivery.claimed_until <= now))
            )
            .execute()
        )
        if won:
            claimed.append(row.id)
    return claimed


def envelope(delivery: Delivery, message: OutboxMessage, endpoint: WebhookEndpoint) -> bytes:
    """The request body: the same bytes on every attempt of a delivery."""
    body = {
        "event": message.event,
        "delivery": delivery.id,
        "sequence": message.id,
        "occurred_at": clock.iso(message.created_at),
        "endpoint": endpoint.key,
        "data": message.payload,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def endpoint_secret(endpoint: WebhookEndpoint) -> str | None:
    """The admin-entered secret, else the one in the environment variable the pack names."""
    if endpoint.secret:
        return str(endpoint.secret)
    return os.environ.get(endpoint.secret_env) if endpoint.secret_env else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is a failure: the signed body is not re-sent elsewhere


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """POST once, directly (no proxy, no redirects): (HTTP status or None, error text)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65536)
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        with exc:
            text = exc.read(300).decode("utf-8", "replace")
        return int(exc.code), f"HTTP {exc.code}: {text}".strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:1000]


def attempt(
    delivery_id: int, worker: str, *, now: dt.datetime, policy: Policy, rng: random.Random
) -> str:
    """Send one claimed delivery and record the attempt; returns its new status."""
    delivery = Delivery.get_by_id(delivery_id)
    message, endpoint = delivery.message, delivery.endpoint
    body = envelope(delivery, message, endpoint)
    timestamp = str(int(now.replace(tzinfo=dt.UTC).timestamp()))
    secret = endpoint_secret(endpoint)
    started = time.monotonic()
    if not endpoint.active:
        code, error = None, "endpoint is disabled"
    elif secret is None:
        code, error = (
            None,
            f"no secret: environment variable {endpoint.secret_env or '-'} is not set",
        )
    else:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Sanfang-Webhook/1",
            "X-Sanfang-Event": message.event,
            "X-Sanfang-Delivery": str(delivery.id),
            "X-Sanfang-Timestamp": timestamp,
            "X-Sanfang-Signature": sign(secret, timestamp, body),
        }
        code, error = post(endpoint.url, body, headers, policy.timeout_seconds)
    duration = int((time.monotonic() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    if not ok and not error:
        error = f"HTTP {code}"
    return _record(delivery, worker, code, error, duration, ok, now=now, policy=policy, rng=rng)


def _record(
    delivery: Delivery,
    worker: str,
    code: int | None,
    error: str,
    duration: int,
    ok: bool,
    *,
    now: dt.datetime,
    policy: Policy,
    rng: random.Random,
) -> str:
    attempts = delivery.attempts + 1
    if ok:
        changes: dict[str, Any] = {"status": "delivered", "delivered_at": now, "last_error": ""}
    elif attempts >= policy.max_attempts:
        changes = {"status": "dead", "last_error": error}
    else:
        changes = {
            "status": "retrying",
            "last_error": error,
            "next_attempt_at": now + backoff(attempts, policy, rng),
        }
    with database.atomic():
        mine = (
            Delivery.update(
                attempts=attempts, last_status=code, claimed_by=None, claimed_until=None, **changes
            )
            .where((Delivery.id == delivery.id) & (Delivery.claimed_by == worker))
            .execute()
        )
        if mine:
            DeliveryAttempt.create(
                delivery=delivery.id,
                at=now,
                status_code=code,
                error=error[:2000],
                duration_ms=duration,
                worker=worker[:60],
            )
    return str(changes["status"]) if mine else "lost"


def deliver(
    *,
    now: dt.datetime,
    policy: Policy | None = None,
    worker: str | None = None,
    rng: random.Random | None = None,
) -> Report:
    """Send everything due at ``now``, each item's rows in order; return what happened.

    Rows that fail wait for their backoff, so one run never retries the same row twice.
    """
    policy = policy or Policy()
    worker = worker or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    rng = rng or random.Random()
    report, sent = Report(), 0
    while sent < policy.max_per_run:
        ids = claim(worker, now=now, policy=policy)
        if not ids:
            break
        for delivery_id in ids:
            status = attempt(delivery_id, worker, now=now, policy=policy, rng=rng)
            sent += 1
            if status in ("delivered", "retrying", "dead"):
                setattr(report, status, getattr(report, status) + 1)
    return report
