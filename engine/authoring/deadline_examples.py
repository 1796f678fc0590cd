"""A worked example of one deadline (到期示例), so an admin sees what 工作时 and 自然时 mean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.core import clock
from engine.workflow.deadlines import calendar_for
from engine.workflow.kernel import deadline_calendar

EXAMPLE_TIME = dt.time(17, 37)  # late in the working day: where the two kinds differ most


def example(
    definition_id: int,
    body: Mapping[str, Any],
    spec: Mapping[str, Any],
    hours: float | None,
    *,
    now: dt.datetime,
    table: Mapping[str, Any] | None = None,
) -> tuple[dt.datetime, dt.datetime] | None:
    """(start, due) in local time for a deadline of ``hours`` set today at 17:37 on the calendar
    ``spec`` (a state or a routing rule) runs on; None without hours.

    :param now: naive UTC; only its local date is used.
    """
    if not hours:
        return None
    today = clock.local(now)
    assert today is not None
    start_local = dt.datetime.combine(today.date(), EXAMPLE_TIME, tzinfo=clock.LOCAL)
    start = start_local.astimezone(dt.UTC).replace(tzinfo=None)
    calendar = deadline_calendar(calendar_for(definition_id, body, table), spec)
    due = calendar.due(start, hours)
    assert due is not None
    return start_local, clock.local(due) or start_local
