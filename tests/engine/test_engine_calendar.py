"""The working-day calendar (工作日历): weekends, holidays, make-up workdays, office hours."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from engine.authoring.packs import read_pack, validate_pack
from engine.core.calendar import NATURAL, Calendar, spec_problems
from engine.workflow import items

SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"
SEED_CALENDAR = json.loads((SEED / "pack.json").read_text("utf-8"))["calendar"]
WORKDAYS = Calendar.from_spec({**SEED_CALENDAR, "office_hours": None})
OFFICE = Calendar.from_spec(SEED_CALENDAR)  # 09:00-17:30


def utc(local: str) -> dt.datetime:
    """A Shanghai wall-clock time as the naive UTC the engine stores."""
    return dt.datetime.fromisoformat(local) - dt.timedelta(hours=8)


def test_natural_hours_run_through_weekends_and_holidays():
    assert Calendar.from_spec(None) is NATURAL
    assert Calendar.from_spec({"kind": "natural"}).due(utc("2026-10-01T10:00"), 24) == utc(
        "2026-10-02T10:00"
    )
    assert NATURAL.due(utc("2026-10-01T10:00"), None) is None


def test_whole_working_days_skip_the_weekend():
    # Friday 20:00 + 8 hours: 4 on Friday, then nothing until Monday 00:00.
    assert WORKDAYS.due(utc("2026-11-27T20:00"), 8) == utc("2026-11-30T04:00")


def test_office_hours_span_days_and_skip_the_weekend():
    # Friday 16:00 + 4 office hours: 1.5 on Friday, 2.5 on Monday morning.
    assert OFFICE.due(utc("2026-11-27T16:00"), 4) == utc("2026-11-30T11:30")
    # Raised in the night: the clock starts at the next opening.
    assert OFFICE.due(utc("2026-11-25T22:00"), 2) == utc("2026-11-26T11:00")
    # Using up the day exactly ends at the close, not the next morning.
    assert OFFICE.due(utc("2026-11-26T13:30"), 4) == utc("2026-11-26T17:30")
    # 17 office hours = two full days.
    assert OFFICE.due(utc("2026-11-24T09:00"), 17) == utc("2026-11-25T17:30")


def test_spring_festival_holiday_and_its_make_up_workdays():
    # Friday 13 Feb 2026, 16:00 + 4 office hours: Saturday 14 Feb is a make-up
    # workday (调休上班), so the deadline falls on it, not after the holiday.
    assert OFFICE.due(utc("2026-02-13T16:00"), 4) == utc("2026-02-14T11:30")
    # From the make-up Saturday's close, the holiday 15-23 Feb counts nothing.
    assert OFFICE.due(utc("2026-02-14T17:00"), 2) == utc("2026-02-24T10:30")
    assert not OFFICE.is_workday(dt.date(2026, 2, 16)) and OFFICE.is_workday(dt.date(2026, 2, 14))
    # Saturday 28 Feb is a make-up workday too; Sunday 1 March is not.
    assert OFFICE.due(utc("2026-02-27T17:00"), 1) == utc("2026-02-28T09:30")


def test_national_day_holiday_with_the_make_up_sunday_before_it():
    # 20 Sep (Sunday) is worked; 1-7 Oct are holidays; 10 Oct (Saturday) is worked.
    assert WORKDAYS.due(utc("2026-09-19T12:00"), 12) == utc("2026-09-20T12:00")
    assert OFFICE.due(utc("2026-09-30T17:00"), 1) == utc("2026-10-08T09:30")
    assert OFFICE.is_workday(dt.date(2026, 10, 10))


def test_lunch_break_periods():
    calendar = Calendar.from_spec(
        {"kind": "workdays", "office_hours": [["08:30", "12:00"], ["13:30", "17:00"]]}
    )
    assert calendar.due(utc("2026-11-26T11:00"), 2) == utc("2026-11-26T14:30")


def test_before_walks_back_over_closed_time():
    # One office hour before Monday 09:30 is Friday 17:00.
    assert OFFICE.before(utc("2026-11-30T09:30"), 1) == utc("2026-11-27T17:00")
    assert NATURAL.before(utc("2026-11-30T09:30"), 1) == utc("2026-11-30T08:30")


def test_working_hours_between():
    assert OFFICE.working_hours(utc("2026-11-27T16:00"), utc("2026-11-30T11:30")) == pytest.approx(
        4
    )
    assert OFFICE.working_hours(utc("2026-11-30T11:30"), utc("2026-11-27T16:00")) == 0


@pytest.mark.parametrize(
    "spec, path",
    [
        ({"kind": "workdays", "holidays": ["2026-02-30"]}, "/holidays/0"),
        (
            {"kind": "workdays", "holidays": [{"from": "2026-02-23", "to": "2026-02-15"}]},
            "/holidays/0",
        ),
        (
            {
                "kind": "workdays",
                "holidays": [{"from": "2026-02-14", "to": "2026-02-16"}],
                "workdays": ["2026-02-14"],
            },
            "/workdays/0",
        ),
        ({"kind": "workdays", "office_hours": ["17:30", "09:00"]}, "/office_hours"),
        (
            {"kind": "workdays", "office_hours": [["08:00", "12:00"], ["11:00", "17:00"]]},
            "/office_hours/1",
        ),
        ({"kind": "workdays", "weekend": [1, 2, 3, 4, 5, 6, 7]}, "/weekend"),
    ],
)
def test_calendar_mistakes_have_paths(spec, path):
    assert [p for p, _ in spec_problems(spec)] == [path]


def test_pack_calendar_mistakes_are_reported_with_pack_paths(tmp_path):
    shutil.copytree(SEED, tmp_path / "pack")
    manifest = json.loads((tmp_path / "pack" / "pack.json").read_text("utf-8"))
    manifest["calendar"]["workdays"].append("2026-10-03")
    manifest["calendar"]["office_hours"] = ["9:00", "17:30"]
    (tmp_path / "pack" / "pack.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    problems = validate_pack(read_pack(tmp_path / "pack"))
    assert problems and all(p.startswith("pack.json/calendar/office_hours") for p in problems)
    manifest["calendar"]["office_hours"] = ["09:00", "17:30"]
    (tmp_path / "pack" / "pack.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    assert validate_pack(read_pack(tmp_path / "pack")) == [
        "pack.json/calendar/workdays/6: 2026-10-03 is listed both as a holiday and as a make-up workday"
    ]


def test_deadlines_of_items_and_summons_follow_the_pack_calendar(app, actor_of):
    friday_4pm = utc("2026-11-27T16:00")
    whistle = items.raise_item(
        actor_of("xifang"),
        "whistle",
        "lvzhouhuayuan",
        {"category": "违章搭建", "summary": "楼顶违章搭建", "urgency": "一般"},
        now=friday_4pm,
    )
    # State "whistled" 4 h and the department's report-in 4 h: office hours, over the weekend.
    assert whistle.due_at == utc("2026-11-30T11:30")
    summons = whistle.assignments.get()
    assert summons.report_due_at == utc("2026-11-30T11:30")
    # A repair runs on natural hours ("calendar": "natural"): property services never close.
    repair = items.raise_item(
        actor_of("xifang"),
        "repair",
        "lvzhouhuayuan",
        {"category": "水电", "location": "3幢", "description": "楼道灯不亮了请修"},
        now=friday_4pm,
    )
    assert repair.due_at == friday_4pm + dt.timedelta(hours=2)
