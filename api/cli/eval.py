"""``fazhi eval`` and ``fazhi calibrate``: measure and calibrate on labelled questions."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api.cli.ask import MODES
from api.cli.common import assistant_for
from api.settings import Settings


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from assistant.evaluation import evaluate, format_report, read_cases
    from index.retriever import Mode

    cases = read_cases([Path(f) for f in args.files])
    assistant = assistant_for(settings)
    assistant.respond("预热")  # the first query pays for lazy initialisation
    with tqdm(total=len(cases), desc="评测", file=sys.stderr, disable=args.json) as bar:
        report = evaluate(assistant, cases, Mode(args.mode), progress=bar.update)
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
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
    ev.set_defaults(func=cmd_eval)
    cal = sub.add_parser("calibrate", help="在评测数据上拟合置信度")
    cal.add_argument("files", nargs="+")
    cal.add_argument("--note", help="记录校准所用的数据与知识库")
    cal.set_defaults(func=cmd_calibrate)
