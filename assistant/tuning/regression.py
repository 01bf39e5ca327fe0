"""The regression set: saved questions and what each should get, run against the live
assistant, against a preview of a change, and after every change to the knowledge base.

``preview_regressions(preview, live, cases)`` compares the outcomes of an assistant that sees a
change (``Assistant.preview(publish=[...], remove=[...])``) with the live one's, case by case.
``run_regressions`` runs the set and stores the run; ``on_kb_change`` is the hook to call
after a knowledge-base change is committed (it runs the set once per knowledge-base revision).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, delete, select

from assistant.outcome import Decision, Outcome
from assistant.tuning.models import Expectation, RegressionCase, RegressionRun, RunTrigger
from knowledge.db import rows_changed, session_factory
from knowledge.store import EntryNotFound, KnowledgeStore
from knowledge.timeutil import as_utc, utcnow

MAX_QUESTION_CHARS = 2000
MAX_NOTE_CHARS = 500
SYSTEM_ACTOR = "系统"

EXPECT_LABELS = {Expectation.ANSWER: "应直接回答条目", Expectation.SUGGEST: "应在选项中给出条目",
                 Expectation.ESCALATE: "应转交律师", Expectation.DECLINE: "应拒答（非法律问题）"}
GOT_LABELS = {Decision.ANSWER: "回答", Decision.SUGGEST: "给出选项", Decision.ESCALATE: "转交律师",
              Decision.DECLINE: "拒答", Decision.EMERGENCY: "紧急情况"}


class Responder(Protocol):
    """What a regression run asks: the live assistant or a preview of a change."""

    def respond(self, text: str) -> Outcome: ...


class RegressionError(ValueError):
    """A case that cannot be saved (the message is shown to the admin)."""


class CaseNotFound(LookupError):
    def __init__(self, case_id: int) -> None:
        super().__init__(f"没有第 {case_id} 号回归用例")


@dataclass(frozen=True)
class Case:
    id: int
    question: str
    expect: Expectation
    entry_id: int | None
    entry_title: str | None
    note: str
    created_at: datetime
    created_by: str

    @property
    def expect_label(self) -> str:
        return EXPECT_LABELS[self.expect]


@dataclass(frozen=True)
class CaseResult:
    """What one case got, and whether that is what it should get."""

    case_id: int
    question: str
    expect: str
    entry_id: int | None
    passed: bool
    decision: str
    answered_entry_id: int | None
    suggestion_ids: list[int] = field(default_factory=list)
    confidence: float = 0.0
    reason: str = ""
    top_entry_id: int | None = None
    top_title: str | None = None

    @property
    def got_label(self) -> str:
        label = GOT_LABELS.get(Decision(self.decision), self.decision)
        if self.decision == Decision.ANSWER and self.answered_entry_id is not None:
            return f"{label} #{self.answered_entry_id}"
        if self.decision == Decision.SUGGEST:
            return f"{label} " + "、".join(f"#{i}" for i in self.suggestion_ids)
        return label

    @property
    def signature(self) -> tuple[str, int | None, tuple[int, ...]]:
        """What the resident would receive: the decision and the entries in it."""
        return self.decision, self.answered_entry_id, tuple(self.suggestion_ids)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _case(r: RegressionCase) -> Case:
    return Case(r.id, r.question, Expectation(r.expect), r.entry_id, r.entry_title, r.note, as_utc(r.created_at),
                r.created_by)


def passes(expect: Expectation, entry_id: int | None, outcome: Outcome) -> bool:
    if expect is Expectation.ANSWER:
        return outcome.decision is Decision.ANSWER and outcome.answered_entry_id == entry_id
    if expect is Expectation.SUGGEST:
        return outcome.decision is Decision.SUGGEST and any(c.id == entry_id for c in outcome.suggestions)
    if expect is Expectation.ESCALATE:
        return outcome.decision in (Decision.ESCALATE, Decision.EMERGENCY)
    return outcome.decision is Decision.DECLINE


def check(assistant: Responder, case: Case) -> CaseResult:
    outcome = assistant.respond(case.question)
    top = outcome.candidates[0] if outcome.candidates else None
    return CaseResult(case.id, case.question, case.expect.value, case.entry_id,
                      passes(case.expect, case.entry_id, outcome), outcome.decision.value,
                      outcome.answered_entry_id, [c.id for c in outcome.suggestions], outcome.confidence,
                      outcome.reason, top.id if top else None, top.title if top else None)


def run_cases(assistant: Responder, cases: Iterable[Case]) -> list[CaseResult]:
    return [check(assistant, case) for case in cases]


# -- the saved cases ---------------------------------------------------------------------


def save_case(engine: Engine, store: KnowledgeStore, question: str, expect: str, entry_id: int | None,
              actor_name: str, note: str = "", hit_test_id: int | None = None) -> Case:
    question = question.strip()
    if not question:
        raise RegressionError("请填写问题")
    try:
        expectation = Expectation(expect)
    except ValueError:
        raise RegressionError("请选择这个问题应得到的结果") from None
    title = None
    if expectation.needs_entry:
        if entry_id is None:
            raise RegressionError("请填写应命中的条目编号")
        try:
            title = store.get(entry_id).title
        except EntryNotFound:
            raise RegressionError(f"没有编号为 {entry_id} 的条目") from None
    else:
        entry_id = None
    with session_factory(engine).begin() as s:
        row = RegressionCase(question=question[:MAX_QUESTION_CHARS], expect=expectation.value, entry_id=entry_id,
                             entry_title=title[:500] if title else None, note=note.strip()[:MAX_NOTE_CHARS],
                             created_at=utcnow(), created_by=actor_name[:64], hit_test_id=hit_test_id)
        s.add(row)
        s.flush()
        return _case(row)


def list_cases(engine: Engine) -> list[Case]:
    """Every saved case, oldest first."""
    with session_factory(engine)() as s:
        return [_case(r) for r in s.scalars(select(RegressionCase).order_by(RegressionCase.id))]


def delete_case(engine: Engine, case_id: int) -> None:
    with session_factory(engine).begin() as s:
        if not rows_changed(s.execute(delete(RegressionCase).where(RegressionCase.id == case_id))):
            raise CaseNotFound(case_id)


# -- runs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    id: int
    at: datetime
    trigger: RunTrigger
    actor_name: str
    kb_revision: int
    passed: int
    failed: int
    results: list[CaseResult]

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def trigger_label(self) -> str:
        return "知识库变更后自动运行" if self.trigger is RunTrigger.KB_CHANGE else "手动运行"


def _run(r: RegressionRun) -> Run:
    return Run(r.id, as_utc(r.at), RunTrigger(r.trigger), r.actor_name, r.kb_revision, r.passed, r.failed,
               [CaseResult(**d) for d in r.details])


def run_regressions(engine: Engine, assistant: Responder, store: KnowledgeStore,
                    trigger: RunTrigger = RunTrigger.MANUAL, actor_name: str = SYSTEM_ACTOR) -> Run:
    """Run every saved case against ``assistant`` and store the run (time, passed, failed,
    each case's result) with the knowledge-base revision it ran at."""
    kb_revision = store.revision()
    results = run_cases(assistant, list_cases(engine))
    passed = sum(1 for r in results if r.passed)
    with session_factory(engine).begin() as s:
        row = RegressionRun(at=utcnow(), trigger=trigger.value, actor_name=actor_name[:64], kb_revision=kb_revision,
                            passed=passed, failed=len(results) - passed, details=[r.to_dict() for r in results])
        s.add(row)
        s.flush()
        return _run(row)


def latest_run(engine: Engine) -> Run | None:
    with session_factory(engine)() as s:
        row = s.scalar(select(RegressionRun).order_by(RegressionRun.id.desc()).limit(1))
        return _run(row) if row else None


def on_kb_change(engine: Engine, assistant: Responder, store: KnowledgeStore) -> Run | None:
    """The hook for a committed knowledge-base change (call it once the assistant's search is
    up to date): runs the set, unless it is empty or already ran at this revision (several
    workers may each call it)."""
    revision = store.revision()
    with session_factory(engine)() as s:
        if s.scalar(select(RegressionCase.id).limit(1)) is None:
            return None
        done = s.scalar(select(RegressionRun.id).where(RegressionRun.trigger == RunTrigger.KB_CHANGE.value,
                                                       RegressionRun.kb_revision == revision).limit(1))
    if done is not None:
        return None
    return run_regressions(engine, assistant, store, RunTrigger.KB_CHANGE)


# -- previews ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    """One case, live and with the change."""

    case: Case
    live: CaseResult
    preview: CaseResult

    @property
    def changed(self) -> bool:
        return self.live.signature != self.preview.signature or self.live.passed != self.preview.passed

    @property
    def breaks(self) -> bool:
        return self.live.passed and not self.preview.passed

    @property
    def fixes(self) -> bool:
        return self.preview.passed and not self.live.passed


def preview_regressions(assistant_preview: Responder, assistant_live: Responder,
                        cases: Iterable[Case]) -> list[PreviewRow]:
    """Every case with what it gets now and what it would get with the change; ``changed``
    rows are those whose outcome would change (``breaks``: pass → fail)."""
    return [PreviewRow(case, check(assistant_live, case), check(assistant_preview, case)) for case in cases]
