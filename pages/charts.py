"""Charts drawn on the server as SVG: no JavaScript, no CDN (deployments sit on an intranet)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from markupsafe import Markup, escape


def _num(value: float) -> str:
    return f"{value:.1f}"


def radar(axes: Sequence[tuple[str, float | None]], *, size: int = 380, title: str = "") -> Markup:
    """A radar chart of 0–100 scores, one axis per (label, score); None draws at 0."""
    cx = cy = size / 2
    radius = size / 2 - 85
    count = max(len(axes), 3)

    def point(i: int, r: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / count
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    parts = [
        (
            f'<svg class="chart radar" role="img" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        )
    ]
    for ring in (25, 50, 75, 100):
        pts = " ".join(
            f"{_num(x)},{_num(y)}" for x, y in (point(i, radius * ring / 100) for i in range(count))
        )
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#ddd"/>')
    for i, (label, _) in enumerate(axes):
        x, y = point(i, radius)
        lx, ly = point(i, radius + 22)
        anchor = "middle" if abs(lx - cx) < 5 else ("start" if lx > cx else "end")
        parts.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{_num(lx)}" y="{_num(ly + 4)}" text-anchor="{anchor}" font-size="12">{escape(label)}</text>'
        )
    pts = " ".join(
        f"{_num(x)},{_num(y)}"
        for x, y in (point(i, radius * (score or 0) / 100) for i, (_, score) in enumerate(axes))
    )
    parts.append(
        f'<polygon class="radar-area" points="{pts}" fill="rgba(183,28,28,.25)" stroke="#b71c1c" stroke-width="2"/>'
    )
    for i, (label, score) in enumerate(axes):
        x, y = point(i, radius * (score or 0) / 100)
        shown = "–" if score is None else _num(score)
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="#b71c1c">'
            f"<title>{escape(label)} {shown}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    width: int = 640,
    unit: str = "",
    maximum: float = 100,
    title: str = "",
) -> Markup:
    """Horizontal bars, one per (label, value), in the given order (rank them first)."""
    bar_h, gap, label_w = 18, 6, 150
    height = max(1, len(rows)) * (bar_h + gap) + gap
    scale = (width - label_w - 60) / (maximum or 1)
    parts = [
        (
            f'<svg class="chart bars" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        )
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(0.0, min(maximum, value or 0)) * scale
        shown = "–" if value is None else f"{_num(value)}{unit}"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end" font-size="12">{escape(label[:14])}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{_num(w)}" height="{bar_h}" fill="#b71c1c" opacity=".8"/>'
        )
        parts.append(
            f'<text x="{_num(label_w + w + 4)}" y="{y + bar_h - 4}" font-size="12">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(
    values: Sequence[float | None], *, width: int = 240, height: int = 48, title: str = ""
) -> Markup:
    """A line of 0–100 values over time (index trend), oldest first."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    step = width / max(1, len(values) - 1)
    pts = " ".join(
        f"{_num(i * step)},{_num(height - 4 - (height - 8) * v / 100)}" for i, v in known
    )
    return Markup(
        f'<svg class="chart trend" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<polyline points="{pts}" fill="none" stroke="#b71c1c" stroke-width="2"/></svg>'
    )


def money_bars(
    rows: Sequence[tuple[str, int, str]], *, title: str = "", width: int = 340
) -> Markup:
    """Horizontal bars of amounts in cents, one per (label, cents, "in" | "out"), sized for a
    phone: the label above its bar, the amount in yuan beside it."""
    top = max([cents for _label, cents, _flow in rows] + [1])
    bar, step = 16, 50
    height = step * len(rows) + 4
    parts = [
        (
            f'<svg class="chart money-bars" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(title)}</title>"
        )
    ]
    room = width - 130
    for i, (label, cents, flow) in enumerate(rows):
        y = i * step
        length = max(room * cents / top, 2 if cents else 0)
        whole, fen = divmod(int(cents), 100)
        amount = f"¥{whole:,}.{fen:02d}"
        parts.append(
            f'<text x="0" y="{y + 16}" class="label">{escape(label)}</text>'
            f'<rect x="0" y="{y + 24}" width="{_num(length)}" height="{bar}" rx="3" class="bar {escape(flow)}"/>'
            f'<text x="{_num(length + 6)}" y="{y + 38}" class="value">{escape(amount)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@functools.lru_cache(maxsize=16)
def _month_xs(left: int, step: float) -> tuple[str, ...]:
    """The months' x coordinates on a year chart."""
    return tuple(_num(left + i * step) for i in range(12))


@functools.lru_cache(maxsize=16)
def _month_axis(left: int, step: float, height: int) -> str:
    """The months' numbers under a year chart (the same for every chart of a size)."""
    return "".join(
        f'<text x="{_num(left + i * step)}" y="{height - 6}" text-anchor="middle" '
        f'font-size="11">{i + 1}</text>'
        for i in range(12)
    )


def year_lines(
    this: Sequence[int],
    last: Sequence[int],
    *,
    months: int,
    labels: tuple[str, str],
    width: int = 640,
    height: int = 200,
    title: str = "",
) -> Markup:
    """Counts per month of this year over last year's twelve (同比).

    :param months: this year's months so far, the current one included; the line stops at
        the last whole month (a month under way would look like a fall).
    """
    left, bottom, top = 36, 22, 26
    months = max(1, months - 1)
    peak = max([1, *this[:months], *last])
    step = (width - left - 10) / 11

    xs = _month_xs(left, step)

    def line(values: Sequence[int], colour: str, dash: str) -> str:
        pts = " ".join(
            f"{x},{height - bottom - (height - bottom - top) * v / peak:.1f}"  # as _num
            for x, v in zip(xs, values, strict=False)
        )
        return f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'

    parts = [
        (
            f'<svg class="chart year" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        ),
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>',
    ]
    parts.append(_month_axis(left, step, height))
    parts.append(line(last, "#9e9e9e", ' stroke-dasharray="4 3"'))
    if months:
        parts.append(line(this[:months], "#b71c1c", ""))
    parts.append(
        f'<text x="{left}" y="12" font-size="11" fill="#b71c1c">— {escape(labels[0])}</text>'
        f'<text x="{left + width / 3}" y="12" font-size="11" fill="#757575">'
        f"- - {escape(labels[1])}</text></svg>"
    )
    return Markup("".join(parts))
