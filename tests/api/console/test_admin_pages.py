"""The admin pages under /admin/: the menu entry, overdue tickets and reassigning them."""
from __future__ import annotations

import re
from datetime import timedelta

from knowledge.timeutil import utcnow
from tests.helpers import flash_of, post


def test_an_admin_can_use_the_admin_pages(console):
    console.add("boss", role="admin", name="王主任")
    admin = console.login("boss")
    r = admin.get("/admin/overdue")
    assert r.status_code == 200 and "超时督办" in r.text
    assert "超时督办" in admin.get("/lawyer/").text  # the admin's menu shows it
    console.add("zhang")
    assert "超时督办" not in console.login("zhang").get("/lawyer/").text

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
