"""ORM models of the WeChat transport: inbound log, outbox, shared access token.

The schema is created by migration ``0002_channel``.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class InboundStatus(StrEnum):
    PROCESSING = "processing"  # a "processing" row whose lease ran out is re-answered
    ANSWERED = "answered"
    LIMITED = "limited"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # 45015/45047: kept until the resident writes again


class OutboxChannel(StrEnum):
    PASSIVE = "passive"  # returned in the HTTP response to the callback
    CUSTOM = "custom"  # sent through message/custom/send


class InboundMessage(Base):
    """Every callback we accepted, stored before it is answered.

    ``dedupe_key`` is unique: WeChat's retries of one message (same MsgId, or for events the
    same FromUserName+CreateTime) collide here, across processes, so a message is handled once.
    """

    __tablename__ = "wx_inbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text, default="")
    # 64-bit (0005); SQLite's INTEGER already is, so the schema there stays as it was.
    wx_create_time: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                                default=0)
    status: Mapped[str] = mapped_column(String(16), index=True, default=InboundStatus.PROCESSING)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the assistant decided (0007): kept when the text is purged, for the statistics;
    # an answer names the entry and the version of it the resident received.
    decision: Mapped[str | None] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    entry_id: Mapped[int | None] = mapped_column(Integer)
    entry_version: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(32))
    ticket_no: Mapped[str | None] = mapped_column(String(32))


class OutboxMessage(Base):
    """One outbound text, stored before it is sent.

    ``channel`` is "passive" (returned in the HTTP response to the callback) or "custom"
    (sent through message/custom/send by the dispatcher).  Status of a custom message:
    pending -> sending -> sent | failed, or held (45015/45047: kept until the resident writes).
    """

    __tablename__ = "wx_outbox"
    __table_args__ = (UniqueConstraint("inbound_id", "part", name="uq_wx_outbox_inbound_part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    part: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(8), default=OutboxChannel.CUSTOM)
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                      index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_errcode: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ticket_message_id: Mapped[int | None] = mapped_column(Integer, index=True)  # lawyer reply


class AccessTokenRow(Base):
    """The one access token of an account, shared by all workers, plus its refresh lock."""

    __tablename__ = "wx_access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(String(1024))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lock_owner: Mapped[str | None] = mapped_column(String(64))
    lock_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
