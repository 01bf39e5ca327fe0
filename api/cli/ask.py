"""``fazhi ask`` and ``fazhi chat``."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from api.cli.common import assistant_for
from api.settings import Settings

MODES = ["hybrid", "bm25", "dense"]


def _print_outcome(outcome, as_json: bool) -> None:
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
    from index.retriever import Mode

    kinds = [args.kind] if args.kind else None
    outcome = assistant_for(settings).respond(args.question, mode=Mode(args.mode), kinds=kinds,
                                           category=args.category)
    _print_outcome(outcome, args.json)
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace,
             read: Callable[[str], str] = input) -> int:
    from assistant.outcome import Decision

    assistant = assistant_for(settings)
    print("您好，我是公共法律服务智能助手。请描述您的法律问题（输入 q 退出）。")
    history: list[str] = []
    choices: list[Any] = []
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


def add_parser(sub: Any) -> None:
    ask = sub.add_parser("ask", help="提一个问题")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--mode", default="hybrid", choices=MODES)
    ask.add_argument("--kind", choices=["faq", "case", "article"], help="只检索某类条目")
    ask.add_argument("--category", help="只检索某个分类")
    ask.set_defaults(func=cmd_ask)
    sub.add_parser("chat", help="终端对话").set_defaults(func=cmd_chat)
