"""Overdue alerts: a background sweeper that finds tickets past their deadline.

Each overdue ticket is marked once (``overdue_alerted_at``, set by a conditional UPDATE, so
several worker processes never alert twice), written to the audit log, and, when
``FAZHI_ALERT_WEBHOOK_URL`` is set, POSTed there as JSON (a chat-group robot, a mail
gateway...).  The alert carries the ticket number, priority, category, deadline and owner,
never what the resident wrote.  The console shows overdue tickets from the database on its
own; the webhook is for people who are not looking at it.  The same sweep ends answered
tickets the resident never came back to (``expired``).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
from sqlalchemy import Engine, select

from assistant.queue import audit, lifecycle
from assistant.queue.models import Ticket
from assistant.queue.settings import QueuePolicy, QueueSettings
from assistant.queue.staff import User
from knowledge.db import session_factory
from knowledge.timeutil import CHINA_TZ, as_utc, utcnow

log = logging.getLogger("fazhi.queue.alerts")

WEBHOOK_ATTEMPTS = 3


def alert_payload(t: Ticket, owner_name: str | None) -> dict[str, Any]:
    deadline = as_utc(t.deadline_at)
    local = deadline.astimezone(CHINA_TZ) if deadline else None
    return {
        "event": "ticket_overdue", "ticket_id": t.id, "ticket_no": t.ticket_no,
        "priority": t.priority, "category": t.category, "status": t.status,
        "deadline_at": deadline.isoformat() if deadline else None,
        "claimed_by": t.claimed_by, "claimed_by_name": owner_name,
        "text": (f"【超时告警】咨询单 {t.ticket_no}（{lifecycle.PRIORITY_LABELS.get(t.priority, '')}"
                 f"，{t.category or '未分类'}）已超过答复时限"
                 + (f" {local:%m-%d %H:%M}" if local else "")
                 + (f"，接单律师：{owner_name}" if owner_name else "，尚无律师接单")
                 + "。请尽快处理或改派。"),
    }


class OverdueSweeper:
    """One sweep at a time (``sweep_once``); the service runs it in a background loop every
    ``interval_s`` seconds."""

    def __init__(self, engine: Engine, settings: QueueSettings,
                 client: httpx.Client | None = None) -> None:
        self._sessions = session_factory(engine)
        self.policy = QueuePolicy.from_settings(settings)
        self.webhook_url = settings.alert_webhook_url
        self.interval_s = settings.ticket_sweep_s
        self._client = client or httpx.Client(timeout=settings.alert_timeout_s)
        self._stop = threading.Event()  # cuts the webhook's retry pauses short

    def interrupt(self) -> None:
        """Cut short a pause between webhook attempts (the service is stopping)."""
        self._stop.set()

    def close(self) -> None:
        self._client.close()

    def stop(self) -> None:
        self.interrupt()
        self.close()

    def sweep_once(self) -> list[int]:
        """Alert every newly overdue ticket; returns their ids."""
        now = utcnow()
        with self._sessions.begin() as s:
            ids = lifecycle.mark_overdue_alerted(s, now)
            payloads = []
            for ticket_id in ids:
                t = lifecycle.get(s, ticket_id)
                owner = (s.scalar(select(User.display_name).where(User.id == t.claimed_by))
                         if t.claimed_by is not None else None)
                audit.record(s, None, "overdue", ticket_id,
                             deadline_at=deadline.isoformat() if (deadline := as_utc(t.deadline_at)) else None,
                             claimed_by=t.claimed_by)
                payloads.append(alert_payload(t, owner))
        with self._sessions.begin() as s:
            for ticket_id in lifecycle.expire_stale(s, self.policy, now):
                audit.record(s, None, "expire", ticket_id)
        for payload in payloads:  # after the commit: a slow webhook holds no transaction
            log.warning("ticket %s overdue", payload["ticket_no"])
            self.post(payload)
        return ids

    def post(self, payload: dict[str, Any]) -> bool:
        return bool(self.webhook_url) and post_alert(self._client, self.webhook_url, payload,
                                                     self._stop)


def post_alert(client: httpx.Client, url: str, payload: dict[str, Any],
               stop: threading.Event) -> bool:
    """POST one alert to the alert webhook as JSON, with a few retries (cut short by
    ``stop``); True once it answered 2xx.  The early warnings (``assistant.alerts``) use it too."""
    for attempt in range(WEBHOOK_ATTEMPTS):
        try:
            resp = client.post(url, json=payload)
            if resp.status_code < 300:
                return True
            log.warning("alert webhook answered HTTP %d", resp.status_code)
        except httpx.HTTPError as exc:
            log.warning("alert webhook failed: %s", type(exc).__name__)
        if attempt + 1 < WEBHOOK_ATTEMPTS and not stop.wait(0.5 * 2 ** attempt):
            continue
        break
    return False
