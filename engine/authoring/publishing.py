"""Publishing a definition: validated whole, stored as a new immutable version, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.core.errors import Invalid
from engine.core.i18n import gettext as _
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import (
    current_version,
    digest,
    known_role_labels,
    known_units,
)
from engine.store.models import Definition, DefinitionVersion, Pack, User
from engine.trail import audit


def publish(
    pack: Pack,
    body: Mapping[str, Any],
    *,
    now: dt.datetime,
    by: User | None,
    roles: set[str] | None = None,
    units: set[str] | None = None,
) -> DefinitionVersion:
    """Validate ``body`` whole and publish it as the definition's newest version.

    Publishing an unchanged body returns the current version; a published version is
    never modified.

    :raises Invalid: with one field problem per mistake (JSON Pointer paths).
    """
    problems = definition_problems(
        body,
        roles=known_role_labels() if roles is None else roles,
        units=known_units() if units is None else units,
    )
    if problems:
        raise Invalid(
            _("%(name)s has mistakes") % {"name": body.get("name") or body.get("key")}, problems
        )
    definition = Definition.get_or_none(Definition.key == body["key"])
    if definition is None:
        definition = Definition.create(
            pack=pack, key=body["key"], kind=body["kind"], name=body["name"]
        )
    elif definition.current:
        current = current_version(definition)
        if current.digest == digest(body):
            return current
    number = definition.current + 1
    version = DefinitionVersion.create(
        definition=definition,
        number=number,
        body=dict(body),
        digest=digest(body),
        published_at=now,
        published_by=by,
    )
    definition.current = number
    definition.name = body["name"]
    definition.save()
    audit.record(
        "definition.publish",
        at=now,
        actor=by,
        target=f"definition:{definition.key}",
        after={"version": number, "digest": version.digest},
    )
    return version
