"""``fazhi report --from YYYY-MM-DD --to YYYY-MM-DD [--category C] [--region R] [--json]``:
the dashboard's figures (the lawyer queue's, and the decision shares under ``decisions``).

Dates are calendar days in Beijing time, both ends included: ``--from 2026-11-01 --to
2026-11-30`` covers tickets created during November.
"""
from __future__ import annotations

import argparse
import json
from datetime import date, datetime

from api.settings import Settings
from assistant.queue.report import format_report
from assistant.stats.figures import DECISION_LABELS, DECISIONS, Dashboard, Scope, Statistics, percent
from knowledge.db import make_engine, migrate
from knowledge.timeutil import china_days, parse_day


def _day(value: str) -> date:
    try:
        return parse_day(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) covering the days ``first`` to ``last`` in Beijing time."""
    if last < first:
        raise ValueError("结束日期早于开始日期")
    return china_days(first, last)


def decision_lines(d: Dashboard) -> list[str]:
    """The residents' side: messages, what the assistant decided, satisfaction."""
    q = d.decisions
    shares = "，".join(f"{DECISION_LABELS[k]} {q.counts.get(k, 0)}（{percent(q.share(k))}）"
                       for k in DECISIONS)
    a = d.answers
    return ["【居民咨询】", f"  消息：{d.messages}    咨询问题：{q.total}", f"  处理方式：{shares}",
            f"  自动解答满意率：{percent(a.satisfied_share)}（{a.count} 人评价，{a.dissatisfied} 个差评）"]


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    period(args.start, args.end)  # the same check and message as before
    scope = Scope(args.start, args.end, args.category, args.region)
    engine = make_engine(settings.storage.sqlalchemy_url)
    try:
        migrate(engine)
        d = Statistics(engine).dashboard(scope)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(d.queue))
        print("\n" + "\n".join(decision_lines(d)))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # argparse's type
    rep = sub.add_parser("report", help="服务统计（处理方式占比、满意度，律师答复率、首次答复用时、办结、超时）")
    rep.add_argument("--from", dest="start", type=_day, required=True, help="开始日期 YYYY-MM-DD")
    rep.add_argument("--to", dest="end", type=_day, required=True, help="结束日期 YYYY-MM-DD（含）")
    rep.add_argument("--category", help="只统计这一分类，如：劳动争议")
    rep.add_argument("--region", help="只统计这一地区（居民在咨询单上留下的位置），如：海淀区")
    rep.add_argument("--json", action="store_true", help="输出 JSON（处理方式占比在 decisions 下）")
    rep.set_defaults(func=cmd_report)
