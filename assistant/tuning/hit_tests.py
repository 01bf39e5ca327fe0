"""Hit tests: what the assistant would do with a question, with all the evidence, and the
history of the hit tests run.

A hit test asks the live assistant exactly as a resident's message would (no conversation
history) and keeps what it saw: the normalised text, the tokens and mapped legal terms, every
candidate's lexical, dense and fused scores with their ranks and answerability, the
confidence, the thresholds in force, the decision with its reason, and the reply messages.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from assistant.outcome import Decision, Outcome
from assistant.policy import Thresholds, suggestions
from assistant.service import Assistant
from assistant.tuning.models import HitTest
from index.normalize import normalize
from knowledge.db import session_factory
from knowledge.timeutil import as_utc, utcnow

MAX_QUESTION_CHARS = 2000
HISTORY_LIMIT = 30

DECISION_LABELS = {Decision.ANSWER: "直接回答", Decision.SUGGEST: "给出选项", Decision.ESCALATE: "转交律师",
                   Decision.DECLINE: "说明服务范围（拒答）", Decision.EMERGENCY: "紧急情况"}


class HitTestNotFound(LookupError):
    def __init__(self, hit_test_id: int) -> None:
        super().__init__(f"没有第 {hit_test_id} 次命中测试")


class EmptyQuestion(ValueError):
    def __init__(self) -> None:
        super().__init__("请输入要测试的问题")


@dataclass(frozen=True)
class CandidateRow:
    """One candidate as the hit-test page shows it."""

    rank: int  # position in the final order (the first few re-ranked by answerability)
    fused_rank: int  # position by the fused score alone
    id: int
    external_id: str | None
    kind: str
    title: str
    category: str
    score: float
    lexical: float | None
    dense: float | None
    lexical_rank: int | None
    dense_rank: int | None
    answerability: float | None
    answered: bool = False
    suggested: bool = False


@dataclass(frozen=True)
class HitTestResult:
    question: str
    normalized: str  # index/normalize.py
    query: str  # what was searched (the same, or with the question it follows)
    tokens: list[str]
    legal_terms: list[str]  # colloquial phrases mapped to legal terms
    decision: str
    reason: str
    why: list[str]  # the confidence and the decision, explained
    confidence: float
    thresholds: dict[str, float]
    candidates: list[CandidateRow]
    messages: list[str]
    answered_entry_id: int | None = None
    answered_entry_version: int | None = None
    suggestion_ids: list[int] = field(default_factory=list)
    area: str | None = None
    references: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS.get(Decision(self.decision), self.decision)

    @property
    def top(self) -> CandidateRow | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HitTestResult:
        return cls(**{**data, "candidates": [CandidateRow(**c) for c in data["candidates"]]})


def candidate_rows(outcome: Outcome) -> list[CandidateRow]:
    by_score = sorted(outcome.candidates, key=lambda c: -c.score)
    fused = {c.id: i for i, c in enumerate(by_score, 1)}
    offered = {c.id for c in outcome.suggestions}
    return [CandidateRow(i, fused[c.id], c.id, c.external_id, c.kind, c.title, c.category, c.score, c.lexical,
                         c.dense, c.lexical_rank, c.dense_rank, c.answerability,
                         answered=c.id == outcome.answered_entry_id, suggested=c.id in offered)
            for i, c in enumerate(outcome.candidates, 1)]


def explain(outcome: Outcome, t: Thresholds) -> list[str]:
    """Why the assistant decided as it did, in the admin's words."""
    c, reason = outcome.confidence, outcome.reason
    lines = []
    if outcome.candidates and outcome.candidates[0].answerability is not None:
        lines.append(f"置信度 {c:.4f}：首位候选（前几名按可回答度重排后）能回答这个问题的校准概率。")
    texts = {
        "emergency": ("检测到紧急情况（暴力、威胁、自伤、儿童处于危险等）："
                      "立即告知 110 / 12338 / 12355 / 12348，并紧急转交律师。"),
        "explicit_request": "居民要求转人工或找律师：直接转交律师。",
        "thanks": "这是致谢或确认，不是新的问题：礼貌回复。",
        "not_legal": "不像法律问题：没有法律用语，与知识库的相似度也没有比与闲聊示例高出足够的差距。",
        "no_match": "知识库中没有找到任何候选：转交律师。",
        "out_of_scope": (f"问题属于知识库未覆盖的领域（{outcome.area or '未覆盖领域'}），"
                         "首位候选不是为该领域编写的：转交该领域律师。"),
        "confident": f"置信度 {c:.4f} ≥ 回答阈值 {t.answer:.2f}：直接回答首位候选。",
        "likely_candidates": (f"置信度 {c:.4f} 低于回答阈值 {t.answer:.2f}、不低于推荐阈值 {t.suggest:.2f}，"
                              f"且有 {len(suggestions(outcome.candidates, t.suggest_floor))} 个候选的可回答度"
                              f" ≥ 候选下限 {t.suggest_floor:.2f}：给出选项。"),
    }
    if reason == "low_confidence":
        if c < t.suggest:
            lines.append(f"置信度 {c:.4f} 低于推荐阈值 {t.suggest:.2f}：转交律师。")
        else:
            lines.append(f"置信度 {c:.4f} 在推荐阈值 {t.suggest:.2f} 与回答阈值 {t.answer:.2f} 之间，但可回答度 ≥ "
                         f"候选下限 {t.suggest_floor:.2f} 的候选不足 2 个：转交律师。")
    else:
        lines.append(texts.get(reason, f"决策原因：{reason}"))
    return lines


def run_hit_test(assistant: Assistant, question: str) -> HitTestResult:
    """Ask the live assistant, as a resident's first message."""
    question = question.strip()[:MAX_QUESTION_CHARS]
    if not question:
        raise EmptyQuestion()
    thresholds = assistant.thresholds  # the ones this answer is decided with
    outcome = assistant.respond(question)
    segmenter = assistant.retriever.segmenter
    normalized = normalize(question, assistant.settings.max_query_chars)
    return HitTestResult(
        question=question, normalized=normalized, query=outcome.normalized_query,
        tokens=segmenter.tokens(outcome.normalized_query), legal_terms=segmenter.legal_terms(normalized),
        decision=outcome.decision.value, reason=outcome.reason, why=explain(outcome, thresholds),
        confidence=outcome.confidence,
        thresholds={"answer": thresholds.answer, "suggest": thresholds.suggest,
                    "suggest_floor": thresholds.suggest_floor},
        candidates=candidate_rows(outcome), messages=list(outcome.messages),
        answered_entry_id=outcome.answered_entry_id, answered_entry_version=outcome.answered_entry_version,
        suggestion_ids=[c.id for c in outcome.suggestions], area=outcome.area,
        references=[f"{r.citation}（{r.title}）" if r.citation != r.title else r.title for r in outcome.references],
        latency_ms=outcome.latency_ms)


# -- history ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    id: int
    at: datetime
    actor_name: str
    question: str
    decision: str
    reason: str
    confidence: float
    top_entry_id: int | None
    top_title: str | None

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS.get(Decision(self.decision), self.decision)


def _row(r: HitTest) -> HistoryRow:
    return HistoryRow(r.id, as_utc(r.at), r.actor_name, r.question, r.decision, r.reason, r.confidence,
                      r.top_entry_id, r.top_title)


def record(engine: Engine, actor_id: int | None, actor_name: str, result: HitTestResult) -> int:
    top = result.top
    with session_factory(engine).begin() as s:
        row = HitTest(at=utcnow(), actor_id=actor_id, actor_name=actor_name[:64], question=result.question,
                      decision=result.decision, reason=result.reason[:64], confidence=result.confidence,
                      top_entry_id=top.id if top else None, top_title=top.title[:500] if top else None,
                      result=result.to_dict())
        s.add(row)
        s.flush()
        return row.id


def history(engine: Engine, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The latest hit tests, newest first."""
    with session_factory(engine)() as s:
        return [_row(r) for r in s.scalars(select(HitTest).order_by(HitTest.id.desc()).limit(limit))]


def get(engine: Engine, hit_test_id: int) -> tuple[HistoryRow, HitTestResult]:
    with session_factory(engine)() as s:
        row = s.get(HitTest, hit_test_id)
        if row is None:
            raise HitTestNotFound(hit_test_id)
        return _row(row), HitTestResult.from_dict(row.result)
