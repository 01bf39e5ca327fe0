"""Real receivers on loopback for the alert tests: an SMTP server (aiosmtpd) and the
webhook receiver the overdue tests use; and rows as the channel and the queue write them."""
from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from api.wechat.models import InboundMessage, OutboxMessage
from assistant.queue.models import Ticket
from knowledge.db import session_factory
from tests.assistant.queue.test_desk import WebhookReceiver

__all__ = ["Inbox", "WebhookReceiver", "add_inbound", "add_outbox", "free_port", "answered_ticket"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An SMTP server on loopback that keeps every message it is given."""

    def __init__(self, **controller_options) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port(),
                                     **controller_options)
        self.controller.start()
        self.port = self.controller.port

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def close(self) -> None:
        self.controller.stop()


def add_inbound(engine: Engine, decision: str, at: datetime, n: int = 1,
                reason: str | None = None) -> None:
    """``n`` inbound messages answered with ``decision`` at ``at``, as the channel records them."""
    with session_factory(engine).begin() as s:
        for _ in range(n):
            s.add(InboundMessage(dedupe_key=uuid.uuid4().hex, openid="o_stats", msg_type="text",
                                 content="（测试）", status="answered", received_at=at, answered_at=at,
                                 decision=decision, reason=reason))


def add_outbox(engine: Engine, status: str, created_at: datetime, n: int = 1,
               errcode: int | None = None) -> None:
    with session_factory(engine).begin() as s:
        for _ in range(n):
            s.add(OutboxMessage(openid="o_out", content="答复", channel="custom", status=status,
                                created_at=created_at, next_attempt_at=created_at,
                                last_errcode=errcode, attempts=1 if status == "failed" else 0))


def answered_ticket(engine: Engine, ticket_id: int, claimed_at: datetime,
                    handling: timedelta) -> None:
    """A ticket a lawyer claimed at ``claimed_at`` and first answered ``handling`` later."""
    with session_factory(engine).begin() as s:
        t = s.get(Ticket, ticket_id)
        t.status, t.claimed_by, t.claimed_at = "answered", 1, claimed_at
        t.first_response_at = t.answered_at = claimed_at + handling
