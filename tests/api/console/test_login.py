"""Signing in and out of the console over HTTP: the login page, session cookies, lockout,
logout and expiry, and where sessions and flash messages are kept."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.console.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, WebSession
from api.settings import Settings
from knowledge.timeutil import utcnow
from tests.helpers import PASSWORD, csrf_of


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
