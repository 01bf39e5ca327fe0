"""The dashboard and the accounts pages in a real headless Chromium against the served app,
fed by residents through the WeChat simulator; screenshots on a desktop and at 390 px (in
/tmp/fazhi-shots/, dashboard-*.png and users-*.png)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from assistant.dialogue.models import Rating
from knowledge.timeutil import as_utc
from tests.api.console import test_browser as browser

playwright_api, chromium, service, shots = browser.playwright_api, browser.chromium, browser.service, browser.shots
PHONE, login, PASSWORD = browser.PHONE, browser.login, browser.PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

QUESTIONS = ["公司拖欠工资怎么办", "你好", "转人工", "房东不退押金怎么办", "他拿着刀说要杀了我", "离婚后孩子抚养权归谁",
             "交通事故对方全责怎么赔偿", "今天天气怎么样"]


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def _traffic(env) -> None:
    """A week of residents' questions: each resident's messages moved back a few days."""
    for i, question in enumerate(QUESTIONS * 2):
        openid = f"o_dash_{i}"
        if i % 5 == 0:
            env.sim.send("location", openid, label="北京市海淀区中关村大街1号")
        env.sim.send_text(openid, question)
        if i % 3 == 0:
            env.sim.send_text(openid, "1" if i % 2 else "5")
    env.wait_outbox_settled()
    with Session(env.engine) as s, s.begin():
        for m in s.scalars(select(InboundMessage)):
            days = timedelta(days=int(m.openid.rsplit("_", 1)[1]) % 7)
            m.received_at = as_utc(m.received_at) - days
        for r in s.scalars(select(Rating)):
            r.created_at = as_utc(r.created_at) - timedelta(days=int(r.openid.rsplit("_", 1)[1]) % 7)


def test_the_dashboard_on_a_desktop_and_a_phone_with_its_exports(chromium, service, shots):
    env = service()
    _traffic(env)
    boss = login(chromium, env, "boss")
    boss.goto(env.base_url + "/admin/dashboard")
    figures = boss.inner_text(".dash-figures")
    assert "居民消息" in figures and "直接解答率" in figures
    assert boss.locator(".dash-chart img").count() == 5
    for i in range(5):  # every chart image loaded and drawn
        assert boss.evaluate(f"document.querySelectorAll('.dash-chart img')[{i}].naturalWidth") > 0
    shots(boss, "dashboard-01-desktop")

    boss.select_option("select[name=category]", "劳动争议")
    boss.click(".dash-filters button[type=submit]")
    boss.wait_for_url(re.compile(r".*category=.*"))
    assert "分类：劳动争议" in boss.inner_text(".dash-scope")
    shots(boss, "dashboard-02-category-desktop")

    boss.goto(env.base_url + "/admin/dashboard/report.html")
    assert "公共法律服务智能咨询统计报告" in boss.inner_text("h1")
    assert boss.evaluate("document.querySelectorAll('img')[0].naturalWidth") > 0
    assert boss.evaluate("getComputedStyle(document.querySelector('h1')).textAlign") == "center"  # CSS applied
    shots(boss, "dashboard-03-printable")
    boss.emulate_media(media="print")
    shots(boss, "dashboard-03b-printable-print-media")

    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True).new_page()
    phone.goto(env.base_url + "/login?next=/admin/dashboard")
    phone.fill("input[name=username]", "boss")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(env.base_url + "/admin/dashboard")
    no_sideways_scroll(phone)
    shots(phone, "dashboard-04-phone")
    for name, part in (("figures", ".dash-figures"), ("charts", ".dash-charts"), ("tables", ".dash-tables")):
        phone.evaluate(f"document.querySelector('{part}').scrollIntoView()")
        shots(phone, f"dashboard-04-phone-{name}", full_page=False)  # one screen, to read
    phone.goto(env.base_url + "/admin/dashboard/report.html")
    no_sideways_scroll(phone)
    shots(phone, "dashboard-05-printable-phone")


def test_the_users_pages_create_reset_and_force_a_new_password(chromium, service, shots):
    env = service()
    boss = login(chromium, env, "boss")
    boss.goto(env.base_url + "/admin/users")
    assert "张律师" in boss.inner_text(".users")
    shots(boss, "users-01-list-desktop")
    boss.click(".user-new summary")
    boss.fill(".user-new input[name=username]", "zhao")
    boss.fill(".user-new input[name=display_name]", "赵律师")
    boss.check(".user-new input[value=工伤]")
    boss.fill(".user-new input[name=regions]", "朝阳区")
    boss.click(".user-new button[type=submit]")
    temporary = boss.inner_text(".temp-password code").strip()
    assert len(temporary) == 12
    shots(boss, "users-02-temporary-password")

    boss.goto(env.base_url + "/admin/users")
    boss.click("a.user-link:has-text('赵律师')")
    boss.wait_for_url(re.compile(r".*/admin/users/\d+$"))
    assert "待设新密码" in boss.inner_text(".user-state")
    shots(boss, "users-03-edit-desktop")

    # The new lawyer signs in with the temporary password and must choose their own.
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    zhao = context.new_page()
    zhao.goto(env.base_url + "/lawyer/")
    zhao.fill("input[name=username]", "zhao")
    zhao.fill("input[name=password]", temporary)
    zhao.click("button[type=submit]")
    zhao.wait_for_url(re.compile(r".*/password\?next=.*"))
    assert "管理员已重置您的密码" in zhao.inner_text("main")
    no_sideways_scroll(zhao)
    shots(zhao, "users-04-password-phone")
    zhao.fill("input[name=current]", temporary)
    zhao.fill("input[name=new]", "zhao-own-pass-1")
    zhao.fill("input[name=confirm]", "zhao-own-pass-1")
    zhao.click("form[action='/password'] button[type=submit]")
    zhao.wait_for_url(env.base_url + "/lawyer/")
    assert "密码已修改" in zhao.inner_text(".flash")

    # The admin disables the account (after confirming); the lawyer's next page is the login.
    boss.on("dialog", lambda dialog: dialog.accept())
    boss.click("form[action$='/disable'] button")
    boss.wait_for_load_state()
    assert "已停用 赵律师" in boss.inner_text(".flash")
    zhao.goto(env.base_url + "/lawyer/")
    assert "/login" in zhao.url

    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True).new_page()
    phone.goto(env.base_url + "/login?next=/admin/users")
    phone.fill("input[name=username]", "boss")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(env.base_url + "/admin/users")
    no_sideways_scroll(phone)
    shots(phone, "users-05-list-phone")
    phone.click("a.user-link:has-text('赵律师')")
    no_sideways_scroll(phone)
    shots(phone, "users-06-edit-phone")
