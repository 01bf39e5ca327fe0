"""The channel core: store each inbound message, answer it once, queue the replies.

``accept`` stores the message (the unique dedupe key makes WeChat's retries collide);
``process`` computes the reply and commits conversation state, tickets and outbox rows in
one transaction.  A ``Job`` lets the webhook take the first reply passively if it is ready
within the budget; otherwise every part goes out through the outbox.
"""
from __future__ import annotations

import logging
import threading
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.log_mask import preview
from api.wechat.dedupe import RedisDedupe
from api.wechat.models import InboundMessage, InboundStatus
from api.wechat.outbox import Outbox, add_messages, release_held
from api.wechat.protocol.xml import WeChatMessage
from api.wechat.rate_limit import RateLimiter
from api.wechat.settings import WeChatSettings
from api.wechat.transcript import recent_transcript
from assistant.dialogue import texts as T
from assistant.dialogue.conversation import AssistantLike, Dialogue, DialogueReply
from assistant.queue.settings import QueuePolicy
from knowledge.db import rows_changed, session_factory
from knowledge.timeutil import utcnow

log = logging.getLogger("fazhi.wechat.channel")

PROCESSING, ANSWERED = InboundStatus.PROCESSING, InboundStatus.ANSWERED
LIMITED, FAILED = InboundStatus.LIMITED, InboundStatus.FAILED
UNSUPPORTED_TYPES = ("image", "location", "link", "video", "shortvideo", "file",
                     "miniprogrampage", "music", "news")


@dataclass(frozen=True)
class Accepted:
    inbound_id: int | None  # None: a retry whose first copy is still being stored
    duplicate: bool


class Job:
    """Hand-over between the worker thread and the webhook waiting for a passive reply."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claimed = False
        self._abandoned = False
        self.done = threading.Event()
        self.passive_text: str | None = None

    def claim_passive(self) -> bool:
        with self._lock:
            if self._abandoned:
                return False
            self._claimed = True
            return True

    def finish(self, passive_text: str | None) -> bool:
        """Publish the result; False when the webhook already gave up on a claimed reply."""
        with self._lock:
            if self.done.is_set():
                return True
            self.passive_text = passive_text
            self.done.set()
            return not (self._abandoned and passive_text is not None)

    def give_up(self) -> str | None:
        """The budget is spent: take the passive reply if it is ready, else leave it."""
        with self._lock:
            if self.done.is_set():
                return self.passive_text
            self._abandoned = True
            return None


def record_decision(row: InboundMessage, reply: DialogueReply) -> None:
    """Keep what was decided with the message: the entry and version an answer came from,
    and what the statistics count (these stay when the text is purged)."""
    row.decision, row.ticket_no = reply.kind, reply.ticket_no
    outcome = reply.outcome
    if outcome is None:
        row.entry_id = reply.entry_id
        return
    row.reason, row.confidence = outcome.reason, outcome.confidence
    row.entry_id, row.entry_version = outcome.answered_entry_id, outcome.answered_entry_version
    top = outcome.candidates[0].category if outcome.candidates else None
    row.category = outcome.area or top


def summarize(msg: WeChatMessage) -> str:
    """What we store as the message's content (the text we answer, or what it was)."""
    f = msg.fields
    if msg.msg_type == "text":
        return msg.content
    if msg.msg_type == "voice":
        return f.get("Recognition", "")
    if msg.msg_type == "event":
        return f.get("EventKey", "")[:500]
    if msg.msg_type == "location":
        return f"[位置] {f.get('Label', '')}"[:500]
    if msg.msg_type == "link":
        return f"[链接] {f.get('Title', '')} {f.get('Url', '')}"[:500]
    return f"[{msg.msg_type}]"


class Channel:
    def __init__(self, settings: WeChatSettings, engine: Engine, assistant: AssistantLike,
                 outbox: Outbox, policy: QueuePolicy) -> None:
        self.settings = settings
        self._sessions = session_factory(engine)
        self.dialogue = Dialogue(assistant, recent_transcript, policy)
        self.outbox = outbox
        self.limiter = RateLimiter(settings.wechat_rate_limit_count,
                                   settings.wechat_rate_limit_window_s)
        self.redis_dedupe = RedisDedupe(settings.redis_url) if settings.redis_url else None
        self.executor = ThreadPoolExecutor(max_workers=max(1, settings.wechat_answer_workers),
                                           thread_name_prefix="answer")
        self.lease = timedelta(seconds=settings.wechat_recover_after_s)
        self._last_sweep = 0.0
        self._locks = [threading.Lock() for _ in range(64)]

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)

    def ping(self) -> None:
        """A cheap liveness probe of the database."""
        with self._sessions() as s:
            s.execute(text("SELECT 1"))

    # -- intake -----------------------------------------------------------------
    def accept(self, msg: WeChatMessage) -> Accepted:
        key = msg.dedupe_key
        if self.redis_dedupe is not None and self.redis_dedupe.first_time(key) is False:
            known = self._inbound_id(key)
            if known is not None:
                return Accepted(known, True)
            # Redis saw it but the database has no row: either the first copy is being
            # stored right now (the insert below collides) or it never was (a lost insert,
            # a restored database): the database decides, so nothing is dropped.
        now = utcnow()
        row = InboundMessage(dedupe_key=key, openid=msg.from_user, msg_type=msg.msg_type,
                             event=msg.event.lower() or None, content=summarize(msg),
                             wx_create_time=msg.create_time, status=PROCESSING,
                             lease_until=now + self.lease, received_at=now)
        try:
            with self._sessions.begin() as s:
                s.add(row)
        except IntegrityError:
            return Accepted(self._inbound_id(key), True)
        except Exception:
            if self.redis_dedupe is not None:
                self.redis_dedupe.forget(key)  # not stored: let WeChat's retry through
            raise
        log.info("inbound %d %s from %s: %s", row.id, msg.msg_type, msg.from_user[:8],
                 preview(row.content))
        return Accepted(row.id, False)

    def _inbound_id(self, key: str) -> int | None:
        with self._sessions() as s:
            return s.scalar(select(InboundMessage.id).where(InboundMessage.dedupe_key == key))

    def submit(self, inbound_id: int, job: Job | None = None) -> Future:
        return self.executor.submit(self.process, inbound_id, job)

    # -- answering --------------------------------------------------------------
    def process(self, inbound_id: int, job: Job | None = None) -> None:
        try:
            for attempt in range(3):
                try:
                    self._process(inbound_id, job)
                    break
                except IntegrityError:
                    # Two messages of one resident created its conversation row at once,
                    # or another worker answered this message: start over on fresh state.
                    if attempt == 2:
                        raise
                    log.info("inbound %d: write conflict, retrying", inbound_id)
        except Exception:  # answer with an apology rather than silence
            log.exception("inbound %d: processing failed", inbound_id)
            self._fail(inbound_id)
        finally:
            if job is not None:
                job.finish(None)

    def _resident_lock(self, openid: str) -> threading.Lock:
        # One resident's messages are answered one at a time (in this process), so that
        # "2" is read against the suggestions of the message before it; striped locks keep
        # the memory bounded however many residents write.
        return self._locks[zlib.crc32(openid.encode("utf-8")) % len(self._locks)]

    def _process(self, inbound_id: int, job: Job | None) -> None:
        with self._sessions() as s:
            row = s.get(InboundMessage, inbound_id)
            if row is None or row.status != PROCESSING:
                return
            with self._resident_lock(row.openid):
                passive, messages = self._answer(s, row, job)
        if passive and job is not None and not job.finish(messages[0]):
            self.outbox.demote_passive(inbound_id)
        if len(messages) > (1 if passive else 0):
            self.outbox.notify()

    def _answer(self, s: Session, row: InboundMessage, job: Job | None) -> tuple[bool, list[str]]:
        """Compute and commit the reply; returns (passive claimed, messages)."""
        s.refresh(row)  # another thread may have answered it while we waited for the lock
        if row.status != PROCESSING:
            return False, []
        status, messages = self._reply(s, row)
        passive = bool(messages) and job is not None and job.claim_passive()
        add_messages(s, row.openid, row.id, messages, passive_first=passive)
        release_held(s, row.openid)
        done = s.execute(update(InboundMessage)
                         .where(InboundMessage.id == row.id,
                                InboundMessage.status == PROCESSING)
                         .values(status=status, answered_at=utcnow(), lease_until=None))
        if rows_changed(done) != 1:  # another worker answered it meanwhile
            s.rollback()
            return False, []
        s.commit()
        return passive, messages

    def _reply(self, s: Session, row: InboundMessage) -> tuple[str, list[str]]:
        openid = row.openid
        if row.msg_type == "event":
            return ANSWERED, self._event(s, row).messages
        if self.limiter.over_limit(s, openid):
            conv = self.dialogue.state_of(s, openid)
            if not self.limiter.should_notify(conv):
                return LIMITED, []
            conv.rate_notice_at = utcnow()
            s.add(conv)
            log.info("inbound %d: rate limited", row.id)
            return LIMITED, [T.RATE_LIMITED]
        if row.msg_type == "text" or (row.msg_type == "voice" and row.content.strip()):
            reply = self.dialogue.handle_text(s, openid, row.content, row.id)
            record_decision(row, reply)
            log.info("inbound %d answered: %s%s", row.id, reply.kind,
                     f" ticket {reply.ticket_no}" if reply.ticket_no else "")
            return ANSWERED, reply.messages
        if row.msg_type == "voice":
            return ANSWERED, [T.VOICE_UNRECOGNISED]
        return ANSWERED, [T.UNSUPPORTED]  # image, location, link, video, unknown types

    def _event(self, s: Session, row: InboundMessage) -> DialogueReply:
        event = row.event or ""
        if event == "subscribe":
            return self.dialogue.subscribe(s, row.openid)
        if event == "unsubscribe":
            self.dialogue.unsubscribe(s, row.openid)
            return DialogueReply([], "unsubscribe")
        if event == "click":
            action = self.settings.wechat_menu_actions.get(row.content, "")
            if action == "faq":
                return DialogueReply([T.FAQ_MENU], "menu")
            if action == "handoff":
                return self.dialogue.handle_text(s, row.openid, "转人工", row.id)
            if action == "my_tickets":
                return self.dialogue.my_tickets(s, row.openid)
            log.warning("unknown menu key %r", row.content[:40])
            return DialogueReply([T.EMPTY_TEXT], "menu")
        return DialogueReply([], "ignored")  # VIEW, SCAN, LOCATION, template receipts ...

    def _fail(self, inbound_id: int) -> None:
        try:
            with self._sessions.begin() as s:
                row = s.get(InboundMessage, inbound_id)
                if row is None or row.status != PROCESSING:
                    return
                add_messages(s, row.openid, row.id, [T.BUSY], passive_first=False)
                row.status, row.answered_at, row.lease_until = FAILED, utcnow(), None
            self.outbox.notify()
        except Exception:  # the lease will bring it back
            log.exception("inbound %d: could not record the failure", inbound_id)

    # -- recovery ---------------------------------------------------------------
    def recover_stale(self, min_interval_s: float = 2.0) -> int:
        """Re-answer messages whose worker died (crash, restart) once their lease ran out."""
        if time.monotonic() - self._last_sweep < min_interval_s:
            return 0
        self._last_sweep = time.monotonic()
        now = utcnow()
        with self._sessions() as s:
            ids = list(s.scalars(select(InboundMessage.id).where(
                InboundMessage.status == PROCESSING, InboundMessage.lease_until < now)
                .order_by(InboundMessage.id).limit(50)))
        taken = 0
        for inbound_id in ids:
            with self._sessions.begin() as s:
                got = s.execute(update(InboundMessage).where(
                    InboundMessage.id == inbound_id, InboundMessage.status == PROCESSING,
                    InboundMessage.lease_until < now).values(lease_until=now + self.lease))
            if rows_changed(got) == 1:
                log.info("inbound %d: recovering (worker lease expired)", inbound_id)
                self.submit(inbound_id, None)
                taken += 1
        return taken
