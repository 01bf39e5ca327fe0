"""``fazhi privacy purge [--older-than-days N] [--dry-run]``: delete residents' conversation
text older than N days (``FAZHI_RETENTION_DAYS`` by default); the statistics stay."""
from __future__ import annotations

import argparse

from api.settings import Settings
from assistant.learning.groups import question_vector_files
from assistant.privacy.retention import Retention
from knowledge.db import make_engine, migrate
from knowledge.timeutil import CHINA_TZ


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.storage.sqlalchemy_url)
    try:
        migrate(engine)
        retention = Retention(engine, settings.privacy,
                              lambda: question_vector_files(settings.storage.cache_dir))
        result = retention.purge(args.older_than_days, dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "将删除" if args.dry_run else "已删除"
    cutoff = result.cutoff.astimezone(CHINA_TZ)
    print(f"{verb} {cutoff:%Y-%m-%d %H:%M}（北京时间）之前的对话原文，统计数字保留：")
    for name, n in result.cleared.items():
        print(f"  {name}：{n} 条")
    print(f"合计 {result.total} 条")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # argparse's own type
    privacy = sub.add_parser("privacy", help="居民隐私：按保存期限删除对话原文").add_subparsers(
        dest="action", required=True)
    purge = privacy.add_parser("purge", help="删除超过保存期限的对话原文（统计数字、评价、用时保留）")
    purge.add_argument("--older-than-days", type=int, default=None, metavar="N",
                       help="删除 N 天以前的原文（默认：FAZHI_RETENTION_DAYS，180 天）")
    purge.add_argument("--dry-run", action="store_true", help="只统计将删除多少条，不删除")
    purge.set_defaults(func=cmd_purge)
