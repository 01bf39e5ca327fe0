"""Per-resident rate limit, counted from the inbound log (so it holds across processes).

A burst over the limit gets one polite notice per window; the messages are still stored
(nothing is lost) but not answered.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from assistant.dialogue.models import Conversation
from knowledge.timeutil import as_utc, utcnow


class RateLimiter:
    def __init__(self, count: int, window_s: float) -> None:
        self.count = count
        self.window = timedelta(seconds=window_s)

    def over_limit(self, s: Session, openid: str) -> bool:
        if self.count <= 0:
            return False
        since = utcnow() - self.window
        n = s.scalar(select(func.count(InboundMessage.id)).where(
            InboundMessage.openid == openid, InboundMessage.received_at >= since,
            InboundMessage.msg_type != "event")) or 0
        return n > self.count

    def should_notify(self, conv: Conversation) -> bool:
        """One notice per window: the first message over the limit gets it, later ones don't."""
        last = as_utc(conv.rate_notice_at)
        return last is None or utcnow() - last > self.window
