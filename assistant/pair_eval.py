"""Answer quality on real questions from pair labels (format: shared/README.md).

A pair-label line is ``{"query_id", "entry", "label": right|partial|wrong, "split"?, "source"?}``:
a question (by its id in a shared data file) and one knowledge-base entry judged against it.
Labels stay valid when the ranking changes; an entry we pick that nobody judged is reported as
unlabelled and never counted as right. The question texts are read from the shared data at
run time (``question`` or ``query`` of ``<shared>/<source>.jsonl``), never kept in the repo.

Reading and the metrics are pure functions; ``evaluate_pairs`` runs the assistant.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.eval_details import answered_external_id, outcome_details
from assistant.outcome import Decision, Outcome

if TYPE_CHECKING:
    from assistant.service import Assistant
    from index.retriever import Mode

LABELS = ("right", "partial", "wrong")
SPLITS = ("calib", "heldout")
DECISIONS = [d.value for d in Decision]
BANDS = 10  # confidence bands of width 0.1


class PairLabelError(ValueError):
    """A pair-label file that cannot be read."""


class UnresolvedQuestion(PairLabelError):
    """A question id that the shared data does not hold (or holds more than once)."""


@dataclass(frozen=True)
class PairQuestion:
    """One labelled question: its id, where its text lives and the judged entries."""

    id: str
    source: str | None = None
    split: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # entry external id → label


def is_pair_file(path: Path) -> bool:
    """Whether the file's first row is a pair label (else it is read as evaluation cases)."""
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    return False  # the case reader reports the bad line
                return isinstance(row, dict) and "query_id" in row and "label" in row
    return False


def read_pair_labels(paths: Iterable[Path], split: str | None = None) -> list[PairQuestion]:
    """The labelled questions of the files, in first-seen order, optionally of one split."""
    if split is not None and split not in SPLITS:
        raise PairLabelError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    found: dict[str, PairQuestion] = {}
    for path in paths:
        with Path(path).open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    _add_pair(found, line, f"{path}:{number}")
    return [q for q in found.values() if split is None or q.split == split]


def _add_pair(found: dict[str, PairQuestion], line: str, where: str) -> None:
    try:
        row = json.loads(line)
        qid, entry, label = str(row["query_id"]), str(row["entry"]), row["label"]
        source, split = row.get("source"), row.get("split")
    except (ValueError, KeyError, TypeError) as exc:
        raise PairLabelError(f"{where}: {exc!r}") from exc
    if label not in LABELS:
        raise PairLabelError(f"{where}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
    if split is not None and split not in SPLITS:
        raise PairLabelError(f"{where}: unknown split {split!r}")
    question = found.setdefault(qid, PairQuestion(qid, source, split))
    if (question.source, question.split) != (source, split):
        raise PairLabelError(f"{where}: {qid} has source/split {source}/{split}, "
                             f"earlier rows say {question.source}/{question.split}")
    if question.labels.get(entry, label) != label:
        raise PairLabelError(f"{where}: {qid} × {entry} is labelled both {question.labels[entry]} and {label}")
    question.labels[entry] = label


def resolve_questions(questions: Iterable[PairQuestion], shared_dir: Path) -> dict[str, str]:
    """query id → question text, from ``<shared_dir>/<source>.jsonl`` (every ``*.jsonl`` there
    for a question without a source). Raises ``UnresolvedQuestion`` for an id found nowhere,
    or found in more than one file."""
    wanted: dict[str | None, set[str]] = {}
    for q in questions:
        if q.source is not None and (not q.source or Path(q.source).name != q.source):
            raise UnresolvedQuestion(f"{q.id}: bad source {q.source!r}")
        wanted.setdefault(q.source, set()).add(q.id)
    texts: dict[str, str] = {}
    for source, ids in wanted.items():
        files = [shared_dir / f"{source}.jsonl"] if source else sorted(shared_dir.glob("*.jsonl"))
        found: dict[str, list[tuple[Path, str]]] = {}
        for path in files:
            if not path.is_file():
                raise UnresolvedQuestion(f"{path} not found (source of {len(ids)} questions, e.g. {min(ids)}); "
                                         "give the shared data dir with --shared")
            for qid, text in _question_rows(path, ids):
                found.setdefault(qid, []).append((path, text))
        missing = sorted(ids - found.keys())
        if missing:
            where = shared_dir / f"{source}.jsonl" if source else f"any {shared_dir}/*.jsonl"
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise UnresolvedQuestion(f"no question {', '.join(missing[:3])}{more} in {where}")
        for qid, hits in found.items():
            if len(hits) > 1:
                raise UnresolvedQuestion(f"{qid} is in {', '.join(str(p) for p, _ in hits)}; name its source")
            texts[qid] = hits[0][1]
    return texts


def _question_rows(path: Path, ids: set[str]) -> Iterable[tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            if isinstance(row, dict) and str(row.get("id")) in ids:
                text = row.get("question") or row.get("query")
                if isinstance(text, str) and text.strip():
                    yield str(row["id"]), text


# -- metrics --------------------------------------------------------------------------


@dataclass(frozen=True)
class PairResult:
    """One question's outcome, reduced to what the metrics need."""

    query_id: str
    decision: str
    confidence: float
    top_label: str | None = None  # the top candidate's label; None where unlabelled
    answered_label: str | None = None  # the answered entry's label (answers only)
    suggestion_labels: tuple[str | None, ...] = ()


def result_of(question: PairQuestion, outcome: Outcome) -> PairResult:
    top = outcome.candidates[0].external_id if outcome.candidates else None
    answered = answered_external_id(outcome)
    return PairResult(question.id, outcome.decision.value, outcome.confidence,
                      question.labels.get(top) if top else None,
                      question.labels.get(answered) if answered else None,
                      tuple(question.labels.get(c.external_id or "") for c in outcome.suggestions))


def auc(scores: Iterable[float], positive: Iterable[bool]) -> float | None:
    """The chance that a random positive scores above a random negative (ties count half);
    None without both classes."""
    s, y = np.asarray(list(scores), dtype=float), np.asarray(list(positive), dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return None
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # 1-based, ties share their mean rank
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def band_of(confidence: float) -> int:
    return min(BANDS - 1, max(0, math.floor(round(confidence * BANDS, 6))))


def band_table(results: Iterable[PairResult]) -> list[dict[str, Any]]:
    """Per confidence band, over the questions whose top candidate is labelled: how many, how
    many with the top right, and the same for those answered."""
    rows: list[dict[str, Any]] = [{"band": f"{i / BANDS:.1f}-{(i + 1) / BANDS:.1f}", "n": 0, "right": 0, "answered": 0,
             "answered_right": 0} for i in range(BANDS)]
    for r in results:
        if r.top_label is None:
            continue
        row = rows[band_of(r.confidence)]
        right = r.top_label == "right"
        row["n"] += 1
        row["right"] += right
        if r.decision == Decision.ANSWER.value:
            row["answered"] += 1
            row["answered_right"] += right
    for row in rows:
        row["precision"] = _ratio(row["right"], row["n"])
    return rows


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def pair_metrics(results: list[PairResult]) -> dict[str, Any]:
    n = len(results)
    counts = Counter(r.decision for r in results)
    answered = [r for r in results if r.decision == Decision.ANSWER.value]
    right = sum(1 for r in answered if r.answered_label == "right")
    right_or_partial = sum(1 for r in answered if r.answered_label in ("right", "partial"))
    top = [r for r in results if r.top_label is not None]
    top_answered = [r for r in top if r.decision == Decision.ANSWER.value]
    suggested = [r for r in results if r.decision == Decision.SUGGEST.value]
    hits = sum(1 for r in suggested if "right" in r.suggestion_labels)

    def _auc(rs: list[PairResult]) -> float | None:
        value = auc([r.confidence for r in rs], [r.top_label == "right" for r in rs])
        return round(value, 4) if value is not None else None

    return {
        "n": n,
        "decisions": {d: counts.get(d, 0) for d in DECISIONS},
        "decision_shares": {d: _ratio(counts.get(d, 0), n) for d in DECISIONS},
        "answered": len(answered), "answered_right": right, "answered_right_or_partial": right_or_partial,
        "answered_unlabelled": sum(1 for r in answered if r.answered_label is None),
        "precision": _ratio(right, len(answered)),
        "right_or_partial_rate": _ratio(right_or_partial, len(answered)),
        "auc": _auc(top), "n_auc": len(top),
        "auc_answered": _auc(top_answered), "n_auc_answered": len(top_answered),
        "bands": band_table(results),
        "suggested": len(suggested), "suggest_hits": hits, "suggest_hit_rate": _ratio(hits, len(suggested)),
        "escalation_share": _ratio(counts.get(Decision.ESCALATE.value, 0), n),
        "legal_declined": counts.get(Decision.DECLINE.value, 0),
        "legal_declined_share": _ratio(counts.get(Decision.DECLINE.value, 0), n),
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def format_pair_report(report: dict[str, Any]) -> str:
    n = report["n"]
    head = f"真实问题（对标注）：共 {n} 题"
    if report.get("split"):
        head += f"  split {report['split']}"
    if report.get("mode"):
        head += f"  模式 {report['mode']}"
    lines = [head, "决策 decisions: " + "  ".join(
        f"{d} {report['decisions'][d]} ({_pct(report['decision_shares'][d])})" for d in DECISIONS)]
    lines.append(f"已回答 answered {report['answered']}：正确 precision {_pct(report['precision'])}"
                 f"（{report['answered_right']}）  正确或部分正确 right-or-partly "
                 f"{_pct(report['right_or_partial_rate'])}  未标注 unlabelled {report['answered_unlabelled']}"
                 "（不计为正确）")
    auc_all = "—" if report["auc"] is None else f"{report['auc']:.3f}"
    auc_ans = "—" if report["auc_answered"] is None else f"{report['auc_answered']:.3f}"
    lines.append(f"AUC（首位候选是否正确 top candidate right）{auc_all} (n={report['n_auc']})  "
                 f"仅已回答 answered only {auc_ans} (n={report['n_auc_answered']})")
    lines.append("置信度分档（首位候选已标注） band      n  right  precision  answered  answered_right")
    for row in report["bands"]:
        lines.append(f"  {row['band']}  {row['n']:>5}  {row['right']:>5}  {_pct(row['precision']):>9}"
                     f"  {row['answered']:>8}  {row['answered_right']:>14}")
    lines.append(f"推荐命中率 suggest hit rate {_pct(report['suggest_hit_rate'])}"
                 f"（{report['suggest_hits']}/{report['suggested']}）")
    lines.append(f"转人工 escalation share {_pct(report['escalation_share'])}  "
                 f"法律问题被拒答 legal declined {_pct(report['legal_declined_share'])}"
                 f"（{report['legal_declined']}）")
    return "\n".join(lines)


def evaluate_pairs(assistant: Assistant, questions: list[PairQuestion], texts: dict[str, str], mode: Mode,
                   kinds: list[str] | None = None, progress: Callable[[int], None] | None = None,
                   record: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Respond once to every question and measure; ``record`` receives each details line."""
    results = []
    for question in questions:
        outcome = assistant.respond(texts[question.id], mode=mode, kinds=kinds)
        results.append(result_of(question, outcome))
        if record:
            record(outcome_details(question.id, outcome, question.labels))
        if progress:
            progress(1)
    return pair_metrics(results) | {"mode": mode.value, "kinds": kinds}
