"""A bar chart of submissions per day as inline SVG: no JavaScript, readable by screen readers."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 20, 40


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def _label_every(days: int) -> int:
    for every in (1, 2, 7, 14, 30, 61, 91, 182):
        if days / every <= 12:
            return every
    return 365


def bar_chart(points: list[tuple[date, int]], title: str, chart_id: str = "chart") -> Markup:
    """SVG bars for (day, count) points, with a <title>, a <desc> summary and text labels."""
    total = sum(n for _, n in points)
    peak_day, peak = max(points, key=lambda p: p[1]) if points else (None, 0)
    top = _nice_max(max(peak, 1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    summary = f"{total} in total over {len(points)} days"
    if peak_day is not None and peak:
        summary += f"; most on {peak_day.isoformat()} ({peak})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
        f'<g class="axis" font-size="11" fill="currentColor">'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="currentColor"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{top}</text>'
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    every = _label_every(len(points))
    for i, (day, _) in enumerate(points):
        if i % every == 0 or i == len(points) - 1 and len(points) <= 12:
            x = LEFT + slot * i + slot / 2
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{day.strftime('%d %b')}</text>"
            )
    parts.append('</g><g class="bars" fill="currentColor">')
    for i, (day, count) in enumerate(points):
        h = plot_h * count / top
        x = LEFT + slot * i + slot * 0.15
        y = TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{day.isoformat()}: {count}</title></rect>"
        )
        if count and len(points) <= 31:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{count}</text>'
            )
    parts.append("</g></svg>")
    # Numbers and dates formatted above: nothing in the SVG comes from a visitor.
    return Markup("".join(parts))  # nosec B704
