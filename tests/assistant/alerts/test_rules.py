"""Each early-warning rule fires on its condition and not without it (real SQLite, an
explicit ``now``; each test evaluates only the rule it is about)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.alerts.history import AlertBoard
from assistant.dialogue.models import Rating
from assistant.queue.models import Ticket
from assistant.queue.roster import Roster
from assistant.queue.settings import QueuePolicy
from assistant.queue.staff import Accounts
from knowledge.db import session_factory
from knowledge.entry import EntryData
from knowledge.store import KnowledgeStore
from knowledge.timeutil import utcnow
from tests.assistant.alerts.receivers import add_inbound, add_outbox, answered_ticket
from tests.helpers import FAST_HASHER, new_ticket

NOW = datetime(2026, 3, 4, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Beijing


def rules_fired(monitor, now) -> list[tuple[str, str]]:
    return [(f.rule, f.key) for f in monitor.evaluate(now)]


def open_alerts(engine) -> list[str]:
    return [a.rule for a in AlertBoard(engine).history(only_open=True)]


@pytest.fixture
def accounts(engine) -> Accounts:
    return Accounts(engine, hasher=FAST_HASHER)


def test_escalations_at_their_usual_rate_do_not_fire(engine, monitor_factory):
    monitor = monitor_factory(only="escalation_spike")
    for day in range(1, 8):  # a busy hour every day: 12 escalations
        add_inbound(engine, "escalate", NOW - timedelta(days=day, minutes=15), n=12)
    add_inbound(engine, "escalate", NOW - timedelta(minutes=15), n=14)
    assert rules_fired(monitor, NOW) == []  # 14 < 2 x 12
    add_inbound(engine, "escalate", NOW - timedelta(minutes=10), n=10)
    assert rules_fired(monitor, NOW) == [("escalation_spike", "")]  # 24 = 2 x 12


def test_an_emergency_spike_fires_as_critical(engine, monitor_factory):
    monitor = monitor_factory(only="emergency_spike")
    add_inbound(engine, "emergency", NOW - timedelta(minutes=20), n=2)
    add_inbound(engine, "emergency", NOW - timedelta(hours=2))  # outside the window
    assert rules_fired(monitor, NOW) == []
    add_inbound(engine, "emergency", NOW - timedelta(minutes=1))
    [fired] = monitor.evaluate(NOW)
    assert (fired.rule, fired.severity) == ("emergency_spike", "critical")
    assert "3 次紧急求助" in fired.detail


def test_a_rising_no_answer_rate_fires(engine, monitor_factory):
    monitor = monitor_factory(only="no_answer_rise")
    day_before = NOW - timedelta(days=1)
    add_inbound(engine, "answer", day_before, n=80)
    add_inbound(engine, "escalate", day_before, n=20, reason="low_confidence")  # usually 20 %
    # Now: 30 questions, 10 unanswered (33 %) and "转人工" requests, which are not unanswered.
    add_inbound(engine, "answer", NOW - timedelta(minutes=30), n=15)
    add_inbound(engine, "escalate", NOW - timedelta(minutes=30), n=5, reason="explicit_request")
    add_inbound(engine, "escalate", NOW - timedelta(minutes=30), n=10, reason="low_confidence")
    add_inbound(engine, "decline", NOW - timedelta(minutes=30), n=30)  # not legal questions
    assert rules_fired(monitor, NOW) == []  # 33 % < 20 % + 15
    add_inbound(engine, "escalate", NOW - timedelta(minutes=20), n=4, reason="out_of_scope")
    [fired] = monitor.evaluate(NOW)  # 14 of 34: 41 %
    assert fired.rule == "no_answer_rise" and "34 个法律问题中 14 个" in fired.detail
    assert fired.data["usual"] == 0.2


def test_an_entry_collecting_dislikes_fires_for_that_entry(engine, monitor_factory):
    monitor = monitor_factory(only="entry_dislikes")
    store = KnowledgeStore(engine)
    _, entry = store.upsert(EntryData(kind="faq", category="劳动争议", title="拖欠工资怎么办",
                                      question="拖欠工资怎么办", answer="可以申请劳动仲裁。"))
    _, other = store.upsert(EntryData(kind="faq", category="婚姻家庭", title="离婚财产怎么分",
                                      question="离婚财产怎么分", answer="协商或起诉。"))
    with session_factory(engine).begin() as s:
        for score, entry_id, age in ((1, entry, 1), (2, entry, 2), (5, entry, 1), (1, other, 1),
                                     (1, other, 2), (1, other, 20)):  # the last is too old
            s.add(Rating(openid="o_r", entry_id=entry_id, score=score,
                         created_at=NOW - timedelta(days=age)))
    assert rules_fired(monitor, NOW) == []  # two dislikes each within the week
    with session_factory(engine).begin() as s:
        s.add(Rating(openid="o_r2", entry_id=entry, score=1, created_at=NOW - timedelta(hours=1)))
    [fired] = monitor.evaluate(NOW)
    assert (fired.rule, fired.key) == ("entry_dislikes", str(entry))
    assert "拖欠工资怎么办" in fired.title and "3 个“不满意”" in fired.detail


def test_tickets_forecast_to_miss_their_deadline_fire_when_too_few_lawyers_are_on_duty(
        engine, monitor_factory, accounts):
    monitor = monitor_factory(only="deadline_forecast")
    roster = Roster(engine)
    lawyers = [accounts.add(f"lawyer{i}", "password-1", f"律师{i}", "lawyer") for i in range(4)]
    for i in range(5):  # measured: an hour from claim to first response
        done = new_ticket(engine, f"o_done{i}", age=timedelta(hours=4))
        answered_ticket(engine, done, utcnow() - timedelta(hours=3), timedelta(minutes=60))
    waiting = [new_ticket(engine, f"o_wait{i}", policy=QueuePolicy({"normal": 100})) for i in range(3)]
    new_ticket(engine, "o_late", age=timedelta(hours=30))  # already overdue: the sweeper's
    roster.set_on_duty(lawyers[0].id, True)
    for lawyer in lawyers[1:]:
        roster.set_on_duty(lawyer.id, False)
    now = utcnow()
    # One lawyer: the overdue ticket first, then the three at +120, +180, +240 minutes,
    # each past its 100-minute deadline.
    [fired] = monitor.evaluate(now)
    assert fired.rule == "deadline_forecast" and fired.title == "3 张咨询单预计将超时"
    with session_factory(engine)() as s:
        at_risk = [s.get(Ticket, t).ticket_no for t in waiting]
    assert fired.data["tickets"] == at_risk and fired.data["handling_minutes"] == 60.0
    assert "1 名值班律师" in fired.detail
    for lawyer in lawyers[1:3]:
        roster.set_on_duty(lawyer.id, True)
    monitor.evaluate(now)  # three: the last one at +120 still misses
    assert open_alerts(engine) == ["deadline_forecast"]
    roster.set_on_duty(lawyers[3].id, True)
    assert rules_fired(monitor, now) == [] and open_alerts(engine) == []  # four: all at +60


def test_an_emergency_waiting_with_no_lawyer_on_duty_fires(engine, monitor_factory, accounts):
    monitor = monitor_factory(only="emergency_unstaffed")
    roster = Roster(engine)
    zhang = accounts.add("zhang", "password-1", "张律师", "lawyer")
    roster.set_on_duty(zhang.id, False)
    new_ticket(engine, "o_normal")
    assert rules_fired(monitor, utcnow()) == []  # nothing urgent waits
    urgent = new_ticket(engine, "o_urgent", "他拿着刀要砍我", emergency=True)
    [fired] = monitor.evaluate(utcnow())
    assert (fired.rule, fired.severity) == ("emergency_unstaffed", "critical")
    with session_factory(engine)() as s:
        assert fired.data["tickets"] == [s.get(Ticket, urgent).ticket_no]
    assert "他拿着刀" not in fired.detail  # never the resident's words
    roster.set_on_duty(zhang.id, True)
    assert rules_fired(monitor, utcnow()) == [] and open_alerts(engine) == []


def test_a_backed_up_outbox_fires(engine, monitor_factory):
    monitor = monitor_factory(only="outbox_backlog", alert_outbox_backlog=5)
    add_outbox(engine, "pending", NOW - timedelta(seconds=30), n=10)  # just queued
    add_outbox(engine, "held", NOW - timedelta(hours=1), n=10)  # waiting for the resident
    add_outbox(engine, "sent", NOW - timedelta(hours=1), n=10)
    add_outbox(engine, "pending", NOW - timedelta(minutes=10), n=4)
    assert rules_fired(monitor, NOW) == []
    add_outbox(engine, "sending", NOW - timedelta(minutes=5))
    [fired] = monitor.evaluate(NOW)
    assert fired.rule == "outbox_backlog" and fired.data == {"waiting": 5}


def test_failing_outbox_messages_fire(engine, monitor_factory):
    monitor = monitor_factory(only="outbox_failures")
    add_outbox(engine, "failed", NOW - timedelta(hours=3), n=5)  # long ago
    add_outbox(engine, "failed", NOW - timedelta(minutes=20), n=2, errcode=40003)
    assert rules_fired(monitor, NOW) == []
    add_outbox(engine, "failed", NOW - timedelta(minutes=5), errcode=45002)
    [fired] = monitor.evaluate(NOW)
    assert fired.rule == "outbox_failures" and fired.data == {"failed": 3, "errcode": 45002}


def test_a_rule_that_fails_neither_stops_the_others_nor_clears_its_episode(engine, monitor_factory):
    from assistant.alerts import rules

    calls = []

    def broken(ctx):
        calls.append(ctx.now)
        if len(calls) > 1:
            raise RuntimeError("figures unavailable")
        return [rules.Finding("outbox_backlog", "积压", "x")]

    monitor = monitor_factory()
    monitor.rules = {"outbox_backlog": broken, "emergency_spike": rules.emergency_spike}
    assert rules_fired(monitor, NOW) == [("outbox_backlog", "")]
    add_inbound(engine, "emergency", NOW - timedelta(minutes=1), n=3)
    assert rules_fired(monitor, NOW) == [("emergency_spike", "")]
    assert set(open_alerts(engine)) == {"outbox_backlog", "emergency_spike"}
