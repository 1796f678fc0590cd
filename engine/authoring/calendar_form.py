"""The pack's working calendar (工作日历) edited as a form: holidays, make-up workdays, hours.

Deadlines on working hours read the pack's calendar (engine/workflow/deadlines.py); each year the
State Council publishes next year's holidays and make-up days, and an admin enters them
here instead of in pack.json. Saving validates like a pack load, is atomic and audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.core.errors import Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.checks import calendar_problems, structure_problems
from engine.store.db import database
from engine.store.models import Pack, User
from engine.trail import audit


def calendar_of(pack_key: str) -> dict[str, Any]:
    """The pack's calendar spec (natural hours when it has none). :raises NotFound:"""
    pack = Pack.get_or_none(Pack.key == pack_key)
    if pack is None:
        raise NotFound(f"pack {pack_key!r} does not exist")
    return dict(pack.calendar or {"kind": "natural"})


def save_calendar(by: User, pack_key: str, spec: Mapping[str, Any], *, now: dt.datetime) -> None:
    """Replace the pack's calendar.

    :raises NotFound: no such pack.
    :raises Invalid: the spec is not a calendar (paths under ``/calendar``), nothing saved.
    """
    before = calendar_of(pack_key)
    problems = [
        p._replace(path=f"/calendar{p.path}") for p in structure_problems(dict(spec), "calendar")
    ]
    if not problems:
        problems = calendar_problems(spec)
    if problems:
        raise Invalid(_("The calendar was not saved."), problems)
    with database.atomic():
        Pack.update(calendar=dict(spec)).where(Pack.key == pack_key).execute()
        audit.record(
            "pack.calendar",
            at=now,
            actor=by,
            target=f"pack:{pack_key}",
            before=before,
            after=dict(spec),
        )
