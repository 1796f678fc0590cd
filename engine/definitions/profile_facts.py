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

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rules

AGGREGATES = ("sum", "mean", "share", "count", "options", "none")
CACHE_LIMIT = (
    20_000  # files (and areas) whose facts a FileFacts remembers: a district has a few thousand
)
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
        return lambda v: (
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
        )
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
            found.append(
                Fact(
                    name,
                    str(prop.get("title") or name),
                    aggregate,
                    weight,
                    options,
                    value=_normaliser(prop),
                )
            )
        for spec in body.get("facts", []):
            aggregate, weight = _split(spec.get("aggregate", "none"))
            found.append(
                Fact(
                    spec["key"],
                    spec["label"],
                    aggregate,
                    weight,
                    tuple(spec.get("options", ())),
                    rule=rules.compile(spec["rule"]),
                )
            )
        self.facts = found
        self.coverage = [
            AreaFact(s["key"], s["label"], rules.compile(s["rule"]))
            for s in body.get("coverage", [])
        ]
        # Precomputed for speed: a refresh evaluates every compound's file and every area.
        self._fields = [(f.key, f.value) for f in found if f.value is not None]
        self._derived = [(f.key, f.rule) for f in found if f.rule is not None]
        self._contributors: list[Callable[[Mapping[str, Any]], Sequence[float]]] = []
        self._finishers: list[tuple[str, Callable[[Sequence[float]], Any]]] = []
        at = 0
        for fact in found:
            if fact.aggregate != "none":
                self._contributors.append(_contributor(fact))
                self._finishers.append((fact.key, _finisher(fact, at)))
                at += _width(fact)
        self._width = at
        # Files and areas rarely change between two refreshes of a long-running process:
        # the same file (and roles) gives the same facts, the same summed contributions
        # the same coverage. Bounded; cleared when full.
        self._files: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], list[float]]] = {}
        self._areas: dict[tuple[float, ...], dict[str, Any]] = {}

    def labels(self) -> dict[str, str]:
        """Every fact's label, fields first in schema order, then derived facts."""
        return {f.key: f.label for f in self.facts}

    def area_labels(self) -> dict[str, str]:
        return {a.key: a.label for a in self.coverage}

    def of_file(self, profile: Mapping[str, Any], roles: Sequence[str] = ()) -> dict[str, Any]:
        """The ``profile`` facts of one node from its file and the roles granted at it."""
        get = profile.get
        out = {key: value(get(key)) for key, value in self._fields}
        present = {k: v for k, v in out.items() if v is not None}
        doc = {"profile": present, "roles": list(roles)}
        for key, rule in self._derived:
            found = _safe(rule, doc)
            out[key] = found
            if found is not None:
                present[key] = found
        return out

    def of_compound(
        self, profile: Mapping[str, Any], roles: Sequence[str] = ()
    ) -> tuple[dict[str, Any], list[float]]:
        """:meth:`of_file` and its :meth:`contribution`, remembered for the same file and roles."""
        key = (json.dumps(profile, sort_keys=True, ensure_ascii=False, default=str), tuple(roles))
        found = self._files.get(key)
        if found is None:
            facts = self.of_file(profile, roles)
            found = (facts, self.contribution(facts))
            if len(self._files) >= CACHE_LIMIT:
                self._files.clear()
            self._files[key] = found
        return dict(found[0]), found[1]

    def contribution(self, row: Mapping[str, Any]) -> list[float]:
        """One compound's share of every aggregate (its ``profile`` facts), as numbers that add
        up: an area's aggregates come from the sum of its compounds' contributions."""
        return [x for contribute in self._contributors for x in contribute(row)]

    def of_area(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The ``coverage`` facts over the compounds of an area (their ``profile`` facts)."""
        return self.of_contributions([self.contribution(r) for r in rows])

    def of_contributions(self, parts: Sequence[Sequence[float]]) -> dict[str, Any]:
        """The ``coverage`` facts from the contributions of an area's compounds."""
        if len(parts) == 1:  # a compound covers itself
            summed: Sequence[float] = parts[0]
        else:
            summed = (
                [sum(column) for column in zip(*parts, strict=True)] if parts else [0] * self._width
            )
        key = (len(parts), *summed)
        if key in self._areas:
            return dict(self._areas[key])
        out = self._area(summed, len(parts))
        if len(self._areas) >= CACHE_LIMIT:
            self._areas.clear()
        self._areas[key] = out
        return dict(out)

    def _area(self, summed: Sequence[float], compounds: int) -> dict[str, Any]:
        out: dict[str, Any] = {"compounds": compounds}
        for key, finish in self._finishers:
            out[key] = finish(summed)
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


def _width(fact: Fact) -> int:
    return (
        {"share": 2, "count": 1, "sum": 3, "mean": 2}[fact.aggregate]
        if fact.aggregate != "options"
        else len(fact.options)
    )


def _contributor(fact: Fact) -> Callable[[Mapping[str, Any]], Sequence[float]]:
    """What one compound adds to the fact's aggregate, as numbers that add up over an area."""
    key, how, weight = fact.key, fact.aggregate, fact.weight
    if how == "share":  # true, known (a derived fact that is null is not known)
        return lambda row: (int(row.get(key) is True), int(row.get(key) is not None))
    if how == "count":  # filled (a boolean: true)
        return lambda row: (_filled(row.get(key)),)
    if how == "options":  # chosen, per option (a list of choices counts each)
        options = fact.options
        return lambda row: _chosen(row.get(key), options)
    if how == "sum":  # total, filed, filed as a fraction
        return lambda row: (
            (row[key], 1, int(isinstance(row[key], float))) if _number(row.get(key)) else (0, 0, 0)
        )
    if weight is None:  # mean: total, filed
        return lambda row: (row[key], 1) if _number(row.get(key)) else (0, 0)
    # weighted mean: value × weight, weight (a compound without a weight weighs 0)
    return lambda row: (
        (row[key] * _weight(row.get(weight)), _weight(row.get(weight)))
        if _number(row.get(key))
        else (0, 0)
    )


def _filled(value: Any) -> int:
    return int(value is not None and value is not False)


def _chosen(value: Any, options: tuple[Any, ...]) -> tuple[int, ...]:
    chosen = value if isinstance(value, list) else [value]
    return tuple(int(option in chosen) for option in options)


def _weight(value: Any) -> float:
    return value if _number(value) else 0


def _finisher(fact: Fact, i: int) -> Callable[[Sequence[float]], Any]:
    """The aggregate from the summed contributions, which start at ``i``."""
    how = fact.aggregate
    if how == "share":
        return lambda s: round(100 * s[i] / s[i + 1], 2) if s[i + 1] else None
    if how == "count":
        return lambda s: s[i]
    if how == "options":
        options = fact.options
        return lambda s: dict(zip(options, s[i : i + len(options)], strict=True))
    if how == "sum":
        return lambda s: None if not s[i + 1] else round(s[i], 2) if s[i + 2] else s[i]
    return lambda s: round(s[i] / s[i + 1], 2) if s[i + 1] else None
