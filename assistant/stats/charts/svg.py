"""Charts drawn here as SVG: no chart library, no script, nothing from the internet.

Each function returns a complete SVG document in which every piece of text is escaped.
Pages show it as an ``<img>`` with a ``data:`` URI (an image cannot run script, and the
printable report stays one self-contained file).  The drawings are narrow (``WIDTH`` units)
and scale to the width of their box, so that their 12-unit text stays readable on a phone;
each also comes wider (``HALF`` or ``WIDE``) for larger screens.
"""
from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 360  # about a phone's width in CSS pixels: the text is drawn at its size there
HALF = 520  # half a desktop page
WIDE = 840
FONT = 12
FONT_FAMILY = "PingFang SC, Noto Sans CJK SC, Microsoft YaHei, WenQuanYi Zen Hei, sans-serif"
AXIS, GRID, MUTED, INK = "#8c959f", "#eaeef2", "#656d76", "#1f2328"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as written beside the bar
    color: str


def text_width(text: str, size: float = FONT) -> float:
    """Rough advance of ``text``: CJK characters are square, the rest about half as wide."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def clip(text: str, max_width: float, size: float = FONT) -> str:
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: float = FONT,
          fill: str = INK, weight: str = "normal") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}">{escape(content)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}" '
            f'height="{_num(max(h, 0))}" fill="{fill}">{tip}</rect>')


def _document(width: float, height: float, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
            f'width="{_num(width)}" height="{_num(height)}" role="img" '
            f'font-family={quoteattr(FONT_FAMILY)}>'
            f'<title>{escape(title)}</title>'
            f'<rect width="100%" height="100%" fill="#fff"/>{"".join(body)}</svg>')


def nice_ceiling(value: float) -> tuple[float, float]:
    """An axis maximum at or above the count ``value`` and its whole tick step (1, 2 or 5
    times a power of ten; at most five ticks)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step), step


def _legend(series: Sequence[tuple[str, str]], y: float, width: float) -> tuple[list[str], float]:
    """Swatches and names, wrapped onto as many lines as needed; returns the height used."""
    out, x, line = [], 0.0, 0
    for name, color in series:
        item = 14 + text_width(name) + 14
        if x and x + item > width:
            x, line = 0.0, line + 1
        top = y + line * 18
        out += [_rect(x, top, 10, 10, color), _text(x + 14, top + 9.5, name, size=FONT)]
        x += item
    return out, (line + 1) * 18 if series else 0


def column_chart(labels: Sequence[str], series: Sequence[Series], title: str,
                 label_every: int | None = None, height: float = 230, width: float = WIDTH) -> str:
    """Stacked columns, one per label (a day), the series stacked in the order given."""
    legend, legend_h = _legend([(s.name, s.color) for s in series], 0, width)
    left, right, top, bottom = 34.0, 6.0, legend_h + 8, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(labels))
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    ymax, step = nice_ceiling(max(totals, default=0))
    body = list(legend)
    ticks = int(round(ymax / step))
    for t in range(ticks + 1):
        y = top + plot_h - plot_h * t / ticks
        body.append(f'<line x1="{_num(left)}" x2="{_num(width - right)}" y1="{_num(y)}" '
                    f'y2="{_num(y)}" stroke="{GRID if t else AXIS}" stroke-width="1"/>')
        body.append(_text(left - 4, y + 4, _num(step * t), anchor="end", size=10, fill=MUTED))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.72)
    every = label_every or max(1, math.ceil(n / max(4, int(width / 60))))
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        base = top + plot_h
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / ymax
            base -= h
            body.append(_rect(x, base, bar_w, h, s.color, f"{label} {s.name}：{_num(value)}"))
        if i % every == 0:
            body.append(_text(left + i * slot + slot / 2, height - 6, label, anchor="middle",
                              size=10, fill=MUTED))
    return _document(width, height, title, body)


def bar_chart(bars: Sequence[Bar], title: str, max_value: float | None = None,
              empty: str = "暂无数据", width: float = WIDTH) -> str:
    """Horizontal bars, one row each: the label, the bar, the value beside it."""
    row_h, gap = 22.0, 6.0
    if not bars:
        return _document(width, 40, title, [_text(width / 2, 25, empty, anchor="middle", fill=MUTED)])
    label_w = min(width * 0.38, max(text_width(b.label) for b in bars) + 8)
    value_w = max(text_width(b.shown, 11) for b in bars) + 8
    plot_w = width - label_w - value_w
    top_value = max_value or max((b.value for b in bars), default=0) or 1
    body: list[str] = []
    for i, b in enumerate(bars):
        y = i * (row_h + gap)
        body.append(_text(label_w - 6, y + row_h / 2 + 4, clip(b.label, label_w - 8), anchor="end"))
        body.append(_rect(label_w, y + 3, plot_w, row_h - 6, "#f3f4f6"))
        w = plot_w * max(0.0, b.value) / top_value
        body.append(_rect(label_w, y + 3, w, row_h - 6, b.color, f"{b.label}：{b.shown}"))
        body.append(_text(label_w + max(w, 0) + 4, y + row_h / 2 + 4, b.shown, size=11, fill=MUTED))
    return _document(width, len(bars) * (row_h + gap) - gap, title, body)


def share_bar(parts: Sequence[Bar], title: str, empty: str = "暂无数据", width: float = WIDTH) -> str:
    """One bar split into shares (the parts' values), the legend with each share below."""
    total = sum(max(0.0, p.value) for p in parts)
    if total <= 0:
        return _document(width, 40, title, [_text(width / 2, 25, empty, anchor="middle", fill=MUTED)])
    body: list[str] = []
    x = 0.0
    for p in parts:
        w = width * max(0.0, p.value) / total
        if w > 0:
            body.append(_rect(x, 0, w, 26, p.color, f"{p.label}：{p.shown}"))
        x += w
    legend, legend_h = _legend([(f"{p.label} {p.shown}", p.color) for p in parts], 36, width)
    return _document(width, 36 + legend_h, title, body + legend)


def data_uri(svg: str) -> str:
    """The drawing as an ``<img src>`` (allowed by the console's CSP: ``img-src 'self' data:``)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
