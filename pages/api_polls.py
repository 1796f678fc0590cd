"""/api/v1/polls — votes (表决) over the JSON API: open one, cast a ballot, read the result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, jsonify

from engine.core import clock
from engine.core.errors import FieldProblem, Invalid
from engine.decisions import ballots, polls
from engine.store.polls import Poll
from pages.api import body, bp


def _text(payload: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(f"{name} must be text", [FieldProblem(name, "expected a non-empty string")])
    return value


def _moment(payload: dict[str, Any], name: str) -> dt.datetime | None:
    value = payload.get(name)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid(
            f"{name} must be a time with a UTC offset",
            [
                FieldProblem(
                    name, "expected ISO 8601 with an offset, e.g. 2026-12-01T18:00:00+08:00"
                )
            ],
        )
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def poll_json(poll: Poll) -> dict[str, Any]:
    return {
        "id": poll.id,
        "definition": poll.definition.key,
        "definition_version": poll.version.number,
        "node": poll.node.key,
        "title": poll.title,
        "description": poll.description,
        "category": poll.category,
        "options": [{"key": o["key"], "label": o["label"]} for o in poll.options],
        "max_choices": poll.max_choices,
        "opens_at": clock.iso(poll.opens_at),
        "closes_at": clock.iso(poll.closes_at),
        "closed": poll.closed,
        "source": poll.source,
    }


def result_json(poll: Poll) -> dict[str, Any]:
    """The result: areas as decimal text in m², counts as integers, each share checked."""
    out = polls.result_of(poll)
    return {
        "poll": poll.id,
        "closed": poll.closed,
        "quorum": out["quorum"],
        "passed": out["passed"],
        "matter": out["matter"],
        "area": out["area"],
        "owners": out["owners"],
        "units": out["units"],
        "options": out["options"],
        "checks": out["checks"],
    }


@bp.route("/polls", methods=["POST"])
def create_poll() -> Any:
    payload = body()
    max_choices = payload.get("max_choices")
    options = payload.get("options")
    poll = polls.open_poll(
        g.actor,
        _text(payload, "definition"),
        _text(payload, "node"),
        _text(payload, "title"),
        category=_text(payload, "category"),
        description=_text(payload, "description", required=False),
        options=options if options is not None else None,
        max_choices=max_choices,
        closes_at=_moment(payload, "closes_at"),
        now=clock.now(),
    )
    return jsonify(poll_json(polls.get_poll(poll.id))), 201


@bp.route("/polls/<int:poll_id>")
def get_poll(poll_id: int) -> Any:
    return jsonify(poll_json(polls.visible(g.actor, poll_id)))


@bp.route("/polls/<int:poll_id>/ballots", methods=["POST"])
def cast_ballot(poll_id: int) -> Any:
    """An owner's ballot; with ``evidence`` (an uploaded photo's id) the committee's paper one."""
    payload = body()
    polls.visible(g.actor, poll_id)
    now = clock.now()
    if "evidence" in payload:
        ballot = ballots.enter_paper(
            g.actor,
            poll_id,
            payload.get("unit"),
            payload.get("choices"),
            evidence=_text(payload, "evidence"),
            proxy_name=_text(payload, "proxy_name", required=False),
            now=now,
        )
        cast = [ballot]
    else:
        unit = payload.get("unit")
        if unit is not None and (not isinstance(unit, int) or isinstance(unit, bool)):
            raise Invalid("unit must be an integer", [FieldProblem("unit", "expected an integer")])
        cast = ballots.cast(g.actor, poll_id, payload.get("choices"), unit_id=unit, now=now)
    return jsonify(
        {
            "ballots": [
                {
                    "unit": b.unit_id,
                    "choices": b.choices,
                    "channel": b.channel,
                    "cast_at": clock.iso(b.cast_at),
                    "changes": b.changes,
                }
                for b in cast
            ]
        }
    ), 201


@bp.route("/polls/<int:poll_id>/result")
def poll_result(poll_id: int) -> Any:
    return jsonify(result_json(polls.visible(g.actor, poll_id)))


@bp.route("/polls/<int:poll_id>/close", methods=["POST"])
def close_poll(poll_id: int) -> Any:
    polls.visible(g.actor, poll_id)
    poll = polls.close_poll(g.actor, poll_id, now=clock.now())
    return jsonify(result_json(poll))
