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
    from assistant.confidence import CalibrationBook
    from assistant.evaluation import calibrate, legal_margin, read_cases, threshold_table

    cases = read_cases([Path(f) for f in args.files])
    assistant = assistant_for(settings)
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
    cal.set_defaults(func=cmd_calibrate)
