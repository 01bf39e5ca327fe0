"""A ticket's page and its actions: claim, reply (into the WeChat outbox), close, reopen,
transfer, a knowledge-base draft, masking of residents' numbers, and the same on
PostgreSQL."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.wechat.models import OutboxMessage
from assistant.queue.models import Ticket
from knowledge.timeutil import utcnow
from tests.helpers import PASSWORD, XSS, csrf_of, flash_of, post, wait_until


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

def test_a_reply_held_by_wechat_shows_on_the_ticket_until_the_resident_writes(wx_env):
    import httpx

    from assistant.queue.staff import Accounts

    Accounts(wx_env.engine).add("zhang", PASSWORD, "张律师", "lawyer")
    openid = "o_console_held_1"
    wx_env.sim.send_text(openid, "我要找律师，公司拖欠工资不发怎么办")

    def ticket_id() -> int | None:
        with Session(wx_env.engine) as s:
            return s.scalar(select(Ticket.id).where(Ticket.openid == openid))

    wait_until(lambda: ticket_id() is not None)
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
        wait_until(lambda: any("请带上劳动合同到劳动仲裁委申请仲裁。" in t
                               for t in wx_env.sim.texts(openid)))
        wx_env.wait_outbox_settled()
        assert "已送达" in browser.get(url).text

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
