"""The dashboard's charts from its figures, each as an ``<img>`` data URI with its alt text."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.stats.charts.svg import HALF, WIDE, Bar, Series, bar_chart, column_chart, data_uri, share_bar
from assistant.stats.figures import DECISION_LABELS, DECISIONS, Dashboard, percent

DECISION_COLORS: dict[str, str] = {"answer": "#1e8e3e", "suggest": "#1a73e8", "escalate": "#e37400",
                                   "decline": "#9aa0a6", "emergency": "#b3261e"}
CATEGORY_COLOR = "#1a73e8"
ANSWER_RATE_COLOR = "#1e8e3e"
DISLIKE_COLOR = "#d93025"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    src: str  # data:image/svg+xml;base64,...
    alt: str
    wide_src: str = ""  # the same, drawn wider for screens wider than a phone


def _chart(key: str, title: str, svg: str, alt: str, wide: str = "") -> Chart:
    return Chart(key, title, data_uri(svg), alt, data_uri(wide) if wide else "")


def charts(d: Dashboard) -> dict[str, Chart]:
    days = d.days
    labels = [f"{x.day:%m-%d}" for x in days]
    series = [Series(DECISION_LABELS[k], [x.decisions.get(k, 0) for x in days], DECISION_COLORS[k])
              for k in DECISIONS]
    other = [x.messages - sum(x.decisions.values()) for x in days]
    if any(other):
        series.append(Series("其他消息", other, "#d0d7de"))
    peak = max((x.messages for x in days), default=0)
    daily = _chart("daily", "每日消息数", column_chart(labels, series, "每日消息数"),
                   f"每日消息数：共 {d.messages} 条，单日最多 {peak} 条",
                   column_chart(labels, series, "每日消息数", height=260, width=WIDE))

    shares = [Bar(DECISION_LABELS[k], d.decisions.counts.get(k, 0), percent(d.decisions.share(k)),
                  DECISION_COLORS[k]) for k in DECISIONS]
    decisions = _chart("decisions", "处理方式占比", share_bar(shares, "处理方式占比"),
                       "处理方式占比：" + "，".join(f"{b.label} {b.shown}" for b in shares),
                       share_bar(shares, "处理方式占比", width=WIDE))

    top = d.top_categories
    category_bars = [Bar(c.category, c.questions, str(c.questions), CATEGORY_COLOR) for c in top]
    cats = _chart("categories", "咨询最多的分类", bar_chart(category_bars, "咨询最多的分类"),
                  "咨询最多的分类：" + "，".join(f"{c.category} {c.questions}" for c in top),
                  bar_chart(category_bars, "咨询最多的分类", width=HALF))
    rate_bars = [Bar(c.category, c.answer_rate or 0, percent(c.answer_rate), ANSWER_RATE_COLOR) for c in top]
    rates = _chart("answer_rates", "各分类直接解答率", bar_chart(rate_bars, "各分类直接解答率", max_value=1.0),
                   "各分类直接解答率：" + "，".join(f"{c.category} {percent(c.answer_rate)}" for c in top),
                   bar_chart(rate_bars, "各分类直接解答率", max_value=1.0, width=HALF))
    dislike_bars = [Bar(x.title, x.dislikes, f"{x.dislikes}/{x.ratings}", DISLIKE_COLOR) for x in d.disliked]
    disliked = _chart("dislikes", "差评最多的条目", bar_chart(dislike_bars, "差评最多的条目", empty="没有差评"),
                      "差评最多的条目：" + ("，".join(f"{x.title} {x.dislikes} 个差评" for x in d.disliked)
                                          or "没有差评"),
                      bar_chart(dislike_bars, "差评最多的条目", empty="没有差评", width=WIDE))
    return {c.key: c for c in (daily, decisions, cats, rates, disliked)}
