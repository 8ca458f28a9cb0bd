"""The calls-per-day chart: one bar per day, heights in proportion, failed calls apart, no script."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from axiom_mcp.data.activity import DayCount
from axiom_mcp.web.charts import calls_per_day_chart

SVG = "{http://www.w3.org/2000/svg}"


def _days(counts: list[tuple[int, int]]) -> list[DayCount]:
    first = date(2026, 11, 1)
    return [DayCount(first + timedelta(days=n), calls, errors) for n, (calls, errors) in enumerate(counts)]


def test_one_bar_a_day_in_proportion_with_failed_calls_drawn_apart() -> None:
    svg = ET.fromstring(calls_per_day_chart(_days([(10, 0), (5, 5), (0, 0)]), label="ChatGPT"))
    groups = svg.findall(f"{SVG}g")
    assert [g.find(f"{SVG}title").text for g in groups] == [
        "1 Nov: 10 calls, 0 failed", "2 Nov: 5 calls, 5 failed", "3 Nov: 0 calls, 0 failed"]
    heights = [float(g.find(f"{SVG}rect").get("height")) for g in groups]
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert [len(g.findall(f"{SVG}rect")) for g in groups] == [1, 2, 1]
    failed = groups[1].findall(f"{SVG}rect")[1]
    assert failed.get("class") == "chart-error" and float(failed.get("height")) == heights[1]
    assert svg.get("role") == "img" and svg.get("aria-label") == "ChatGPT: 15 calls in 3 days, 5 failed."


def test_a_quiet_month_and_a_hostile_label_draw_safely() -> None:
    markup = calls_per_day_chart(_days([(0, 0)] * 30), label='<script>alert(1)</script>"')
    assert "<script" not in markup
    svg = ET.fromstring(markup)
    assert len(svg.findall(f"{SVG}g")) == 30
    assert svg.get("aria-label").startswith('<script>alert(1)</script>"')  # as text, escaped in the markup
