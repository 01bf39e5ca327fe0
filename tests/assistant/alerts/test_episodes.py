"""A rule fires once per episode: when its condition starts, not again while it lasts, and
again after it cleared and recurs; each firing goes to the webhook and by e-mail (real
receivers on loopback), and the history keeps when it started and cleared."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wechat.signals import ChannelSignals
from assistant.alerts.history import AlertBoard
from assistant.alerts.loop import AlertMonitor
from assistant.alerts.models import Alert
from assistant.alerts.rules import RULES
from assistant.alerts.settings import AlertSettings
from knowledge.db import make_engine, migrate
from tests.assistant.alerts.receivers import Inbox, add_inbound

NOW = datetime(2026, 3, 4, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Beijing


def alerts(engine) -> list[Alert]:
    with Session(engine) as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def test_an_escalation_spike_fires_once_per_episode_to_webhook_and_email(engine, monitor_factory,
                                                                         receiver, inbox):
    monitor = monitor_factory(webhook_url=receiver.url, alert_smtp_host="127.0.0.1",
                              alert_smtp_port=inbox.port, alert_smtp_to="duty@justice.example",
                              alert_smtp_from="fazhi@justice.example")
    for day in range(1, 8):  # the same hour of the last week: two escalations a day
        add_inbound(engine, "escalate", NOW - timedelta(days=day, minutes=20), n=2)
    add_inbound(engine, "escalate", NOW - timedelta(minutes=30), n=12)

    [fired] = monitor.evaluate(NOW)
    assert fired.rule == "escalation_spike" and "12 次转人工" in fired.detail
    [(content_type, payload)] = receiver.received
    assert content_type == "application/json"
    assert (payload["event"], payload["rule"], payload["alert_id"]) == ("alert", "escalation_spike", fired.id)
    assert "转人工激增" in payload["text"] and "平均 2 次" in payload["detail"]
    [mail] = inbox.messages
    assert inbox.envelopes == [("fazhi@justice.example", ["duty@justice.example"])]
    assert "转人工激增" in mail["Subject"] and "12 次转人工" in mail.get_content()
    [row] = alerts(engine)
    assert row.deliveries == {"webhook": "sent", "email": "sent"}

    # While it lasts: no second alert, the figures follow.
    add_inbound(engine, "escalate", NOW + timedelta(minutes=5), n=3)
    assert monitor.evaluate(NOW + timedelta(minutes=10)) == []
    [row] = alerts(engine)
    assert row.cleared_at is None and "15 次转人工" in row.detail
    assert len(receiver.received) == 1 and len(inbox.messages) == 1

    # The spike passes: the episode clears (and nothing is sent for that).
    assert monitor.evaluate(NOW + timedelta(hours=2)) == []
    [row] = alerts(engine)
    assert row.cleared_at is not None and row.open_key is None
    assert monitor.evaluate(NOW + timedelta(hours=2, minutes=1)) == []

    # It recurs: a new episode, delivered again.
    later = NOW + timedelta(hours=5)
    add_inbound(engine, "escalate", later - timedelta(minutes=10), n=11)
    [again] = monitor.evaluate(later)
    assert again.rule == "escalation_spike" and again.id != fired.id
    assert len(receiver.received) == 2 and len(inbox.messages) == 2
    history = AlertBoard(engine).history()
    assert [(a.id, a.open) for a in history] == [(again.id, True), (fired.id, False)]


def several_workers_evaluate_at_once(engine, monitors, receiver) -> None:
    """Real threads, released together, each a worker's monitor: one episode, one delivery."""
    add_inbound(engine, "emergency", NOW - timedelta(minutes=5), n=4)
    barrier = threading.Barrier(len(monitors))
    fired: list = []

    def worker(monitor) -> None:
        barrier.wait()
        fired.extend(monitor.evaluate(NOW))

    threads = [threading.Thread(target=worker, args=(m,)) for m in monitors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [f.rule for f in fired] == ["emergency_spike"]
    assert len(alerts(engine)) == 1 and len(receiver.received) == 1


def test_several_workers_evaluating_at_once_open_one_episode(engine, monitor_factory, receiver):
    several_workers_evaluate_at_once(
        engine, [monitor_factory(webhook_url=receiver.url, only="emergency_spike") for _ in range(4)],
        receiver)


@pytest.mark.postgres
def test_several_workers_evaluating_at_once_open_one_episode_on_postgresql(pg_url, receiver):
    engine = make_engine(pg_url)
    migrate(engine)
    monitors = [AlertMonitor(engine, AlertSettings(), webhook_url=receiver.url, channel=ChannelSignals(),
                             rules={"emergency_spike": RULES["emergency_spike"]}) for _ in range(4)]
    try:
        several_workers_evaluate_at_once(engine, monitors, receiver)
    finally:
        for m in monitors:
            m.close()
        engine.dispose()


def test_an_unreachable_webhook_and_mail_server_are_recorded_as_failed(engine, monitor_factory):
    closed = Inbox()
    port = closed.port
    closed.close()  # nothing listens there now
    monitor = monitor_factory(webhook_url="http://127.0.0.1:9/nothing", alert_smtp_host="127.0.0.1",
                              alert_smtp_port=port, alert_smtp_to="duty@justice.example",
                              alert_smtp_timeout_s=2)
    add_inbound(engine, "escalate", NOW - timedelta(minutes=5), n=10)
    [fired] = monitor.evaluate(NOW)
    [row] = alerts(engine)
    assert row.id == fired.id and row.deliveries == {"webhook": "failed", "email": "failed"}


def test_mail_logs_in_to_the_smtp_server_when_a_user_is_set(engine, monitor_factory):
    from aiosmtpd.smtp import AuthResult

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"smtp-secret-42")

    box = Inbox(authenticator=authenticator, auth_require_tls=False)
    try:
        monitor = monitor_factory(alert_smtp_host="127.0.0.1", alert_smtp_port=box.port,
                                  alert_smtp_to="a@justice.example, b@justice.example",
                                  alert_smtp_user="fazhi", alert_smtp_password="smtp-secret-42")
        add_inbound(engine, "emergency", NOW - timedelta(minutes=5), n=3)
        [fired] = monitor.evaluate(NOW)
        assert logins == [(b"fazhi", b"smtp-secret-42")]
        [mail] = box.messages
        assert box.envelopes[0][1] == ["a@justice.example", "b@justice.example"]
        assert mail["Subject"].startswith("[紧急预警]") and fired.severity == "critical"
    finally:
        box.close()


def test_acknowledging_takes_an_alert_off_the_banner_but_keeps_it_in_the_history(engine, monitor):
    add_inbound(engine, "escalate", NOW - timedelta(minutes=5), n=10)
    add_inbound(engine, "emergency", NOW - timedelta(minutes=5), n=3)
    fired = monitor.evaluate(NOW)
    board = AlertBoard(engine)
    banner = board.banner()
    assert banner is not None and banner.total == 2 and banner.critical
    assert banner.alerts[0].rule == "emergency_spike"  # the critical one first
    assert board.acknowledge(fired[0].id, user_id=7) is True
    assert board.acknowledge(fired[0].id, user_id=7) is False
    assert board.banner().total == 1
    assert board.acknowledge(fired[1].id, user_id=7)
    assert board.banner() is None
    assert {a.id for a in board.history(only_open=True)} == {f.id for f in fired}
