"""The early warnings and the roster in the console: the banner on admin pages, the alert
history with acknowledge, the lawyer's on-duty toggle, the admin's weekly schedule, and the
role checks.  The first test runs the service's own background loop against a real SMTP
server and a real webhook receiver on loopback."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from assistant.queue.roster import Roster
from knowledge.timeutil import utcnow
from tests.assistant.alerts.receivers import Inbox, WebhookReceiver, add_inbound
from tests.helpers import Console, copy_sqlite, csrf_of, flash_of, post, wait_until


@pytest.fixture
def receivers():
    hook, inbox = WebhookReceiver(), Inbox()
    yield hook, inbox
    hook.close()
    inbox.close()


@pytest.fixture
def alert_console(console_kb, tmp_path):
    """make(**settings) -> a console whose alert settings the test chooses."""
    assistant, db = console_kb
    clients = []

    def make(**overrides) -> Console:
        data = tmp_path / f"data{len(clients)}"
        data.mkdir()
        copy_sqlite(db, data / "fazhi.db")
        settings = Settings(data_dir=data, embed_model="hashing", wechat_token="console-test",
                            **{"alert_check_s": 3600.0, **overrides})
        app = create_app(settings, assistant=assistant)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        console = Console(app, client, settings, assistant)
        # The loop evaluates once at start, then waits an hour unless a test says otherwise.
        wait_until(lambda: app.state.alert_monitor.rounds >= 1, what="the first evaluation")
        return console

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_a_spike_of_escalations_raises_one_alert_on_the_banner_webhook_and_email(alert_console, receivers):
    hook, inbox = receivers
    console = alert_console(alert_check_s=0.05, alert_webhook_url=hook.url, alert_smtp_host="127.0.0.1",
                            alert_smtp_port=inbox.port, alert_smtp_to="duty@justice.example")
    console.add("boss", role="admin", name="王主任")
    console.add("zhang", name="张律师")
    admin, lawyer = console.login("boss"), console.login("zhang")
    assert "alert-banner" not in admin.get("/lawyer/").text

    add_inbound(console.engine, "escalate", utcnow() - timedelta(minutes=3), n=10)
    wait_until(lambda: hook.received and inbox.messages, what="the alert by webhook and e-mail")
    monitor = console.app.state.alert_monitor
    rounds = monitor.rounds
    wait_until(lambda: monitor.rounds >= rounds + 5, what="five more evaluations")
    assert [p["rule"] for _, p in hook.received] == ["escalation_spike"]  # once, not per round
    assert len(inbox.messages) == 1 and "转人工激增" in inbox.messages[0]["Subject"]

    for page in ("/lawyer/", "/admin/overdue", "/admin/roster"):
        html = admin.get(page).text
        assert 'id="alert-banner"' in html and "转人工激增" in html, page
    assert "alert-banner" not in lawyer.get("/lawyer/").text  # the banner is for admins


def test_the_history_lists_what_fired_and_cleared_and_an_admin_acknowledges(alert_console):
    console = alert_console()
    console.add("boss", role="admin", name="王主任")
    admin = console.login("boss")
    monitor, now = console.app.state.alert_monitor, utcnow()
    add_inbound(console.engine, "emergency", now - timedelta(minutes=5), n=3)
    [emergency] = monitor.evaluate(now)
    monitor.evaluate(now + timedelta(hours=2))  # the emergencies are past: cleared
    add_inbound(console.engine, "escalate", now + timedelta(hours=3), n=10)
    [spike] = monitor.evaluate(now + timedelta(hours=3, minutes=1))

    html = admin.get("/admin/alerts").text
    assert "1 条进行中" in html and "12 次" not in html and "10 次转人工" in html
    spike_ack, emergency_ack = f"/admin/alerts/{spike.id}/ack", f"/admin/alerts/{emergency.id}/ack"
    assert 0 < html.index(spike_ack) < html.index(emergency_ack)  # open ones first
    assert "已恢复" in html and "3 次紧急求助" in html and "Webhook：未配置" in html
    assert "预警规则与阈值" in html
    only_open = admin.get("/admin/alerts?show=open").text
    assert spike_ack in only_open and emergency_ack not in only_open

    page = post(admin, f"/admin/alerts/{spike.id}/ack", "/admin/alerts")
    assert flash_of(page) == "已确认该预警"
    assert "alert-banner" not in page and "王主任" in page
    assert f"/admin/alerts/{spike.id}/ack" not in page
    assert flash_of(post(admin, "/admin/alerts/999999/ack", "/admin/alerts")) == "没有编号为 999999 的预警"


def test_a_lawyer_is_refused_the_alerts_and_the_roster(alert_console):
    console = alert_console()
    console.add("zhang")
    lawyer = console.login("zhang")
    for path in ("/admin/alerts", "/admin/roster"):
        r = lawyer.get(path)
        assert r.status_code == 403 and "没有权限" in r.text, path
    token = csrf_of(lawyer.get("/lawyer/").text)
    for path in ("/admin/alerts/1/ack", "/admin/roster/shifts", "/admin/roster/shifts/1/delete"):
        assert lawyer.post(path, data={"csrf_token": token}).status_code == 403, path


def test_a_lawyer_marks_themselves_on_and_off_duty(alert_console):
    console = alert_console()
    zhang = console.add("zhang", name="张律师")
    console.add("boss", role="admin", name="王主任")
    lawyer, admin = console.login("zhang"), console.login("boss")
    assert "尚未使用值班表" in admin.get("/admin/roster").text
    assert "开始值班" in lawyer.get("/lawyer/").text
    page = post(lawyer, "/lawyer/duty", "/lawyer/", on="1")
    assert flash_of(page).startswith("您已开始值班") and "结束值班" in page
    roster = Roster(console.engine)
    assert roster.status(zhang.id).on_duty and roster.on_duty_count() == 1
    assert re.search(r'tag-duty-on">张律师<', admin.get("/admin/roster").text)
    page = post(lawyer, "/lawyer/duty", "/lawyer/mine", on="0", back_to="/lawyer/mine")
    assert flash_of(page) == "您已结束值班" and "我的咨询单" in page
    assert roster.on_duty_count() == 0
    assert "当前没有律师值班" in admin.get("/admin/roster").text


def test_an_admin_keeps_the_weekly_schedule(alert_console):
    console = alert_console()
    li = console.add("li", name="李律师")
    console.add("boss", role="admin", name="王主任")
    admin = console.login("boss")
    page = post(admin, "/admin/roster/shifts", "/admin/roster", user=str(li.id), weekday="0",
                start="09:00", end="17:30")
    assert flash_of(page) == "已添加排班：周一 09:00–17:30" and "09:00–17:30" in page
    assert "与已有排班重叠" in flash_of(post(admin, "/admin/roster/shifts", "/admin/roster",
                                            user=str(li.id), weekday="0", start="17:00", end="18:00"))
    assert "结束时间须晚于开始时间" in flash_of(post(admin, "/admin/roster/shifts", "/admin/roster",
                                                user=str(li.id), weekday="1", start="18:00", end="08:00"))
    assert flash_of(post(admin, "/admin/roster/shifts", "/admin/roster", user="", weekday="1",
                         start="09:00", end="10:00")) == "请选择律师"
    [shift] = Roster(console.engine).status(li.id).shifts
    page = post(admin, f"/admin/roster/shifts/{shift.id}/delete", "/admin/roster")
    assert flash_of(page) == "已删除该排班" and not Roster(console.engine).status(li.id).shifts
    assert flash_of(post(admin, f"/admin/roster/shifts/{shift.id}/delete", "/admin/roster")) \
        == f"没有这个排班：{shift.id}"

