"""/admin/unanswered in a real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright) against the real service with the WeChat simulator: residents' unanswered and
disliked questions, grouped; an admin writes a draft from a group and closes a review task.
Screenshots at desktop and phone width: /tmp/fazhi-shots/unanswered-*.png."""
from __future__ import annotations

import re

import pytest

from tests.api.console.test_browser import PHONE, chromium, flash, playwright_api, shots  # noqa: F401
from tests.api.console.test_unanswered_pages import answer_ticket_of
from tests.api.console.unanswered_env import DRONE, LAWYER_ANSWER, PET, loop_env_fixture  # noqa: F401
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}


def login(chromium, env, username: str, viewport: dict):  # noqa: F811
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(env.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_an_admin_reads_the_groups_writes_a_draft_and_closes_a_review_task(chromium, loop_env, shots):  # noqa: F811
    env = loop_env
    env.ask(PET, "pet")
    env.ask(DRONE[:2], "drone")
    env.ask(["我的身份证号110101199003071234被人冒用注册了网店，怎么办"], "pii")
    answer_ticket_of(env, PET[0], LAWYER_ANSWER)
    for openid in ("o_unhappy_1", "o_unhappy_2"):
        env.sim.send_text(openid, "公司拖欠工资怎么办")
        env.sim.send_text(openid, "1")
        env.sim.send_text(openid, "3" if openid.endswith("1") else "1")
    env.add("boss", name="王主任")

    page = login(chromium, env, "boss", DESKTOP)
    page.goto(env.base_url + "/admin/unanswered")
    assert "不满意复核" in page.inner_text("#review-tasks")
    assert "2 次不满意" in page.inner_text("#review-tasks")
    first = page.locator("article.learn-group").first
    assert "3 次提问" in first.inner_text()
    assert "110101199003071234" not in page.inner_text("main")
    shots(page, "unanswered-desktop")

    phone = login(chromium, env, "boss", PHONE)
    phone.goto(env.base_url + "/admin/unanswered")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    shots(phone, "unanswered-phone")

    first.locator("button[data-action=draft]").click()
    page.wait_for_load_state()
    assert re.search(r"/admin/kb/\d+$", page.url), page.url
    assert "已由 3 条提问生成草稿" in flash(page)
    shots(page, "unanswered-draft-entry")

    page.goto(env.base_url + "/admin/unanswered")
    assert "查看已写的草稿" in page.locator("article.learn-group").first.inner_text()
    page.fill("#review-tasks input[name=note]", "已核对答复")
    page.click("#review-tasks button[data-action=close-task]")
    page.wait_for_load_state()
    assert flash(page) == "复核任务已关闭"
    assert "目前没有待复核的条目" in page.inner_text("#review-tasks")
