"""The inbound log read for the learning loop (``assistant.learning.models.InboundReader``):
residents' text messages with what the assistant decided for each (0007)."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from assistant.learning.models import AskedQuestion
from knowledge.timeutil import as_utc

TEXT_TYPES = ("text", "voice")


def _asked(m: InboundMessage) -> AskedQuestion:
    return AskedQuestion(inbound_id=m.id, openid=m.openid, text=m.content or "",
                         received_at=as_utc(m.received_at), decision=m.decision, reason=m.reason,
                         confidence=m.confidence, entry_id=m.entry_id, category=m.category,
                         ticket_no=m.ticket_no)


class InboundQuestions:
    def candidates(self, s: Session, start: datetime, end: datetime, answered_below: float,
                   limit: int) -> list[AskedQuestion]:
        M = InboundMessage
        decided = or_(M.decision.in_(("escalate", "suggest", "decline")),
                      and_(M.decision == "answer", M.confidence < answered_below))
        stmt = (select(M).where(M.received_at >= start, M.received_at < end,
                                M.msg_type.in_(TEXT_TYPES), M.content != "", decided)
                .order_by(M.received_at.desc(), M.id.desc()).limit(limit))
        return [_asked(m) for m in s.scalars(stmt)]

    def by_ids(self, s: Session, ids: Collection[int]) -> dict[int, AskedQuestion]:
        wanted = sorted({int(i) for i in ids})
        found: dict[int, AskedQuestion] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for m in s.scalars(select(InboundMessage).where(InboundMessage.id.in_(chunk))):
                if m.content:
                    found[m.id] = _asked(m)
        return found
