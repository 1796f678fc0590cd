"""The workflow as a server-side SVG diagram: states in columns by distance from the initial
state, transitions as labelled arrows; the initial state gets an entry dot, final states a
double border, states with a warning a dashed red border. No JavaScript, nothing fetched."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from engine.definitions.checks import workflow_edges

W, H, GAP_X, GAP_Y, MARGIN = 150, 46, 120, 44, 40


def _columns(workflow: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """State → (column, row): breadth-first from the initial state; unreached states last."""
    states = list((workflow.get("states") or {}).keys())
    edges = workflow_edges(workflow)
    depth: dict[str, int] = {}
    initial = workflow.get("initial")
    if initial in edges:
        depth[initial] = 0
        frontier = [initial]
        while frontier:
            nxt = []
            for state in frontier:
                for target in sorted(edges[state], key=states.index):
                    if target not in depth:
                        depth[target] = depth[state] + 1
                        nxt.append(target)
            frontier = nxt
    last = max(depth.values(), default=-1) + 1
    rows: dict[int, int] = {}
    place = {}
    for state in states:
        col = depth.get(state, last)
        place[state] = (col, rows.get(col, 0))
        rows[col] = rows.get(col, 0) + 1
    return place


def _label(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def workflow_svg(
    workflow: Mapping[str, Any],
    warned: Iterable[str] = (),
    title: str = "",
    link: Callable[[str, str], str] | None = None,
) -> Markup:
    """The SVG of ``workflow`` (a draft may be half-written: unknown states are skipped).
    With ``link`` (kind ``state``/``transition`` and key/index → URL) a click on a state or a
    transition's name opens its panel beside the diagram (HTMX)."""
    states: Mapping[str, Any] = workflow.get("states") or {}
    if not isinstance(states, Mapping) or not states:
        return Markup("")
    warned = set(warned)
    place = _columns(workflow)
    xy = {
        s: (MARGIN + 50 + c * (W + GAP_X), MARGIN + r * (H + GAP_Y)) for s, (c, r) in place.items()
    }
    width = max(x for x, _ in xy.values()) + W + MARGIN
    height = max(y for _, y in xy.values()) + H + MARGIN + 40
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        ),
        f"<title>{escape(title)}</title>",
        (
            '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
            'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
        ),
    ]
    pairs: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], int] = {}
    for n, tr in enumerate(workflow.get("transitions") or []):
        if not isinstance(tr, Mapping):
            continue
        targets = [tr.get("to")] + [
            b.get("to") for b in tr.get("to_if") or [] if isinstance(b, Mapping)
        ]
        for source in tr.get("from") or []:
            for target in targets:
                if source in xy and target in xy:
                    pairs.setdefault((source, target), []).append(
                        str(tr.get("label") or tr.get("key", ""))
                    )
                    first.setdefault((source, target), n)
    for (source, target), labels in pairs.items():
        same = place[target][0] == place[source][0]
        out.append(
            _arrow(
                xy[source],
                xy[target],
                "、".join(dict.fromkeys(labels)),
                source == target,
                place[target][0] < place[source][0],
                same,
                _opens(link, "transition", str(first[(source, target)])),
            )
        )
    initial = workflow.get("initial")
    for state, (x, y) in xy.items():
        spec = states[state] if isinstance(states[state], Mapping) else {}
        cls = (
            "wf-state"
            + (" wf-warned" if state in warned else "")
            + (" wf-final" if spec.get("final") else "")
        )
        out.append(f'<g class="{cls}" id="wf-{escape(state)}"{_opens(link, "state", state)}>')
        stroke = '#c0392b" stroke-dasharray="5 3' if state in warned else "#333"
        out.append(
            f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="10" fill="#fff" '
            f'stroke="{stroke}" stroke-width="1.5"/>'
        )
        if spec.get("final"):
            out.append(
                f'<rect x="{x + 4}" y="{y + 4}" width="{W - 8}" height="{H - 8}" rx="7" fill="none" stroke="#333"/>'
            )
        label = _label(str(spec.get("label") or state))
        hours = ""
        if spec.get("hours"):
            words = (
                _("%(n)s natural hours") if spec.get("calendar") == "natural" else _("%(n)s hours")
            )
            hours = words % {"n": spec["hours"]}
        out.append(
            f'<text x="{x + W / 2}" y="{y + 20}" text-anchor="middle" font-size="14">{escape(label)}</text>'
        )
        out.append(
            f'<text x="{x + W / 2}" y="{y + 36}" text-anchor="middle" font-size="11" fill="#666">'
            f"{escape(hours)}</text></g>"
        )
        if state == initial:
            out.append(
                f'<circle cx="{x - 24}" cy="{y + H / 2}" r="6" fill="#333" class="wf-initial"/>'
                f'<line x1="{x - 18}" y1="{y + H / 2}" x2="{x}" y2="{y + H / 2}" stroke="#333" '
                f'marker-end="url(#wf-arrow)"/>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def _opens(link: Callable[[str, str], str] | None, kind: str, ref: str) -> Markup:
    """The attributes that open a state's or transition's panel on a click (none without a link)."""
    if link is None:
        return Markup("")
    return Markup(
        ' hx-get="{}" hx-target="#wf-panel" hx-select="#wf-panel" hx-swap="outerHTML" hx-push-url="true"'
    ).format(link(kind, ref))


def _arrow(
    a: tuple[int, int],
    b: tuple[int, int],
    label: str,
    loop: bool,
    back: bool,
    same: bool = False,
    opens: str = "",
) -> str:
    (ax, ay), (bx, by) = a, b
    text = escape(_label(label, 18))
    if loop:
        x, y = ax + W - 30, ay
        return (
            f'<g class="wf-edge"{opens}><path d="M{x},{y} C{x},{y - 30} {x + 40},{y - 30} {x + 30},{y + 8}" '
            f'fill="none" stroke="#555" marker-end="url(#wf-arrow)"/>'
            f'<text x="{x + 20}" y="{y - 26}" font-size="11">{text}</text></g>'
        )
    if same:  # one column: downwards on the right, upwards on the left
        side, bend = (ax + W, 60) if by > ay else (ax, -60)
        x1, y1, x2, y2 = side, ay + H / 2, side, by + H / 2
        cx, cy = side + bend, (y1 + y2) / 2
    elif not back:
        x1, y1, x2, y2 = ax + W, ay + H / 2, bx, by + H / 2
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 14
    else:
        x1, y1, x2, y2 = ax + W / 2 + 10, ay + H, bx + W / 2 - 10, by + H
        cx, cy = (x1 + x2) / 2, max(y1, y2) + 34 + abs(x1 - x2) / 8
    mx, my = (x1 + 2 * cx + x2) / 4, (y1 + 2 * cy + y2) / 4
    return (
        f'<g class="wf-edge"{opens}><path d="M{x1},{y1} Q{cx},{cy} {x2},{y2}" fill="none" stroke="#555" '
        f'marker-end="url(#wf-arrow)"/><text x="{mx}" y="{my - 4}" text-anchor="middle" font-size="11" '
        f'paint-order="stroke" stroke="#fff" stroke-width="3">{text}</text></g>'
    )
