"""Webhook endpoints (from packs and admins) and their deliveries, as admins see them."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any
from urllib.parse import urlsplit

from peewee import JOIN, fn

from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.events import unknown_pattern
from engine.core.i18n import gettext as _
from engine.org.actors import Actor, admin_paths, is_district_admin
from engine.store.db import database
from engine.store.models import Delivery, DeliveryAttempt, OrgNode, OutboxMessage, WebhookEndpoint
from engine.trail import audit

STATUSES = ("pending", "retrying", "delivered", "dead")
KEY = re.compile(r"^[a-z][a-z0-9_-]{0,79}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,119}$")


def _public(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint for the audit trail: never its secret."""
    return {
        "url": endpoint.url,
        "events": endpoint.events,
        "secret_env": endpoint.secret_env,
        "has_secret": bool(endpoint.secret),
        "active": endpoint.active,
        "pack": endpoint.pack,
        "scope": endpoint.scope_path,
        "personal": endpoint.personal,
    }


# Who administers webhooks where. An admin granted at a node (a street's 三方办) sees,
# adds and reads the deliveries of endpoints that listen inside that node's subtree;
# the district's admins (granted at the root) see every endpoint, the pack's included.
# Only they may let an endpoint receive personal data.


def administers(actor: Actor, endpoint: WebhookEndpoint) -> bool:
    """Whether ``actor`` may see and change ``endpoint`` and its deliveries."""
    if is_district_admin(actor):
        return True
    return endpoint.scope_path is not None and any(
        endpoint.scope_path.startswith(path) for path in admin_paths(actor)
    )


def scope_choices(actor: Actor) -> list[OrgNode]:
    """Nodes ``actor`` may scope an endpoint to: its admin nodes and the areas under them
    (streets and communities); the district admin's first choice is the whole district."""
    paths = admin_paths(actor)
    if not paths:
        return []
    under = reduce(operator.or_, [OrgNode.path.startswith(p) for p in paths])
    kinds = ("district", "street", "community")
    rows = OrgNode.select().where(under & OrgNode.kind.in_(kinds)).order_by(OrgNode.path)
    return list(rows)


def sync_pack_endpoints(
    pack_key: str, specs: Sequence[Mapping[str, Any]], *, now: dt.datetime
) -> None:
    """Create or update the pack's endpoints; those it no longer lists are disabled.

    A pack's endpoints listen to the whole district; ``"personal": true`` lets one
    receive personal data.

    An admin's enable/disable of a pack endpoint survives reloading the pack.
    """
    listed = set()
    for spec in specs:
        listed.add(spec["key"])
        fields = {
            "url": spec["url"],
            "events": list(spec["events"]),
            "secret_env": spec["secret_env"],
            "description": spec.get("description", ""),
            "pack": pack_key,
            "updated_at": now,
            "personal": bool(spec.get("personal", False)),
        }
        found = WebhookEndpoint.get_or_none(WebhookEndpoint.key == spec["key"])
        if found is None:
            WebhookEndpoint.create(key=spec["key"], active=spec.get("active", True), **fields)
        else:
            WebhookEndpoint.update(**fields).where(WebhookEndpoint.id == found.id).execute()
    WebhookEndpoint.update(active=False, updated_at=now).where(
        (WebhookEndpoint.pack == pack_key) & WebhookEndpoint.key.not_in(listed or {""})
    ).execute()


def _scope(actor: Actor, form: Mapping[str, Any], problems: list[FieldProblem]) -> OrgNode | None:
    """The node the endpoint will listen at (None: the whole district)."""
    key = form.get("scope") or ""
    if not key:
        if not is_district_admin(actor):
            problems.append(FieldProblem("scope", _("Choose the area whose events it receives.")))
        return None
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None or node.id not in {n.id for n in scope_choices(actor)}:
        problems.append(FieldProblem("scope", _("You may not subscribe to events of this area.")))
        return None
    return node if node.parent_id is not None else None


def _problems(form: Mapping[str, Any], endpoint: WebhookEndpoint | None) -> list[FieldProblem]:
    problems = []
    if endpoint is None and not KEY.match(form.get("key") or ""):
        problems.append(
            FieldProblem("key", _("Lower-case letters, digits, - and _; starting with a letter."))
        )
    parts = urlsplit(form.get("url") or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(FieldProblem("url", _("An http:// or https:// address.")))
    events = form.get("events") or []
    if not events:
        problems.append(FieldProblem("events", _("Choose at least one event.")))
    for pattern in events:
        if unknown_pattern(pattern):
            problems.append(
                FieldProblem("events", _("No event is called %(name)s.") % {"name": pattern})
            )
    env = form.get("secret_env") or ""
    if env and not ENV_NAME.match(env):
        problems.append(
            FieldProblem(
                "secret_env",
                _("An environment variable name in upper case, like SANFANG_WEBHOOK_SECRET."),
            )
        )
    has_secret = form.get("secret") or env or (endpoint is not None and endpoint.secret)
    if not has_secret:
        problems.append(
            FieldProblem("secret", _("Enter a secret or the environment variable that holds it."))
        )
    return problems


def save_endpoint(
    actor: Actor, key: str | None, form: Mapping[str, Any], *, now: dt.datetime
) -> WebhookEndpoint:
    """Create (``key`` None) or edit an admin-made endpoint; a blank secret keeps the old one.

    :raises Invalid: a field is wrong (paths are the form's field names).
    :raises Conflict: the key is taken.
    :raises Forbidden: the endpoint comes from a pack (edit the pack instead).
    """
    endpoint = None if key is None else endpoint_by_key(actor, key)
    if endpoint is not None and endpoint.pack:
        raise Forbidden(
            _("This endpoint comes from pack %(pack)s; change it there.") % {"pack": endpoint.pack}
        )
    problems = _problems(form, endpoint)
    scope = _scope(actor, form, problems)
    personal = bool(form.get("personal"))
    if personal and not is_district_admin(actor):
        problems.append(
            FieldProblem(
                "personal",
                _("Only the district's administrators may send personal data to a receiver."),
            )
        )
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
        endpoint.scope = scope
        endpoint.scope_path = scope.path if scope is not None else None
        endpoint.personal = personal
        if form.get("secret"):
            endpoint.secret = form["secret"]
        endpoint.updated_at = now
        endpoint.save()
        audit.record(
            "webhook.save",
            at=now,
            actor=actor.user,
            target=f"webhook:{endpoint.key}",
            before=before,
            after=_public(endpoint),
        )
    return endpoint


def set_active(actor: Actor, key: str, active: bool, *, now: dt.datetime) -> WebhookEndpoint:
    """Enable or disable an endpoint; a disabled one keeps its queue until enabled again."""
    with database.atomic():
        endpoint = endpoint_by_key(actor, key)
        before = endpoint.active
        WebhookEndpoint.update(active=active, updated_at=now).where(
            WebhookEndpoint.id == endpoint.id
        ).execute()
        audit.record(
            "webhook.enable" if active else "webhook.disable",
            at=now,
            actor=actor.user,
            target=f"webhook:{key}",
            before={"active": before},
            after={"active": active},
        )
    return endpoint_by_key(actor, key)


def endpoint_by_key(actor: Actor, key: str) -> WebhookEndpoint:
    """An endpoint ``actor`` administers.

    :raises NotFound: no such endpoint, or one outside the actor's reach (no existence leak).
    """
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.key == key)
    if endpoint is None or not administers(actor, endpoint):
        raise NotFound(_("Webhook endpoint %(key)s does not exist.") % {"key": key})
    return endpoint


def endpoints_with_counts_for(endpoint: WebhookEndpoint) -> dict[str, int]:
    """The endpoint's number of deliveries per status."""
    counts = dict.fromkeys(STATUSES, 0)
    rows = (
        Delivery.select(Delivery.status, fn.COUNT(Delivery.id))
        .where(Delivery.endpoint == endpoint)
        .group_by(Delivery.status)
        .tuples()
    )
    counts.update(dict(rows))
    return counts


def endpoints_with_counts(actor: Actor) -> list[tuple[WebhookEndpoint, dict[str, int]]]:
    """The endpoints ``actor`` administers with their deliveries per status (one grouped query)."""
    endpoints = [
        e
        for e in WebhookEndpoint.select(WebhookEndpoint, OrgNode)
        .join(OrgNode, JOIN.LEFT_OUTER)
        .order_by(WebhookEndpoint.key)
        if administers(actor, e)
    ]
    counts: dict[int, dict[str, int]] = {}
    if endpoints:
        rows = (
            Delivery.select(Delivery.endpoint, Delivery.status, fn.COUNT(Delivery.id))
            .where(Delivery.endpoint.in_([e.id for e in endpoints]))
            .group_by(Delivery.endpoint, Delivery.status)
            .tuples()
        )
        for endpoint_id, status, count in rows:
            counts.setdefault(endpoint_id, dict.fromkeys(STATUSES, 0))[status] = count
    return [(e, counts.get(e.id, dict.fromkeys(STATUSES, 0))) for e in endpoints]


def deliveries(
    endpoint: WebhookEndpoint, status: str | None = None, limit: int = 100
) -> list[Delivery]:
    """The endpoint's newest deliveries, optionally of one status."""
    query = (
        Delivery.select(Delivery, OutboxMessage)
        .join(OutboxMessage)
        .where(Delivery.endpoint == endpoint)
    )
    if status in STATUSES:
        query = query.where(Delivery.status == status)
    return list(query.order_by(Delivery.id.desc()).limit(limit))


def delivery_detail(actor: Actor, delivery_id: int) -> tuple[Delivery, list[DeliveryAttempt]]:
    """A delivery to an endpoint ``actor`` administers, and every attempt of it, oldest first.

    :raises NotFound: no such delivery, or one to an endpoint outside the actor's reach.
    """
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or not administers(actor, delivery.endpoint):
        raise NotFound(_("Delivery %(id)s does not exist.") % {"id": delivery_id})
    attempts = list(delivery.attempt_rows.order_by(DeliveryAttempt.at, DeliveryAttempt.id))
    return delivery, attempts


def retry(actor: Actor, delivery_id: int, *, now: dt.datetime) -> Delivery:
    """Send a dead delivery again, with a fresh series of attempts (audited).

    :raises Conflict: the delivery is not dead.
    """
    with database.atomic():
        delivery, _attempts = delivery_detail(actor, delivery_id)
        won = (
            Delivery.update(
                status="retrying",
                attempts=0,
                next_attempt_at=now,
                claimed_by=None,
                claimed_until=None,
            )
            .where((Delivery.id == delivery_id) & (Delivery.status == "dead"))
            .execute()
        )
        if not won:
            raise Conflict(_("Only a dead delivery can be retried by hand."))
        audit.record(
            "delivery.retry",
            at=now,
            actor=actor.user,
            target=f"delivery:{delivery_id}",
            before={"status": "dead", "attempts": delivery.attempts},
            after={"status": "retrying"},
        )
    return Delivery.get_by_id(delivery_id)
