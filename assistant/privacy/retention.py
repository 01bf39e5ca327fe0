"""Retention: residents' conversation text older than N days is deleted, the statistics stay.

What is cleared (emptied in place, so every row, and with it every count, decision, rating,
category, region and timing, stays where the statistics read it):

* ``wx_inbound.content``: what residents wrote;
* ``wx_outbox.content``: what we sent them (once sent or failed: a message still waiting
  to go out keeps its text until then);
* a ticket's question and its conversation (``wx_tickets.question``,
  ``wx_ticket_messages.content``), once the ticket is closed or expired: an open ticket
  keeps them for the lawyer working on it;
* a resident's recent questions kept for follow-ups (``wx_conversations.history`` and
  ``last_topic``);
* files derived from residents' text (the cached vectors of their questions, which the
  unanswered-questions page rebuilds for what is left), whenever a purge cleared any text.

Each table is cleared in batches of rows by key, one short transaction each, so a purge
never holds a long lock on a busy channel; running it twice, or in two workers at once,
changes nothing more.  The WeChat channel's tables (``api.wechat``) are named here by their
columns, since the domain does not import the delivery layer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    column,
    func,
    select,
    table,
    update,
)
from sqlalchemy.sql.expression import TableClause

from assistant.dialogue.models import Conversation
from assistant.privacy.settings import PrivacySettings
from assistant.queue.lifecycle import OPEN_STATES
from assistant.queue.models import Ticket, TicketMessage
from knowledge.db import rows_changed, session_factory
from knowledge.timeutil import utcnow

log = logging.getLogger("fazhi.privacy")

TS = DateTime(timezone=True)
_inbound = table("wx_inbound", column("id", Integer), column("content", Text), column("received_at", TS))
_outbox = table("wx_outbox", column("id", Integer), column("content", Text), column("status", String),
                column("created_at", TS))
DELIVERED = ("sent", "failed")  # api.wechat.models.OutboxStatus: no longer to be sent
_tickets = cast(Table, Ticket.__table__)
_messages = cast(Table, TicketMessage.__table__)
_conversations = cast(Table, Conversation.__table__)


@dataclass(frozen=True)
class Target:
    """The text of one table: rows older than the cutoff that still have some get ``values``."""

    name: str
    table: TableClause
    key: str
    values: dict[str, Any]
    where: Callable[[datetime], list[ColumnElement[bool]]]


def _closed_tickets() -> Any:
    return select(_tickets.c.id).where(_tickets.c.status.not_in(OPEN_STATES))


TARGETS: tuple[Target, ...] = (
    Target("居民消息", _inbound, "id", {"content": ""},
           lambda cutoff: [_inbound.c.received_at < cutoff, _inbound.c.content != ""]),
    Target("回复消息", _outbox, "id", {"content": ""},
           lambda cutoff: [_outbox.c.created_at < cutoff, _outbox.c.status.in_(DELIVERED),
                           _outbox.c.content != ""]),
    Target("咨询单问题", _tickets, "id", {"question": ""},
           lambda cutoff: [_tickets.c.created_at < cutoff, _tickets.c.status.not_in(OPEN_STATES),
                           _tickets.c.question != ""]),
    Target("咨询单对话", _messages, "id", {"content": ""},
           lambda cutoff: [_messages.c.created_at < cutoff, _messages.c.ticket_id.in_(_closed_tickets()),
                           _messages.c.content != ""]),
    Target("近期提问", _conversations, "openid", {"history": [], "last_topic": None},
           lambda cutoff: [_conversations.c.updated_at < cutoff, _conversations.c.last_topic.is_not(None)]),
)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    cleared: dict[str, int]  # rows per target name

    @property
    def total(self) -> int:
        return sum(self.cleared.values())


class Retention:
    """Deletes conversation text older than ``retention_days`` (``fazhi privacy purge`` and
    the service's background loop)."""

    def __init__(self, engine: Engine, settings: PrivacySettings | None = None,
                 derived_files: Callable[[], Iterable[Path]] = lambda: ()) -> None:
        self.settings = settings or PrivacySettings()
        self._sessions = session_factory(engine)
        self.derived_files = derived_files

    @property
    def enabled(self) -> bool:
        return self.settings.retention_days > 0

    def purge(self, older_than_days: int | None = None, now: datetime | None = None,
              dry_run: bool = False) -> PurgeResult:
        """Clear the text of everything older than ``older_than_days`` (the setting by
        default); with ``dry_run`` only count it."""
        days = self.settings.retention_days if older_than_days is None else older_than_days
        if days < 1:
            raise ValueError("保存天数至少为 1 天（FAZHI_RETENTION_DAYS=0 时不自动删除，"
                             "请用 --older-than-days 指定）")
        cutoff = (now or utcnow()) - timedelta(days=days)
        cleared = {t.name: (self._count(t, cutoff) if dry_run else self._clear(t, cutoff))
                   for t in TARGETS}
        result = PurgeResult(cutoff, cleared)
        if result.total and not dry_run:
            for path in self.derived_files():
                path.unlink(missing_ok=True)
            log.info("retention: cleared the text of %d rows older than %s (%s)", result.total,
                     cutoff.isoformat(), ", ".join(f"{t.table.name} {n}" for t, n in
                                                    zip(TARGETS, cleared.values()) if n))
        return result

    def _count(self, target: Target, cutoff: datetime) -> int:
        with self._sessions() as s:
            return s.scalar(select(func.count()).select_from(target.table)
                            .where(*target.where(cutoff))) or 0

    def _clear(self, target: Target, cutoff: datetime) -> int:
        key = target.table.c[target.key]
        total = 0
        while True:
            with self._sessions.begin() as s:
                keys = list(s.scalars(select(key).where(*target.where(cutoff))
                                      .order_by(key).limit(self.settings.retention_batch)))
                if not keys:
                    return total
                # The conditions again: a row changed meanwhile is left as it now is.
                total += rows_changed(s.execute(update(target.table)
                                                .where(key.in_(keys), *target.where(cutoff))
                                                .values(**target.values)))
            if len(keys) < self.settings.retention_batch:
                return total

    def step(self) -> bool:
        """One round of the background loop: purge with the setting (never busy after)."""
        if self.enabled:
            self.purge()
        return False
