"""The outbox: every outbound message is stored first, then sent, and its end recorded.

Passive replies (returned in the callback's HTTP response) are stored as channel "passive";
everything else is sent through message/custom/send by a dispatcher thread in each worker
process.  Rows are claimed with a lease (an atomic UPDATE), so several processes can share
one outbox, and a row whose sender died mid-send is picked up again after its lease: a crash
or restart resumes the outbox.  Messages to one resident go out in order.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from api.background import BackgroundLoop
from api.wechat.access_token import AccessTokenManager, TokenUnavailable
from api.wechat.models import OutboxChannel, OutboxMessage, OutboxStatus
from api.wechat.protocol.client import HOLD_ERRORS, TOKEN_ERRORS, WeChatApi, WeChatApiError, WeChatUnavailable
from knowledge.db import rows_changed, session_factory
from knowledge.timeutil import utcnow

log = logging.getLogger("fazhi.wechat.outbox")

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT
FAILED, HELD = OutboxStatus.FAILED, OutboxStatus.HELD
PASSIVE, CUSTOM = OutboxChannel.PASSIVE, OutboxChannel.CUSTOM
RETRYABLE_ERRORS = frozenset({-1, 45009, 45011})  # system busy, API frequency limits
SEND_LEASE = timedelta(seconds=30)
MAX_BACKOFF_S = 300.0
CONTINUATION_DELAY = timedelta(milliseconds=300)  # let the passive reply arrive first


def add_messages(s: Session, openid: str, inbound_id: int | None, messages: list[str],
                 passive_first: bool) -> list[OutboxMessage]:
    """Store the replies to one inbound message (in the caller's transaction)."""
    now = utcnow()
    rows = []
    for part, content in enumerate(messages):
        passive = passive_first and part == 0
        row = OutboxMessage(
            openid=openid, inbound_id=inbound_id, part=part, content=content,
            channel=PASSIVE if passive else CUSTOM, status=SENT if passive else PENDING,
            attempts=1 if passive else 0, created_at=now, sent_at=now if passive else None,
            next_attempt_at=now + CONTINUATION_DELAY if passive_first else now)
        s.add(row)
        rows.append(row)
    return rows


def release_held(s: Session, openid: str) -> int:
    """The resident wrote: the 48-hour window is open again, so held messages can go."""
    result = s.execute(update(OutboxMessage)
                       .where(OutboxMessage.openid == openid, OutboxMessage.status == HELD)
                       .values(status=PENDING, next_attempt_at=utcnow()))
    return rows_changed(result) or 0


class Outbox:
    def __init__(self, engine: Engine, api: WeChatApi | None,
                 tokens: AccessTokenManager | None, max_attempts: int = 8,
                 backoff_s: float = 1.0, poll_s: float = 0.2, senders: int = 4) -> None:
        self._sessions = session_factory(engine)
        self.api = api
        self.tokens = tokens
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.poll_s = poll_s
        self._loop = BackgroundLoop("outbox", self._round, poll_s)
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="outbox-send")
        self.on_idle: Callable[[], object] | None = None  # periodic hook (inbound recovery)

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        # The loop runs even without API credentials: it also drives inbound recovery.
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def notify(self) -> None:
        self._loop.wake()

    def _round(self) -> bool:
        sent = self.dispatch_once()
        if self.on_idle is not None:
            self.on_idle()
        return sent > 0

    # -- dispatch ---------------------------------------------------------------
    def _heads(self, limit: int = 500) -> list[int]:
        """The first unsent message of each resident, if it is due (keeps per-resident order)."""
        now = utcnow()
        with self._sessions() as s:
            rows = s.execute(select(OutboxMessage.id, OutboxMessage.openid, OutboxMessage.status,
                                    OutboxMessage.next_attempt_at, OutboxMessage.lease_until)
                             .where(OutboxMessage.status.in_((PENDING, SENDING)))
                             .order_by(OutboxMessage.id).limit(limit)).all()
        seen: set[str] = set()
        due: list[int] = []
        naive_now = now.replace(tzinfo=None)
        for row in rows:
            if row.openid in seen:
                continue
            seen.add(row.openid)
            when = row.next_attempt_at if row.status == PENDING else row.lease_until
            if when is None or when.replace(tzinfo=None) <= naive_now:
                due.append(row.id)
        return due

    def _claim(self, outbox_id: int) -> OutboxMessage | None:
        now = utcnow()
        with self._sessions.begin() as s:
            result = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id,
                       or_(and_(OutboxMessage.status == PENDING,
                                OutboxMessage.next_attempt_at <= now),
                           and_(OutboxMessage.status == SENDING,
                                OutboxMessage.lease_until < now)))
                .values(status=SENDING, lease_until=now + SEND_LEASE,
                        attempts=OutboxMessage.attempts + 1))
            if rows_changed(result) != 1:
                return None  # another process got it
            return s.get(OutboxMessage, outbox_id)

    def dispatch_once(self) -> int:
        if self.api is None or self.tokens is None:
            return 0  # no credentials: messages wait in the outbox until configured
        claimed = [row for row in (self._claim(i) for i in self._heads()) if row is not None]
        if not claimed:
            return 0
        list(self._pool.map(self._deliver, claimed))
        return len(claimed)

    def _deliver(self, row: OutboxMessage) -> None:
        assert self.api is not None and self.tokens is not None
        token = None
        try:
            token = self.tokens.get()
            try:
                self.api.custom_send_text(token, row.openid, row.content)
            except WeChatApiError as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                # 40001/42001: the shared token is dead; replace it (once) and resend.
                self.tokens.invalidate(token)
                token = self.tokens.get(avoid=token)
                self.api.custom_send_text(token, row.openid, row.content)
        except WeChatApiError as exc:
            if exc.errcode in HOLD_ERRORS:
                self._finish(row, HELD, exc.errcode, exc.errmsg)
                log.info("outbox %d held: errcode %d (resident outside window/quota)",
                         row.id, exc.errcode)
            elif exc.errcode in RETRYABLE_ERRORS or exc.errcode in TOKEN_ERRORS:
                self._retry_later(row, exc.errcode, exc.errmsg)
            else:
                self._finish(row, FAILED, exc.errcode, exc.errmsg)
                log.warning("outbox %d failed permanently: errcode %d", row.id, exc.errcode)
        except (WeChatUnavailable, TokenUnavailable) as exc:
            self._retry_later(row, None, str(exc))
        except Exception as exc:  # record, never lose the row
            log.exception("outbox %d: unexpected error", row.id)
            self._retry_later(row, None, f"{type(exc).__name__}")
        else:
            self._finish(row, SENT, None, None)

    def _finish(self, row: OutboxMessage, status: OutboxStatus, errcode: int | None,
                error: str | None) -> None:
        with self._sessions.begin() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status=status, lease_until=None, last_errcode=errcode,
                last_error=(error or None) and error[:500],
                sent_at=utcnow() if status == SENT else None))

    def _retry_later(self, row: OutboxMessage, errcode: int | None, error: str) -> None:
        if row.attempts >= self.max_attempts:
            self._finish(row, FAILED, errcode, error)
            log.warning("outbox %d failed after %d attempts: %s", row.id, row.attempts, error)
            return
        delay = min(MAX_BACKOFF_S, self.backoff_s * 2 ** max(0, row.attempts - 1))
        with self._sessions.begin() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status=PENDING, lease_until=None, last_errcode=errcode, last_error=error[:500],
                next_attempt_at=utcnow() + timedelta(seconds=delay)))
        log.info("outbox %d: retry in %.1f s (%s)", row.id, delay, error)

    # -- queries ----------------------------------------------------------------
    def passive_reply(self, inbound_id: int) -> str | None:
        """The passive reply already given to this message (a retry gets the same one)."""
        with self._sessions() as s:
            return s.scalar(select(OutboxMessage.content).where(
                OutboxMessage.inbound_id == inbound_id, OutboxMessage.part == 0,
                OutboxMessage.channel == PASSIVE))

    def demote_passive(self, inbound_id: int) -> None:
        """The passive reply could not be returned after all: send it as a custom message."""
        with self._sessions.begin() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.inbound_id == inbound_id,
                                                  OutboxMessage.channel == PASSIVE)
                      .values(channel=CUSTOM, status=PENDING, attempts=0, sent_at=None,
                              next_attempt_at=utcnow()))
        self.notify()


def delivery_state(statuses: Iterable[str]) -> str | None:
    """One reply may take several messages: the worst of their states."""
    found = set(statuses)
    if not found:
        return None
    for state in (FAILED, HELD):
        if state in found:
            return state
    return SENT if found == {SENT} else PENDING


class OutboxDelivery:
    """Lawyers' replies to residents through the outbox (the queue's ``ReplyDelivery``)."""

    def __init__(self, outbox: Outbox | None = None) -> None:
        self.outbox = outbox  # None: rows are stored for another process's dispatcher

    def send(self, s: Session, openid: str, parts: list[str], ticket_message_id: int) -> None:
        for row in add_messages(s, openid, None, parts, passive_first=False):
            row.ticket_message_id = ticket_message_id

    def states(self, s: Session, ticket_message_ids: list[int]) -> dict[int, str]:
        found: dict[int, list[str]] = {}
        for mid, status in s.execute(
                select(OutboxMessage.ticket_message_id, OutboxMessage.status)
                .where(OutboxMessage.ticket_message_id.in_(ticket_message_ids))):
            if mid is not None:
                found.setdefault(mid, []).append(status)
        return {mid: state for mid, sts in found.items() if (state := delivery_state(sts))}

    def revision(self, s: Session) -> object:
        return sorted(s.execute(select(OutboxMessage.status, func.count(OutboxMessage.id))
                                .where(OutboxMessage.ticket_message_id.is_not(None))
                                .group_by(OutboxMessage.status)).all())

    def notify(self) -> None:
        if self.outbox is not None:
            self.outbox.notify()
