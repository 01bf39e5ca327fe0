"""``fazhi kb``: the knowledge base: import, export, list, show, and curation (publish,
archive, history, diff, restore, check).  The command line acts as the operator: it may
publish without review, and every change it makes is a version with ``--as`` as author."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api.cli.common import store_for
from api.settings import Settings

STATUSES = ["draft", "in_review", "published", "archived"]
KINDS = ["faq", "case", "article"]


def _operator(args: argparse.Namespace):
    from knowledge.workflow import Actor

    return Actor(args.as_name, operator=True)


def cmd_kb_import(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from knowledge.importers import import_file, parse_mapping
    from knowledge.taxonomy import Kind, Status

    store = store_for(settings)
    with tqdm(desc="检查" if args.dry_run else "导入", unit="条", file=sys.stderr) as bar:
        report = import_file(store, Path(args.file), Kind(args.kind) if args.kind else None,
                             parse_mapping(args.mapping), Status(args.status) if args.status else None,
                             progress=bar.update, dry_run=args.dry_run, author=args.as_name)
    for label, rows in (("", report.errors), ("（警告）", report.warnings)):
        for row in rows[:200]:
            print(f"第 {row.line} 行{label}：{row.reason}", file=sys.stderr)
        if len(rows) > 200:
            print(f"……另有 {len(rows) - 200} 行{label or '错误'}", file=sys.stderr)
    verbs = ("试运行，未写入：将新增", "将更新", "将不变") if args.dry_run else ("新增", "更新", "未变")
    print(f"{verbs[0]} {report.created}，{verbs[1]} {report.updated}，{verbs[2]} {report.unchanged}，"
          f"错误 {len(report.errors)}，警告 {len(report.warnings)}")
    return 0 if report.imported or not report.errors else 1


def cmd_kb_export(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.exporters import export_file
    from knowledge.taxonomy import Status

    count = export_file(store_for(settings), Path(args.file), args.kind,
                        Status(args.status) if args.status else None)
    print(f"已导出 {count} 条到 {args.file}")
    return 0


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
        entry = store_for(settings).resolve(args.entry)
    except EntryNotFound as exc:
        print(str(exc), file=sys.stderr)
        return 1
    data = to_data(entry).model_dump(mode="json", exclude_none=True)
    data.update(id=entry.id, version_no=entry.current_version, pending_version=entry.pending_version,
                created_at=entry.created_at.isoformat(), updated_at=entry.updated_at.isoformat())
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def _move(settings: Settings, args: argparse.Namespace, target: str) -> int:
    from knowledge.taxonomy import Status
    from knowledge.workflow import Workflow

    store = store_for(settings)
    entry = store.resolve(args.entry)
    flow, actor = Workflow(store, settings.knowledge), _operator(args)
    if target == "published":  # a published entry's pending edit, when one waits (Workflow.publish)
        change = flow.publish(entry.id, actor, args.reason)
    else:  # archiving drops a pending edit (knowledge.pending)
        change = flow.move(entry.id, Status(target), actor, args.reason)
    print(f"条目 {entry.id}（{entry.external_id or '-'}）现为“{change.status.label}”，第 {change.version} 版")
    return 0


def cmd_kb_publish(settings: Settings, args: argparse.Namespace) -> int:
    return _move(settings, args, "published")


def cmd_kb_archive(settings: Settings, args: argparse.Namespace) -> int:
    return _move(settings, args, "archived")


def cmd_kb_history(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.taxonomy import Status
    from knowledge.versions import history

    store = store_for(settings)
    entry = store.resolve(args.entry)
    with store.session() as s:
        rows = history(s, entry.id)
    for v in rows:
        mark = "*" if v.version == entry.current_version else "+" if v.version == entry.pending_version else " "
        status = Status(v.status).label + ("（待审核的修改）" if v.pending else "")
        print(f"{mark}{v.version}\t{v.created_at.isoformat(timespec='seconds')}\t{status}\t"
              f"{v.action}\t{v.author}\t{v.reason}")
    print(f"条目 {entry.id}（{entry.external_id or '-'}）共 {len(rows)} 个版本，* 为当前版本，"
          "+ 为待审核的修改（居民看到的仍是当前版本）", file=sys.stderr)
    return 0


def cmd_kb_diff(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.versions import diff, get_version

    store = store_for(settings)
    entry = store.resolve(args.entry)
    with store.session() as s:
        changes = diff(get_version(s, entry.id, args.old), get_version(s, entry.id, args.new))
    for change in changes:
        print(f"== {change.field}")
        print("\n".join(change.lines[2:]))  # without the ---/+++ header
    if not changes:
        print("两个版本内容相同")
    return 0


def cmd_kb_restore(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.workflow import Workflow

    store = store_for(settings)
    entry = store.resolve(args.entry)
    change = Workflow(store, settings.knowledge).restore(entry.id, args.version, _operator(args),
                                                         publish=args.publish, reason=args.reason)
    what = "待审核的修改（草稿，已发布的内容不变）" if change.pending else f"“{change.status.label}”"
    print(f"条目 {entry.id} 已恢复第 {args.version} 版为{what}，第 {change.version} 版")
    return 0


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.currency import check_entries

    flags = check_entries(store_for(settings))
    for flag in flags:
        print(f"{flag.entry_id}\t{flag.external_id or '-'}\t{flag.reason}")
    entries = len({f.entry_id for f in flags})
    print(f"{entries} 个条目共 {len(flags)} 处引用需要修改" if flags else "所有条目的引用均有效", file=sys.stderr)
    return 1 if flags else 0


def _entry_command(kb: Any, name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
    cmd = kb.add_parser(name, help=help_text)
    cmd.add_argument("entry", help="条目编号或外部编号")
    cmd.add_argument("--as", dest="as_name", default="cli", help="操作员名称（记入版本记录）")
    cmd.set_defaults(func=func)
    return cmd


def add_parser(sub: Any) -> None:
    kb = sub.add_parser("kb", help="知识库").add_subparsers(dest="action", required=True)
    imp = kb.add_parser("import", help="导入 JSONL/CSV/XLSX")
    imp.add_argument("file")
    imp.add_argument("--kind", choices=KINDS, help="条目类型（省略时按每行的 kind）")
    imp.add_argument("--mapping", help="字段映射：target=source,… 或 JSON")
    imp.add_argument("--status", choices=STATUSES, help="导入后的状态（省略时按每行的 status，否则为已发布）")
    imp.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
    imp.add_argument("--as", dest="as_name", default="cli", help="操作员名称（记入版本记录）")
    imp.set_defaults(func=cmd_kb_import)
    exp = kb.add_parser("export", help="导出 JSONL/XLSX（可再导入）")
    exp.add_argument("file")
    exp.add_argument("--kind", choices=KINDS)
    exp.add_argument("--status", choices=STATUSES)
    exp.set_defaults(func=cmd_kb_export)
    kb.add_parser("seed", help="导入内置知识").set_defaults(func=cmd_kb_seed)
    ls = kb.add_parser("list", help="列出条目")
    ls.add_argument("--kind")
    ls.add_argument("--category")
    ls.add_argument("--status")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--offset", type=int, default=0)
    ls.set_defaults(func=cmd_kb_list)
    show = kb.add_parser("show", help="查看条目")
    show.add_argument("entry", help="条目编号或外部编号")
    show.set_defaults(func=cmd_kb_show)
    for name, help_text, func in (("publish", "发布条目，或已发布条目待审核的修改（操作员直接发布，记入版本）",
                                   cmd_kb_publish),
                                  ("archive", "归档条目（待审核的修改随之放弃）", cmd_kb_archive)):
        _entry_command(kb, name, help_text, func).add_argument("--reason", default="", help="原因")
    _entry_command(kb, "history", "条目的版本历史", cmd_kb_history)
    diff = _entry_command(kb, "diff", "比较条目的两个版本", cmd_kb_diff)
    diff.add_argument("old", type=int)
    diff.add_argument("new", type=int)
    restore = _entry_command(kb, "restore", "恢复条目的某个版本（默认为草稿；已发布的条目为待审核的修改，"
                                            "已发布的内容不变）", cmd_kb_restore)
    restore.add_argument("version", type=int)
    restore.add_argument("--publish", action="store_true", help="恢复后直接发布")
    restore.add_argument("--reason", default="", help="原因")
    kb.add_parser("check", help="列出引用已废止法律或不存在条文的条目").set_defaults(func=cmd_kb_check)
