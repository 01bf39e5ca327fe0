"""``fazhi report --from YYYY-MM-DD --to YYYY-MM-DD [--json]``: the lawyer queue's figures.

Dates are calendar days in Beijing time, both ends included: ``--from 2026-11-01 --to
2026-11-30`` covers tickets created during November.
"""
from __future__ import annotations

import argparse
import json
from datetime import date, datetime

from api.settings import Settings
from assistant.queue.desk import Desk
from assistant.queue.report import format_report
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


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    start, end = period(args.start, args.end)
    engine = make_engine(settings.storage.sqlalchemy_url)
    try:
        migrate(engine)
        rep = Desk(engine, settings.queue).report(start, end)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rep.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(rep))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # argparse's type
    rep = sub.add_parser("report", help="律师咨询服务统计（答复率、首次答复用时、办结、超时、满意度）")
    rep.add_argument("--from", dest="start", type=_day, required=True, help="开始日期 YYYY-MM-DD")
    rep.add_argument("--to", dest="end", type=_day, required=True, help="结束日期 YYYY-MM-DD（含）")
    rep.add_argument("--json", action="store_true", help="输出 JSON")
    rep.set_defaults(func=cmd_report)
