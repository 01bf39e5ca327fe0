"""A knowledge-base FAQ draft written from a group of unanswered questions.

The group's most central question becomes the FAQ's question and the other phrasings its
alternatives (masked: an entry is read by everyone); when lawyers answered tickets of the
group's escalations (the ticket of an escalated message is ``wx_inbound.ticket_no``), their
replies are the starting answer.  The draft goes through review like any other (published
by a second admin, ``knowledge.workflow``); ``learn_drafts`` remembers which questions it
came from, so a second click on the same group opens the same unpublished draft.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.learning.feedback import LearningError
from assistant.learning.models import AskedQuestion, GroupDraft
from assistant.pii import mask_numbers
from assistant.queue.models import Direction, Ticket, TicketMessage
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import CATEGORIES, DEFAULT_CATEGORY, Kind, Status
from knowledge.timeutil import utcnow

MAX_ALTERNATIVES = 30
MAX_TICKETS = 3  # lawyers' replies from at most this many tickets make the starting answer
MAX_QUESTION_CHARS = 300
PLACEHOLDER_ANSWER = "（待撰写）请根据相关法律规定撰写答复，并注明法律依据。"
UNPUBLISHED = (Status.DRAFT.value, Status.IN_REVIEW.value)


class EmptyGroup(LearningError):
    pass


@dataclass(frozen=True)
class DraftPlan:
    """What the draft will say."""

    question: str
    alt_questions: list[str]
    answer: str
    category: str
    source: str
    from_lawyers: bool  # the answer is lawyers' replies (else a placeholder to write)


def _clean(text: str) -> str:
    return mask_numbers(" ".join(text.split()))[:MAX_QUESTION_CHARS]


def lawyer_replies(s: Session, ticket_nos: list[str]) -> list[tuple[str, str]]:
    """(ticket number, the lawyers' replies on it joined), most recently answered first."""
    if not ticket_nos:
        return []
    tickets = {t.id: t.ticket_no for t in s.scalars(select(Ticket).where(Ticket.ticket_no.in_(ticket_nos)))}
    if not tickets:
        return []
    by_ticket: dict[int, list[TicketMessage]] = {}
    for m in s.scalars(select(TicketMessage).where(TicketMessage.ticket_id.in_(tickets),
                                                   TicketMessage.direction == Direction.LAWYER)
                       .order_by(TicketMessage.id)):
        by_ticket.setdefault(m.ticket_id, []).append(m)
    latest = sorted(by_ticket, key=lambda tid: by_ticket[tid][-1].id, reverse=True)
    return [(str(tickets[tid]), "\n\n".join(m.content.strip() for m in by_ticket[tid]))
            for tid in latest]


def plan(s: Session, questions: list[AskedQuestion]) -> DraftPlan:
    """The draft for a group whose most central question comes first."""
    phrasings: list[str] = []
    for q in questions:
        text = _clean(q.text)
        if text and text not in phrasings:
            phrasings.append(text)
    if not phrasings:
        raise EmptyGroup("这组问题已没有可用的文字（可能已按保留期限清除）")
    cats = Counter(q.category for q in questions if q.category in CATEGORIES)
    category = cats.most_common(1)[0][0] if cats else DEFAULT_CATEGORY
    ticket_nos = sorted({q.ticket_no for q in questions if q.ticket_no})
    replies = lawyer_replies(s, ticket_nos)[:MAX_TICKETS]
    answer = "\n\n".join(mask_numbers(text) for _, text in replies if text) or PLACEHOLDER_ANSWER
    source = f"未解答问题归纳（{len(questions)} 条居民提问）"
    if replies:
        source += "；律师答复：咨询单 " + "、".join(no for no, _ in replies)
    return DraftPlan(phrasings[0], phrasings[1:MAX_ALTERNATIVES + 1], answer, category,
                     source[:500], bool(replies))


def existing_draft(s: Session, inbound_ids: list[int]) -> int | None:
    """An unpublished draft already written from any of these questions."""
    wanted = set(inbound_ids)
    for d in s.scalars(select(GroupDraft).order_by(GroupDraft.id.desc())):
        if wanted & set(d.inbound_ids or []):
            entry = s.get(Entry, d.entry_id)
            if entry is not None and entry.status in UNPUBLISHED:
                return d.entry_id
    return None


def drafts_by_question(s: Session, inbound_ids: list[int]) -> dict[int, int]:
    """inbound id → the entry drafted from it (the newest draft when several)."""
    wanted, found = set(inbound_ids), {}
    for d in s.scalars(select(GroupDraft).order_by(GroupDraft.id)):
        for i in set(d.inbound_ids or []) & wanted:
            found[i] = d.entry_id
    return found


def write_draft(s: Session, store: KnowledgeStore, questions: list[AskedQuestion],
                author: str) -> tuple[int, bool]:
    """(entry id, created): the group's unpublished draft if it has one, else a new one."""
    ids = [q.inbound_id for q in questions]
    known = existing_draft(s, ids)
    if known is not None:
        return known, False
    p = plan(s, questions)
    try:
        data = EntryData(kind=Kind.FAQ, category=p.category, question=p.question,
                         alt_questions=p.alt_questions, answer=p.answer, status=Status.DRAFT,
                         source=p.source)
    except ValidationError as exc:
        raise LearningError("知识条目内容不符合要求：" + "; ".join(
            str(e.get("msg", "")) for e in exc.errors())) from exc
    _, entry_id = store.upsert(data, author=author, reason=f"由 {len(ids)} 条未解答问题归纳的草稿")
    s.add(GroupDraft(entry_id=entry_id, inbound_ids=ids, created_by=author, created_at=utcnow()))
    s.flush()
    return entry_id, True
