"""A resident's recent conversation as the channel logged it, for new tickets."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage, OutboxMessage
from assistant.queue.intake import TranscriptLine

LIMIT = 20  # messages each way


def recent_transcript(s: Session, openid: str, since: datetime) -> list[TranscriptLine]:
    """Resident messages (events left out) and our replies since ``since``, oldest first."""
    rows: list[TranscriptLine] = []
    for m in s.scalars(select(InboundMessage).where(InboundMessage.openid == openid,
                                                    InboundMessage.received_at >= since,
                                                    InboundMessage.msg_type != "event")
                       .order_by(InboundMessage.id.desc()).limit(LIMIT)):
        rows.append((m.received_at, "in", m.id, m.content))
    for o in s.scalars(select(OutboxMessage).where(OutboxMessage.openid == openid,
                                                   OutboxMessage.created_at >= since)
                       .order_by(OutboxMessage.id.desc()).limit(LIMIT)):
        rows.append((o.created_at, "out", o.inbound_id, o.content))
    rows.sort(key=lambda r: (r[0].replace(tzinfo=None), r[1] == "out"))
    return rows
