"""/admin/users over HTTP: create, edit roles, categories and regions, disable, unlock, reset
a password (its user must choose a new one at the next login), the audit log."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.queue.staff import User
from assistant.queue.staff_admin import StaffAuditEntry
from knowledge.timeutil import utcnow
from tests.helpers import PASSWORD, csrf_of, flash_of, post

NEW_PASSWORD = "my-own-pass-2025"


def _admin(console, username: str = "boss"):
    staff = console.add(username, role="admin", name="王主任")
    return staff, console.login(username)


def _temporary_password(html: str) -> str:
    match = re.search(r'class="temp-password"><code>([^<]+)</code>', html)
    assert match, "the page shows no temporary password"
    return match.group(1)


def _user(console, username: str) -> User:
    with Session(console.engine) as s:
        return s.scalars(select(User).where(User.username == username)).one()


def _sign_in(console, username: str, password: str, next_: str = ""):
    """A fresh browser posting the login form; returns (browser, response without redirects)."""
    browser = console.browser()
    page = browser.get("/login")
    r = browser.post("/login", data={"username": username, "password": password,
                                     "csrf_token": csrf_of(page.text), "next": next_},
                     follow_redirects=False)
    return browser, r


def _choose_password(browser, current: str, new: str = NEW_PASSWORD, next_: str = "/lawyer/"):
    page = browser.get("/password?next=" + next_)
    return browser.post("/password", data={"csrf_token": csrf_of(page.text), "current": current,
                                           "new": new, "confirm": new, "next": next_},
                        follow_redirects=False)


def test_a_new_account_gets_a_temporary_password_its_user_must_replace(console):
    _, admin = _admin(console)
    page = post(admin, "/admin/users", "/admin/users", username="zhang", display_name="张律师",
                role="lawyer", categories=["劳动争议", "工伤"], regions="海淀区，朝阳区")
    temporary = _temporary_password(page)
    user = _user(console, "zhang")
    assert (user.role, user.categories, user.regions) == ("lawyer", ["劳动争议", "工伤"], ["海淀区", "朝阳区"])
    assert user.must_change_password is True and temporary not in user.password_hash

    browser, r = _sign_in(console, "zhang", temporary, "/lawyer/mine")
    assert r.status_code == 303 and r.headers["location"] == "/password?next=%2Flawyer%2Fmine"
    r = _choose_password(browser, temporary, next_="/lawyer/mine")
    assert r.status_code == 303 and r.headers["location"] == "/lawyer/mine"
    assert _user(console, "zhang").must_change_password is False
    assert _sign_in(console, "zhang", NEW_PASSWORD)[1].status_code == 303
    assert _sign_in(console, "zhang", temporary)[1].status_code == 401


def test_until_the_new_password_is_set_every_page_leads_to_the_password_page(console):
    staff, admin = _admin(console)
    console.add("zhang", name="张律师")
    zhang = _user(console, "zhang")
    temporary = _temporary_password(post(admin, f"/admin/users/{zhang.id}/reset-password",
                                         f"/admin/users/{zhang.id}"))
    browser, _ = _sign_in(console, "zhang", temporary)
    r = browser.get("/lawyer/", follow_redirects=True)
    assert "管理员已重置您的密码" in r.text and r.url.path == "/password"
    assert browser.get("/lawyer/api/revision").status_code == 401
    # The same temporary password, or two different new ones, are refused.
    page = browser.get("/password")
    r = browser.post("/password", data={"csrf_token": csrf_of(page.text), "current": temporary,
                                        "new": temporary, "confirm": temporary})
    assert r.status_code == 400 and "新密码不能与当前密码相同" in r.text
    r = browser.post("/password", data={"csrf_token": csrf_of(page.text), "current": temporary,
                                        "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert r.status_code == 400 and "两次输入的新密码不一致" in r.text
    assert _choose_password(browser, temporary).status_code == 303
    assert browser.get("/lawyer/").status_code == 200


def test_reset_password_forces_a_new_password_at_the_next_login(console):
    _, admin = _admin(console)
    console.add("zhang", name="张律师")
    zhang = _user(console, "zhang")
    html = post(admin, f"/admin/users/{zhang.id}/reset-password", f"/admin/users/{zhang.id}")
    temporary = _temporary_password(html)
    assert "已重置密码：张律师（zhang）" in html
    assert _sign_in(console, "zhang", PASSWORD)[1].status_code == 401  # the old one is gone
    browser, r = _sign_in(console, "zhang", temporary)
    assert r.headers["location"].startswith("/password")
    assert _choose_password(browser, temporary).status_code == 303
    assert _sign_in(console, "zhang", NEW_PASSWORD)[1].headers["location"] == "/lawyer/"


def test_changing_the_role_categories_and_regions_takes_effect_at_once(console):
    _, admin = _admin(console)
    console.add("zhang", name="张律师")
    zhang_browser = console.login("zhang")
    assert zhang_browser.get("/admin/dashboard").status_code == 403
    zhang = _user(console, "zhang")
    html = post(admin, f"/admin/users/{zhang.id}", f"/admin/users/{zhang.id}", display_name="张大律师",
                role="admin", categories=["继承"], regions="西城区")
    assert flash_of(html) == "已保存 张大律师 的资料"
    user = _user(console, "zhang")
    assert (user.display_name, user.role, user.categories, user.regions) == ("张大律师", "admin", ["继承"], ["西城区"])
    assert zhang_browser.get("/admin/dashboard").status_code == 200
    html = post(admin, f"/admin/users/{zhang.id}", f"/admin/users/{zhang.id}", display_name="张大律师",
                role="admin", categories=["没有这个分类"], regions="")
    assert "未知分类：没有这个分类" in flash_of(html)


def test_a_disabled_account_cannot_log_in_and_its_open_session_ends(console):
    _, admin = _admin(console)
    console.add("zhang", name="张律师")
    zhang_browser = console.login("zhang")
    zhang = _user(console, "zhang")
    html = post(admin, f"/admin/users/{zhang.id}/disable", f"/admin/users/{zhang.id}")
    assert flash_of(html) == "已停用 张律师，其登录随即失效" and "重新启用" in html
    assert zhang_browser.get("/lawyer/", follow_redirects=False).status_code == 303
    assert _sign_in(console, "zhang", PASSWORD)[1].status_code == 401
    post(admin, f"/admin/users/{zhang.id}/enable", f"/admin/users/{zhang.id}")
    assert _sign_in(console, "zhang", PASSWORD)[1].status_code == 303


def test_an_admin_can_neither_disable_nor_demote_themselves(console):
    boss, admin = _admin(console)
    page = admin.get(f"/admin/users/{boss.id}").text
    assert f"/admin/users/{boss.id}/disable" not in page and "不能停用自己的账号" in page
    html = post(admin, f"/admin/users/{boss.id}/disable", f"/admin/users/{boss.id}")
    assert flash_of(html) == "不能停用自己的账号"
    html = post(admin, f"/admin/users/{boss.id}", f"/admin/users/{boss.id}", display_name="王主任",
                role="lawyer", regions="")
    assert "不能取消自己的管理员角色" in flash_of(html)
    assert _user(console, "boss").active and _user(console, "boss").role == "admin"


def test_unlock_lifts_a_lockout_from_the_users_page(console):
    _, admin = _admin(console)
    console.add("zhang", name="张律师")
    with Session(console.engine) as s, s.begin():
        s.execute(update(User).where(User.username == "zhang")
                  .values(failed_logins=5, locked_until=utcnow() + timedelta(minutes=15)))
    assert _sign_in(console, "zhang", PASSWORD)[1].status_code == 429
    zhang = _user(console, "zhang")
    assert "已锁定" in admin.get("/admin/users").text
    html = post(admin, f"/admin/users/{zhang.id}/unlock", f"/admin/users/{zhang.id}")
    assert flash_of(html) == "已解除 张律师 的锁定"
    assert _sign_in(console, "zhang", PASSWORD)[1].status_code == 303


def test_every_change_is_in_the_audit_log_with_who_did_it(console):
    boss, admin = _admin(console)
    post(admin, "/admin/users", "/admin/users", username="li", display_name="李律师", role="lawyer")
    li = _user(console, "li")
    post(admin, f"/admin/users/{li.id}", f"/admin/users/{li.id}", display_name="李律师", role="lawyer",
         categories=["继承"], regions="")
    post(admin, f"/admin/users/{li.id}/disable", f"/admin/users/{li.id}")
    post(admin, f"/admin/users/{li.id}/reset-password", f"/admin/users/{li.id}")
    with Session(console.engine) as s:
        rows = [(e.actor_id, e.action, e.target_id) for e in s.scalars(select(StaffAuditEntry)
                                                                        .order_by(StaffAuditEntry.id))]
    assert rows == [(boss.id, a, li.id) for a in ("create", "update", "disable", "reset_password")]
    page = admin.get(f"/admin/users/{li.id}").text
    assert "王主任（boss） 修改资料 · 李律师（li）" in page and "擅长分类：（无） → 继承" in page
    assert page.count("王主任（boss）") >= 4
    with Session(console.engine) as s:  # never a password in the log
        assert all("password" not in str(e.detail) for e in s.scalars(select(StaffAuditEntry)))


def test_creating_a_user_name_twice_or_a_bad_one_is_explained(console):
    _, admin = _admin(console)
    post(admin, "/admin/users", "/admin/users", username="li", display_name="李律师", role="lawyer")
    html = post(admin, "/admin/users", "/admin/users", username="li", display_name="李律师", role="lawyer")
    assert flash_of(html) == "用户名已存在：li"
    html = post(admin, "/admin/users", "/admin/users", username="<b>", display_name="x", role="lawyer")
    assert "用户名须为" in flash_of(html)
    assert "没有这个用户" in flash_of(post(admin, "/admin/users/99999/unlock", "/admin/users"))
