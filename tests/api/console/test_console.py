"""The lawyer console over HTTP (FastAPI TestClient on the real app and a real SQLite file):
login and sessions, CSRF, role checks on every route, escaping, and the queue actions."""
from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.app import create_app
from api.console.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, WebSession
from api.settings import Settings
from api.wechat.models import OutboxMessage
from assistant.queue.intake import create_ticket
from assistant.queue.models import Ticket
from assistant.queue.staff import Staff, User
from knowledge.timeutil import utcnow

PASSWORD = "lawyer-pass-2024"
XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    """The seed knowledge base (hashing embedder), built once; each test copies its
    database so candidate texts resolve against the same entry ids."""
    from assistant.service import open_assistant

    root = tmp_path_factory.mktemp("console_kb")
    assistant = open_assistant(Settings(data_dir=root, embed_model="hashing"),
                               progress=lambda _m: None, show_progress=False)
    return assistant, root / "fazhi.db"


def copy_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


@dataclass
class Console:
    app: object
    client: TestClient
    settings: Settings
    assistant: object

    @property
    def engine(self):
        return self.app.state.desk.engine

    def add(self, username: str, role: str = "lawyer", name: str | None = None,
            **kw) -> Staff:
        return self.app.state.accounts.add(username, PASSWORD, name or username, role, **kw)

    def browser(self, base_url: str = "http://testserver") -> TestClient:
        """Another browser (its own cookie jar) on the same running app."""
        return TestClient(self.app, base_url=base_url)

    def login(self, username: str, client: TestClient | None = None,
              password: str = PASSWORD) -> TestClient:
        client = client or self.browser()
        page = client.get("/login")
        r = client.post("/login", data={"username": username, "password": password,
                                        "csrf_token": csrf_of(page.text), "next": ""},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        return client

    def ticket(self, question: str, openid: str = "o_resident_0001", **fields) -> int:
        outcome = self.assistant.respond(question)
        with Session(self.engine) as s, s.begin():
            t = create_ticket(s, openid, question, outcome, None)
            for key, value in fields.items():
                setattr(t, key, value)
            s.flush()
            return t.id

    def row(self, ticket_id: int) -> Ticket:
        with Session(self.engine) as s:
            return s.get(Ticket, ticket_id)


@pytest.fixture
def console(kb, tmp_path):
    assistant, db = kb
    data = tmp_path / "data"
    data.mkdir()
    copy_sqlite(db, data / "fazhi.db")
    settings = Settings(data_dir=data, embed_model="hashing", wechat_token="console-test")
    app = create_app(settings, assistant=assistant)
    with TestClient(app) as client:
        yield Console(app, client, settings, assistant)


@pytest.fixture
def pg_console(kb, tmp_path, pg_url):
    """The console on PostgreSQL (an empty knowledge base there: candidates have no text)."""
    assistant, _db = kb
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, embed_model="hashing",
                        wechat_token="console-test")
    app = create_app(settings, assistant=assistant)
    with TestClient(app) as client:
        yield Console(app, client, settings, assistant)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def flash_of(html: str) -> str:
    match = re.search(r'class="flash flash-\w+"[^>]*>([^<]*)<', html)
    return match.group(1) if match else ""


def eventually(check, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def post(client: TestClient, path: str, page: str, **data) -> str:
    """Submit a form as the page would (with the CSRF token it carries), follow the redirect."""
    r = client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data})
    assert r.status_code == 200, r.text
    return r.text


# -- login, sessions, cookies --------------------------------------------------------------

def test_pages_redirect_to_login_and_back_after_signing_in(console):
    console.add("zhang")
    browser = console.browser()
    r = browser.get("/lawyer/mine?scope=all", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Flawyer%2Fmine%3Fscope%3Dall"
    page = browser.get(r.headers["location"])
    assert "律师工作台登录" in page.text
    r = browser.post("/login", data={"username": "zhang", "password": PASSWORD,
                                     "csrf_token": csrf_of(page.text), "next": "/lawyer/mine?scope=all"},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/lawyer/mine?scope=all"
    assert "我的咨询单" in browser.get("/lawyer/mine").text


def test_the_session_cookie_is_httponly_samesite_and_only_a_hash_is_stored(console):
    console.add("zhang")
    browser = console.browser()
    page = browser.get("/login")
    r = browser.post("/login", data={"username": "zhang", "password": PASSWORD,
                                     "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    token = browser.cookies[SESSION_COOKIE]
    with Session(console.engine) as s:
        row = s.scalar(select(WebSession))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert row.expires_at is not None and row.csrf_token not in token


@pytest.mark.parametrize("https, setting", [(True, False), (False, True)])
def test_cookies_are_secure_over_https_or_when_configured(console, https, setting):
    console.add("zhang")
    console.app.state.web_auth.always_secure = setting
    browser = console.browser("https://testserver" if https else "http://testserver")
    page = browser.get("/login")
    assert "Secure" in page.headers["set-cookie"]  # the login CSRF cookie
    # Behind a TLS proxy the app sees http while the browser speaks https and sends it back.
    browser.cookies.set(LOGIN_CSRF_COOKIE, csrf_of(page.text))
    r = browser.post("/login", data={"username": "zhang", "password": PASSWORD,
                                     "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_wrong_password_and_lockout_are_explained_in_chinese(console):
    console.add("zhang")
    browser = console.browser()

    def attempt(password: str):
        page = browser.get("/login")
        return browser.post("/login", data={"username": "zhang", "password": password,
                                            "csrf_token": csrf_of(page.text)},
                            follow_redirects=False)

    for _ in range(4):
        r = attempt("wrong")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = attempt("wrong")  # the fifth: locked (login_max_failures = 5 by default)
    assert r.status_code == 429 and "账号已临时锁定" in r.text and "后可再次登录" in r.text
    r = attempt(PASSWORD)
    assert r.status_code == 429 and SESSION_COOKIE not in browser.cookies


def test_login_needs_its_csrf_token(console):
    console.add("zhang")
    browser = console.browser()
    browser.get("/login")
    r = browser.post("/login", data={"username": "zhang", "password": PASSWORD,
                                     "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "请刷新页面后重试" in r.text
    fresh = console.browser()  # no login cookie at all (a cross-site form post)
    r = fresh.post("/login", data={"username": "zhang", "password": PASSWORD,
                                   "csrf_token": "x"}, follow_redirects=False)
    assert r.status_code == 403 and SESSION_COOKIE not in fresh.cookies


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "\\\\evil",
                                    "/\t/evil.example/", "/\\evil.example/", "lawyer/"])
def test_next_never_leads_off_site(console, target):
    console.add("zhang")
    browser = console.browser()
    page = browser.get("/login")
    r = browser.post("/login", data={"username": "zhang", "password": PASSWORD,
                                     "csrf_token": csrf_of(page.text), "next": target},
                     follow_redirects=False)
    assert r.headers["location"] == "/lawyer/"


def test_logout_ends_the_session_on_the_server(console):
    console.add("zhang")
    browser = console.login("zhang")
    token = browser.cookies[SESSION_COOKIE]
    r = browser.post("/logout", data={"csrf_token": csrf_of(browser.get("/lawyer/").text)},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with Session(console.engine) as s:
        assert s.scalar(select(WebSession)) is None
    replay = console.browser()
    replay.cookies.set(SESSION_COOKIE, token)
    assert replay.get("/lawyer/", follow_redirects=False).status_code == 303


def test_logout_needs_the_csrf_token(console):
    console.add("zhang")
    browser = console.login("zhang")
    r = browser.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert browser.get("/lawyer/", follow_redirects=False).status_code == 200


def test_a_disabled_account_is_signed_out_at_once(console):
    console.add("zhang")
    browser = console.login("zhang")
    assert browser.get("/lawyer/", follow_redirects=False).status_code == 200
    console.app.state.accounts.disable("zhang")
    assert browser.get("/lawyer/", follow_redirects=False).status_code == 303
    assert browser.get("/lawyer/api/revision").status_code == 401


def test_an_expired_session_is_refused_and_removed(console):
    console.add("zhang")
    browser = console.login("zhang")
    with Session(console.engine) as s, s.begin():
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert browser.get("/lawyer/", follow_redirects=False).status_code == 303
    with Session(console.engine) as s:
        assert s.scalar(select(WebSession)) is None


# -- CSRF on actions ------------------------------------------------------------------------

def test_an_action_without_or_with_a_wrong_csrf_token_is_refused(console):
    console.add("zhang")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    for data in ({}, {"csrf_token": "forged"}):
        r = browser.post(f"/lawyer/tickets/{tid}/claim", data=data, follow_redirects=False)
        assert r.status_code == 403 and "请求来源无法验证" in r.text
    other = console.login("zhang")  # a second session: its token is not this session's
    r = browser.post(f"/lawyer/tickets/{tid}/claim",
                     data={"csrf_token": csrf_of(other.get("/lawyer/").text)})
    assert r.status_code == 403
    assert console.row(tid).status == "waiting"


def test_the_csrf_token_is_also_accepted_as_a_header(console):
    console.add("zhang")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    token = csrf_of(browser.get("/lawyer/").text)
    r = browser.post(f"/lawyer/tickets/{tid}/claim", headers={"X-CSRF-Token": token},
                     follow_redirects=False)
    assert r.status_code == 303 and console.row(tid).status == "claimed"


# -- roles on every route -----------------------------------------------------------------

def all_routes(routes, prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every API route, also inside included routers (FastAPI >= 0.13x
    keeps them as nested router objects instead of copying them into ``app.routes``)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found += [(m, prefix + route.path) for m in sorted(route.methods)]
        elif hasattr(route, "original_router"):
            found += all_routes(route.original_router.routes,
                                prefix + route.include_context.prefix)
    return found


def console_routes(app) -> list[tuple[str, str]]:
    found = [r for r in all_routes(app.routes) if r[1].startswith(("/lawyer", "/admin"))]
    # Cross-check with the routes FastAPI itself documents: none may be missed.
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert {r for r in documented if r[1].startswith(("/lawyer", "/admin"))} <= set(found)
    return found


def test_the_console_has_the_expected_routes(console):
    paths = {p for _m, p in console_routes(console.app)}
    assert {"/lawyer/", "/lawyer/mine", "/lawyer/stats", "/lawyer/tickets/{ticket_id}",
            "/lawyer/tickets/{ticket_id}/claim", "/lawyer/tickets/{ticket_id}/reply",
            "/lawyer/tickets/{ticket_id}/transfer", "/lawyer/tickets/{ticket_id}/close",
            "/lawyer/tickets/{ticket_id}/draft", "/lawyer/api/revision",
            "/admin/", "/admin/overdue", "/admin/tickets/{ticket_id}/reassign"} <= paths


def test_every_console_route_refuses_anonymous_and_wrong_role_users(console):
    tid = console.ticket("公司拖欠工资不发怎么办")
    console.add("zhang")
    console.add("intern")
    lawyer = console.login("zhang")
    intern = console.login("intern")
    # A role the console does not know (as if set by hand in the database): no access.
    with Session(console.engine) as s, s.begin():
        s.execute(update(User).where(User.username == "intern").values(role="intern"))
    anonymous = console.browser()
    routes = console_routes(console.app)
    assert len(routes) >= 12
    for method, path in routes:
        url = path.replace("{ticket_id}", str(tid))
        r = anonymous.request(method, url, follow_redirects=False)
        if "/api/" in path:
            assert r.status_code == 401, (method, path)
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), \
                (method, path)
        r = anonymous.request(method, url, headers={"Accept": "application/json"},
                              follow_redirects=False)
        assert r.status_code == 401, (method, path)
        r = intern.request(method, url, follow_redirects=False)
        assert r.status_code == 403 and "没有权限" in r.text, (method, path)
        if path.startswith("/admin"):
            r = lawyer.request(method, url, follow_redirects=False)
            assert r.status_code == 403 and "没有权限" in r.text, (method, path)
    assert console.row(tid).status == "waiting"  # nothing happened


def test_an_admin_can_use_the_admin_pages(console):
    console.add("boss", role="admin", name="王主任")
    admin = console.login("boss")
    r = admin.get("/admin/overdue")
    assert r.status_code == 200 and "超时督办" in r.text
    assert "超时督办" in admin.get("/lawyer/").text  # the admin's menu shows it
    console.add("zhang")
    assert "超时督办" not in console.login("zhang").get("/lawyer/").text


# -- escaping -------------------------------------------------------------------------------

def test_a_residents_script_is_shown_as_text_everywhere(console):
    console.add("zhang")
    tid = console.ticket(f"工资被拖欠{XSS}怎么办", region=f"<b>{XSS}</b>")
    browser = console.login("zhang")
    post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    post(browser, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}", text=f"回复{XSS}")
    for page in ("/lawyer/?scope=all", "/lawyer/mine", f"/lawyer/tickets/{tid}",
                 f"/lawyer/mine?region=<b>{XSS}</b>"):
        html = browser.get(page).text
        assert "<script>alert" not in html and "<b>" not in html, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
    r = browser.get(f"/lawyer/tickets/{tid}")
    assert "script-src 'self'" in r.headers["content-security-policy"]


# -- the queue and a ticket's life ------------------------------------------------------------

def test_the_queue_shows_matching_tickets_first_and_filters(console):
    zhang = console.add("zhang", categories=["婚姻家庭"])
    assert zhang.categories == ("婚姻家庭",)
    wage = console.ticket("公司拖欠工资不发怎么办", category="劳动争议", region="朝阳区")
    divorce = console.ticket("离婚时孩子抚养权怎么判", openid="o_resident_0002", category="婚姻家庭")
    urgent = console.ticket("房东不退押金怎么办", openid="o_resident_0003", category="房屋租赁",
                            priority="emergency")
    browser = console.login("zhang")
    html = browser.get("/lawyer/").text
    order = [int(i) for i in re.findall(r'href="/lawyer/tickets/(\d+)"', html)]
    assert order == [divorce, urgent, wage]
    assert "与我匹配" in html

    def listed(query: str) -> list[int]:
        page = browser.get("/lawyer/?" + query).text
        return [int(i) for i in re.findall(r'href="/lawyer/tickets/(\d+)"', page)]

    assert listed("category=劳动争议") == [wage]
    assert listed("region=朝阳区") == [wage]
    assert listed("priority=emergency") == [urgent]
    assert listed("overdue=1") == []
    assert listed("category=not-a-category&priority=bogus") == [divorce, urgent, wage]


def test_claim_reply_close_and_the_reply_enters_the_wechat_outbox(console):
    console.add("zhang", name="张律师")
    tid = console.ticket("公司拖欠工资不发怎么办", openid="o_resident_0042")
    browser = console.login("zhang")
    page = browser.get(f"/lawyer/tickets/{tid}").text
    assert "接单" in page and "系统候选答案" in page and "插入到答复" not in page
    html = post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    assert flash_of(html).startswith("已接单")
    assert 'data-insert="cand-text-1"' in html  # now the owner: candidates can be inserted
    first = re.search(r'id="cand-text-1">([^<]+)<', html).group(1)
    assert "劳动" in first and "转人工" not in first  # the KB answer, not the note to residents

    html = post(browser, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}",
                text="您好，建议先与单位协商，协商不成可申请劳动仲裁。")
    assert flash_of(html) == "答复已提交，正在通过微信发送给居民"
    assert "张律师（律师）" in html and "建议先与单位协商" in html and "发送中" in html
    with Session(console.engine) as s:
        sent = list(s.scalars(select(OutboxMessage).where(OutboxMessage.openid == "o_resident_0042")))
    assert sent and "建议先与单位协商" in sent[0].content and sent[0].ticket_message_id
    assert console.row(tid).status == "answered"

    html = post(browser, f"/lawyer/tickets/{tid}/close", f"/lawyer/tickets/{tid}")
    assert flash_of(html) == "咨询单已办结" and console.row(tid).status == "closed"
    audit = re.search(r'id="t-audit".*?</ol>', html, re.S).group(0)
    assert [a for a in ("接单", "答复", "办结") if a in audit] == ["接单", "答复", "办结"]

    html = post(browser, f"/lawyer/tickets/{tid}/reopen", f"/lawyer/tickets/{tid}")
    assert flash_of(html) == "咨询单已重新打开" and console.row(tid).status == "reopened"
    html = post(browser, f"/lawyer/tickets/{tid}/reopen", f"/lawyer/tickets/{tid}")
    assert "不能重新打开" in flash_of(html)  # already open again: a clear refusal


def test_residents_numbers_are_masked_except_on_a_ticket_the_lawyer_owns(console):
    console.add("zhang")
    console.add("li")
    console.add("boss", role="admin")
    numbers = ("110101199003071234", "13812345678", "6222021234567890123")
    tid = console.ticket("公司拖欠工资，我身份证 110101199003071234，电话13812345678，"
                         "工资卡6222021234567890123")
    zhang, li, boss = console.login("zhang"), console.login("li"), console.login("boss")

    def shows_full(browser, path: str) -> bool:
        html = browser.get(path).text
        assert "110101********1234" in html or all(n in html for n in numbers), html
        return all(n in html for n in numbers)

    assert not shows_full(zhang, "/lawyer/")  # the queue list
    assert not shows_full(zhang, f"/lawyer/tickets/{tid}")  # not claimed yet
    post(zhang, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    assert shows_full(zhang, f"/lawyer/tickets/{tid}")  # its owner
    assert not shows_full(zhang, "/lawyer/mine")  # lists stay masked, even one's own
    assert not shows_full(li, f"/lawyer/tickets/{tid}")
    assert not shows_full(boss, f"/lawyer/tickets/{tid}")
    with Session(console.engine) as s:
        s.execute(update(Ticket).where(Ticket.id == tid)
                  .values(deadline_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    assert not shows_full(boss, "/admin/overdue")


def test_a_second_lawyer_cannot_claim_a_claimed_ticket(console):
    console.add("zhang", name="张律师")
    console.add("li", name="李律师")
    tid = console.ticket("公司拖欠工资不发怎么办")
    zhang, li = console.login("zhang"), console.login("li")
    li_page = li.get(f"/lawyer/tickets/{tid}").text  # Li opened the page before Zhang claimed
    post(zhang, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    r = li.post(f"/lawyer/tickets/{tid}/claim", data={"csrf_token": csrf_of(li_page)})
    assert flash_of(r.text) == "该咨询单已被其他律师接单"
    assert console.row(tid).claimed_by == console.app.state.accounts.by_username("zhang").id
    assert "该咨询单由 张律师 负责" in li.get(f"/lawyer/tickets/{tid}").text
    r = li.post(f"/lawyer/tickets/{tid}/reply", data={"csrf_token": csrf_of(li_page), "text": "我来答"})
    assert "只有接单律师可以答复" in flash_of(r.text)


def test_empty_and_overlong_replies_are_refused_with_a_message(console):
    console.add("zhang")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    assert flash_of(post(browser, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}",
                         text="   ")) == "答复内容不能为空"
    assert "答复过长" in flash_of(post(browser, f"/lawyer/tickets/{tid}/reply",
                                      f"/lawyer/tickets/{tid}", text="长" * 4001))
    assert console.row(tid).status == "claimed"


def test_transfer_to_a_colleague_and_back_to_the_pool(console):
    console.add("zhang", name="张律师")
    li = console.add("li", name="李律师")
    tid = console.ticket("公司拖欠工资不发怎么办")
    zhang = console.login("zhang")
    post(zhang, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    html = post(zhang, f"/lawyer/tickets/{tid}/transfer", f"/lawyer/tickets/{tid}",
                to=str(li.id), note="劳动仲裁是李律师的专长")
    assert flash_of(html) == "已转交给 李律师"
    assert "→ 李律师：劳动仲裁是李律师的专长" in html
    li_browser = console.login("li")
    assert f'href="/lawyer/tickets/{tid}"' in li_browser.get("/lawyer/mine").text
    html = post(li_browser, f"/lawyer/tickets/{tid}/transfer", f"/lawyer/tickets/{tid}", to="")
    assert flash_of(html) == "已退回待接单池" and console.row(tid).claimed_by is None
    assert "请选择要转交的律师" in flash_of(
        post(li_browser, f"/lawyer/tickets/{tid}/transfer", f"/lawyer/tickets/{tid}", to="x"))


def test_an_answer_becomes_a_knowledge_base_draft(console):
    console.add("zhang")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    page = post(browser, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}",
                text="可以向劳动监察大队投诉。")
    assert "转为知识条目" in page and "可以向劳动监察大队投诉。</textarea>" in page
    html = post(browser, f"/lawyer/tickets/{tid}/draft", f"/lawyer/tickets/{tid}",
                question="单位拖欠工资去哪里投诉？", answer="可以向劳动监察大队投诉。")
    match = re.search(r"已生成知识条目草稿（编号 (\d+)）", flash_of(html))
    assert match and console.row(tid).kb_entry_id == int(match.group(1))
    assert f"草稿 #{match.group(1)}" in html
    assert "需要填写问题和答案" in flash_of(
        post(browser, f"/lawyer/tickets/{tid}/draft", f"/lawyer/tickets/{tid}", question="", answer="x"))


def test_an_unknown_ticket_is_a_chinese_404(console):
    console.add("zhang")
    browser = console.login("zhang")
    r = browser.get("/lawyer/tickets/9999")
    assert r.status_code == 404 and "没有编号为 9999 的咨询单" in r.text
    r = browser.post("/lawyer/tickets/9999/claim",
                     data={"csrf_token": csrf_of(browser.get("/lawyer/").text)})
    assert "咨询单不存在" in flash_of(r.text)


def test_overdue_tickets_raise_a_banner_and_an_admin_reassigns_them(console):
    zhang = console.add("zhang", name="张律师")
    li = console.add("li", name="李律师")
    console.add("boss", role="admin", name="王主任")
    late = console.ticket("公司拖欠工资不发怎么办", deadline_at=utcnow() - timedelta(hours=2))
    console.ticket("离婚时孩子抚养权怎么判", openid="o_resident_0002")
    zhang_browser = console.login("zhang")
    post(zhang_browser, f"/lawyer/tickets/{late}/claim", f"/lawyer/tickets/{late}")
    html = zhang_browser.get("/lawyer/").text
    assert "超时提醒" in html and "有 1 张咨询单已超过办结时限，其中 1 张由您负责" in html
    assert "超时提醒" in zhang_browser.get(f"/lawyer/tickets/{late}").text
    assert [int(i) for i in re.findall(r'href="/lawyer/tickets/(\d+)"',
                                       zhang_browser.get("/lawyer/?overdue=1").text)] == [late]

    admin = console.login("boss")
    page = admin.get("/admin/overdue").text
    assert "以下 1 张咨询单已超过办结时限" in page and f"/admin/tickets/{late}/reassign" in page
    html = post(admin, f"/admin/tickets/{late}/reassign", "/admin/overdue", to=str(li.id))
    assert flash_of(html) == "咨询单已改派给 李律师"
    assert console.row(late).claimed_by == li.id != zhang.id
    assert "请选择改派的律师" in flash_of(post(admin, f"/admin/tickets/{late}/reassign",
                                             "/admin/overdue", to=""))


def test_statistics_for_a_lawyer_and_overall_for_an_admin(console):
    console.add("zhang", name="张律师")
    console.add("boss", role="admin", name="王主任")
    tid = console.ticket("公司拖欠工资不发怎么办")
    zhang = console.login("zhang")
    post(zhang, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    post(zhang, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}", text="请申请劳动仲裁。")
    with Session(console.engine) as s, s.begin():
        s.execute(update(Ticket).values(rating=5))
    html = zhang.get("/lawyer/stats").text
    assert "我的统计" in html and "全部律师" not in html
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)", html))
    assert figures["咨询单"] == "1" and figures["已答复"] == "1" and figures["答复率"] == "100.0%"
    assert figures["满意度"] == "5.00"
    admin_html = console.login("boss").get("/lawyer/stats").text
    assert "全部律师" in admin_html and "<td>张律师</td><td>1</td>" in admin_html
    empty = zhang.get("/lawyer/stats?from=2020-01-01&to=2020-01-31").text
    assert dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)", empty))["咨询单"] == "0"
    assert "日期格式应为" in zhang.get("/lawyer/stats?from=yesterday").text


def test_the_revision_endpoint_moves_when_a_ticket_changes(console):
    console.add("zhang")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    before = browser.get("/lawyer/api/revision").json()
    assert before["overdue"] == 0
    assert browser.get("/lawyer/api/revision").json() == before
    post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    assert browser.get("/lawyer/api/revision").json()["revision"] != before["revision"]


def test_static_assets_are_served_locally(console):
    css = console.client.get("/static/console.css")
    js = console.client.get("/static/console.js")
    assert css.status_code == js.status_code == 200
    assert "@media (max-width" in css.text and "data-insert" in js.text
    login = console.client.get("/login").text
    assert 'name="viewport"' in login and "http" not in re.sub(r'<html[^>]*>', "", login).split("</head>")[0]
    home = console.client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/lawyer/"


def test_every_kind_of_response_forbids_content_sniffing(console):
    console.add("zhang")
    zhang = console.login("zhang")
    responses = {
        "json": console.client.get("/healthz"),
        "json error": console.client.get("/lawyer/api/revision",
                                          headers={"Accept": "application/json"}),
        "static": console.client.get("/static/console.js"),
        "not found": console.client.get("/no/such/page"),
        "static not found": console.client.get("/static/nope.js"),
        "webhook refusal": console.client.post("/wechat", content=b"<xml/>"),
        "page": zhang.get("/lawyer/"),
        "redirect": console.client.get("/", follow_redirects=False),
    }
    for kind, resp in responses.items():
        assert resp.headers.get("x-content-type-options") == "nosniff", (kind, resp.status_code)


def test_a_form_posted_after_the_session_ended_comes_back_to_its_page(console):
    tid = console.ticket("公司拖欠工资不发怎么办")
    anonymous = console.browser()
    r = anonymous.post(f"/lawyer/tickets/{tid}/claim", data={"csrf_token": "x"},
                       headers={"Referer": f"http://testserver/lawyer/tickets/{tid}"},
                       follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next=%2Flawyer%2Ftickets%2F{tid}"
    r = anonymous.post(f"/lawyer/tickets/{tid}/claim", data={},
                       headers={"Referer": "http://evil.example/lawyer/tickets/1"},
                       follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Flawyer%2F"


# -- sessions on both databases --------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sessions_and_flash_messages_live_in_the_database(backend, tmp_path, request):
    from api.console.auth import WebAuth
    from assistant.queue.staff import Accounts, InvalidCredentials
    from knowledge.db import make_engine, migrate

    url = request.getfixturevalue("pg_url") if backend == "postgres" \
        else f"sqlite:///{tmp_path / 'web.db'}"
    engine = make_engine(url)
    migrate(engine)
    accounts = Accounts(engine)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    auth = WebAuth(engine, accounts, Settings(data_dir=tmp_path, web_session_hours=1).console)
    token, staff = auth.login("zhang", PASSWORD)
    principal = auth.resolve(token)
    assert principal is not None and principal.staff == staff and len(principal.csrf_token) >= 32
    assert auth.resolve(token + "x") is None and auth.resolve(None) is None
    with pytest.raises(InvalidCredentials):
        auth.login("zhang", "wrong")
    auth.set_flash(principal.session_id, "error", "该咨询单已被其他律师接单")
    assert auth.pop_flash(principal.session_id) == {"kind": "error", "text": "该咨询单已被其他律师接单"}
    assert auth.pop_flash(principal.session_id) is None  # shown once
    second, _ = auth.login("zhang", PASSWORD)
    auth.logout(token)
    assert auth.resolve(token) is None and auth.resolve(second) is not None
    engine.dispose()


# -- a reply through the real channel: held while WeChat refuses, then delivered -------------

def test_a_reply_held_by_wechat_shows_on_the_ticket_until_the_resident_writes(wx_env):
    import httpx

    from assistant.queue.staff import Accounts

    Accounts(wx_env.engine).add("zhang", PASSWORD, "张律师", "lawyer")
    openid = "o_console_held_1"
    wx_env.sim.send_text(openid, "我要找律师，公司拖欠工资不发怎么办")

    def ticket_id() -> int | None:
        with Session(wx_env.engine) as s:
            return s.scalar(select(Ticket.id).where(Ticket.openid == openid))

    eventually(lambda: ticket_id() is not None)
    tid = ticket_id()
    wx_env.sim.state.set_window(openid, False)  # 48 hours without a word from the resident

    with httpx.Client(base_url=wx_env.base_url, timeout=10, follow_redirects=True) as browser:
        page = browser.get("/login")
        browser.post("/login", data={"username": "zhang", "password": PASSWORD,
                                     "csrf_token": csrf_of(page.text)})
        url = f"/lawyer/tickets/{tid}"
        browser.post(url + "/claim", data={"csrf_token": csrf_of(browser.get(url).text)})
        html = browser.post(url + "/reply", data={"csrf_token": csrf_of(browser.get(url).text),
                                                  "text": "请带上劳动合同到劳动仲裁委申请仲裁。"}).text
        assert flash_of(html) == "答复已提交，正在通过微信发送给居民"
        wx_env.wait_outbox_settled()
        assert "待送达（微信暂不允许发送，居民再次留言后自动送达）" in browser.get(url).text
        assert not any("劳动仲裁委" in t for t in wx_env.sim.texts(openid))

        wx_env.sim.send_text(openid, "好的，我在")  # the resident writes: the window opens
        eventually(lambda: any("请带上劳动合同到劳动仲裁委申请仲裁。" in t
                               for t in wx_env.sim.texts(openid)))
        wx_env.wait_outbox_settled()
        assert "已送达" in browser.get(url).text


def test_hand_made_urls_and_forms_get_clear_answers_never_a_server_error(console):
    zhang = console.add("zhang")
    console.add("boss", role="admin")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    for ticket in ("0", "-1", str(2**63), str(10**30)):
        r = browser.get(f"/lawyer/tickets/{ticket}")
        assert r.status_code == 404 and "咨询单不存在" in r.text, ticket
        r = browser.post(f"/lawyer/tickets/{ticket}/claim",
                         data={"csrf_token": csrf_of(browser.get("/lawyer/").text)})
        assert r.status_code == 200 and "咨询单不存在" in flash_of(r.text), ticket
    assert browser.get("/lawyer/tickets/abc").status_code == 422
    post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    for to in (str(10**30), "-3", "张律师"):
        html = post(browser, f"/lawyer/tickets/{tid}/transfer", f"/lawyer/tickets/{tid}", to=to)
        assert flash_of(html) == "请选择要转交的律师", to
    html = post(browser, f"/lawyer/tickets/{tid}/transfer", f"/lawyer/tickets/{tid}", to="999")
    assert "没有这位律师" in flash_of(html) and console.row(tid).claimed_by == zhang.id
    for query in ("from=0001-01-01&to=9999-12-31", "from=2026-13-45", "to=x"):
        r = browser.get("/lawyer/stats?" + query)
        assert r.status_code == 200 and "日期格式应为" in r.text, query
    admin = console.login("boss")
    html = post(admin, f"/admin/tickets/{tid}/reassign", "/admin/overdue", to=str(2**40),
                back_to="https://evil.example/")
    assert flash_of(html) == "请选择改派的律师"


def test_templates_autoescape_and_never_mark_text_safe():
    from api.console.render import HERE, make_templates

    templates = make_templates()
    assert templates.env.autoescape is True
    for path in sorted((HERE / "templates").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", source), path.name


@pytest.mark.postgres
def test_the_console_works_on_postgresql(pg_console):
    console = pg_console
    console.add("zhang", name="张律师")
    console.add("li", name="李律师")
    tid = console.ticket(f"公司拖欠工资不发怎么办{XSS}")
    zhang, li = console.login("zhang"), console.login("li")
    li_page = li.get(f"/lawyer/tickets/{tid}").text
    assert "&lt;script&gt;" in li_page
    assert flash_of(post(zhang, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")) \
        .startswith("已接单")
    r = li.post(f"/lawyer/tickets/{tid}/claim", data={"csrf_token": csrf_of(li_page)})
    assert flash_of(r.text) == "该咨询单已被其他律师接单"
    html = post(zhang, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}", text="请申请劳动仲裁。")
    assert "请申请劳动仲裁。" in html and console.row(tid).status == "answered"
    assert flash_of(post(zhang, f"/lawyer/tickets/{tid}/close", f"/lawyer/tickets/{tid}")) == "咨询单已办结"
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)", zhang.get("/lawyer/stats").text))
    assert figures["咨询单"] == "1" and figures["办结"] == "1"
