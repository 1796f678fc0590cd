"""Department evaluation (履职评价): the table, its chart, drill-downs and Excel export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import abort, current_app, flash, g, render_template, request, send_file
from flask_babel import gettext as _
from markupsafe import Markup, escape

from engine.core import clock
from engine.store.models import OrgNode
from engine.supervision import evaluation, scoring
from pages.auth import requires
from pages.extensions import htmx
from pages.guards import Page
from pages.links import VARY, quoted, url_pattern, url_pieces
from pages.review import bp
from pages.xlsx import workbook

SORTABLE = ("name", *evaluation.METRICS, "score")
COLUMNS = (*evaluation.METRICS, "score")  # the numbers of a row, in the table's order
PAGE = 100  # summonses a drill-down page lists (it listed up to 500 on one page)
MAX_PAGE = 100_000  # a larger page number reads as this one (an offset SQL can bind)

# The drill-down behind each column's number (the score's: the department's summons).
DRILL_OF = {
    "summoned": "summoned",
    "report_on_time_pct": "report_decided",
    "report_median_hours": "reported",
    "handle_on_time_pct": "handle_decided",
    "handle_median_hours": "handled",
    "satisfaction": "rated",
    "reopen_pct": "reopened",
    "urged": "urged",
    "score": "summoned",
}
PERCENT = ("report_on_time_pct", "handle_on_time_pct", "reopen_pct")


def _period() -> evaluation.Period:
    """The period asked for (``from``/``to``, local dates), else this quarter.

    A date that does not parse, lies outside evaluation.EARLIEST..LATEST (at the
    calendar's ends the period's UTC bounds overflow) or ends the period before it
    starts is said in a message, and the page shows this quarter.
    """
    default = evaluation.quarter_of(clock.now())
    try:
        start = dt.date.fromisoformat(request.args.get("from") or default.start.isoformat())
        end = dt.date.fromisoformat(request.args.get("to") or default.end.isoformat())
    except ValueError:
        flash(_("Dates are written as YYYY-MM-DD; showing this quarter."), "error")
        return default
    if not (
        evaluation.EARLIEST <= start <= evaluation.LATEST
        and evaluation.EARLIEST <= end <= evaluation.LATEST
    ):
        flash(
            _(
                "Dates lie between %(first)s and %(last)s; showing this quarter.",
                first=evaluation.EARLIEST.isoformat(),
                last=evaluation.LATEST.isoformat(),
            ),
            "error",
        )
        return default
    if end < start:
        flash(_("The period ends before it starts; showing this quarter."), "error")
        return default
    return evaluation.Period(start, end)


def _sort_key(name: str) -> Any:
    def key(row: evaluation.DepartmentRow) -> Any:
        return row.node.name if name == "name" else getattr(row, name)

    return key


def table_context(*, fresh: bool = False) -> dict[str, Any]:
    """The rows, scored and sorted, as both the page and the export show them: as worked
    out at most ``STATISTICS_MAX_AGE`` seconds ago for the same grants and period
    (``evaluation.evaluate_as_of``), or now when ``fresh`` (the export) or the page's
    ``fresh`` link asks."""
    period = _period()
    fresh = fresh or request.args.get("fresh") == "1"
    max_age = 0.0 if fresh else float(current_app.config["STATISTICS_MAX_AGE"])
    rows, as_of = evaluation.evaluate_as_of(g.actor, period, now=clock.now(), max_age=max_age)
    found = scoring.evaluations()
    wanted = request.args.get("def")
    chosen = next((e for e in found if e.key == wanted), found[0] if found else None)
    problem = scoring.score_rows(chosen, rows, skip=lambda r: not r.summoned)
    sort = request.args.get("sort", "score")
    sort = sort if sort in SORTABLE else "score"
    descending = request.args.get("dir", "desc" if sort != "name" else "asc") == "desc"
    present = sorted(
        [r for r in rows if sort == "name" or getattr(r, sort) is not None],
        key=_sort_key(sort),
        reverse=descending,
    )
    shown = {id(r) for r in present}  # by identity: rows' == compares every field
    rows = present + [r for r in rows if id(r) not in shown]  # no value: last either way
    return {
        "rows": rows,
        "period": period,
        "as_of": as_of,
        "evaluation": chosen,
        "evaluations": found,
        "problem": problem,
        "sort": sort,
        "dir": "desc" if descending else "asc",
        "metrics": evaluation.METRICS,
    }


@bp.route("/evaluation")
@requires("evaluation")
def evaluation_page() -> Any:
    context = table_context()
    context["cells"] = table_cells(context)
    context["sort_links"] = sort_links(context)
    context["chart"] = context["sort"] if context["sort"] != "name" else "score"
    context["bars"] = chart_bars(context["rows"], context["chart"])
    if htmx and htmx.target == "evaluation-table":
        return render_template("review/_evaluation_table.html", **context)
    return render_template("review/evaluation.html", **context)


def table_cells(context: dict[str, Any]) -> list[Markup]:
    """Each row's numeric cells, written here (a dash without a value; the value with its
    unit linked to its drill-down when the department was summoned; else the value), not
    by two tests, three outputs and a link per cell in the template (a street's table has
    270). The links are ``url_pattern``'s, each value quoted and escaped once a table
    (``which``) or a row (the department's key)."""
    period, chosen = context["period"], context["evaluation"]
    args = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "def": chosen.key if chosen else None,
    }
    pieces, slots, last = url_pieces("review.evaluation_items", key=VARY, which=VARY, **args)
    braced = lambda text: str(escape(text)).replace("{", "{{").replace("}", "}}")
    link = "".join(braced(piece) + "{" + name + "}" for piece, (name, _) in zip(pieces, slots))
    link += braced(last)  # the link as escaped HTML, with a {key} and a {which} field
    in_query = dict(slots)
    each_which = {
        which: str(escape(quoted(which, in_query["which"]))) for which in DRILL_OF.values()
    }
    table = []
    for row in context["rows"]:
        key = str(escape(quoted(row.node.key, in_query["key"])))
        cells = []
        for name in COLUMNS:
            value = getattr(row, name)
            if value is None:
                cells.append(NO_VALUE)
                continue
            plain = type(value) in NUMBERS  # digits, a point, a sign: nothing to escape
            if not row.summoned:  # nothing to drill into: the bare value
                cells.append(str(value) if plain else str(escape(value)))
                continue
            text = f"{value}{PERCENT_SIGN if name in PERCENT else ''}"
            text = text if plain else str(escape(text))
            url = link.format(key=key, which=each_which[DRILL_OF[name]])
            cells.append(f'<a href="{url}">{text}</a>')
        table.append(Markup("".join([_CELL.format(cell) for cell in cells])))  # all markup
    return table


# A numeric cell as the row writes it, each on its own line as the template's loop wrote it:
# one output a row for the template (an output costs Jinja an escape, 108 of them a table).
_CELL = '\n        <td class="num">{}</td>\n        '


# Columns first sorted ascending (smaller is better, or a name); the others descending.
ASCENDING_FIRST = ("name", "report_median_hours", "handle_median_hours", "reopen_pct", "urged")


def sort_links(context: dict[str, Any]) -> list[tuple[str, Markup, str, str]]:
    """Each header's column name, sort link (escaped), ``aria-sort`` and arrow: the
    current column's link turns its order around, another's sorts by its first order."""
    period, chosen, sort, order = (context[k] for k in ("period", "evaluation", "sort", "dir"))
    args = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "def": chosen.key if chosen else None,
    }
    sort_url = url_pattern("review.evaluation_page", sort=VARY, dir=VARY, **args)
    links = []
    for name in ("name", *evaluation.METRICS, "score"):
        if name == sort:
            next_dir = "asc" if order == "desc" else "desc"
            aria = "ascending" if order == "asc" else "descending"
            arrow = " ▲" if order == "asc" else " ▼"
        else:
            next_dir = "asc" if name in ASCENDING_FIRST else "desc"
            aria, arrow = "none", ""
        links.append((name, escape(sort_url(sort=name, dir=next_dir)), aria, arrow))
    return links


# The bar chart's geometry (SVG user units): labels' column, whole width, bar and gap.
CHART_LEFT, CHART_WIDTH, CHART_BAR, CHART_GAP = 170, 720, 20, 8


def chart_bars(rows: list[evaluation.DepartmentRow], chart: str) -> dict[str, Any]:
    """The bar chart of ``chart`` (a column's name) worked out here: its ticks and each
    bar as markup (``review/_bars_svg.html`` writes the frame, the ticks and the bars)."""
    left, width, bar, gap = CHART_LEFT, CHART_WIDTH, CHART_BAR, CHART_GAP
    shown = [(row, value) for row in rows if (value := getattr(row, chart)) is not None]
    top = max(
        max(value for _, value in shown) if shown else 0,
        100 if chart.endswith("_pct") or chart == "score" else 0,
        0.0001,
    )
    span = width - left - 60
    height = len(shown) * (bar + gap) + 30
    ticks = [(left + tick * span, f"{round(top * tick, 1):g}") for tick in (0, 0.25, 0.5, 0.75, 1)]
    bars = []
    for i, (row, value) in enumerate(shown):
        y = i * (bar + gap) + 4
        size = max((value / top) * span, 0)
        low = " low" if chart == "score" and row.score is not None and row.score < 60 else ""
        text = value if type(value) in NUMBERS else escape(value)
        fields = {"name": escape(row.node.name), "value": text, "label_x": left - 8}
        fields.update(text_y=y + bar * 0.72, left=left, y=y, width=size, bar=bar, low=low)
        bars.append(Markup(_BAR.format(**fields, value_x=left + size + 6)))
    return {
        "bars": bars,
        "ticks": ticks,
        "height": height,
        "left": left,
        "width": width,
        "bar": bar,
    }


# A bar of the chart as the template's loop wrote it, its values worked out and escaped:
# one output a bar (each of the nine it had costs Jinja an escape).
_BAR = (
    "\n  <g>\n    <title>{name}: {value}</title>\n"
    '    <text x="{label_x}" y="{text_y}" text-anchor="end" class="label">{name}</text>\n'
    '    <rect x="{left}" y="{y}" width="{width}" height="{bar}" rx="3" class="bar{low}"/>\n'
    '    <text x="{value_x}" y="{text_y}" class="value">{value}</text>\n  </g>\n  '
)
NO_VALUE = '<span class="muted">–</span>'
PERCENT_SIGN = "%"
NUMBERS = (int, float)


@bp.route("/evaluation.xlsx")
@requires("evaluation")
def evaluation_export() -> Any:
    context = table_context(fresh=True)  # a document kept: its figures as of now
    period = context["period"]
    headers, body = export_rows(context)
    title = _("Department evaluation")
    data = workbook(
        title,
        headers,
        body,
        note=f"{period.start.isoformat()} – {period.end.isoformat()}"
        + (f" · {context['evaluation'].name}" if context["evaluation"] else ""),
    )
    name = f"evaluation-{period.start.isoformat()}-{period.end.isoformat()}.xlsx"
    return send_file(
        io.BytesIO(data),
        as_attachment=True,
        download_name=name,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def column_labels() -> dict[str, str]:
    return {
        "name": _("Department"),
        "summoned": _("Summoned"),
        "report_on_time_pct": _("Reported in on time (%)"),
        "report_median_hours": _("Median hours to report in"),
        "handle_on_time_pct": _("Handled on time (%)"),
        "handle_median_hours": _("Median hours to handle"),
        "satisfaction": _("Satisfaction"),
        "reopen_pct": _("Reopen rate (%)"),
        "urged": _("Urged"),
        "score": _("Score"),
        "grade": _("Grade"),
    }


def export_rows(context: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    labels = column_labels()
    names = ["name", *evaluation.METRICS, "score", "grade"]
    body = [[r.node.name if n == "name" else getattr(r, n) for n in names] for r in context["rows"]]
    return [labels[n] for n in names], body


@bp.route("/evaluation/<key>/<which>")
@requires("evaluation")
def evaluation_items(key: str, which: str) -> Any:
    """The summons and items behind one number of one department."""
    unit = OrgNode.get_or_none((OrgNode.key == key) & (OrgNode.kind == "department"))
    if unit is None or which not in evaluation.DRILLS:
        abort(404)
    if unit.id not in {d.id for d in evaluation.departments_for(g.actor)}:
        abort(404)
    period = _period()
    now = clock.now()
    # an unreadable or out-of-range page is the nearest one (not a 422, as ``page_arg``)
    page = Page(max(1, min(request.args.get("page", 1, type=int), MAX_PAGE)), PAGE)
    rows, more = page.split(
        evaluation.drill(
            g.actor, period, unit, which, now=now, limit=page.limit, offset=page.offset
        )
    )
    return render_template(
        "review/evaluation_items.html",
        unit=unit,
        which=which,
        rows=drill_cells(rows, now),
        first=page.offset + 1,
        page=page.number,
        more=more,
        period=period,
    )


def drill_cells(rows: list[evaluation.DrillRow], now: dt.datetime) -> list[tuple[Any, ...]]:
    """The drill-down's cells, worked out here rather than read attribute by attribute
    through Jinja (a page of them): item id, link, title, summons state, summoned, report
    by, reported (or "–"), reported late, finish by, finished (or "–"), finished late,
    satisfaction, reopenings, urges. A deadline is late once past without the step, or
    met after it."""
    link = url_pattern("work.item", item_id=VARY)
    local = current_app.jinja_env.filters["localtime"]
    cells = []
    for r in rows:
        ended = r.done_at or now
        report_due, handle_due, done = r.report_due_at, r.handle_due_at, r.state == "done"
        late_report = bool(report_due) and (
            r.reported_at > report_due if r.reported_at else report_due < ended
        )
        late_done = bool(handle_due) and (
            r.done_at > handle_due if done and r.done_at else not done and handle_due < ended
        )
        cells.append(
            (
                r.item_id,
                link(item_id=r.item_id),
                r.title,
                r.state,
                local(r.summoned_at),
                local(report_due),
                local(r.reported_at) if r.reported_at else "–",
                late_report,
                local(handle_due),
                local(r.done_at) if done else "–",
                late_done,
                r.satisfaction or "–",
                r.reopen_count or "",
                r.urge_count or "",
            )
        )
    return cells
