"""Fixtures of the alert tests: a migrated SQLite database, monitors on it, and the real
receivers (SMTP, webhook) on loopback."""
from __future__ import annotations

import pytest

from api.wechat.signals import ChannelSignals
from assistant.alerts.loop import AlertMonitor
from assistant.alerts.rules import RULES
from assistant.alerts.settings import AlertSettings
from knowledge.db import make_engine, migrate
from tests.assistant.alerts.receivers import Inbox, WebhookReceiver


@pytest.fixture
def engine(settings):
    eng = make_engine(settings.storage.sqlalchemy_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture
def inbox():
    box = Inbox()
    yield box
    box.close()


@pytest.fixture
def monitor_factory(engine):
    made: list[AlertMonitor] = []

    def make(webhook_url: str = "", only: str | None = None, **settings) -> AlertMonitor:
        """A monitor on the test database; ``only``: evaluate just that rule."""
        monitor = AlertMonitor(engine, AlertSettings(**settings), webhook_url=webhook_url,
                               channel=ChannelSignals(),
                               rules={only: RULES[only]} if only else None)
        made.append(monitor)
        return monitor

    yield make
    for m in made:
        m.close()


@pytest.fixture
def monitor(monitor_factory) -> AlertMonitor:
    return monitor_factory()
