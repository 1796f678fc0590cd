"""Which calendar a deadline runs on: the pack's, unless an item type or table says natural.

Every deadline the engine sets (a state's ``hours``, a summons' ``report_hours`` and
``handle_hours``, an escalation step's offset) is computed here, so a pack that
switches to working days changes all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.core.calendar import NATURAL, Calendar
from engine.store.models import Definition, Pack


def pack_calendar(definition_id: int) -> Calendar:
    """The calendar of the pack that holds definition ``definition_id``."""
    row = (
        Pack.select(Pack.calendar)
        .join(Definition, on=(Definition.pack == Pack.id))
        .where(Definition.id == definition_id)
        .first()
    )
    return Calendar.from_spec(row.calendar if row is not None else None)


def calendar_for(
    definition_id: int, body: Mapping[str, Any], table: Mapping[str, Any] | None = None
) -> Calendar:
    """The calendar for an item type's deadlines, or for one of its routing tables'.

    ``"calendar": "natural"`` on the table, else on the item type, opts out of the
    pack's working-day calendar (emergencies and round-the-clock services run on
    natural hours); ``"pack"`` (the default) uses it.
    """
    choice = (table or {}).get("calendar") or body.get("calendar") or "pack"
    return NATURAL if choice == "natural" else pack_calendar(definition_id)
