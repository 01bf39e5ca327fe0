"""``fazhi eval`` and ``fazhi calibrate``: measure and calibrate on labelled questions."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from api.cli.ask import MODES
from api.cli.common import assistant_for
from api.settings import Settings
from knowledge.taxonomy import Kind

#: ``../shared/data`` beside the repository root, where the pair labels' question texts live.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from assistant import pair_eval
    from assistant.eval_details import outcome_details
    from assistant.evaluation import evaluate, format_report, read_cases
    from index.retriever import Mode

    paths = [Path(f) for f in args.files]
    pair_paths = [p for p in paths if pair_eval.is_pair_file(p)]
    cases = read_cases(p for p in paths if p not in pair_paths)
    questions = pair_eval.read_pair_labels(pair_paths, args.split)
    texts = pair_eval.resolve_questions(questions, Path(args.shared))  # fail before loading the model
    kinds = [args.kind] if args.kind else None
    mode = Mode(args.mode)
    assistant = assistant_for(settings)
    assistant.respond("预热")  # the first query pays for lazy initialisation
    output: dict[str, Any] = {}
    text: list[str] = []
    with ExitStack() as stack:
        details = stack.enter_context(Path(args.details).open("w", encoding="utf-8")) if args.details else None

        def write(row: dict[str, Any]) -> None:
            if details:
                details.write(json.dumps(row, ensure_ascii=False) + "\n")

        bar = stack.enter_context(tqdm(total=len(cases) + len(questions), desc="评测", file=sys.stderr,
                                       disable=args.json))
        if cases or not questions:
            output = evaluate(assistant, cases, mode, progress=bar.update, kinds=kinds,
                              record=lambda c, o: write(outcome_details(c.id, o) | {
                                  "expect": c.expect, "relevant": list(c.relevant)}))
            text.append(format_report(output))
        if questions:
            pairs = pair_eval.evaluate_pairs(assistant, questions, texts, mode, kinds, bar.update, write)
            output["pairs"] = pairs | {"split": args.split}
            text.append(pair_eval.format_pair_report(output["pairs"]))
    print(json.dumps(output, ensure_ascii=False) if args.json else "\n\n".join(text))
    return 0


def cmd_calibrate(settings: Settings, args: argparse.Namespace) -> int:
    from assistant import pair_eval
    from assistant.calibrate import LabelledQuestion, examples, fit, smalltalk_margin, threshold_table
    from assistant.confidence import CalibrationBook
    from assistant.evaluation import read_cases
    from index.retriever import Mode

    paths = [Path(f) for f in args.files]
    pair_paths = [p for p in paths if pair_eval.is_pair_file(p)]
    pairs = pair_eval.read_pair_labels(pair_paths, args.split)
    texts = pair_eval.resolve_questions(pairs, Path(args.shared))
    labelled = [LabelledQuestion(q, texts[q.id]) for q in pairs] + [
        # a question with relevant ids: those are right, any other candidate is wrong
        LabelledQuestion(pair_eval.PairQuestion(c.id, labels=dict.fromkeys(c.relevant, "right")), c.query, "wrong")
        for c in read_cases(p for p in paths if p not in pair_paths) if c.relevant]
    assistant = assistant_for(settings)
    book = CalibrationBook.load()
    name = assistant.embedder.name
    source = ", ".join(p.name for p in paths) + (f" ({args.split})" if args.split else "")
    found = {}
    for mode in Mode:
        found[mode] = examples(assistant, labelled, mode)
        curve = book.entries[book.key(name, mode.value)] = fit(found[mode], source)
        print(f"{mode.value}: n={curve.n} coef={[round(c, 3) for c in curve.coef]} b={curve.intercept:.3f}")
    margin = book.legal_margin[name] = round(smalltalk_margin(assistant), 4)
    print(f"decline margin (assistant/data/smalltalk.txt): {margin:.4f}")
    if args.note:
        book.notes[name] = args.note
    book.save()
    print(f"threshold  answered  right  precision  right-or-partly   [hybrid, {len(labelled)} questions]")
    for row in threshold_table(found[Mode.HYBRID], book.entries[book.key(name, "hybrid")], len(labelled)):
        print(f"  {row['threshold']:.2f}     {row['answered']:.3f}    {row['right']:4d}   {row['precision']}"
              f"      {row['right_or_partly']}")
    return 0


def add_parser(sub: Any) -> None:
    ev = sub.add_parser("eval", help="评测检索与决策")
    ev.add_argument("files", nargs="+")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--mode", default="hybrid", choices=MODES)
    ev.add_argument("--kind", choices=[k.value for k in Kind], help="只检索这一类条目")
    ev.add_argument("--split", choices=["calib", "heldout"], help="对标注文件：只评测这一部分")
    ev.add_argument("--shared", default=str(SHARED_DATA), help="对标注问题原文所在目录（默认 ../shared/data）")
    ev.add_argument("--details", metavar="OUT.jsonl", help="逐条写出决策、置信度、候选与回复")
    ev.set_defaults(func=cmd_eval)
    cal = sub.add_parser("calibrate", help="在评测数据上拟合置信度")
    cal.add_argument("files", nargs="+")
    cal.add_argument("--note", help="记录校准所用的数据与知识库")
    cal.add_argument("--split", choices=["calib", "heldout"], default="calib",
                     help="对标注文件：用哪一部分拟合（默认 calib；heldout 只用于报告）")
    cal.add_argument("--shared", default=str(SHARED_DATA), help="对标注问题原文所在目录（默认 ../shared/data）")
    cal.set_defaults(func=cmd_calibrate)
