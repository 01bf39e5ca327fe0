"""Evaluation and calibration on labelled questions (format: shared/README.md).

A case with ``relevant`` scores retrieval (external ids); one with ``expect`` scores
the decision. Both may be present.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.outcome import Decision, Outcome
from assistant.service import Assistant
from index.retriever import Mode

DECISIONS = [d.value for d in Decision]


class EvalFormatError(ValueError):
    """An evaluation file that cannot be read."""


@dataclass(frozen=True)
class EvalCase:
    id: str
    query: str
    relevant: tuple[str, ...] = ()
    expect: str | None = None


def read_cases(paths: Iterable[Path]) -> list[EvalCase]:
    cases: list[EvalCase] = []
    for path in paths:
        with Path(path).open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    case = EvalCase(str(row.get("id", f"{path.name}:{number}")), str(row["query"]),
                                    tuple(row.get("relevant") or ()), row.get("expect"))
                except (ValueError, KeyError, TypeError) as exc:
                    raise EvalFormatError(f"{path}:{number}: {exc}") from exc
                if case.expect is not None and case.expect not in DECISIONS:
                    raise EvalFormatError(f"{path}:{number}: unknown decision {case.expect!r}")
                cases.append(case)
    return cases


def _precision_recall(confusion: dict[str, dict[str, int]], label: str) -> dict[str, float | None]:
    tp = confusion.get(label, {}).get(label, 0)
    predicted = sum(row.get(label, 0) for row in confusion.values())
    actual = sum(confusion.get(label, {}).values())
    return {"precision": round(tp / predicted, 4) if predicted else None,
            "recall": round(tp / actual, 4) if actual else None, "support": actual}


def evaluate(assistant: Assistant, cases: list[EvalCase], mode: Mode = Mode.HYBRID,
             progress: Callable[[int], None] | None = None, kinds: list[str] | None = None,
             record: Callable[[EvalCase, Outcome], None] | None = None) -> dict:
    """Retrieval and decision figures; ``kinds`` ranks only those kinds of entry (the article
    sets are measured on articles alone), ``record`` sees every case's outcome."""
    ranks: list[int | None] = []
    latencies: list[float] = []
    confusion: dict[str, dict[str, int]] = {}
    for case in cases:
        outcome = assistant.respond(case.query, mode=mode, kinds=kinds)
        if record:
            record(case, outcome)
        latencies.append(outcome.latency_ms)
        if case.relevant:
            ids = [c.external_id for c in outcome.candidates]
            ranks.append(next((i for i, x in enumerate(ids, 1) if x in case.relevant), None))
        if case.expect:
            row = confusion.setdefault(case.expect, {})
            row[outcome.decision.value] = row.get(outcome.decision.value, 0) + 1
        if progress:
            progress(1)
    n_ret = len(ranks)
    lat = np.array(latencies) if latencies else np.zeros(1)
    return {
        "n": len(cases), "mode": mode.value, "kinds": kinds, "n_retrieval": n_ret,
        "recall_at_1": round(sum(1 for r in ranks if r == 1) / n_ret, 4) if n_ret else None,
        "recall_at_5": round(sum(1 for r in ranks if r and r <= 5) / n_ret, 4) if n_ret else None,
        "mrr": round(sum(1 / r for r in ranks if r) / n_ret, 4) if n_ret else None,
        "decisions": confusion,
        "decline": _precision_recall(confusion, "decline"),
        "escalate": _precision_recall(confusion, "escalate"),
        "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 2),
                       "p95": round(float(np.percentile(lat, 95)), 2)},
    }


def format_report(report: dict) -> str:
    kinds = f"（仅 {'/'.join(report['kinds'])}）" if report.get("kinds") else ""
    lines = [f"模式 {report['mode']}{kinds}：共 {report['n']} 条（检索评测 {report['n_retrieval']} 条）"]
    if report["n_retrieval"]:
        lines.append(f"recall@1 {report['recall_at_1']:.4f}  recall@5 {report['recall_at_5']:.4f}  "
                     f"MRR {report['mrr']:.4f}")
    if report["decisions"]:
        lines.append("决策混淆矩阵（行：期望，列：实际）")
        lines.append("期望\\实际".ljust(12) + "".join(d.ljust(11) for d in DECISIONS))
        for expect, row in sorted(report["decisions"].items()):
            lines.append(expect.ljust(12) + "".join(str(row.get(d, 0)).ljust(11) for d in DECISIONS))
        for label in ("decline", "escalate"):
            pr = report[label]
            lines.append(f"{label}: precision {pr['precision']}  recall {pr['recall']}  (n={pr['support']})")
    lat = report["latency_ms"]
    lines.append(f"延迟 p50 {lat['p50']} ms  p95 {lat['p95']} ms")
    return "\n".join(lines)


__all__ = ["EvalCase", "read_cases", "evaluate", "format_report"]
