"""Telling people an alert fired: the alert webhook (the same one, and the same delivery,
as overdue tickets: ``assistant.queue.sweep.post_alert``) and e-mail over SMTP.

The console banner needs no delivery: it reads the open episodes from the database.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from assistant.alerts.models import Delivery, Severity
from assistant.alerts.rules import RULE_LABELS
from assistant.alerts.settings import AlertSettings
from assistant.queue.sweep import post_alert
from knowledge.timeutil import CHINA_TZ

log = logging.getLogger("fazhi.alerts")

SEVERITY_LABELS: dict[str, str] = {Severity.WARNING: "预警", Severity.CRITICAL: "紧急预警"}


@dataclass(frozen=True)
class Fired:
    """A newly started episode, as it is delivered."""

    id: int
    rule: str
    key: str
    severity: str
    title: str
    detail: str
    started_at: datetime
    data: dict[str, Any]

    @property
    def text(self) -> str:
        local = self.started_at.astimezone(CHINA_TZ)
        return (f"【{SEVERITY_LABELS.get(self.severity, '预警')}】{self.title}（{local:%m-%d %H:%M}）"
                f"：{self.detail}")


def alert_payload(alert: Fired) -> dict[str, Any]:
    return {"event": "alert", "alert_id": alert.id, "rule": alert.rule,
            "rule_label": RULE_LABELS.get(alert.rule, alert.rule), "key": alert.key,
            "severity": alert.severity, "title": alert.title, "detail": alert.detail,
            "started_at": alert.started_at.isoformat(), "data": alert.data, "text": alert.text}


class WebhookDelivery:
    def __init__(self, url: str, timeout_s: float = 5.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url
        self._client = client or httpx.Client(timeout=timeout_s)
        self._stop = threading.Event()

    def send(self, alert: Fired) -> Delivery:
        if not self.url:
            return Delivery.OFF
        return Delivery.SENT if post_alert(self._client, self.url, alert_payload(alert),
                                           self._stop) else Delivery.FAILED

    def interrupt(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._client.close()


def mail_message(alert: Fired, settings: AlertSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[{SEVERITY_LABELS.get(alert.severity, '预警')}] {alert.title}"
    msg["From"] = settings.alert_smtp_from
    msg["To"] = ", ".join(settings.smtp_recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="fazhi.alerts")
    local = alert.started_at.astimezone(CHINA_TZ)
    msg.set_content(f"{alert.title}\n\n{alert.detail}\n\n"
                    f"开始时间：{local:%Y-%m-%d %H:%M}（北京时间）\n"
                    f"规则：{RULE_LABELS.get(alert.rule, alert.rule)}\n\n"
                    "请登录律师工作台的“预警”页面（/admin/alerts）查看和确认。\n")
    return msg


class MailDelivery:
    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.alert_smtp_host and self.settings.smtp_recipients)

    def send(self, alert: Fired) -> Delivery:
        if not self.enabled:
            return Delivery.OFF
        st = self.settings
        try:
            with smtplib.SMTP(st.alert_smtp_host, st.alert_smtp_port,
                              timeout=st.alert_smtp_timeout_s) as smtp:
                if st.alert_smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if st.alert_smtp_user:
                    smtp.login(st.alert_smtp_user, st.alert_smtp_password)
                smtp.send_message(mail_message(alert, st))
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("alert e-mail failed: %s", type(exc).__name__)
            return Delivery.FAILED
        return Delivery.SENT
