"""The lawyer's lists: the queue (matching tickets first, filters), the live revision
the pages poll, and the statistics page."""
from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.orm import Session

from assistant.queue.models import Ticket
from tests.helpers import post


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

def test_the_revision_endpoint_moves_when_a_ticket_changes(console):
    console.add("zhang")
    tid = console.ticket("公司拖欠工资不发怎么办")
    browser = console.login("zhang")
    before = browser.get("/lawyer/api/revision").json()
    assert before["overdue"] == 0
    assert browser.get("/lawyer/api/revision").json() == before
    post(browser, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    assert browser.get("/lawyer/api/revision").json()["revision"] != before["revision"]

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
