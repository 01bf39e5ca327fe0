"""/admin/dashboard over real HTTP, fed by residents writing through the WeChat simulator:
the decision shares, the filters, ``fazhi report --json``, the XLSX and printable exports,
masked numbers, and figures that survive a retention purge."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import datetime, timedelta

import httpx
import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli.parser import main
from api.wechat.models import InboundMessage, OutboxMessage
from assistant.dialogue.models import Conversation, Rating
from assistant.queue.models import Ticket, TicketMessage
from assistant.queue.staff import Accounts
from knowledge.timeutil import CHINA_TZ, as_utc
from tests.helpers import FAST_HASHER, PASSWORD, console_routes, csrf_of

ID_NUMBER, PHONE = "110101199003071234", "13812345678"
# Each resident's messages, and what the assistant decides for the last one.
TRAFFIC = {
    "o_wages": (["公司拖欠工资怎么办"], "answer"),
    "o_hello": (["你好"], "decline"),
    "o_person": (["转人工"], "escalate"),
    "o_sos": (["他拿着刀说要杀了我"], "emergency"),
}


def _today() -> str:
    return datetime.now(CHINA_TZ).date().isoformat()


def _admin(env) -> httpx.Client:
    """An admin signed in to the running service over HTTP."""
    Accounts(env.engine, hasher=FAST_HASHER).add("boss", PASSWORD, "王主任", "admin")
    client = httpx.Client(base_url=env.base_url, timeout=30, follow_redirects=True)
    page = client.get("/login")
    r = client.post("/login", data={"username": "boss", "password": PASSWORD,
                                    "csrf_token": csrf_of(page.text), "next": "/admin/dashboard"})
    assert r.status_code == 200 and "数据看板" in r.text
    return client


def _send(env, traffic=TRAFFIC) -> dict[str, str]:
    for openid, (texts, _expected) in traffic.items():
        for text in texts:
            env.sim.send_text(openid, text)
    env.wait_outbox_settled()
    decided = {m.openid: m.decision for m in env.inbound()}
    assert decided == {openid: expected for openid, (_t, expected) in traffic.items()}
    return decided


def _decision_rows(html: str) -> dict[str, tuple[int, str]]:
    """The 处理方式 table: label -> (count, share)."""
    section = html[html.index("<h2>处理方式</h2>"):]
    section = section[:section.index("</table>")]
    return {label: (int(n), share) for label, n, share in re.findall(
        r'<td><span class="swatch swatch-\w+"></span>([^<]+)</td><td>(\d+)</td><td>([^<]+)</td>', section)}


def _figure(html: str, label: str) -> str:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)", html)
    assert match, label
    return match.group(1)


def test_simulator_traffic_shows_on_the_dashboard_with_its_decision_shares(wx_env):
    _send(wx_env)
    admin = _admin(wx_env)
    html = admin.get("/admin/dashboard").text
    assert _decision_rows(html) == {"直接解答": (1, "25.0%"), "推荐相关问题": (0, "0.0%"), "转律师": (1, "25.0%"),
                                    "非法律问题": (1, "25.0%"), "紧急求助": (1, "25.0%")}
    assert _figure(html, "居民消息") == "4" and _figure(html, "咨询问题") == "4"
    assert _figure(html, "律师咨询单") == "2"  # 转人工 and the emergency opened tickets
    assert html.count('<img src="data:image/svg+xml;base64,') == 5


def test_the_date_range_and_the_category_filter_change_the_figures(wx_env):
    _send(wx_env)
    admin = _admin(wx_env)
    yesterday = (datetime.now(CHINA_TZ).date() - timedelta(days=1)).isoformat()
    before = admin.get("/admin/dashboard", params={"from": yesterday, "to": yesterday}).text
    assert _figure(before, "居民消息") == "0" and _decision_rows(before)["直接解答"] == (0, "—")
    with Session(wx_env.engine) as s:
        wages_category = s.scalar(select(InboundMessage.category).where(InboundMessage.openid == "o_wages"))
    assert wages_category
    one = admin.get("/admin/dashboard", params={"from": _today(), "to": _today(),
                                                "category": wages_category}).text
    rows = _decision_rows(one)
    assert rows["直接解答"][0] == 1 and rows["非法律问题"] == (0, "0.0%")
    assert sum(n for n, _ in rows.values()) < 4
    bad = admin.get("/admin/dashboard", params={"from": "2026-13-01", "category": "<b>"}).text
    assert "日期格式应为 YYYY-MM-DD" in bad and "没有这个分类：&lt;b&gt;" in bad


def test_fazhi_report_json_has_the_dashboards_decisions(wx_env, monkeypatch, capsys):
    _send(wx_env)
    monkeypatch.setenv("FAZHI_DATA_DIR", str(wx_env.settings.storage.data_dir))
    assert main(["report", "--from", _today(), "--to", _today(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["decisions"]["counts"] == {"answer": 1, "suggest": 0, "escalate": 1, "decline": 1, "emergency": 1}
    assert data["decisions"]["shares"]["answer"] == 0.25 and data["decisions"]["total"] == 4
    assert data["overall"]["tickets"] == 2 and data["messages"]["total"] == 4
    assert main(["report", "--from", _today(), "--to", _today()]) == 0
    out = capsys.readouterr().out
    assert "处理方式：直接解答 1（25.0%）" in out and "律师咨询服务报告" in out


def test_the_xlsx_export_opens_with_openpyxl_and_has_the_figures(wx_env):
    _send(wx_env)
    r = _admin(wx_env).get("/admin/dashboard/export.xlsx", params={"from": _today(), "to": _today()})
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in r.headers["content-disposition"] and ".xlsx" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["概览", "每日消息", "处理方式", "分类", "满意度", "差评条目", "律师"]
    overview = {row[0]: row[1] for row in wb["概览"].iter_rows(min_row=6, values_only=True)}
    assert overview["咨询问题"] == 4 and overview["直接解答率"] == 0.25 and overview["律师咨询单"] == 2
    decisions = {row[0]: (row[1], row[2]) for row in wb["处理方式"].iter_rows(min_row=2, values_only=True)}
    assert decisions["紧急求助"] == (1, 0.25) and decisions["推荐相关问题"] == (0, 0)
    assert wb["处理方式"]["C2"].number_format == "0.0%"
    [day] = list(wb["每日消息"].iter_rows(min_row=2, values_only=True))
    assert day[:2] == (_today(), 4)


def test_the_printable_report_is_one_self_contained_page(wx_env):
    _send(wx_env)
    admin = _admin(wx_env)
    r = admin.get("/admin/dashboard/report.html", params={"from": _today(), "to": _today()})
    assert r.status_code == 200 and "公共法律服务智能咨询统计报告" in r.text
    assert "<script" not in r.text and 'href="/static' not in r.text
    assert r.text.count('<img src="data:image/svg+xml;base64,') == 5
    style = re.search(r"<style>(.*?)</style>", r.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = r.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert "直接解答" in r.text and "25.0%" in r.text
    saved = admin.get("/admin/dashboard/report.html", params={"from": _today(), "to": _today(), "download": "1"})
    assert saved.headers["content-disposition"].startswith("attachment; filename=\"fazhi-report-")


def test_numbers_are_masked_on_the_dashboard_and_exports_carry_no_residents_words(wx_env):
    question = f"公司拖欠工资不发，我该怎么办？我身份证{ID_NUMBER}，电话{PHONE}"  # answered, then disliked
    traffic = {"o_numbers": ([question, "1"], "rating")}
    for text in traffic["o_numbers"][0]:
        wx_env.sim.send_text("o_numbers", text)
    wx_env.wait_outbox_settled()
    with Session(wx_env.engine) as s:
        assert s.scalar(select(Rating.score)) == 1  # the answer was disliked
    admin = _admin(wx_env)
    page = admin.get("/admin/dashboard").text
    assert "110101********1234" in page and "138****5678" in page
    xlsx = admin.get("/admin/dashboard/export.xlsx").content
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v)
    printable = admin.get("/admin/dashboard/report.html").text
    for shown in (page, cells, printable):
        assert ID_NUMBER not in shown and PHONE not in shown
    assert "身份证" not in cells and "身份证" not in printable  # figures only
    assert wb["差评条目"]["D2"].value == 1


def _age(engine, days: int) -> None:
    """Move everything ``days`` into the past, as if it had happened then."""
    delta = timedelta(days=days)
    columns = {InboundMessage: ("received_at", "answered_at", "lease_until"),
               OutboxMessage: ("created_at", "sent_at", "next_attempt_at"),
               Ticket: ("created_at", "updated_at", "deadline_at", "claimed_at", "first_response_at",
                        "answered_at", "closed_at", "rated_at", "overdue_alerted_at"),
               TicketMessage: ("created_at",), Rating: ("created_at",), Conversation: ("updated_at",)}
    with Session(engine) as s, s.begin():
        for model, names in columns.items():
            for row in s.scalars(select(model)):
                for name in names:
                    if (value := getattr(row, name)) is not None:
                        setattr(row, name, as_utc(value) - delta)
        for t in s.scalars(select(Ticket)):  # the lawyers closed them long ago
            t.status, t.closed_at = "closed", as_utc(t.created_at) + timedelta(hours=2)


def _figures_of(html: str) -> str:
    """The key figures and the charts of a dashboard page (the examples beside them are text)."""
    start = html.index('<dl class="figures dash-figures">')
    return html[start:html.index('<div class="dash-tables">')]


def test_a_purge_removes_old_text_and_keeps_the_past_days_figures(wx_env, monkeypatch, capsys):
    _send(wx_env)
    wx_env.sim.send_text("o_wages", "1")  # a dislike of the answer
    wx_env.wait_outbox_settled()
    _age(wx_env.engine, 200)
    past = (datetime.now(CHINA_TZ).date() - timedelta(days=200)).isoformat()
    params = {"from": past, "to": past}
    admin = _admin(wx_env)
    monkeypatch.setenv("FAZHI_DATA_DIR", str(wx_env.settings.storage.data_dir))

    def figures() -> tuple[str, str, list]:
        page = admin.get("/admin/dashboard", params=params).text
        assert main(["report", "--from", past, "--to", past, "--json"]) == 0
        xlsx = openpyxl.load_workbook(io.BytesIO(admin.get("/admin/dashboard/export.xlsx", params=params).content))
        cells = [[row for row in ws.iter_rows(values_only=True) if not str(row[0]).startswith("生成时间")]
                 for ws in xlsx]
        return _figures_of(page), capsys.readouterr().out, cells

    before = figures()
    report = json.loads(before[1])
    assert (report["messages"]["total"], report["decisions"]["total"]) == (5, 4)
    assert report["dislikes"][0]["dislikes"] == 1
    assert "公司拖欠工资怎么办" in admin.get("/admin/dashboard", params=params).text  # the example
    assert main(["privacy", "purge", "--older-than-days", "180"]) == 0
    assert "居民消息：5 条" in capsys.readouterr().out
    assert all(m.content == "" for m in wx_env.inbound())
    with Session(wx_env.engine) as s:
        assert all(t.question == "" for t in s.scalars(select(Ticket)))
        assert all(m.content == "" for m in s.scalars(select(TicketMessage)))
    assert figures() == before
    assert "公司拖欠工资怎么办" not in admin.get("/admin/dashboard", params=params).text


def test_a_lawyer_gets_403_on_every_dashboard_and_users_route(console):
    console.add("zhang")
    lawyer = console.login("zhang")
    routes = [r for r in console_routes(console.app) if r[1].startswith(("/admin/dashboard", "/admin/users"))]
    assert len(routes) >= 10
    for method, path in routes:
        r = lawyer.request(method, path.replace("{user_id}", "1"), follow_redirects=False)
        assert r.status_code == 403 and "没有权限" in r.text, (method, path)


@pytest.mark.parametrize("query", ["from=2026-01-01&to=2025-01-01", "from=2020-01-01&to=2026-01-01"])
def test_a_period_backwards_or_too_long_falls_back_with_a_message(console, query):
    console.add("boss", role="admin")
    html = console.login("boss").get(f"/admin/dashboard?{query}").text
    assert "已使用默认范围" in html
