"""ORM model of the early warnings: one row per episode of a rule.

An episode starts when a rule's condition starts to hold and ends (``cleared_at``) when it
no longer does.  ``open_key`` ("rule:key") is set only while the episode is open and is
unique, so however many workers evaluate the rules at once, one episode is open per rule
and key, and it is delivered once.  The schema is created by migration ``0010_alerts_roster``.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class Delivery(StrEnum):
    """What became of one way of telling people (``Alert.deliveries``)."""

    SENT = "sent"
    FAILED = "failed"
    OFF = "off"  # not configured


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(64), default="")  # e.g. the entry id
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    severity: Mapped[str] = mapped_column(String(16), default=Severity.WARNING)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")  # the figures when it fired
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)
    deliveries: Mapped[dict] = mapped_column(JSON, default=dict)  # {"webhook": Delivery, ...}
