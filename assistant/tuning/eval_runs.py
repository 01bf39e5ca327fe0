"""Evaluation files run from the console, and the runs kept.

A file is either evaluation cases (``relevant`` / ``expect``) or pair labels (shared
README's format), told apart by its first row as ``fazhi eval`` does; both are measured by
the same code as the command line (``assistant.evaluation.evaluate``,
``assistant.pair_eval.evaluate_pairs``).  One pass also yields the observations from which
``assistant.tuning.whatif`` tells what other thresholds would do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from assistant import pair_eval
from assistant.evaluation import DECISIONS, EvalCase, evaluate, read_cases
from assistant.outcome import Outcome
from assistant.service import Assistant
from assistant.tuning import whatif
from assistant.tuning.models import EvalRun
from assistant.tuning.thresholds import as_dict
from index.retriever import Mode
from knowledge.db import session_factory
from knowledge.timeutil import as_utc, utcnow

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 3000
SPLITS = pair_eval.SPLITS


class EvalFileError(ValueError):
    """An evaluation file that cannot be run (the message is shown to the admin)."""


def _case_labels(case: EvalCase) -> tuple[dict[str, str], str | None]:
    """A case's relevant entries are right and every other entry wrong; a case that expects no
    answer makes any answer wrong; otherwise its answers are unlabelled."""
    if case.relevant:
        return dict.fromkeys(case.relevant, "right"), "wrong"
    if case.expect in ("decline", "escalate", "emergency"):
        return {}, "wrong"
    return {}, None


def _read(path: Path, split: str | None) -> tuple[list[pair_eval.PairQuestion], list[EvalCase]]:
    try:
        if pair_eval.is_pair_file(path):
            return pair_eval.read_pair_labels([path], split), []
        return [], read_cases([path])
    except UnicodeDecodeError:
        raise EvalFileError("文件不是 UTF-8 编码的 JSONL") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        where = re.sub(rf"{re.escape(str(path))}:(\d+): ", r"第 \1 行：", str(exc))
        raise EvalFileError(f"文件格式有误：{where}") from None


def evaluate_file(assistant: Assistant, path: Path, shared_dir: Path, split: str | None = None) -> dict[str, Any]:
    """Run one evaluation file against the live assistant (its current thresholds); the
    report holds the figures, the decision confusion and the threshold tables."""
    if split is not None and split not in SPLITS:
        raise EvalFileError("未知的数据划分")
    questions, cases = _read(path, split)
    n = len(questions) + len(cases)
    if not n:
        raise EvalFileError("文件中没有可评测的问题" + ("（该划分下没有问题）" if split else ""))
    if n > MAX_QUESTIONS:
        raise EvalFileError(f"一次最多评测 {MAX_QUESTIONS} 个问题，这个文件有 {n} 个")
    current = assistant.thresholds
    observations: list[whatif.Observation] = []
    report: dict[str, Any] = {"n": n, "thresholds": as_dict(current), "split": split}
    if questions:
        try:
            texts = pair_eval.resolve_questions(questions, shared_dir)
        except pair_eval.PairLabelError as exc:
            raise EvalFileError(f"找不到问题原文（{shared_dir}）：{exc}") from None
        labels = {q.id: q.labels for q in questions}
        pairs = pair_eval.evaluate_pairs(assistant, questions, texts, Mode.HYBRID,
                                         record=lambda row: observations.append(
                                             whatif.from_details(row, labels[str(row["id"])])))
        report |= {"kind": "pairs", "answers": pairs, "retrieval": whatif.ranking(observations),
                   "confusion": {"rows_title": "首位候选标注", "cells": whatif.label_confusion(observations)}}
    else:
        def keep(case: EvalCase, outcome: Outcome) -> None:
            observations.append(whatif.from_outcome(case.id, outcome, *_case_labels(case)))

        figures = evaluate(assistant, cases, Mode.HYBRID, record=keep)
        report |= {"kind": "cases", "cases": figures,
                   "answers": whatif.metrics_at(observations, current),
                   "retrieval": {"n": figures["n_retrieval"], "depth": None, "recall_at_1": figures["recall_at_1"],
                                 "recall_at_5": figures["recall_at_5"], "mrr": figures["mrr"]},
                   "confusion": {"rows_title": "期望决策", "cells": figures["decisions"]}}
    report["columns"] = DECISIONS
    report["answer_table"] = whatif.answer_table(observations, current)
    report["suggest_table"] = whatif.suggest_table(observations, current)
    return report


# -- the runs kept -----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    id: int
    at: datetime
    actor_name: str
    filename: str
    questions: int
    report: dict[str, Any]


def _run(r: EvalRun) -> Run:
    return Run(r.id, as_utc(r.at), r.actor_name, r.filename, r.questions, r.report)


def record(engine: Engine, actor_name: str, filename: str, report: dict[str, Any]) -> Run:
    with session_factory(engine).begin() as s:
        row = EvalRun(at=utcnow(), actor_name=actor_name[:64], filename=filename[:255], questions=report["n"],
                      report=report)
        s.add(row)
        s.flush()
        return _run(row)


def get(engine: Engine, run_id: int) -> Run | None:
    with session_factory(engine)() as s:
        row = s.get(EvalRun, run_id)
        return _run(row) if row else None


def latest(engine: Engine, limit: int = 10) -> list[Run]:
    with session_factory(engine)() as s:
        return [_run(r) for r in s.scalars(select(EvalRun).order_by(EvalRun.id.desc()).limit(limit))]
