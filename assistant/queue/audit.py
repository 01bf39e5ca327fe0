"""The audit log: who did what to which ticket, and when (claims, replies, transfers, closes,
overdue alerts).  Rows are only ever added, in the same transaction as the action itself.

The schema is created by migration ``0004_lawyer_queue``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow

#: Shown in the console's audit trail.
ACTION_LABELS: dict[str, str] = {
    "claim": "接单", "reply": "答复", "transfer": "转交", "reassign": "管理员改派",
    "close": "办结", "reopen": "重新打开", "draft_entry": "转为知识条目",
    "overdue": "超时告警", "expire": "自动结束",
}


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: the system
    action: Mapped[str] = mapped_column(String(32), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def record(s: Session, actor_id: int | None, action: str, ticket_id: int | None,
           **detail: object) -> AuditEntry:
    """Add one entry to the caller's transaction (it commits with the action or not at all)."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(at=utcnow(), actor_id=actor_id, action=action, ticket_id=ticket_id,
                       detail=dict(detail))
    s.add(entry)
    return entry


def trail(s: Session, ticket_id: int) -> list[AuditEntry]:
    """A ticket's entries, oldest first."""
    return list(s.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
                          .order_by(AuditEntry.id)))
