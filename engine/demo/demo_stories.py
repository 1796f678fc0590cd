"""Demo stories: every demo item is one coherent case, told from the pack's demo.json.

A story picks a category the item type knows and a summary of that category; the
description, location and building, the whistle's note, the summoned units' replies,
the resolution and the owner's rating and comment all come from the same category's
case (``cases`` in demo.json), so an item about a blocked fire lane is answered by the
fire brigade about the fire lane. Every text is the pack's; Python only assembles.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import forms
from forms.specs import canonical

CASE_KEYS = ("unit", "also", "resolutions", "replies", "note", "decline", "descriptions")


class Teller:
    """Tells demo stories from the pack's pools; answers validated by the forms layer."""

    def __init__(
        self,
        rng: random.Random,
        pools: Mapping[str, Any],
        base: Callable[[Mapping[str, Any]], dict[str, Any]],
    ) -> None:
        """:param base: a validated answer set for a schema (the other fields come from it)."""
        self.rng, self.pools, self.base = rng, pools, base
        self.cases: Mapping[str, Any] = pools.get("cases", {})
        self.summaries: Mapping[str, list[str]] = pools.get("summaries", {})
        # Ratings fit the outcome: drawn from ``satisfaction`` when every step kept its
        # deadline, from ``satisfaction_late`` when one was late.
        self.ratings = {
            late: (
                [int(k) for k in weights],
                [float(v) for v in weights.values()],
            )
            for late, weights in (
                (False, pools.get("satisfaction") or {"5": 1}),
                (True, pools.get("satisfaction_late") or pools.get("satisfaction") or {"5": 1}),
            )
        }
        # How stories end (``outcomes``: resolved, declined, stalled → weight) and how fast
        # each step is taken (``pace``: a share of the state's deadline).
        outcomes = pools.get("outcomes") or {"resolved": 1}
        self.fates, self.fate_weights = list(outcomes), [float(v) for v in outcomes.values()]
        self.pace_spec: Mapping[str, Any] = pools.get("pace", {})
        self._valid: dict[str, dict[str, Any] | None] = {}
        # Which answer tells which part of a story (demo.json ``story_fields``: answer name →
        # category, rating, summary, description, location, building, note, decline,
        # resolution or comment).
        self.fields: Mapping[str, str] = pools.get("story_fields", {})
        # A building as the pack names it ("{n}幢"), found in a summary or a location.
        name = re.escape(str(pools.get("building_name", "{n}"))).replace(re.escape("{n}"), "{n}")
        self.building = re.compile(name.replace("{n}", r"[0-9]+"))

    def begin(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """A new story for an item of this form: its category, summary and setting."""
        props = schema.get("properties", {})
        prop = next(
            (props[n] for n, told in self.fields.items() if told == "category" and n in props), {}
        )
        known = [
            c
            for c in (prop.get("enum") or [o.get("const") for o in prop.get("oneOf", [])])
            if c in self.summaries
        ]
        category = (
            self.rng.choice(known) if known else self.rng.choice(list(self.summaries) or [""])
        )
        summary = self.rng.choice(self.summaries.get(category) or [""])
        location = self.rng.choice(self.pools.get("locations") or [""])
        mentioned = self.building.search(summary)
        if mentioned:
            location = self.building.sub(mentioned.group(0), location, count=1)
        building = mentioned or self.building.search(location)
        case = self.cases.get(category, {})
        template = self.rng.choice(
            case.get("descriptions") or self.pools.get("descriptions") or ["{summary}"]
        )
        return {
            "fate": self.rng.choices(self.fates, self.fate_weights)[0],
            "late": False,
            "category": category,
            "summary": summary,
            "location": location,
            "building": building.group(0) if building else "",
            "description": template.format(
                summary=summary, location=location, days=self.rng.randint(2, 20)
            ),
            "note": case.get("note", ""),
            "decline": case.get("decline", ""),
            "resolution": self.rng.choice(case.get("resolutions") or [""]),
            "replies": case.get("replies", {}),
            "unit": case.get("unit"),
            "also": case.get("also", []),
            "ratings": [],
            # any other list of texts a case has is a part of its story by that name (the
            # attendees of a mediation, its agreement), one drawn per story
            **{
                part: self.rng.choice(texts)
                for part, texts in case.items()
                if part not in CASE_KEYS
                and isinstance(texts, list)
                and texts
                and all(isinstance(t, str) for t in texts)
            },
        }

    def rating(self, story: dict[str, Any]) -> int:
        """The owner's next rating of this story (a low one sends the item back)."""
        ratings, weights = self.ratings[bool(story.get("late"))]
        value = self.rng.choices(ratings, weights)[0]
        if story["ratings"] and story["ratings"][-1] < 3:
            value = max(value, 3)  # handled again after a low rating: the second try mostly works
        story["ratings"].append(value)
        comments = self.pools.get("comments", {})
        story["comment"] = self.rng.choice(comments.get("low" if value <= 2 else "high") or [""])
        return value

    def pace(self) -> float:
        """How long the next step takes, as a share of its state's deadline: mostly well
        within it (``pace.on_time``, quick ones likelier), ``pace.late_share`` of the
        steps late (``pace.late``, above 1)."""
        if self.rng.random() < float(self.pace_spec.get("late_share", 0.0)):
            low, high = self.pace_spec.get("late", (1.05, 1.5))
            return self.rng.uniform(float(low), float(high))
        low, high = self.pace_spec.get("on_time", (0.05, 0.95))
        return float(low) + (float(high) - float(low)) * self.rng.random() ** 2

    def reply(self, story: Mapping[str, Any], role: str, unit: str) -> str:
        """What a summoned unit says it did, in its own words: the case's reply by that
        unit's key, else its role's reply when the case is that unit's own (the case's
        ``unit``) or the unit is a party of the compound, else the unit's own way of
        reporting the resolution (``unit_replies``)."""
        replies = story.get("replies", {})
        if unit in replies:
            return str(replies[unit])
        own = story.get("unit")
        template = self.pools.get("unit_replies", {}).get(unit)
        if role in replies and (own == unit or role != "department" or template is None):
            return str(replies[role])
        if template is not None:
            return str(template).format(resolution=story.get("resolution", ""))
        return str(story.get("resolution") or "")

    def answers(
        self,
        schema: Mapping[str, Any],
        story: dict[str, Any],
        fixed: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Answers to ``schema`` that tell ``story``; fields it says nothing of from ``base``.

        :param fixed: answers given outright (a platform's number, the day of the step).
        """
        answers = {**self.base(schema), **(fixed or {})}
        props = schema.get("properties", {})
        for name, prop in props.items():
            told = self.fields.get(name)
            if told == "category":
                # A form that does not know the case's category gets the case's next
                # best (``also``: a bell about litter is whistled as "other").
                known = prop.get("enum") or []
                told_as = [c for c in [story["category"], *story["also"]] if c in known]
                if told_as:
                    answers[name] = told_as[0]
            elif told == "rating":
                answers[name] = self.rating(story)
            elif told and prop.get("type") == "string" and story.get(told):
                answers[name] = str(story[told])[: int(prop.get("maxLength", 2000))]
        return self._validated(schema, answers)

    def _validated(self, schema: Mapping[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps([canonical(schema), answers], ensure_ascii=False, sort_keys=True)
        if key not in self._valid:
            cleaned, errors = forms.validate(schema, answers)
            self._valid[key] = None if errors else dict(cleaned)
        found = self._valid[key]
        return dict(found) if found is not None else dict(self.base(schema))
