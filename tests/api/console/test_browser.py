"""The lawyer console in a real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright), against the real service on loopback with the WeChat simulator as WeChat.

Screenshots go to the test's tmp dir and are copied to /tmp/fazhi-shots/ for people to look
at.  Skipped (with the reason) when Chromium or Playwright is not installed.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.queue.models import Ticket
from assistant.queue.staff import Accounts

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path("/tmp/fazhi-shots")
PASSWORD = "browser-pass-2024"
XSS = "<script>alert(1)</script>"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def shots(tmp_path, request):
    """shot(page, name): a full-page screenshot, kept in tmp and in /tmp/fazhi-shots/."""
    folder = tmp_path / "shots"
    folder.mkdir()
    SHOTS.mkdir(exist_ok=True)

    def shot(page, name: str, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        shutil.copy(path, SHOTS / path.name)
        return path

    return shot


@pytest.fixture
def service(wx_env_factory, wx_assistant, tmp_path):
    """make(**settings) -> the running service whose database also holds the knowledge base
    the assistant answers from (so the console shows the candidates' texts), plus accounts."""

    def make(**overrides):
        data = tmp_path / f"svc{len(list(tmp_path.glob('svc*')))}"
        data.mkdir()
        with sqlite3.connect(wx_assistant.store.engine.url.database) as src, \
                sqlite3.connect(data / "fazhi.db") as dst:
            src.backup(dst)
        env = wx_env_factory(data_dir=data, **overrides)
        accounts = Accounts(env.engine)
        accounts.add("zhang", PASSWORD, "张律师", "lawyer", categories=["劳动争议"])
        accounts.add("li", PASSWORD, "李律师", "lawyer", categories=["婚姻家庭"])
        accounts.add("boss", PASSWORD, "王主任", "admin")
        return env

    return make


def login(chromium, env, username: str, viewport: dict | None = None):
    context = chromium.new_context(viewport=viewport or {"width": 1280, "height": 860},
                                   locale="zh-CN")
    page = context.new_page()
    page.goto(env.base_url + "/lawyer/")
    assert page.url.startswith(env.base_url + "/login")  # sent to the login page first
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(env.base_url + "/lawyer/")
    return page


def wait_ticket(env, openid: str, timeout_s: float = 30.0) -> Ticket:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Session(env.engine) as s:
            ticket = s.scalar(select(Ticket).where(Ticket.openid == openid))
        if ticket is not None:
            return ticket
        time.sleep(0.1)
    raise AssertionError(f"no ticket for {openid}")


def wait_text(env, openid: str, needle: str, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for text in env.sim.texts(openid):
            if needle in text:
                return text
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never reached {openid}: {env.sim.texts(openid)}")


def flash(page) -> str:
    return page.locator(".flash").inner_text()


def test_a_lawyer_claims_answers_and_closes_an_escalated_question(chromium, service, shots):
    env = service()
    openid = "o_browser_resident_1"
    zhang = login(chromium, env, "zhang")
    assert "暂无待办咨询" in zhang.inner_text("main")

    # The resident asks, then asks for a lawyer; the open queue page picks it up by itself.
    env.sim.send_text(openid, "公司拖欠工资三个月不发怎么办")
    env.sim.send_text(openid, "我要找律师")
    ticket = wait_ticket(env, openid)
    wait_text(env, openid, ticket.ticket_no)  # the resident was told the ticket number
    zhang.locator(f"text={ticket.ticket_no}").wait_for(timeout=20_000)
    assert "自动更新" in zhang.inner_text("#live-note")
    shots(zhang, "01-queue-desktop")

    zhang.click(f"a[href='/lawyer/tickets/{ticket.id}']")
    zhang.wait_for_url(f"**/lawyer/tickets/{ticket.id}")
    assert "公司拖欠工资三个月不发怎么办" in zhang.inner_text("#t-conv")

    # Li opens the same ticket; Zhang claims it first; Li's claim is refused clearly.
    li = login(chromium, env, "li")
    li.goto(f"{env.base_url}/lawyer/tickets/{ticket.id}")
    zhang.click("button[data-action=claim]")
    zhang.wait_for_load_state()
    assert flash(zhang).startswith("已接单")
    li.click("button[data-action=claim]")
    li.wait_for_load_state()
    assert flash(li) == "该咨询单已被其他律师接单"
    assert "该咨询单由 张律师 负责" in li.inner_text("#t-actions")
    shots(li, "02-second-lawyer-refused")

    # Zhang inserts the best candidate's answer, adds a line, and sends it.
    candidate = zhang.locator(".candidate").first
    candidate.locator("summary").click()
    candidate_text = candidate.locator(".cand-text").inner_text().strip()
    assert len(candidate_text) > 20
    candidate.locator("button.insert").click()
    assert zhang.input_value("#reply-text") == candidate_text
    zhang.locator("#reply-text").press("End")
    zhang.locator("#reply-text").type("\n\n张律师补充：请保留考勤记录和工资条。")
    shots(zhang, "03-ticket-reply-box")

    # The resident adds something while Zhang is typing: the conversation refreshes by
    # itself, the half-written reply is left alone.
    env.sim.send_text(openid, "补充：我手里有工资条")
    zhang.locator("#t-conv >> text=补充：我手里有工资条").wait_for(timeout=20_000)
    assert zhang.input_value("#reply-text").endswith("张律师补充：请保留考勤记录和工资条。")
    assert "页面有更新" in zhang.inner_text("#live-note")
    zhang.click("button[data-action=reply]")
    zhang.wait_for_load_state()
    assert flash(zhang) == "答复已提交，正在通过微信发送给居民"

    # The reply reaches the resident through WeChat's customer-service message API.
    delivered = wait_text(env, openid, "张律师补充：请保留考勤记录和工资条。")
    assert candidate_text[:30] in delivered or candidate_text[:30] in "".join(env.sim.texts(openid))
    with env.sim.state.lock:
        assert any("请保留考勤记录" in m["content"] for m in env.sim.state.custom_sent)
    env.wait_outbox_settled()
    zhang.reload()
    assert "已送达" in zhang.inner_text("#t-conv")

    zhang.click("button[data-action=close]")
    zhang.wait_for_load_state()
    assert flash(zhang) == "咨询单已办结"
    assert "已办结" in zhang.inner_text("#t-head")
    shots(zhang, "04-ticket-closed")

    # The same pages on a phone.
    phone = login(chromium, env, "zhang", viewport=PHONE)
    phone.goto(f"{env.base_url}/lawyer/mine")
    assert phone.locator(f"text={ticket.ticket_no}").is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    shots(phone, "05-phone-mine")
    phone.goto(f"{env.base_url}/lawyer/tickets/{ticket.id}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shots(phone, "06-phone-ticket")
    shots(phone, "06-phone-ticket-screen", full_page=False)  # what the phone shows at first


def test_a_residents_script_renders_as_harmless_text(chromium, service, shots):
    env = service()
    openid = "o_browser_resident_2"
    env.sim.send_text(openid, f"我要找律师{XSS}")
    ticket = wait_ticket(env, openid)
    assert XSS in ticket.question
    page = login(chromium, env, "zhang")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.reload()
    assert XSS in page.inner_text("#live-list")
    page.goto(f"{env.base_url}/lawyer/tickets/{ticket.id}")
    assert XSS in page.inner_text("#t-conv")
    assert page.locator("#t-conv script").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
    shots(page, "07-script-as-text")


def test_an_overdue_ticket_shows_its_alert_and_an_admin_reassigns_it(chromium, service, shots):
    env = service(ticket_deadline_minutes={"normal": 0, "emergency": 0})  # due at once
    openid = "o_browser_resident_3"
    env.sim.send_text(openid, "我要找律师，离婚后孩子的抚养费怎么算")
    ticket = wait_ticket(env, openid)
    zhang = login(chromium, env, "zhang")
    banner = zhang.locator(".banner-overdue")
    assert "有 1 张咨询单已超过办结时限" in banner.inner_text()
    assert "已超时" in zhang.locator(".ticket.is-overdue").inner_text()
    shots(zhang, "08-overdue-banner")
    zhang.goto(f"{env.base_url}/lawyer/tickets/{ticket.id}")
    assert "该咨询单已超过办结时限" in zhang.inner_text("#t-head")

    boss = login(chromium, env, "boss")
    boss.click("text=超时督办")
    boss.wait_for_url("**/admin/overdue")
    assert ticket.ticket_no in boss.inner_text("#live-overdue")
    boss.select_option(f"form[action='/admin/tickets/{ticket.id}/reassign'] select", label="李律师")
    shots(boss, "09-admin-overdue")
    boss.click(f"form[action='/admin/tickets/{ticket.id}/reassign'] button")
    boss.wait_for_load_state()
    assert flash(boss) == "咨询单已改派给 李律师"

    li = login(chromium, env, "li")
    li.goto(f"{env.base_url}/lawyer/mine")
    assert re.search(ticket.ticket_no, li.inner_text("#live-list"))

    boss.click("text=统计")
    boss.wait_for_url("**/lawyer/stats")
    assert "全部律师" in boss.inner_text("main") and "李律师" in boss.inner_text(".stats-table")
    shots(boss, "10-admin-stats")


def test_a_wrong_password_is_explained_on_the_login_page(chromium, service, shots):
    env = service(login_max_failures=2)
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(env.base_url + "/login")
    for expected in ("用户名或密码错误", "账号已临时锁定"):
        page.fill("input[name=username]", "zhang")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert expected in page.inner_text(".flash")
    assert page.input_value("input[name=username]") == "zhang"
    assert page.input_value("input[name=password]") == ""
    shots(page, "11-phone-login-locked")
    context.close()
