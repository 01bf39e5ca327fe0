"""Early warning and the roster in a real headless Chromium, against the real service on
loopback with the WeChat simulator as WeChat: residents asking for a lawyer raise an alert,
the admin sees the banner, reads and acknowledges it in the history, schedules a shift; a
lawyer marks themselves on duty.  Screenshots (desktop and 390 px) go to /tmp/fazhi-shots/."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.alerts.models import Alert
from assistant.queue.staff import Accounts
from tests.api.console.test_browser import (  # noqa: F401  (fixtures used by name)
    PASSWORD,
    PHONE,
    chromium,
    flash,
    login,
    playwright_api,
    shots,
)
from tests.helpers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def open_alerts(env) -> list[Alert]:
    with Session(env.engine) as s:
        return list(s.scalars(select(Alert).where(Alert.open_key.is_not(None))))


def test_an_alert_reaches_the_admin_who_acknowledges_it_and_keeps_the_roster(  # noqa: F811
        chromium, wx_env_factory, shots):  # noqa: F811
    env = wx_env_factory(alert_check_s=0.2, alert_escalation_min=5)
    accounts = Accounts(env.engine)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer", categories=["劳动争议"])
    accounts.add("li", PASSWORD, "李律师", "lawyer")
    accounts.add("boss", PASSWORD, "王主任", "admin")

    for i in range(5):  # five residents ask for a lawyer within minutes
        assert "咨询单号" in env.sim.send_text(f"o_alert_{i}", "我要找律师，公司拖欠工资").reply
    wait_until(lambda: open_alerts(env), what="the escalation alert")
    [alert] = open_alerts(env)
    assert alert.rule == "escalation_spike"

    admin = login(chromium, env, "boss")
    banner = admin.locator("#alert-banner")
    assert "转人工激增" in banner.inner_text()
    shots(admin, "alerts-01-banner-desktop")
    phone = login(chromium, env, "boss", viewport=PHONE)
    assert phone.locator("#alert-banner").is_visible() and fits_phone(phone)
    shots(phone, "alerts-02-banner-phone")

    banner.locator("a").click()
    admin.wait_for_url("**/admin/alerts")
    assert "1 条进行中" in admin.inner_text("h1") and "5 次转人工" in admin.inner_text(".alerts")
    shots(admin, "alerts-03-history-desktop")
    phone.goto(env.base_url + "/admin/alerts")
    assert fits_phone(phone)
    shots(phone, "alerts-04-history-phone")
    admin.click("button[data-action=ack]")
    admin.wait_for_load_state()
    assert flash(admin) == "已确认该预警" and admin.locator("#alert-banner").count() == 0
    assert "王主任" in admin.inner_text(".alerts")

    # The weekly schedule: a shift for 张律师 through the page's form.
    admin.goto(env.base_url + "/admin/roster")
    assert "尚未使用值班表" in admin.inner_text(".duty-now")
    card = admin.locator(".roster-person", has_text="张律师")
    card.locator("select[name=weekday]").select_option("2")
    card.locator("input[name=start]").fill("08:30")
    card.locator("input[name=end]").fill("12:00")
    card.locator("button[data-action=add-shift]").click()
    admin.wait_for_load_state()
    assert flash(admin) == "已添加排班：周三 08:30–12:00"
    card = admin.locator(".roster-person", has_text="李律师")
    card.locator("select[name=weekday]").select_option("4")
    card.locator("button[data-action=add-shift]").click()
    admin.wait_for_load_state()
    assert flash(admin) == "已添加排班：周五 09:00–17:00"
    assert "08:30–12:00" in admin.inner_text(".roster-week")
    shots(admin, "alerts-05-roster-desktop")
    phone.goto(env.base_url + "/admin/roster")
    assert fits_phone(phone)
    shots(phone, "alerts-06-roster-phone")

    # A lawyer marks themselves on duty from the queue, on a phone.
    lawyer = login(chromium, env, "zhang", viewport=PHONE)
    lawyer.click("button[data-action=duty-on]")
    lawyer.wait_for_load_state()
    assert flash(lawyer).startswith("您已开始值班")
    assert lawyer.locator("button[data-action=duty-off]").is_visible() and fits_phone(lawyer)
    shots(lawyer, "alerts-07-duty-toggle-phone")
    admin.reload()
    assert "张律师" in admin.inner_text(".duty-names")
