"""Small charts drawn on the server as SVG: no script, nothing fetched, readable by screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from markupsafe import Markup

from axiom_mcp.data.activity import DayCount

_WIDTH, _HEIGHT, _TOP, _BOTTOM = 600, 160, 24, 28


def _day(count: DayCount) -> str:
    return f"{count.day.day} {count.day.strftime('%b')}"


def calls_per_day_chart(days: Sequence[DayCount], *, label: str) -> Markup:
    """Bars of calls per day (failed calls drawn apart at each bar's foot), oldest day on the left."""
    total = sum(d.calls for d in days)
    failed = sum(d.errors for d in days)
    summary = f"{label}: {total} calls in {len(days)} days, {failed} failed."
    peak = max((d.calls for d in days), default=0) or 1
    slot = _WIDTH / max(len(days), 1)
    plot = _HEIGHT - _TOP - _BOTTOM
    bars = []
    for n, day in enumerate(days):
        x = n * slot + slot * 0.15
        width = slot * 0.7
        height = plot * day.calls / peak
        failed_height = plot * day.errors / peak
        base = _TOP + plot
        tip = escape(f"{_day(day)}: {day.calls} calls, {day.errors} failed")
        bars.append(
            f'<g><title>{tip}</title>'
            f'<rect class="chart-bar" x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}"/>'
            + (f'<rect class="chart-error" x="{x:.1f}" y="{base - failed_height:.1f}" width="{width:.1f}" '
               f'height="{failed_height:.1f}"/>' if day.errors else "")
            + "</g>"
        )
    axis = ""
    if days:
        axis = (
            f'<line class="chart-axis" x1="0" y1="{_TOP + plot}" x2="{_WIDTH}" y2="{_TOP + plot}"/>'
            f'<text class="chart-label" x="0" y="{_HEIGHT - 6}">{escape(_day(days[0]))}</text>'
            f'<text class="chart-label" x="{_WIDTH}" y="{_HEIGHT - 6}" text-anchor="end">{escape(_day(days[-1]))}</text>'
            f'<text class="chart-label" x="0" y="{_TOP - 6}">{peak if total else 0} a day at most</text>'
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{escape(summary, {chr(34): "&quot;"})}" '
        f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(bars)}{axis}</svg>"
    )
