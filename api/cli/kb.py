"""``fazhi kb import|seed|list|show``: the knowledge base."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api.cli.common import store_for
from api.settings import Settings


def cmd_kb_import(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from knowledge.importers import import_file, parse_mapping
    from knowledge.taxonomy import Kind, Status

    store = store_for(settings)
    with tqdm(desc="导入", unit="条", file=sys.stderr) as bar:
        report = import_file(store, Path(args.file), Kind(args.kind), parse_mapping(args.mapping),
                             Status(args.status), progress=bar.update)
    for err in report.errors[:200]:
        print(f"第 {err.line} 行：{err.reason}", file=sys.stderr)
    if len(report.errors) > 200:
        print(f"……另有 {len(report.errors) - 200} 行错误", file=sys.stderr)
    print(f"新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，错误 {len(report.errors)}")
    return 0 if report.imported or not report.errors else 1


def cmd_kb_seed(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.seed import load_seed

    for name, report in load_seed(store_for(settings)).items():
        print(f"{name}: 新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
              f"错误 {len(report.errors)}")
    return 0


def cmd_kb_list(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.store import EntryFilter

    store = store_for(settings)
    flt = EntryFilter(args.kind, args.category, args.status)
    rows = store.list(flt, limit=args.limit, offset=args.offset)
    for e in rows:
        print(f"{e.id}\t{e.kind}\t{e.status}\t{e.category}\t{e.external_id or '-'}\t{e.title[:40]}")
    print(f"共 {store.count(flt)} 条", file=sys.stderr)
    return 0


def cmd_kb_show(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.store import EntryNotFound, to_data

    try:
        entry = store_for(settings).get(args.id)
    except EntryNotFound:
        print(f"没有编号为 {args.id} 的条目", file=sys.stderr)
        return 1
    data = to_data(entry).model_dump(mode="json", exclude_none=True)
    data.update(id=entry.id, created_at=entry.created_at.isoformat(), updated_at=entry.updated_at.isoformat())
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def add_parser(sub: Any) -> None:
    kb = sub.add_parser("kb", help="知识库").add_subparsers(dest="action", required=True)
    imp = kb.add_parser("import", help="导入 JSONL/CSV")
    imp.add_argument("file")
    imp.add_argument("--kind", required=True, choices=["faq", "case", "article"])
    imp.add_argument("--mapping", help="字段映射：target=source,… 或 JSON")
    imp.add_argument("--status", default="published", choices=["draft", "published", "archived"])
    imp.set_defaults(func=cmd_kb_import)
    kb.add_parser("seed", help="导入内置知识").set_defaults(func=cmd_kb_seed)
    ls = kb.add_parser("list", help="列出条目")
    ls.add_argument("--kind")
    ls.add_argument("--category")
    ls.add_argument("--status")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--offset", type=int, default=0)
    ls.set_defaults(func=cmd_kb_list)
    show = kb.add_parser("show", help="查看条目")
    show.add_argument("id", type=int)
    show.set_defaults(func=cmd_kb_show)
