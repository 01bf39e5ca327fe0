"""What the console shows of the queue: rows, ticket pages, routing order, allowed actions."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.queue.lifecycle import (
    OPEN_STATES,
    PRIORITY_LABELS,
    STATUS_LABELS,
    Priority,
    TicketStatus,
    is_overdue,
    sources,
)
from assistant.queue.models import Ticket
from knowledge.timeutil import as_utc

S = TicketStatus


@dataclass(frozen=True)
class TicketRow:
    """A ticket as the queue lists it."""

    id: int
    ticket_no: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    category: str | None
    region: str | None
    question: str
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    overdue: bool
    claimed_by: int | None
    claimed_by_name: str | None
    claimed_at: datetime | None
    first_response_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    matches: bool  # in the viewing lawyer's categories or regions


@dataclass(frozen=True)
class MessageView:
    id: int
    direction: str  # in / out / lawyer
    author_id: int | None
    author_name: str | None
    content: str
    created_at: datetime
    delivery: str | None  # lawyer replies: pending / sent / held / failed


@dataclass(frozen=True)
class CandidateView:
    id: int
    external_id: str | None
    kind: str
    title: str
    score: float
    text: str  # the entry's answer text (empty when the entry is gone)


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor_id: int | None
    actor_name: str | None  # None: the system
    action: str
    action_label: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class TicketPage:
    row: TicketRow
    resident: str  # a masked OpenID: enough to tell residents apart, not to contact them
    messages: tuple[MessageView, ...]
    candidates: tuple[CandidateView, ...]
    rating: int | None
    rated_at: datetime | None
    kb_entry_id: int | None
    audit: tuple[AuditLine, ...]
    actions: tuple[str, ...]  # what the viewing staff member may do now


def to_row(t: Ticket, names: Mapping[int, str], now: datetime,
           categories: Iterable[str] = (), regions: Iterable[str] = ()) -> TicketRow:
    return TicketRow(
        id=t.id, ticket_no=t.ticket_no or "", status=t.status,
        status_label=STATUS_LABELS.get(t.status, t.status), priority=t.priority,
        priority_label=PRIORITY_LABELS.get(t.priority, t.priority), category=t.category,
        region=t.region, question=t.question, created_at=as_utc(t.created_at),
        updated_at=as_utc(t.updated_at), deadline_at=as_utc(t.deadline_at),
        overdue=is_overdue(t, now), claimed_by=t.claimed_by,
        claimed_by_name=names.get(t.claimed_by) if t.claimed_by is not None else None,
        claimed_at=as_utc(t.claimed_at), first_response_at=as_utc(t.first_response_at),
        answered_at=as_utc(t.answered_at), closed_at=as_utc(t.closed_at), rating=t.rating,
        matches=matches(t, categories, regions))


def matches(t: Ticket, categories: Iterable[str], regions: Iterable[str]) -> bool:
    """In the lawyer's categories, or in one of their regions: a lawyer's "海淀区" matches
    a resident's shared location "北京市海淀区中关村大街"."""
    if t.category is not None and t.category in set(categories):
        return True
    return t.region is not None and any(r and r in t.region for r in regions)


def routing_order(tickets: Iterable[Ticket], categories: Iterable[str] = (),
                  regions: Iterable[str] = ()) -> list[Ticket]:
    """The lawyer's own subjects first, then emergencies, then the earliest deadline."""
    cats, regs = set(categories), set(regions)
    far = datetime.max.replace(tzinfo=None)

    def key(t: Ticket) -> tuple[bool, bool, datetime, int]:
        deadline = as_utc(t.deadline_at)
        return (not matches(t, cats, regs), t.priority != Priority.EMERGENCY,
                deadline.replace(tzinfo=None) if deadline else far, t.id)

    return sorted(tickets, key=key)


def allowed_actions(t: Ticket, staff_id: int, admin: bool) -> tuple[str, ...]:
    owner = t.claimed_by == staff_id
    acts = []
    if t.status in sources(S.CLAIMED) and t.claimed_by in (None, staff_id):
        acts.append("claim")
    if owner and t.status in sources(S.ANSWERED):
        acts.append("reply")
    if (owner or admin) and t.status in sources(S.TRANSFERRED):
        acts.append("transfer")
    if (owner or admin) and t.status in sources(S.CLOSED):
        acts.append("close")
    if (owner or admin) and t.status in sources(S.REOPENED):
        acts.append("reopen")
    if admin and t.status in OPEN_STATES:
        acts.append("reassign")
    if (owner or admin) and t.status in (S.ANSWERED, S.CLOSED, S.EXPIRED):
        acts.append("draft_entry")
    return tuple(acts)


