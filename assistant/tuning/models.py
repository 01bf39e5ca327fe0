"""Tables of hit testing and tuning: hit-test history, the regression set and its runs,
evaluation runs, and the decision thresholds with their audit log.

The schema is created by migration ``0008_tuning``.  Staff are kept by id and by name as
they were at the time (the names stay readable after an account is removed).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class Expectation(StrEnum):
    """What a saved regression question should get."""

    ANSWER = "answer"  # answered with the entry
    SUGGEST = "suggest"  # offered as choices, the entry among them
    ESCALATE = "escalate"  # handed to a lawyer
    DECLINE = "decline"  # declined as not a legal question

    @property
    def needs_entry(self) -> bool:
        return self in (Expectation.ANSWER, Expectation.SUGGEST)


class RunTrigger(StrEnum):
    MANUAL = "manual"  # an admin pressed 立即运行
    KB_CHANGE = "kb_change"  # after a change to the knowledge base was published


class HitTest(Base):
    """One hit test: who asked what, and what the assistant would have done (the full
    evidence as it was then, in ``result``)."""

    __tablename__ = "tuning_hit_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    top_entry_id: Mapped[int | None] = mapped_column(Integer)
    top_title: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[dict] = mapped_column(JSON)  # assistant.tuning.hit_tests.HitTestResult.to_dict()


class RegressionCase(Base):
    """A saved question and what it should get."""

    __tablename__ = "tuning_regression_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    expect: Mapped[str] = mapped_column(String(16))  # an Expectation
    entry_id: Mapped[int | None] = mapped_column(Integer, index=True)
    entry_title: Mapped[str | None] = mapped_column(String(500))  # as it was when saved
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    hit_test_id: Mapped[int | None] = mapped_column(Integer)  # the hit test it was saved from


class RegressionRun(Base):
    """One run of the whole regression set."""

    __tablename__ = "tuning_regression_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # a RunTrigger
    actor_name: Mapped[str] = mapped_column(String(64))
    kb_revision: Mapped[int] = mapped_column(Integer, index=True)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    details: Mapped[list] = mapped_column(JSON)  # one CaseResult.to_dict() per case


class EvalRun(Base):
    """One evaluation file run from the console, with its report."""

    __tablename__ = "tuning_eval_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    questions: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict] = mapped_column(JSON)


class ThresholdState(Base):
    """The decision thresholds in force (one row, id 1); ``revision`` grows with every change,
    so a worker checks one integer to know whether to reload them."""

    __tablename__ = "tuning_thresholds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer: Mapped[float] = mapped_column(Float)
    suggest: Mapped[float] = mapped_column(Float)
    suggest_floor: Mapped[float] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ThresholdChange(Base):
    """The audit log of the thresholds: who changed them when, from what to what, and why."""

    __tablename__ = "tuning_threshold_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(64))
    old: Mapped[dict] = mapped_column(JSON)  # {"answer", "suggest", "suggest_floor"}
    new: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    revision: Mapped[int] = mapped_column(Integer)
