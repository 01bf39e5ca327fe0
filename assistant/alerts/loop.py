"""The alert monitor: evaluates every rule at ``now`` and turns findings into episodes.

An episode opens (and is delivered, once) when a rule's condition starts to hold for a key;
while it holds, later evaluations only refresh its figures; when it no longer holds, the
episode is cleared, and the next time the condition holds is a new episode.  The open
episode's unique ``open_key`` makes this safe with several workers evaluating at once.  The
service runs ``step`` in a background loop every ``alert_check_s`` seconds; tests call
``evaluate(now)`` with an explicit time.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.alerts.delivery import Fired, MailDelivery, WebhookDelivery
from assistant.alerts.models import Alert
from assistant.alerts.rules import CHANNEL_RULES, RULES, ChannelLog, Finding, Rule, RuleContext
from assistant.alerts.settings import AlertSettings
from knowledge.db import session_factory
from knowledge.timeutil import as_utc, utcnow

log = logging.getLogger("fazhi.alerts")


def open_key(rule: str, key: str) -> str:
    return f"{rule}:{key}"


class AlertMonitor:
    def __init__(self, engine: Engine, settings: AlertSettings, *, webhook_url: str = "",
                 webhook_timeout_s: float = 5.0, channel: ChannelLog | None = None,
                 rules: dict[str, Rule] | None = None) -> None:
        self._sessions = session_factory(engine)
        self.settings = settings
        self.interval_s = settings.alert_check_s
        self.channel = channel
        self.rules = dict(rules if rules is not None else RULES)
        self.webhook = WebhookDelivery(webhook_url, webhook_timeout_s)
        self.mail = MailDelivery(settings)
        self.rounds = 0  # completed evaluations (tests wait on it)
        self._lock = threading.Lock()  # one evaluation at a time in this process

    # -- evaluation -------------------------------------------------------------------
    def step(self) -> bool:
        self.evaluate()
        return False  # then wait for the interval

    def evaluate(self, now: datetime | None = None) -> list[Fired]:
        """Evaluate every rule at ``now``; open, refresh and clear episodes; deliver the
        newly opened ones (after the commit: slow delivery holds no transaction)."""
        now = as_utc(now or utcnow())
        with self._lock:
            with self._sessions() as s:
                findings, evaluated = self._findings(s, now)
            fired = self._record(findings, evaluated, now)
            for alert in fired:
                self._deliver(alert)
            self.rounds += 1
        return fired

    def _findings(self, s: Session, now: datetime) -> tuple[list[Finding], set[str]]:
        ctx = RuleContext(s, now, self.settings, self.channel)
        findings: list[Finding] = []
        evaluated: set[str] = set()
        for name, rule in self.rules.items():
            if name in CHANNEL_RULES and self.channel is None:
                continue
            try:
                findings += rule(ctx)
            except Exception:  # one broken rule must not silence the others
                log.exception("alert rule %s failed", name)
                s.rollback()
                continue
            evaluated.add(name)
        return findings, evaluated

    def _record(self, findings: list[Finding], evaluated: set[str], now: datetime) -> list[Fired]:
        holding = {open_key(f.rule, f.key): f for f in findings}
        with self._sessions.begin() as s:
            current = {a.open_key: a for a in s.scalars(select(Alert).where(Alert.open_key.is_not(None)))}
            for okey, alert in current.items():
                found = holding.get(okey or "")
                if found is not None:  # still holds: the latest figures
                    alert.last_seen_at, alert.detail, alert.data = now, found.detail, found.data
                elif alert.rule in evaluated:  # the condition cleared: the episode ends
                    s.execute(update(Alert).where(Alert.id == alert.id, Alert.open_key == okey)
                              .values(open_key=None, cleared_at=now)
                              .execution_options(synchronize_session=False))
        fired: list[Fired] = []
        for okey, f in holding.items():
            if okey in current:
                continue
            row = Alert(rule=f.rule, key=f.key, open_key=okey, severity=f.severity,
                        title=f.title[:200], detail=f.detail, data=f.data, started_at=now,
                        last_seen_at=now, deliveries={})
            try:
                with self._sessions.begin() as s:
                    s.add(row)
            except IntegrityError:  # another worker opened this episode just now
                continue
            fired.append(Fired(row.id, f.rule, f.key, f.severity, row.title, f.detail, now, f.data))
            log.warning("alert %s fired: %s", f.rule, row.title)
        return fired

    def _deliver(self, alert: Fired) -> None:
        deliveries = {"webhook": self.webhook.send(alert).value, "email": self.mail.send(alert).value}
        with self._sessions.begin() as s:
            row = s.get(Alert, alert.id)
            if row is not None:
                row.deliveries = deliveries

    # -- shutdown ---------------------------------------------------------------------
    def interrupt(self) -> None:
        """Cut short a pause between webhook attempts (the service is stopping)."""
        self.webhook.interrupt()

    def close(self) -> None:
        self.webhook.close()
