"""Rows as the channel, the dialogue and the queue write them, on known days (Beijing time)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage, OutboxMessage
from assistant.dialogue.models import Conversation, Rating
from assistant.queue.models import Ticket, TicketMessage
from knowledge.models import Entry
from knowledge.timeutil import CHINA_TZ

DAY1, DAY2 = date(2026, 10, 5), date(2026, 10, 6)
_ids = count(1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A Beijing time, as the app stores times: in UTC."""
    return datetime.combine(day, time(hour, minute), CHINA_TZ).astimezone(UTC)


def message(s: Session, openid: str, decision: str | None, when: datetime, category: str | None = None,
            content: str = "公司拖欠工资怎么办", msg_type: str = "text", entry_id: int | None = None,
            reply: str | None = "回复") -> InboundMessage:
    row = InboundMessage(dedupe_key=f"k{next(_ids)}", openid=openid, msg_type=msg_type, content=content,
                         status="answered", received_at=when, answered_at=when, decision=decision,
                         category=category, entry_id=entry_id)
    s.add(row)
    s.flush()
    if reply is not None:
        s.add(OutboxMessage(openid=openid, inbound_id=row.id, part=0, channel="passive", content=reply,
                            status="sent", created_at=when, next_attempt_at=when))
    return row


def entry(s: Session, title: str, category: str = "劳动争议") -> int:
    row = Entry(kind="faq", title=title, question=title, answer="答", category=category,
                status="published", content_hash=title)
    s.add(row)
    s.flush()
    return row.id


def rating(s: Session, openid: str, entry_id: int | None, score: int, when: datetime,
           reason: str | None = None) -> None:
    s.add(Rating(openid=openid, entry_id=entry_id, score=score, created_at=when, reason=reason))


def ticket(s: Session, openid: str, when: datetime, category: str | None = "劳动争议",
           region: str | None = None, status: str = "closed", rating: int | None = None,
           responded_after: timedelta | None = timedelta(minutes=30), question: str = "公司拖欠工资怎么办",
           lines: tuple[str, ...] = ("公司拖欠工资怎么办",)) -> Ticket:
    t = Ticket(ticket_no=f"FZ{next(_ids)}", openid=openid, status=status, priority="normal", reason="",
               question=question, candidates=[], category=category, region=region, created_at=when,
               updated_at=when, deadline_at=when + timedelta(hours=24),
               first_response_at=when + responded_after if responded_after else None,
               closed_at=when + timedelta(hours=2) if status == "closed" else None, rating=rating)
    s.add(t)
    s.flush()
    for line in lines:
        s.add(TicketMessage(ticket_id=t.id, direction="in", content=line, created_at=when))
    return t


def conversation(s: Session, openid: str, when: datetime, topic: str = "公司拖欠工资怎么办") -> None:
    s.add(Conversation(openid=openid, state="idle", suggestions=[], last_topic=topic, history=[topic],
                       updated_at=when))
