"""What the channel's log tells the early-warning rules (``assistant.alerts.rules.ChannelLog``):
decisions per inbound message (recorded since migration 0007) and the outbox's state.
Counts only; never what a resident wrote."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage, OutboxChannel, OutboxMessage, OutboxStatus


class ChannelSignals:
    def decision_counts(self, s: Session, start: datetime,
                        end: datetime) -> Counter[tuple[str | None, str | None]]:
        rows = s.execute(select(InboundMessage.decision, InboundMessage.reason,
                                func.count(InboundMessage.id))
                         .where(InboundMessage.received_at >= start, InboundMessage.received_at < end,
                                InboundMessage.decision.is_not(None))
                         .group_by(InboundMessage.decision, InboundMessage.reason)).all()
        return Counter({(d, r): n for d, r, n in rows})

    def outbox_backlog(self, s: Session, older_than: datetime) -> int:
        return s.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.channel == OutboxChannel.CUSTOM,
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            OutboxMessage.created_at < older_than)) or 0

    def outbox_failures(self, s: Session, since: datetime) -> tuple[int, int | None]:
        failed = (OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.created_at >= since)
        count = s.scalar(select(func.count(OutboxMessage.id)).where(*failed)) or 0
        errcode = s.scalar(select(OutboxMessage.last_errcode).where(*failed)
                           .order_by(OutboxMessage.id.desc()).limit(1)) if count else None
        return count, errcode
