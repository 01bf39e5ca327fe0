"""The SVG charts: well-formed documents with every text escaped, drawn to scale."""
from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from assistant.stats.charts.svg import Bar, Series, bar_chart, column_chart, data_uri, nice_ceiling, share_bar

SVG = "{http://www.w3.org/2000/svg}"
XSS = "<script>alert(1)</script>"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_every_text_in_a_chart_is_escaped_and_the_document_is_well_formed():
    charts = [
        column_chart([f"10-0{i}" for i in range(3)],
                     [Series(XSS, [1, 2, 3], "#111"), Series("&", [0, 1, 0], "#222")], XSS),
        bar_chart([Bar(XSS, 3, "3 & 4", "#111")], XSS),
        share_bar([Bar(XSS, 1, "50%", "#111"), Bar("\"'", 1, "50%", "#222")], XSS),
    ]
    for svg in charts:
        root = _parse(svg)  # raises on anything unescaped
        assert not list(root.iter(f"{SVG}script"))
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        texts = [t.text for t in root.iter(f"{SVG}text")] + [t.text for t in root.iter(f"{SVG}title")]
        assert any(XSS in (t or "") for t in texts)  # shown as text


def test_stacked_columns_are_drawn_to_scale():
    svg = column_chart(["a", "b"], [Series("答", [2, 4], "#111"), Series("转", [2, 0], "#222")], "t")
    bars = [r for r in _parse(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = {r.find(f"{SVG}title").text: float(r.get("height")) for r in bars}
    assert heights["a 答：2"] == heights["a 转：2"] == heights["b 答：4"] / 2


def test_bars_and_shares_are_proportional_to_their_values():
    bars = [r for r in _parse(bar_chart([Bar("甲", 4, "4", "#111"), Bar("乙", 1, "1", "#111")], "t")).iter(f"{SVG}rect")
            if r.get("fill") == "#111"]
    assert float(bars[0].get("width")) == pytest.approx(4 * float(bars[1].get("width")), abs=0.3)
    parts = [r for r in _parse(share_bar([Bar("甲", 3, "75%", "#111"), Bar("乙", 1, "25%", "#222")], "t"))
             .iter(f"{SVG}rect") if r.get("fill") in ("#111", "#222") and r.get("y") == "0"]
    assert float(parts[0].get("width")) == pytest.approx(3 * float(parts[1].get("width")), abs=0.3)


def test_the_axis_of_counts_has_whole_steps():
    assert nice_ceiling(0) == (1, 1)
    assert nice_ceiling(3) == (3, 1)
    assert nice_ceiling(7) == (8, 2)
    assert nice_ceiling(123) == (150, 50)


def test_an_empty_chart_says_so():
    assert "暂无数据" in bar_chart([], "t") and "暂无数据" in share_bar([Bar("甲", 0, "—", "#111")], "t")


def test_a_chart_travels_as_a_data_uri():
    svg = bar_chart([Bar("甲", 1, "1", "#111")], "t")
    uri = data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode("utf-8") == svg
