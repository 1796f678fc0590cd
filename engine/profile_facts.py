"""Facts from an org node's file, as its profile definition declares them (docs/facts.md).

Nothing here names a field: every field of the profile schema is a fact
(``profile.<field>``, labelled by its title), derived facts are JSON Logic rules in the
definition's ``facts`` section, and area facts are rules in its ``coverage`` section over
the per-area aggregates. Pure: no database, no clock.

- A field's fact is its value as filed: a boolean not filed is false; a number, text or
  choice not filed (or empty text) is null; a list of choices is the chosen options,
  any other list (rows, photos) the number of its entries.
- Each fact has an aggregate over the compounds of an area (``coverage.<key>``): the
  field's ``x-aggregate``, a derived fact's ``aggregate``, or the default for its type.
- Derived facts are evaluated in order over ``{"profile": …, "roles": […]}`` (null
  facts left out, so ``{"var": ["profile.x", 0]}`` defaults); each sees the ones before.
  Area facts likewise over ``{"coverage": …}``. A number they give is rounded to two
  decimals; a rule that fails gives null.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rules

AGGREGATES = ("sum", "mean", "share", "count", "options", "none")
# Names the coverage namespace gives itself: the number of compounds of the area.
RESERVED = ("compounds",)


@dataclass(frozen=True)
class Fact:
    """One fact of a file: a schema field (``rule`` None) or a derived fact."""

    key: str
    label: str
    aggregate: str
    weight: str | None = None  # for a weighted mean: the fact whose value weighs each compound
    options: tuple[Any, ...] = ()  # for ``options``: the choices counted
    value: Callable[[Any], Any] | None = None  # a field's normaliser
    rule: Callable[[Any], Any] | None = None  # a derived fact's compiled rule


@dataclass(frozen=True)
class AreaFact:
    key: str
    label: str
    rule: Callable[[Any], Any]


def _choices(prop: Mapping[str, Any]) -> tuple[Any, ...]:
    if "enum" in prop:
        return tuple(prop["enum"])
    if "oneOf" in prop:
        return tuple(c.get("const") for c in prop["oneOf"] if isinstance(c, Mapping))
    return ()


def field_default(prop: Mapping[str, Any]) -> str:
    """The aggregate a field has without ``x-aggregate``."""
    kind = prop.get("type")
    if kind == "boolean":
        return "share"
    if kind in ("integer", "number"):
        return "sum"
    if _choices(prop) or (kind == "array" and _choices(prop.get("items") or {})):
        return "options"
    if kind == "array":
        return "sum"
    return "count"


def _normaliser(prop: Mapping[str, Any]) -> Callable[[Any], Any]:
    kind = prop.get("type")
    if kind == "boolean":
        return lambda v: v is True
    if kind == "integer":
        return lambda v: int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    if kind == "number":
        return lambda v: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    if kind == "array":
        if _choices(prop.get("items") or {}):
            return lambda v: list(v) if isinstance(v, list) else None
        return lambda v: len(v) if isinstance(v, list) else None
    return lambda v: v if v not in (None, "") and not isinstance(v, list | dict) else None


def _split(spec: Any) -> tuple[str, str | None]:
    if isinstance(spec, Mapping):  # {"mean_by": "<fact>"}
        return "mean", str(spec["mean_by"])
    return str(spec), None


def _round(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def _safe(rule: Callable[[Any], Any], doc: Mapping[str, Any]) -> Any:
    try:
        return _round(rule(doc))
    except rules.RuleError:
        return None


class FileFacts:
    """The facts a profile definition declares; build once per definition version."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        props: Mapping[str, Any] = body["schema"].get("properties", {})
        found: list[Fact] = []
        for name, prop in props.items():
            aggregate, weight = _split(prop.get("x-aggregate", field_default(prop)))
            options = _choices(prop) or _choices(prop.get("items") or {})
            found.append(Fact(name, str(prop.get("title") or name), aggregate, weight, options,
                              value=_normaliser(prop)))
        for spec in body.get("facts", []):
            aggregate, weight = _split(spec.get("aggregate", "none"))
            found.append(Fact(spec["key"], spec["label"], aggregate, weight, tuple(spec.get("options", ())),
                              rule=rules.compile(spec["rule"])))
        self.facts = found
        self.coverage = [AreaFact(s["key"], s["label"], rules.compile(s["rule"])) for s in body.get("coverage", [])]

    def labels(self) -> dict[str, str]:
        """Every fact's label, fields first in schema order, then derived facts."""
        return {f.key: f.label for f in self.facts}

    def area_labels(self) -> dict[str, str]:
        return {a.key: a.label for a in self.coverage}

    def of_file(self, profile: Mapping[str, Any], roles: Sequence[str] = ()) -> dict[str, Any]:
        """The ``profile`` facts of one node from its file and the roles granted at it."""
        out: dict[str, Any] = {}
        present: dict[str, Any] = {}
        doc = {"profile": present, "roles": list(roles)}
        for fact in self.facts:
            if fact.value is not None:
                value = fact.value(profile.get(fact.key))
            else:
                assert fact.rule is not None
                value = _safe(fact.rule, doc)
            out[fact.key] = value
            if value is not None:
                present[fact.key] = value
        return out

    def of_area(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The ``coverage`` facts over the compounds of an area (their ``profile`` facts)."""
        out: dict[str, Any] = {"compounds": len(rows)}
        for fact in self.facts:
            if fact.aggregate != "none":
                out[fact.key] = _aggregate(fact, rows)
        present = {k: v for k, v in out.items() if v is not None}
        doc = {"coverage": present}
        for area in self.coverage:
            value = _safe(area.rule, doc)
            out[area.key] = value
            if value is not None:
                present[area.key] = value
        return out


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _aggregate(fact: Fact, rows: Sequence[Mapping[str, Any]]) -> Any:
    values = [r.get(fact.key) for r in rows]
    how = fact.aggregate
    if how == "share":  # percent true, of the compounds where it is known
        known = [v for v in values if v is not None]
        return _pct(sum(1 for v in known if v is True), len(known))
    if how == "count":  # compounds where it is filled (a boolean: true)
        return sum(1 for v in values if v is not None and v is not False)
    if how == "options":  # compounds per choice (a list of choices counts each)
        counts = dict.fromkeys(fact.options, 0)
        for v in values:
            for choice in (v if isinstance(v, list) else [v]):
                if choice in counts:
                    counts[choice] += 1
        return counts
    numbers = [v for v in values if _number(v)]
    if how == "sum":
        return _round(float(sum(numbers))) if any(isinstance(v, float) for v in numbers) else (
            sum(numbers) if numbers else None)
    if fact.weight is None:  # mean
        return round(sum(numbers) / len(numbers), 2) if numbers else None
    pairs = [(r.get(fact.key), r.get(fact.weight)) for r in rows if _number(r.get(fact.key))]
    weighed = [(v, w if _number(w) else 0) for v, w in pairs]
    total = sum(w for _, w in weighed)
    return round(sum(v * w for v, w in weighed) / total, 2) if total else None
