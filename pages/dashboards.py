"""The tables of a dashboard: one definition serves the page and its Excel export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_date, get_translations
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from engine.core import clock, memo
from engine.metrics.dashboard import Dashboard, dimension_names, indicator_specs
from engine.org.shown import nodes_by_key
from engine.records.kpi import period_of
from pages.links import VARY, url_pattern
from pages.plainwords import gettext, people_date, people_times

STATUS_LABELS = {
    "met": _l("Met"),
    "unmet": _l("Not met"),
    "overdue": _l("Overdue"),
    "no_data": _l("No data"),
    "reported": _l("Reported by the responsible unit"),
    "achieved": _l("Achieved"),
    "missed": _l("Not achieved"),
}

REPORT_LABELS = {
    "reported": _l("Submitted"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned"),
}


def _(string: str) -> Markup:
    """A table's word in the reader's language, through the request's translations: as
    markup, as Flask-Babel's lazy strings were (a translation is not escaped)."""
    return Markup(gettext(string))


# Per message catalogue (the object itself kept, so its id is not reused), the table
# words translated so far: a catalogue does not change while the process runs.
_CATALOGS: dict[int, tuple[Any, dict[str, Markup]]] = {}


def _words() -> Callable[[str], Markup]:
    """``_`` for one table's words: the request's catalogue looked up once, each word
    translated once per process and catalogue."""
    catalogue = memo.memoized("translations", get_translations)
    entry = _CATALOGS.get(id(catalogue))
    if entry is None or entry[0] is not catalogue:
        if len(_CATALOGS) > 16:
            _CATALOGS.clear()  # bounded: one per language in use
        entry = _CATALOGS[id(catalogue)] = (catalogue, {})
    kept = entry[1]

    def word(string: str) -> Markup:
        found = kept.get(string)
        if found is None:
            found = kept[string] = Markup(catalogue.ugettext(string))
        return found

    return word


@dataclass
class Table:
    """Headers and rows; a cell is a value, or (value, url) for a link on the page."""

    key: str
    title: Any
    headers: list[Any]
    rows: list[list[Any]] = field(default_factory=list)

    def plain_rows(self) -> list[list[Any]]:
        return [[c[0] if isinstance(c, tuple) else c for c in row] for row in self.rows]

    def linked_rows(self) -> list[list[tuple[Any, str | None]]]:
        """Each cell as (value, url or None): the page tells links from values once here,
        not with three Jinja tests per cell."""
        return [
            [(c[0], c[1]) if isinstance(c, tuple) else (c, None) for c in row] for row in self.rows
        ]

    def html_headers(self) -> Markup:
        """The header cells, escaped here as ``html_rows``'s cells are."""
        return Markup("".join(f"<th>{_text(h)}</th>" for h in self.headers))

    def html_rows(self) -> Markup:
        """The table's rows as the page shows them (``review/_table.html``), escaped here:
        a Jinja loop over the cells cost a 50-row table about a millisecond."""
        return Markup(
            "".join(f"<tr>\n      {''.join(map(_cell, row))}\n    </tr>" for row in self.rows)
        )


def _cell(cell: Any) -> str:
    """One cell: a link for (value, url), '–' for no value (text and numbers first: a
    district's page has some five hundred cells)."""
    kind = type(cell)
    if kind is str:
        return f"<td>{_escaped(cell)}</td>"
    if kind is int or kind is float:
        return f"<td>{cell}</td>"
    if cell is None:
        return "<td>–</td>"
    if kind is tuple and cell[1] is not None:
        return f'<td><a href="{_text(cell[1])}">{_text(cell[0])}</a></td>'
    value = cell[0] if kind is tuple else cell
    return "<td>–</td>" if value is None else f"<td>{_text(value)}</td>"


def _escaped(text: str) -> str:
    """``markupsafe.escape`` of a plain ``str``, as text."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _text(value: Any) -> str:
    """``markupsafe.escape(value)`` as text, numbers without the Markup round trip."""
    kind = type(value)
    if kind is int or kind is float:
        return str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escaped(str(value))


def _get(doc: dict[str, Any] | None, path: str) -> Any:
    at: Any = doc or {}
    parts = _PARTS.get(path)
    if parts is None:
        parts = _PARTS[path] = tuple(path.split("."))  # the module's own paths: bounded
    for part in parts:
        at = at.get(part) if isinstance(at, dict) else None
    return at


_PARTS: dict[str, tuple[str, ...]] = {}


def overview(board: Dashboard) -> Table:
    _ = _words()
    doc = board.facts
    table = Table("overview", _("Key numbers"), [_("Measure"), _("Value")])
    for label, path in (
        (_("Items"), "items.total"),
        (_("Open"), "items.open"),
        (_("Overdue"), "items.overdue"),
        (_("Resolution rate (%)"), "items.resolution_rate"),
        (_("Median hours to resolve"), "items.hours_to_resolve.p50"),
        (_("90th percentile hours to resolve"), "items.hours_to_resolve.p90"),
        (_("Check-in on time (%)"), "summons.report_on_time_rate"),
        (_("Handled on time (%)"), "summons.done_on_time_rate"),
        (_("Satisfaction (1-5)"), "items.satisfaction.mean"),
        (_("Satisfied (%)"), "items.satisfaction.satisfied_rate"),
        (_("Reopen rate (%)"), "items.reopen_rate"),
    ):
        table.rows.append([label, _get(doc, path)])
    if board.score is not None:
        table.rows.append(
            [board.index.body["name"] if board.index else _("Index"), board.score.score]
        )
    return table


def units(board: Dashboard) -> Table:
    _ = _words()
    table = Table(
        "units",
        _("By unit"),
        [
            _("Name"),
            _("Items"),
            _("Open"),
            _("Overdue"),
            _("Resolution rate (%)"),
            _("Median hours to resolve"),
            _("Check-in on time (%)"),
            _("Satisfaction (1-5)"),
            _("Residents' accounts"),
            _("Index"),
            _("Rank"),
        ],
    )
    link = url_pattern("review.dashboard", key=VARY)
    for row in sorted(board.children, key=lambda r: r.rank or 10**6):
        doc = row.facts
        table.rows.append(
            [
                (row.node.name, link(key=row.node.key)),
                _get(doc, "items.total"),
                _get(doc, "items.open"),
                _get(doc, "items.overdue"),
                _get(doc, "items.resolution_rate"),
                _get(doc, "items.hours_to_resolve.p50"),
                _get(doc, "summons.report_on_time_rate"),
                _get(doc, "items.satisfaction.mean"),
                _get(doc, "residents.users"),
                row.score,
                row.rank or None,
            ]
        )
    return table


def lead_keys(board: Dashboard) -> list[str]:
    """The lead units' keys of the KPI table."""
    if not board.kpi:
        return []
    return [u for s in board.kpi[0][1] for u in s.row["lead"]]


def kpi_table(board: Dashboard) -> Table | None:
    _ = _words()
    if not board.kpi:
        return None
    version, statuses, _counts = board.kpi[0]
    names = {key: n.name for key, n in nodes_by_key(lead_keys(board)).items()}
    period = period_label(version.body)
    title = f"{version.body['name']} · {period}" if period else version.body["name"]
    frozen_at = board.kpi_frozen_at.get(version.body["key"])
    if frozen_at is not None:  # an ended list: the figures as its period ended
        title = f"{title} · {gettext('figures as of %(day)s', day=people_date(frozen_at))}"
    table = Table(
        "kpi",
        title,
        [
            _("No."),
            _("Task"),
            _("Target"),
            _("Lead unit"),
            _("Responsible units"),
            _("Deadline"),
            _("Value at the period's end") if frozen_at is not None else _("Current value"),
            _("Status"),
            _("Latest report"),
            _("Reported or reviewed by"),
            _("At"),
            _("Return reason"),
        ],
    )
    reports = board.kpi_reports.get(version.body["key"], {})
    statuses_words, report_words = _status_words()
    for s in statuses:
        row = s.row
        found = reports.get(row["key"]) if s.status == "reported" else None
        local = clock.local(found.at) if found else None
        table.rows.append(
            [
                row["no"],
                row["content"],
                row.get("target", ""),
                row.get("lead_text") or "、".join(names.get(u, u) for u in row["lead"]),
                "、".join(row.get("responsible", [])),
                row.get("deadline_text") or row["deadline"],
                measured_value(s),
                statuses_words[s.status],
                f"{report_words[found.state]} · {found.unit}" if found else None,
                found.by if found else None,
                local.strftime("%Y-%m-%d %H:%M") if local else None,
                (found.reason or None) if found else None,
            ]
        )
    return table


def _status_words() -> tuple[dict[str, str], dict[str, str]]:
    """The KPI table's status and report words, translated once per request (the
    table's rows translated them per row)."""
    return memo.memoized(
        "dashboard status words",
        lambda: tuple({k: str(v) for k, v in d.items()} for d in (STATUS_LABELS, REPORT_LABELS)),
    )


def period_label(body: dict[str, Any]) -> str:
    """A KPI list's period as people say it: 2021年度, or its first and last day."""
    period = period_of(body)
    if period is None:
        return ""
    if period.year is not None:
        return gettext("%(year)s (year)", year=period.year)
    return gettext(
        "%(start)s to %(end)s",
        start=format_date(period.start, "long"),
        end=format_date(period.end, "long"),
    )


def measured_value(status: Any) -> Any:
    """A row's measured value: the number, or each target's value when it has several."""
    if len(status.parts) < 2:
        return status.value
    return "; ".join(
        f"{p.label} {'–' if p.value is None else f'{p.value:g}'}{p.unit}" for p in status.parts
    )


def usage(board: Dashboard) -> Table | None:
    """How residents use their channels (协商铃 …): accounts, items raised, resolved."""
    _ = _words()
    if not board.usage:
        return None
    table = Table(
        "usage",
        _("Residents' channels"),
        [_("Channel"), _("Items raised"), _("Resolved"), _("Resolution rate (%)")],
    )
    for u in board.usage:
        table.rows.append([u.name, u.raised, u.resolved, u.resolution_rate])
    return table


def indicators(board: Dashboard) -> Table | None:
    _ = _words()
    if board.index is None or board.score is None or not board.score.indicators:
        return None
    table = Table(
        "indicators",
        board.index.body["name"],
        [
            _("Dimension"),
            _("Indicator"),
            _("Value"),
            _("Target"),
            _("Score"),
            _("Weight"),
            _("Points below target"),
        ],
    )
    for spec in indicator_specs(board.index):
        got = board.score.indicators.get(spec["key"], {})
        table.rows.append(
            [
                spec["dimension"],
                spec["name"],
                got.get("value"),
                spec["target"],
                got.get("score"),
                spec["weight"],
                got.get("gap"),
            ]
        )
    return table


def directories(board: Dashboard) -> Table | None:
    """The directories (名录) of the subtree: entries, places reaching the target, sums."""
    _ = _words()
    from engine.residents.directories import definitions, sum_labels

    kept = (board.facts or {}).get("directories") or {}
    table = Table(
        "directories",
        _("Directories"),
        [_("Directory"), _("Entries"), _("Places reaching the target"), _("Totals")],
    )
    link = url_pattern("work.directory", key=VARY)
    for version in definitions():
        key = version.definition.key
        got = kept.get(key)
        if not got or not got.get("nodes"):
            continue
        reached = (
            f"{got['nodes_at_min']}/{got['nodes']}" if got.get("nodes_at_min") is not None else ""
        )
        sums = "; ".join(
            f"{label} {got.get('sum', {}).get(name)}"
            for name, label in _sum_labels(version, sum_labels).items()
            if name in got.get("sum", {})
        )
        table.rows.append(
            [
                (version.body["name"], link(key=key)),
                got["entries"],
                reached,
                sums,
            ]
        )
    return table if table.rows else None


# A published directory version's summed fields with their labels, by version id and
# digest (versions never change; field_specs works them out from the whole entry form).
_SUM_LABELS: dict[tuple[int, str], dict[str, str]] = {}


def _sum_labels(version: Any, sum_labels: Any) -> dict[str, str]:
    key = (version.id, version.digest)
    found = _SUM_LABELS.get(key)
    if found is None:
        if len(_SUM_LABELS) > 256:
            _SUM_LABELS.clear()  # bounded
        found = _SUM_LABELS[key] = sum_labels(version.body)
    return found


def tables(board: Dashboard) -> dict[str, Table]:
    found = [
        overview(board),
        usage(board),
        units(board) if board.children else None,
        kpi_table(board),
        indicators(board),
        directories(board),
    ]
    return {t.key: t for t in found if t is not None}


def snapshot_rows(board: Dashboard, now: Any) -> Markup:
    """The snapshots table's rows, newest first (``review/dashboard.html``): time, index
    version, score, escaped here rather than three filters per row in the template."""
    rows = []
    shown = list(reversed(board.trend))
    for s, taken_at in zip(shown, people_times([s.taken_at for s in shown], now), strict=True):
        version = "" if s.version is None else gettext("version %(number)s", number=s.version)
        score = "–" if s.score is None else _text(s.score)
        rows.append(
            f"<tr><td>{_escaped(taken_at)}</td><td>{_text(version)}</td><td>{score}</td></tr>"
        )
    return Markup("".join(rows))


@dataclass(frozen=True)
class YearLine:
    """One item type's line of the dashboard's year-on-year list."""

    key: str
    name: str
    this: Any
    last: Any
    change: Any
    closed: list[tuple[Any, Any]]  # (final state's label, items closed in it)


# A published item type's final states with their labels, by version id and digest.
_FINALS: dict[tuple[int, str], list[tuple[str, Any]]] = {}


def _finals(version: Any) -> list[tuple[str, Any]]:
    key = (version.id, version.digest)
    found = _FINALS.get(key)
    if found is None:
        if len(_FINALS) > 256:
            _FINALS.clear()  # bounded
        states = version.body["workflow"]["states"]
        found = _FINALS[key] = [
            (state, spec.get("label", "")) for state, spec in states.items() if spec.get("final")
        ]
    return found


def yearly_lines(yearly: list[Any], facts: dict[str, Any]) -> list[YearLine]:
    """The year-on-year list's lines (``review/dashboard.html``): each type's counts this
    year and last, and the items closed in each final state, worked out here rather than
    by a dozen lookups per type in the template."""
    by_type = facts["by_type"]
    lines = []
    for version in yearly:
        f = by_type.get(version.definition.key)
        lines.append(
            YearLine(
                version.definition.key,
                version.body["name"],
                f.get("this_year", "") if f else 0,
                f.get("last_year_to_date", "") if f else 0,
                f.get("year_change_rate") if f else None,
                [
                    (label, f["states"].get(state, 0) if f else 0)
                    for state, label in _finals(version)
                ],
            )
        )
    return lines


def radar_axes(board: Dashboard) -> list[tuple[str, float | None]]:
    if board.index is None or board.score is None:
        return []
    return [(name, board.score.dimensions.get(key)) for key, name in dimension_names(board.index)]
