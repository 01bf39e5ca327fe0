"""What guards every console page: CSRF on actions, role checks on every route, escaping
of what residents typed, security headers, local static assets, and clear answers
to hand-made URLs and forms."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from assistant.queue.staff import User
from tests.helpers import XSS, console_routes, csrf_of, flash_of, post


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

def test_templates_autoescape_and_never_mark_text_safe():
    from api.console.render import HERE, make_templates

    templates = make_templates()
    assert templates.env.autoescape is True
    for path in sorted((HERE / "templates").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", source), path.name

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


def test_an_unexpected_error_answers_500_without_a_trace_and_forbids_sniffing(console):
    def boom() -> None:
        raise RuntimeError("internal detail")

    console.app.add_api_route("/_boom", boom)
    with TestClient(console.app, raise_server_exceptions=False) as client:
        resp = client.get("/_boom")
    assert resp.status_code == 500 and "internal detail" not in resp.text and "稍后再试" in resp.text
    assert resp.headers.get("x-content-type-options") == "nosniff"


def test_static_assets_are_served_locally(console):
    css = console.client.get("/static/console.css")
    js = console.client.get("/static/console.js")
    assert css.status_code == js.status_code == 200
    assert "@media (max-width" in css.text and "data-insert" in js.text
    login = console.client.get("/login").text
    assert 'name="viewport"' in login and "http" not in re.sub(r'<html[^>]*>', "", login).split("</head>")[0]
    home = console.client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/lawyer/"

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
