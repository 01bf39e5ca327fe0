"""The dashboard as an XLSX workbook a justice bureau can attach to its periodic report.

Figures only: no resident's words are exported, and every text cell (titles, names, the
filters) still goes through ``assistant.pii.mask_numbers``.  Shares are numbers formatted
as percentages, durations numbers of minutes, so that the sheets can be computed with.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from assistant.pii import mask_numbers
from assistant.queue.report import Stats
from assistant.stats.figures import DECISION_LABELS, DECISIONS, Dashboard, KeyFigure, key_figures
from knowledge.timeutil import CHINA_TZ

PERCENT = "0.0%"
DECIMAL = "0.0"
HEADER_FILL = PatternFill("solid", fgColor="E8EEF7")
Cell = str | int | float | None
LAWYER_HEADER = ("律师", "咨询单", "已答复", "答复率", "首次答复中位数（分钟）", "首次答复 P90（分钟）", "办结",
                 "办结用时中位数（分钟）", "超时", "满意度（1-5）", "评价数")


def _clean(value: Cell) -> Cell:
    return mask_numbers(value) if isinstance(value, str) else value


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def scope_text(d: Dashboard) -> str:
    sc = d.scope
    parts = [f"{sc.first.isoformat()} 至 {sc.last.isoformat()}（北京时间）"]
    parts.append(f"分类：{sc.category or '全部'}")
    parts.append(f"地区：{sc.region or '全部'}")
    return "；".join(parts)


def _sheet(ws: Worksheet, header: Sequence[str], rows: Iterable[Sequence[Cell]],
           formats: dict[int, str] | None = None, widths: Sequence[int] = ()) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for row in rows:
        ws.append([_clean(v) for v in row])
    for col, fmt in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[chr(64 + i)].width = width
    ws.freeze_panes = "A2"


def _key_row(f: KeyFigure) -> list[Cell]:
    if f.kind == "duration":
        return [f"{f.label}（分钟）", _minutes(f.value), f.note]
    return [f.label, f.value, f.note]


def _lawyer_row(name: str, st: Stats) -> list[Cell]:
    return [name, st.tickets, st.responded, st.response_rate, _minutes(st.median_first_response_s),
            _minutes(st.p90_first_response_s), st.closed, _minutes(st.median_close_s), st.overdue,
            st.rating_mean, st.rating_count]


def to_xlsx(d: Dashboard) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "概览"
    ws.append(["公共法律服务智能咨询统计"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([_clean(scope_text(d))])
    ws.append([f"生成时间：{d.computed_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"])
    ws.append([])
    ws.append(["指标", "数值", "说明"])
    for cell in ws[5]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for f in key_figures(d):
        ws.append([_clean(v) for v in _key_row(f)])
        cell = ws.cell(ws.max_row, 2)
        cell.number_format = {"share": PERCENT, "duration": DECIMAL, "score": "0.00"}.get(f.kind, "0")
        cell.alignment = Alignment(horizontal="right")
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 26, 12
    ws.column_dimensions["C"].width = 24

    _sheet(wb.create_sheet("每日消息"), ["日期", "消息数", *(DECISION_LABELS[k] for k in DECISIONS)],
           ([x.day.isoformat(), x.messages, *(x.decisions.get(k, 0) for k in DECISIONS)] for x in d.days),
           widths=(12, 10, 10, 14, 10, 12, 10))
    _sheet(wb.create_sheet("处理方式"), ["处理方式", "数量", "占比"],
           ([DECISION_LABELS[k], d.decisions.counts.get(k, 0), d.decisions.share(k)] for k in DECISIONS),
           {3: PERCENT}, (16, 10, 10))
    _sheet(wb.create_sheet("分类"), ["分类", "咨询问题", "直接解答", "直接解答率", "推荐相关问题", "转律师（含紧急）"],
           ([c.category, c.questions, c.answered, c.answer_rate, c.suggested, c.escalated]
            for c in d.categories), {4: PERCENT}, (14, 10, 10, 12, 14, 16))
    _sheet(wb.create_sheet("满意度"), ["评价对象", "评价数", "平均分（1-5）", "满意（4-5）", "不满意（1-2）", "满意率"],
           ([name, x.count, x.mean, x.satisfied, x.dissatisfied, x.satisfied_share]
            for name, x in (("智能助手的解答", d.answers), ("律师的答复", d.lawyers))),
           {3: "0.00", 6: PERCENT}, (16, 10, 14, 12, 14, 10))
    _sheet(wb.create_sheet("差评条目"), ["条目编号", "标题", "分类", "差评数", "评价数", "差评原因"],
           ([x.entry_id, x.title, x.category, x.dislikes, x.ratings, x.reasons_text] for x in d.disliked),
           widths=(10, 48, 12, 8, 8, 30))
    overall = [_lawyer_row("全部", d.queue.overall)]
    _sheet(wb.create_sheet("律师"), LAWYER_HEADER,
           overall + [_lawyer_row(ls.name, ls.stats) for ls in d.queue.lawyers],
           {4: PERCENT, 5: DECIMAL, 6: DECIMAL, 8: DECIMAL, 10: "0.00"},
           (14, 8, 8, 8, 12, 12, 8, 12, 8, 10, 8))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(d: Dashboard, suffix: str) -> str:
    """An ASCII file name for the download (the period in it)."""
    return f"fazhi-report-{d.scope.first:%Y%m%d}-{d.scope.last:%Y%m%d}.{suffix}"
