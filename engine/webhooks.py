"""Webhook endpoints (from packs and admins) and their deliveries, as admins see them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from peewee import fn

from engine import audit
from engine.actors import Actor
from engine.db import database
from engine.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.events import unknown_pattern
from engine.i18n import gettext as _
from engine.models import Delivery, DeliveryAttempt, OutboxMessage, WebhookEndpoint

STATUSES = ("pending", "retrying", "delivered", "dead")
KEY = re.compile(r"^[a-z][a-z0-9_-]{0,79}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,119}$")


def _public(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint for the audit trail: never its secret."""
    return {"url": endpoint.url, "events": endpoint.events, "secret_env": endpoint.secret_env,
            "has_secret": bool(endpoint.secret), "active": endpoint.active, "pack": endpoint.pack}


def sync_pack_endpoints(pack_key: str, specs: Sequence[Mapping[str, Any]], *, now: dt.datetime) -> None:
    """Create or update the pack's endpoints; those it no longer lists are disabled.

    An admin's enable/disable of a pack endpoint survives reloading the pack.
    """
    listed = set()
    for spec in specs:
        listed.add(spec["key"])
        fields = {"url": spec["url"], "events": list(spec["events"]), "secret_env": spec["secret_env"],
                  "description": spec.get("description", ""), "pack": pack_key, "updated_at": now}
        found = WebhookEndpoint.get_or_none(WebhookEndpoint.key == spec["key"])
        if found is None:
            WebhookEndpoint.create(key=spec["key"], active=spec.get("active", True), **fields)
        else:
            WebhookEndpoint.update(**fields).where(WebhookEndpoint.id == found.id).execute()
    WebhookEndpoint.update(active=False, updated_at=now).where(
        (WebhookEndpoint.pack == pack_key) & WebhookEndpoint.key.not_in(listed or {""})
    ).execute()


def _problems(form: Mapping[str, Any], endpoint: WebhookEndpoint | None) -> list[FieldProblem]:
    problems = []
    if endpoint is None and not KEY.match(form.get("key") or ""):
        problems.append(FieldProblem("key", _("Lower-case letters, digits, - and _; starting with a letter.")))
    parts = urlsplit(form.get("url") or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(FieldProblem("url", _("An http:// or https:// address.")))
    events = form.get("events") or []
    if not events:
        problems.append(FieldProblem("events", _("Choose at least one event.")))
    for pattern in events:
        if unknown_pattern(pattern):
            problems.append(FieldProblem("events", _("No event is called %(name)s.") % {"name": pattern}))
    env = form.get("secret_env") or ""
    if env and not ENV_NAME.match(env):
        problems.append(FieldProblem("secret_env", _("An environment variable name in upper case, like SANFANG_WEBHOOK_SECRET.")))
    has_secret = form.get("secret") or env or (endpoint is not None and endpoint.secret)
    if not has_secret:
        problems.append(FieldProblem("secret", _("Enter a secret or the environment variable that holds it.")))
    return problems


def save_endpoint(actor: Actor, key: str | None, form: Mapping[str, Any], *, now: dt.datetime) -> WebhookEndpoint:
    """Create (``key`` None) or edit an admin-made endpoint; a blank secret keeps the old one.

    :raises Invalid: a field is wrong (paths are the form's field names).
    :raises Conflict: the key is taken.
    :raises Forbidden: the endpoint comes from a pack (edit the pack instead).
    """
    endpoint = None if key is None else endpoint_by_key(key)
    if endpoint is not None and endpoint.pack:
        raise Forbidden(_("This endpoint comes from pack %(pack)s; change it there.") % {"pack": endpoint.pack})
    problems = _problems(form, endpoint)
    if problems:
        raise Invalid(_("Some answers need fixing."), problems)
    with database.atomic():
        before = _public(endpoint) if endpoint else None
        if endpoint is None:
            if WebhookEndpoint.get_or_none(WebhookEndpoint.key == form["key"]) is not None:
                raise Conflict(_("An endpoint %(key)s exists already.") % {"key": form["key"]})
            endpoint = WebhookEndpoint(key=form["key"])
        endpoint.url = form["url"]
        endpoint.events = list(form["events"])
        endpoint.secret_env = form.get("secret_env") or None
        endpoint.description = (form.get("description") or "")[:500]
        endpoint.active = bool(form.get("active", True))
        if form.get("secret"):
            endpoint.secret = form["secret"]
        endpoint.updated_at = now
        endpoint.save()
        audit.record("webhook.save", at=now, actor=actor.user, target=f"webhook:{endpoint.key}",
                     before=before, after=_public(endpoint))
    return endpoint


def set_active(actor: Actor, key: str, active: bool, *, now: dt.datetime) -> WebhookEndpoint:
    """Enable or disable an endpoint; a disabled one keeps its queue until enabled again."""
    with database.atomic():
        endpoint = endpoint_by_key(key)
        before = endpoint.active
        WebhookEndpoint.update(active=active, updated_at=now).where(WebhookEndpoint.id == endpoint.id).execute()
        audit.record("webhook.enable" if active else "webhook.disable", at=now, actor=actor.user,
                     target=f"webhook:{key}", before={"active": before}, after={"active": active})
    return endpoint_by_key(key)


def endpoint_by_key(key: str) -> WebhookEndpoint:
    """:raises NotFound: no such endpoint."""
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.key == key)
    if endpoint is None:
        raise NotFound(_("Webhook endpoint %(key)s does not exist.") % {"key": key})
    return endpoint


def endpoints_with_counts_for(endpoint: WebhookEndpoint) -> dict[str, int]:
    """The endpoint's number of deliveries per status."""
    counts = dict.fromkeys(STATUSES, 0)
    rows = (Delivery.select(Delivery.status, fn.COUNT(Delivery.id)).where(Delivery.endpoint == endpoint)
            .group_by(Delivery.status).tuples())
    counts.update(dict(rows))
    return counts


def endpoints_with_counts() -> list[tuple[WebhookEndpoint, dict[str, int]]]:
    """Every endpoint with its number of deliveries per status (one grouped query)."""
    counts: dict[int, dict[str, int]] = {}
    rows = (Delivery.select(Delivery.endpoint, Delivery.status, fn.COUNT(Delivery.id))
            .group_by(Delivery.endpoint, Delivery.status).tuples())
    for endpoint_id, status, count in rows:
        counts.setdefault(endpoint_id, dict.fromkeys(STATUSES, 0))[status] = count
    return [(e, counts.get(e.id, dict.fromkeys(STATUSES, 0)))
            for e in WebhookEndpoint.select().order_by(WebhookEndpoint.key)]


def deliveries(endpoint: WebhookEndpoint, status: str | None = None, limit: int = 100) -> list[Delivery]:
    """The endpoint's newest deliveries, optionally of one status."""
    query = (Delivery.select(Delivery, OutboxMessage).join(OutboxMessage)
             .where(Delivery.endpoint == endpoint))
    if status in STATUSES:
        query = query.where(Delivery.status == status)
    return list(query.order_by(Delivery.id.desc()).limit(limit))


def delivery_detail(delivery_id: int) -> tuple[Delivery, list[DeliveryAttempt]]:
    """A delivery and every attempt of it, oldest first.

    :raises NotFound: no such delivery.
    """
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None:
        raise NotFound(_("Delivery %(id)s does not exist.") % {"id": delivery_id})
    attempts = list(delivery.attempt_rows.order_by(DeliveryAttempt.at, DeliveryAttempt.id))
    return delivery, attempts


def retry(actor: Actor, delivery_id: int, *, now: dt.datetime) -> Delivery:
    """Send a dead delivery again, with a fresh series of attempts (audited).

    :raises Conflict: the delivery is not dead.
    """
    with database.atomic():
        delivery, _attempts = delivery_detail(delivery_id)
        won = Delivery.update(status="retrying", attempts=0, next_attempt_at=now,
                              claimed_by=None, claimed_until=None).where(
            (Delivery.id == delivery_id) & (Delivery.status == "dead")).execute()
        if not won:
            raise Conflict(_("Only a dead delivery can be retried by hand."))
        audit.record("delivery.retry", at=now, actor=actor.user, target=f"delivery:{delivery_id}",
                     before={"status": "dead", "attempts": delivery.attempts},
                     after={"status": "retrying"})
    return Delivery.get_by_id(delivery_id)
