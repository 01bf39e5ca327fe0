"""The lawyer's desk: what the console calls to read and work the queue.

Each action is one transaction holding the ticket's move (``lifecycle``), its audit
entry and, for a reply, the messages that carry it to the resident (``ReplyDelivery``:
WeChat's outbox and customer-service messages); so after a crash either all of it happened or none of it.
A reply that WeChat refuses for now (45015: the 48-hour window is closed, 45047: quota) is
held by the outbox and goes out when the resident next writes; the ticket page shows each
reply's delivery state.
"""
from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import Engine, func, not_, or_, select
from sqlalchemy.orm import Session

from assistant.dialogue import texts as T
from assistant.dialogue.conversation import append_line, expect_ticket_rating
from assistant.pii import mask_numbers
from assistant.queue import audit, lifecycle, views
from assistant.queue import report as figures
from assistant.queue.errors import BadTransition, EmptyReply, NotAllowed, NotOwner, QueueError, UnknownStaff
from assistant.queue.models import Direction, Ticket, TicketMessage
from assistant.queue.settings import QueuePolicy, QueueSettings
from assistant.queue.staff import Role, Staff, User
from assistant.queue.views import AuditLine, CandidateView, MessageView, TicketPage, TicketRow
from assistant.reply import entry_text, split_message
from knowledge.db import session_factory
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import DEFAULT_CATEGORY, Kind, Status
from knowledge.timeutil import as_utc, utcnow

SCOPES = ("open", "mine", "all")
PENDING = "pending"  # a reply's delivery state before the channel accepted it


class ReplyDelivery(Protocol):
    """How a lawyer's reply reaches the resident.  The channel supplies it (WeChat's
    outbox), so the queue does not depend on the channel."""

    def send(self, s: Session, openid: str, parts: list[str], ticket_message_id: int) -> None:
        """Queue the reply's messages in the caller's transaction."""

    def states(self, s: Session, ticket_message_ids: list[int]) -> dict[int, str]:
        """Each reply's delivery state: pending, sent, held or failed."""

    def revision(self, s: Session) -> object:
        """Changes whenever the delivery of any reply changes."""

    def notify(self) -> None:
        """Wake the sender after a commit."""


def mask_openid(openid: str) -> str:
    return openid[:6] + "…" if len(openid) > 6 else openid


def masked_row(row: TicketRow) -> TicketRow:
    """A row as lists show it: the resident's ID, bank-card and phone numbers masked (only
    the lawyer who owns a ticket sees them, on its own page)."""
    return dataclasses.replace(row, question=mask_numbers(row.question))


class Desk:
    def __init__(self, engine: Engine, settings: QueueSettings,
                 delivery: ReplyDelivery | None = None) -> None:
        self.engine = engine
        self.delivery = delivery  # None: a read-only desk (reports)
        self.policy = QueuePolicy.from_settings(settings)
        self._sessions = session_factory(engine)

    # -- reads ------------------------------------------------------------------------------
    @staticmethod
    def _names(s: Session) -> dict[int, str]:
        return {i: name for i, name in s.execute(select(User.id, User.display_name))}

    def queue(self, staff: Staff, *, category: str | None = None, region: str | None = None,
              priority: str | None = None, overdue: bool | None = None, scope: str = "open",
              limit: int = 200) -> list[TicketRow]:
        """``open``: tickets waiting for a lawyer's response that this lawyer may take or
        owns (an admin: all of them), the lawyer's own categories and regions first, then
        emergencies, then the earliest deadline.  ``mine``: every ticket the lawyer owns.
        ``all``: every ticket.  Tickets still to be worked come first in every scope."""
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        now = utcnow()
        stmt = select(Ticket)
        if scope == "open":
            stmt = stmt.where(Ticket.status.in_(lifecycle.PENDING_STATES))
            if not staff.is_admin:
                stmt = stmt.where(or_(Ticket.claimed_by.is_(None), Ticket.claimed_by == staff.id))
        elif scope == "mine":
            stmt = stmt.where(Ticket.claimed_by == staff.id)
        if category:
            stmt = stmt.where(Ticket.category == category)
        if region:  # a district matches the fuller location a resident shared
            stmt = stmt.where(Ticket.region.contains(region, autoescape=True))
        if priority:
            stmt = stmt.where(Ticket.priority == priority)
        if overdue is True:
            stmt = stmt.where(lifecycle.overdue_clause(now))
        elif overdue is False:
            stmt = stmt.where(not_(lifecycle.overdue_clause(now)))
        # Pending work is what matters: all of it is read; settled tickets, the latest only.
        pending_q = stmt.where(Ticket.status.in_(lifecycle.PENDING_STATES))
        settled_q = (stmt.where(Ticket.status.not_in(lifecycle.PENDING_STATES))
                     .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit))
        with self._sessions() as s:
            names = self._names(s)
            pending = views.routing_order(s.scalars(pending_q), staff.categories, staff.regions)
            settled = list(s.scalars(settled_q)) if scope != "open" else []
            return [masked_row(views.to_row(t, names, now, staff.categories, staff.regions))
                    for t in (pending + settled)[:limit]]

    def overdue(self) -> list[TicketRow]:
        """Every ticket past its deadline without a response: the console's alert banner."""
        now = utcnow()
        with self._sessions() as s:
            names = self._names(s)
            rows = s.scalars(select(Ticket).where(lifecycle.overdue_clause(now))
                             .order_by(Ticket.deadline_at, Ticket.id))
            return [masked_row(views.to_row(t, names, now)) for t in rows]

    def ticket(self, ticket_id: int, staff: Staff) -> TicketPage:
        now = utcnow()
        with self._sessions() as s:
            t = lifecycle.get(s, ticket_id)
            names = self._names(s)
            messages = list(s.scalars(select(TicketMessage)
                                      .where(TicketMessage.ticket_id == ticket_id)
                                      .order_by(TicketMessage.created_at, TicketMessage.id)))
            lawyer_ids = [m.id for m in messages if m.direction == Direction.LAWYER]
            states = self.delivery.states(s, lawyer_ids) if self.delivery and lawyer_ids else {}
            ids = [int(c["id"]) for c in t.candidates if c.get("id") is not None]
            entries = {e.id: e for e in s.scalars(select(Entry).where(Entry.id.in_(ids)))} \
                if ids else {}
            candidates = tuple(
                CandidateView(int(c["id"]), c.get("external_id"), str(c.get("kind", "")),
                              str(c.get("title", "")), float(c.get("score") or 0.0),
                              entry_text(entries[int(c["id"])], for_resident=False)
                              if int(c["id"]) in entries
                              else "")
                for c in t.candidates if c.get("id") is not None)
            trail = tuple(
                AuditLine(as_utc(a.at), a.actor_id,
                          names.get(a.actor_id) if a.actor_id is not None else None,
                          a.action, audit.ACTION_LABELS.get(a.action, a.action),
                          dict(a.detail or {}))
                for a in audit.trail(s, ticket_id))
            row = views.to_row(t, names, now, staff.categories, staff.regions)
            owner = t.claimed_by == staff.id
            shown = (lambda text: text) if owner else mask_numbers  # full numbers: its owner only
            return TicketPage(
                row=row if owner else masked_row(row),
                resident=mask_openid(t.openid),
                messages=tuple(
                    MessageView(m.id, m.direction, m.author_id,
                                names.get(m.author_id) if m.author_id is not None else None,
                                shown(m.content), as_utc(m.created_at),
                                states.get(m.id) if m.direction == Direction.LAWYER else None)
                    for m in messages),
                candidates=candidates, rating=t.rating, rated_at=as_utc(t.rated_at),
                kb_entry_id=t.kb_entry_id, audit=trail,
                actions=views.allowed_actions(t, staff.id, staff.is_admin))

    def stats(self, staff_id: int | None, start: datetime, end: datetime) -> figures.Stats:
        """Figures for one lawyer, or (None) for the whole service, tickets created in
        [start, end)."""
        with self._sessions() as s:
            return figures.stats(s, start, end, staff_id)

    def report(self, start: datetime, end: datetime) -> figures.Report:
        with self._sessions() as s:
            names = {i: n for i, n in s.execute(
                select(User.id, User.display_name).where(User.role == Role.LAWYER))}
            names.update({i: n for i, n in s.execute(
                select(User.id, User.display_name)
                .where(User.id.in_(select(Ticket.claimed_by).distinct())))})
            return figures.report(s, start, end, names)

    def revision(self) -> str:
        """Changes whenever a ticket, its conversation, its audit trail or the delivery of a
        lawyer's reply changes: the console polls it and reloads when it moves."""
        with self._sessions() as s:
            parts = [
                s.execute(select(func.count(Ticket.id), func.max(Ticket.updated_at))).one(),
                s.execute(select(func.max(TicketMessage.id))).one(),
                s.execute(select(func.max(audit.AuditEntry.id))).one(),
                self.delivery.revision(s) if self.delivery else None,
            ]
        return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:16]

    # -- actions ------------------------------------------------------------------------------
    def _row(self, s: Session, ticket: Ticket, staff: Staff) -> TicketRow:
        return views.to_row(ticket, self._names(s), utcnow(), staff.categories, staff.regions)

    @staticmethod
    def _check_target(s: Session, user_id: int) -> User:
        user = s.get(User, user_id)
        if user is None or not user.active or user.role not in (Role.LAWYER, Role.ADMIN):
            raise UnknownStaff("没有这位律师，或其账号已停用")
        return user

    def claim(self, ticket_id: int, staff: Staff) -> TicketRow:
        with self._sessions.begin() as s:
            t = lifecycle.claim(s, ticket_id, staff.id)
            audit.record(s, staff.id, "claim", ticket_id)
            return self._row(s, t, staff)

    def reply(self, ticket_id: int, staff: Staff, text: str) -> MessageView:
        """Store the reply, queue it to the resident, mark the ticket answered."""
        with self._sessions.begin() as s:
            message = lifecycle.record_reply(s, ticket_id, staff.id, text)
            t = lifecycle.get(s, ticket_id)
            body = T.LAWYER_REPLY_HEAD.format(no=t.ticket_no) + "\n" + message.content
            parts = append_line(split_message(body), T.TICKET_RATING_PROMPT)
            self._delivery().send(s, t.openid, parts, message.id)
            expect_ticket_rating(s, t.openid, t.id)
            audit.record(s, staff.id, "reply", ticket_id, message_id=message.id,
                         parts=len(parts), chars=len(message.content))
            view = MessageView(message.id, Direction.LAWYER, staff.id, staff.display_name,
                               message.content, as_utc(message.created_at), PENDING)
        self._delivery().notify()
        return view

    def _delivery(self) -> ReplyDelivery:
        if self.delivery is None:
            raise RuntimeError("this desk has no reply delivery")
        return self.delivery

    def transfer(self, ticket_id: int, staff: Staff, to_user_id: int | None,
                 note: str = "") -> TicketRow:
        """To another lawyer (who then owns it) or, with None, back to the pool."""
        with self._sessions.begin() as s:
            if to_user_id is not None:
                self._check_target(s, to_user_id)
            t = lifecycle.transfer(s, ticket_id, staff.id, to_user_id, admin=staff.is_admin)
            audit.record(s, staff.id, "transfer", ticket_id, to_user_id=to_user_id,
                         note=(note or "").strip()[:500])
            return self._row(s, t, staff)

    def reassign(self, ticket_id: int, admin: Staff, to_user_id: int | None,
                 note: str = "") -> TicketRow:
        """An admin moves a ticket (an overdue one, typically) to a lawyer or the pool."""
        if not admin.is_admin:
            raise NotAllowed("只有管理员可以改派咨询单")
        with self._sessions.begin() as s:
            if to_user_id is not None:
                self._check_target(s, to_user_id)
            before = lifecycle.get(s, ticket_id).claimed_by
            t = lifecycle.transfer(s, ticket_id, admin.id, to_user_id, admin=True)
            audit.record(s, admin.id, "reassign", ticket_id, from_user_id=before,
                         to_user_id=to_user_id, note=(note or "").strip()[:500])
            return self._row(s, t, admin)

    def close(self, ticket_id: int, staff: Staff) -> TicketRow:
        with self._sessions.begin() as s:
            t = lifecycle.close(s, ticket_id, staff.id, admin=staff.is_admin)
            audit.record(s, staff.id, "close", ticket_id)
            return self._row(s, t, staff)

    def reopen(self, ticket_id: int, staff: Staff) -> TicketRow:
        with self._sessions.begin() as s:
            t = lifecycle.reopen(s, ticket_id, self.policy, staff.id, admin=staff.is_admin)
            audit.record(s, staff.id, "reopen", ticket_id)
            return self._row(s, t, staff)

    def draft_entry(self, ticket_id: int, staff: Staff, question: str, answer: str) -> int:
        """Turn a good answer into a knowledge-base FAQ draft for an admin to review
        (转为知识条目); the ticket links to it.  Drafting again updates the same draft."""
        question, answer = (question or "").strip(), (answer or "").strip()
        if not question or not answer:
            raise EmptyReply("问题和答案都不能为空")
        with self._sessions() as s:
            t = lifecycle.get(s, ticket_id)
            if t.claimed_by != staff.id and not staff.is_admin:
                raise NotOwner("只有接单律师（或管理员）可以把答复转为知识条目")
            if t.first_response_at is None:
                raise BadTransition("律师答复后才能转为知识条目")
            if t.kb_entry_id is not None:
                linked = s.get(Entry, t.kb_entry_id)
                if linked is not None and linked.status != Status.DRAFT.value:
                    raise BadTransition(f"该咨询单已转为知识条目（编号 {t.kb_entry_id}），"
                                        "并已审核，请在知识库中修改")
            ticket_no, category = t.ticket_no, t.category or DEFAULT_CATEGORY
        try:
            data = EntryData(kind=Kind.FAQ, external_id=f"ticket-{ticket_no}",
                             category=category, question=question, answer=answer,
                             status=Status.DRAFT, source=f"律师答复（咨询单 {ticket_no}）")
        except ValidationError as exc:
            raise QueueError("知识条目内容不符合要求：" + "; ".join(
                str(e.get("msg", "")) for e in exc.errors())) from exc
        _, entry_id = KnowledgeStore(self.engine).upsert(  # its author: the review rule's
            data, author=staff.username, reason=f"律师答复转为知识条目（咨询单 {ticket_no}）")
        with self._sessions.begin() as s:
            t = lifecycle.get(s, ticket_id)
            t.kb_entry_id = entry_id
            t.updated_at = utcnow()
            audit.record(s, staff.id, "draft_entry", ticket_id, entry_id=entry_id)
        return entry_id
