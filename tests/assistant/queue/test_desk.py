"""The lawyer's desk (what the console calls) on real SQLite, the overdue sweeper with a real
webhook receiver on loopback, and the whole path through real uvicorn and the WeChat
simulator: a resident escalates, a lawyer claims and replies, the reply reaches WeChat, a
held reply goes out when the resident writes again, the resident rates the answer."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Settings
from api.wechat.models import OutboxMessage
from api.wechat.outbox import OutboxDelivery, delivery_state
from assistant.dialogue import texts as T
from assistant.dialogue.models import Conversation, State
from assistant.queue.audit import AuditEntry
from assistant.queue.desk import Desk
from assistant.queue.errors import AlreadyClaimed, BadTransition, EmptyReply, NotAllowed, NotOwner, UnknownStaff
from assistant.queue.models import Ticket
from assistant.queue.staff import Accounts, Staff
from assistant.queue.sweep import OverdueSweeper
from assistant.reply import DISCLAIMER, WECHAT_MAX_BYTES
from knowledge.db import make_engine, migrate
from knowledge.entry import EntryData
from knowledge.store import KnowledgeStore
from knowledge.timeutil import utcnow
from tests.helpers import FAST_HASHER, last_reply, new_ticket, the_ticket, wait_until


class Team:
    def __init__(self, engine) -> None:
        accounts = Accounts(engine, hasher=FAST_HASHER)
        self.zhang = accounts.add("zhang", "password-1", "张律师", "lawyer", ["劳动争议"])
        self.li = accounts.add("li", "password-2", "李律师", "lawyer", ["婚姻家庭"], ["海淀区"])
        self.wang = accounts.add("wang", "password-3", "王律师", "lawyer")
        self.admin = accounts.add("admin", "password-4", "管理员甲", "admin")
        self.gone = accounts.add("gone", "password-5", "已离职", "lawyer")
        accounts.disable("gone")


@pytest.fixture
def engine(settings: Settings):
    eng = make_engine(settings.storage.sqlalchemy_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def team(engine) -> Team:
    return Team(engine)


@pytest.fixture
def desk(engine, settings) -> Desk:
    return Desk(engine, settings.queue, OutboxDelivery())


def audit_actions(engine, ticket_id: int) -> list[tuple[int | None, str]]:
    with Session(engine) as s:
        return [(a.actor_id, a.action) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.ticket_id == ticket_id).order_by(AuditEntry.id))]


# -- reading the queue ---------------------------------------------------------------------
def test_each_lawyer_sees_their_subjects_first_and_filters_work(engine, desk, team):
    wages = new_ticket(engine, "o1", category="劳动争议")
    divorce = new_ticket(engine, "o2", "离婚孩子归谁", category="婚姻家庭")
    local = new_ticket(engine, "o3", "邻居占道", category=None, region="海淀区")
    urgent = new_ticket(engine, "o4", "他要打我", category="人身损害", emergency=True)
    late = new_ticket(engine, "o5", category="继承", age=timedelta(hours=30))

    assert [r.id for r in desk.queue(team.zhang)] == [wages, urgent, late, divorce, local]
    li_rows = desk.queue(team.li)
    assert [r.id for r in li_rows] == [divorce, local, urgent, late, wages]
    assert [r.matches for r in li_rows] == [True, True, False, False, False]
    assert [r.id for r in desk.queue(team.wang)][:2] == [urgent, late]  # generalist

    assert [r.id for r in desk.queue(team.zhang, priority="emergency")] == [urgent]
    assert [r.id for r in desk.queue(team.zhang, category="婚姻家庭")] == [divorce]
    assert [r.id for r in desk.queue(team.zhang, region="海淀区")] == [local]
    overdue = desk.queue(team.zhang, overdue=True)
    assert [(r.id, r.overdue) for r in overdue] == [(late, True)]
    assert late not in [r.id for r in desk.queue(team.zhang, overdue=False)]
    assert [r.id for r in desk.overdue()] == [late]
    row = desk.queue(team.zhang)[0]
    assert (row.status_label, row.priority_label, row.claimed_by_name) == ("待接单", "普通", None)

    # Claimed by Li: gone from the others' open queue, in Li's "mine", visible to the admin.
    desk.claim(divorce, team.li)
    assert divorce not in [r.id for r in desk.queue(team.zhang)]
    assert [r.id for r in desk.queue(team.li, scope="mine")] == [divorce]
    admin_open = {r.id: r for r in desk.queue(team.admin)}
    assert admin_open[divorce].claimed_by_name == "李律师"
    assert len(desk.queue(team.zhang, scope="all")) == 5
    with pytest.raises(ValueError):
        desk.queue(team.zhang, scope="everything")


# -- actions ---------------------------------------------------------------------------------
def test_claim_reply_close_go_to_the_resident_and_the_audit_log(engine, desk, team):
    tid = new_ticket(engine, "o_res1")
    desk.claim(tid, team.zhang)
    with pytest.raises(AlreadyClaimed):
        desk.claim(tid, team.li)  # 首问负责制: one owner
    with pytest.raises(NotOwner):
        desk.reply(tid, team.li, "我也来答")
    with pytest.raises(EmptyReply):
        desk.reply(tid, team.zhang, " \n ")
    view = desk.reply(tid, team.zhang, "您可以向劳动监察大队投诉，或申请劳动仲裁。")
    assert (view.author_name, view.delivery) == ("张律师", "pending")

    with Session(engine) as s:
        [out] = s.scalars(select(OutboxMessage).where(OutboxMessage.openid == "o_res1"))
        assert out.ticket_message_id == view.id and out.status == "pending"
        assert out.content.startswith(T.LAWYER_REPLY_HEAD.format(no=s.get(Ticket, tid).ticket_no))
        assert out.content.endswith(T.TICKET_RATING_PROMPT)
        conv = s.get(Conversation, "o_res1")
        assert (conv.state, conv.rating_ticket_id) == (State.AWAITING_TICKET_RATING, tid)

    page = desk.ticket(tid, team.zhang)
    assert page.row.status == "answered" and page.row.first_response_at is not None
    assert [(m.direction, m.author_name, m.delivery) for m in page.messages][-1] == \
        ("lawyer", "张律师", "pending")
    assert {"reply", "transfer", "close", "draft_entry"} <= set(page.actions)
    assert "claim" not in page.actions
    assert desk.ticket(tid, team.li).actions == ()  # not hers
    desk.close(tid, team.zhang)
    page = desk.ticket(tid, team.zhang)
    assert [(a.actor_name, a.action_label) for a in page.audit] == \
        [("张律师", "接单"), ("张律师", "答复"), ("张律师", "办结")]
    assert audit_actions(engine, tid) == [(team.zhang.id, "claim"), (team.zhang.id, "reply"),
                                          (team.zhang.id, "close")]  # no failed attempts
    with pytest.raises(BadTransition):
        desk.reply(tid, team.zhang, "办结后不能再答复")


def test_a_long_reply_is_split_into_wechat_sized_messages(engine, desk, team):
    tid = new_ticket(engine, "o_long")
    desk.claim(tid, team.zhang)
    text = "根据《劳动合同法》的规定，用人单位应当按时足额支付劳动报酬。" * 60
    view = desk.reply(tid, team.zhang, text)
    with Session(engine) as s:
        parts = s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_message_id == view.id)
                          .order_by(OutboxMessage.id)).all()
    assert len(parts) >= 3
    assert all(len(p.content.encode("utf-8")) <= WECHAT_MAX_BYTES for p in parts)
    assert "".join(p.content for p in parts).count("用人单位应当按时足额支付劳动报酬") == 60


def test_delivery_state_of_a_reply_is_the_worst_of_its_parts():
    assert delivery_state([]) is None
    assert delivery_state(["sent", "sent"]) == "sent"
    assert delivery_state(["sent", "sending"]) == "pending"
    assert delivery_state(["sent", "held", "pending"]) == "held"
    assert delivery_state(["held", "failed"]) == "failed"


def test_transfer_to_a_colleague_or_the_pool_with_a_note(engine, desk, team):
    tid = new_ticket(engine, "o_tr")
    desk.claim(tid, team.zhang)
    with pytest.raises(UnknownStaff):
        desk.transfer(tid, team.zhang, team.gone.id, "离职了")
    with pytest.raises(UnknownStaff):
        desk.transfer(tid, team.zhang, 9999, "")
    row = desk.transfer(tid, team.zhang, team.li.id, "婚姻问题，转李律师")
    assert (row.status, row.claimed_by_name) == ("transferred", "李律师")
    with pytest.raises(AlreadyClaimed):
        desk.claim(tid, team.wang)
    desk.reply(tid, team.li, "您好，我是李律师。")  # the new owner may answer at once
    row = desk.transfer(tid, team.li, None, "")
    assert (row.status, row.claimed_by) == ("transferred", None)
    desk.claim(tid, team.wang)
    page = desk.ticket(tid, team.wang)
    [first, second] = [a for a in page.audit if a.action == "transfer"]
    assert first.detail == {"to_user_id": team.li.id, "note": "婚姻问题，转李律师"}
    assert second.actor_name == "李律师" and second.detail["to_user_id"] is None


def test_only_an_admin_reassigns_an_overdue_ticket(engine, desk, team):
    tid = new_ticket(engine, "o_late", age=timedelta(hours=26))
    desk.claim(tid, team.zhang)
    assert [r.id for r in desk.overdue()] == [tid]
    with pytest.raises(NotAllowed):
        desk.reassign(tid, team.zhang, team.li.id)
    with pytest.raises(UnknownStaff):
        desk.reassign(tid, team.admin, team.gone.id)
    row = desk.reassign(tid, team.admin, team.li.id, "超时改派")
    assert (row.status, row.claimed_by_name, row.overdue) == ("transferred", "李律师", True)
    assert "reassign" in desk.ticket(tid, team.admin).actions
    desk.claim(tid, team.li)
    desk.reply(tid, team.li, "抱歉久等，答复如下。")
    assert desk.overdue() == []
    entry = [a for a in desk.ticket(tid, team.admin).audit if a.action == "reassign"][0]
    assert entry.detail == {"from_user_id": team.zhang.id, "to_user_id": team.li.id,
                            "note": "超时改派"}
    assert entry.action_label == "管理员改派"
    # Back to the pool also works.
    other = new_ticket(engine, "o_late2", age=timedelta(hours=26))
    desk.claim(other, team.wang)
    assert desk.reassign(other, team.admin, None).claimed_by is None


def test_reopen_gives_a_closed_ticket_back_to_its_owner(engine, desk, team):
    tid = new_ticket(engine, "o_again")
    desk.claim(tid, team.zhang)
    desk.reply(tid, team.zhang, "答复")
    desk.close(tid, team.zhang)
    with pytest.raises(NotOwner):
        desk.reopen(tid, team.li)
    row = desk.reopen(tid, team.zhang)
    assert (row.status, row.claimed_by, row.overdue) == ("reopened", team.zhang.id, False)
    assert row.id in [r.id for r in desk.queue(team.zhang)]


def test_a_good_answer_becomes_a_knowledge_base_draft(engine, desk, team, settings):
    tid = new_ticket(engine, "o_kb")
    desk.claim(tid, team.zhang)
    with pytest.raises(BadTransition):
        desk.draft_entry(tid, team.zhang, "公司拖欠工资怎么办？", "先协商，再投诉。")
    desk.reply(tid, team.zhang, "先协商，再向劳动监察投诉，或申请劳动仲裁。")
    with pytest.raises(NotOwner):
        desk.draft_entry(tid, team.li, "问", "答")
    with pytest.raises(EmptyReply):
        desk.draft_entry(tid, team.zhang, "公司拖欠工资怎么办？", "")
    entry_id = desk.draft_entry(tid, team.zhang, "公司拖欠工资怎么办？",
                                "先协商，再向劳动监察投诉，或申请劳动仲裁。")
    store = KnowledgeStore(engine)
    entry = store.get(entry_id)
    ticket_no = desk.ticket(tid, team.zhang).row.ticket_no
    assert (entry.status, entry.kind, entry.category) == ("draft", "faq", "劳动争议")
    assert ticket_no in entry.source
    assert desk.ticket(tid, team.zhang).kb_entry_id == entry_id
    # Drafting again revises the same draft; once published it is edited in the KB instead.
    assert desk.draft_entry(tid, team.admin, "公司拖欠工资怎么办？", "修改后的答案。") == entry_id
    assert store.get(entry_id).answer == "修改后的答案。"
    from knowledge.taxonomy import Status
    store.set_status(entry_id, Status.PUBLISHED)
    with pytest.raises(BadTransition):
        desk.draft_entry(tid, team.zhang, "公司拖欠工资怎么办？", "再改。")


def test_the_ticket_page_has_the_candidates_texts_and_hides_the_openid(engine, desk, team):
    store = KnowledgeStore(engine)
    _, entry_id = store.upsert(EntryData(kind="faq", external_id="wage-1", category="劳动争议",
                                         question="公司拖欠工资怎么办？",
                                         answer="可以向劳动保障监察机构投诉。"))
    with Session(engine) as s, s.begin():
        tid = new_ticket(engine, "o_candidate_resident_123")
        t = s.get(Ticket, tid)
        t.candidates = [{"id": entry_id, "external_id": "wage-1", "kind": "faq",
                         "title": "公司拖欠工资怎么办？", "score": 0.42},
                        {"id": 424242, "kind": "faq", "title": "已删除的条目", "score": 0.1}]
    page = desk.ticket(tid, team.zhang)
    first, gone = page.candidates
    assert (first.id, first.title, first.score) == (entry_id, "公司拖欠工资怎么办？", 0.42)
    assert "可以向劳动保障监察机构投诉" in first.text and gone.text == ""
    assert DISCLAIMER not in first.text  # the lawyer quotes it; residents' note stays out
    assert page.resident == "o_cand…" and "o_candidate_resident_123" not in repr(page)
    assert page.messages[0].direction == "in" and page.messages[0].content == "公司拖欠工资怎么办"
    assert page.actions == ("claim",)
    with pytest.raises(LookupError):
        desk.ticket(99999, team.zhang)


def test_revision_moves_with_every_change(engine, desk, team):
    seen = {desk.revision()}
    tid = new_ticket(engine, "o_rev")
    for step in (lambda: None, lambda: desk.claim(tid, team.zhang),
                 lambda: desk.reply(tid, team.zhang, "答复")):
        step()
        seen.add(desk.revision())
    with Session(engine) as s, s.begin():  # the outbox delivered the reply
        for row in s.scalars(select(OutboxMessage)):
            row.status = "sent"
    seen.add(desk.revision())
    assert len(seen) == 5
    assert desk.revision() == desk.revision()  # stable while nothing changes


def test_my_statistics(engine, desk, team):
    for i in range(3):
        tid = new_ticket(engine, f"o_st{i}", age=timedelta(minutes=10 * (i + 1)))
        desk.claim(tid, team.zhang)
        if i < 2:
            desk.reply(tid, team.zhang, "答复")
    new_ticket(engine, "o_st_other")
    start, end = utcnow() - timedelta(days=1), utcnow() + timedelta(minutes=1)
    mine = desk.stats(team.zhang.id, start, end)
    assert (mine.tickets, mine.responded) == (3, 2)
    assert 10 * 60 <= mine.median_first_response_s <= 20 * 60 + 5
    assert desk.stats(None, start, end).tickets == 4
    assert desk.stats(team.li.id, start, end).response_rate is None


# -- overdue alerts --------------------------------------------------------------------------
class WebhookReceiver:
    """A tiny real HTTP server on loopback that records what is POSTed to it."""

    def __init__(self, status: int = 200) -> None:
        received = self.received = []
        answer = status

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((self.headers.get("Content-Type"), json.loads(body)))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


def test_an_overdue_ticket_is_alerted_once_to_the_webhook(engine, settings, team, receiver):
    late = new_ticket(engine, "o_hook", "我的身份证号110101199001011234被冒用",
                      age=timedelta(hours=25))
    new_ticket(engine, "o_fine")
    sweeper = OverdueSweeper(engine, settings.queue.model_copy(
        update={"alert_webhook_url": receiver.url}))
    try:
        assert sweeper.sweep_once() == [late]
        assert sweeper.sweep_once() == []  # once per ticket
    finally:
        sweeper.stop()
    [(content_type, payload)] = receiver.received
    assert content_type == "application/json"
    assert payload["event"] == "ticket_overdue" and payload["ticket_id"] == late
    assert payload["ticket_no"].startswith("FZ") and "超时" in payload["text"]
    assert "身份证" not in json.dumps(payload, ensure_ascii=False)  # never the resident's words
    assert audit_actions(engine, late) == [(None, "overdue")]


def test_a_dead_webhook_does_not_stop_the_sweep(engine, settings):
    late = new_ticket(engine, "o_dead", age=timedelta(hours=25))
    sweeper = OverdueSweeper(engine, settings.queue.model_copy(
        update={"alert_webhook_url": "http://127.0.0.1:9/nothing-listens"}))
    try:
        started = time.monotonic()
        assert sweeper.sweep_once() == [late]
        assert time.monotonic() - started < 10
    finally:
        sweeper.stop()
    with Session(engine) as s:
        assert s.get(Ticket, late).overdue_alerted_at is not None


def test_the_service_runs_the_sweeper_and_its_desk(wx_env_factory, receiver):
    env = wx_env_factory(alert_webhook_url=receiver.url, ticket_sweep_s=0.1,
                         ticket_deadline_minutes={"normal": 0, "emergency": 0})
    assert isinstance(env.server.server.config.app.state.desk, Desk)
    d = env.sim.send_text("o_sweep", "转人工")
    assert "咨询单号" in d.reply
    wait_until(lambda: receiver.received, what="the overdue alert")
    assert [p["event"] for _, p in receiver.received] == ["ticket_overdue"]
    env.server.stop()  # shutdown stops the sweeper thread
    assert not [t for t in threading.enumerate() if t.name == "overdue-sweeper" and t.is_alive()]


# -- end to end: resident, WeChat simulator, desk ------------------------------------------
def lawyer_on(engine) -> Staff:
    return Accounts(engine, hasher=FAST_HASHER).add("zhao", "password-9", "赵律师", "lawyer",
                                                    ["劳动争议"])


def test_a_lawyer_reply_reaches_the_resident_and_a_held_one_waits_for_them(wx_env_factory):
    env = wx_env_factory()
    desk: Desk = env.server.server.config.app.state.desk
    lawyer = lawyer_on(env.engine)
    d = env.sim.send_text("o_e2e", "公司拖欠工资三个月了，老板说没钱，转人工")
    assert "咨询单号：FZ" in d.reply and "值班律师将在24小时内回复您" in d.reply
    tid = the_ticket(env.engine, "o_e2e").id

    desk.claim(tid, lawyer)
    desk.reply(tid, lawyer, "您好，我是赵律师。可以先向劳动保障监察大队投诉。")
    texts = env.sim.wait_for("o_e2e", 2)
    assert texts[-1].startswith("【律师回复") and "劳动保障监察大队" in texts[-1]
    assert env.sim.transcript("o_e2e")[-1]["kind"] == "custom"
    wait_until(lambda: last_reply(desk, tid, lawyer).delivery == "sent")

    # The resident rates the answer: stored on the ticket, for the owning lawyer.
    assert env.sim.send_text("o_e2e", "5").reply == T.TICKET_RATING_THANKS_GOOD
    t = the_ticket(env.engine, "o_e2e")
    assert (t.rating, t.claimed_by) == (5, lawyer.id) and t.rated_at is not None

    # The 48-hour window closes: WeChat refuses (45015), the reply is held, not lost.
    env.sim.state.inject("custom_send", errcode=45015)
    desk.reply(tid, lawyer, "补充：也可以直接申请劳动仲裁，不收费。")
    wait_until(lambda: last_reply(desk, tid, lawyer).delivery == "held")
    assert not any("劳动仲裁" in x for x in env.sim.texts("o_e2e"))
    revision = desk.revision()
    # Nothing is lost across a restart; the resident writes again: the window is open,
    # the held reply goes out.
    env.restart()
    desk = env.server.server.config.app.state.desk
    assert last_reply(desk, tid, lawyer).delivery == "held"
    env.sim.send_text("o_e2e", "好的，谢谢律师")
    wait_until(lambda: any("劳动仲裁，不收费" in x for x in env.sim.texts("o_e2e")))
    wait_until(lambda: last_reply(desk, tid, lawyer).delivery == "sent")
    assert desk.revision() != revision
    page = desk.ticket(tid, lawyer)
    contents = [m.content for m in page.messages]
    assert "好的，谢谢律师" in contents  # the resident's follow-up joined the ticket
    assert page.row.status == "answered"  # thanks need no lawyer: not reopened


def test_resident_sees_status_and_a_new_escalation_reopens_for_the_same_lawyer(wx_env_factory):
    env = wx_env_factory()
    desk: Desk = env.server.server.config.app.state.desk
    lawyer = lawyer_on(env.engine)
    assert env.sim.send_text("o_mine", "我的咨询").reply == T.NO_TICKETS
    env.sim.send_text("o_mine", "转人工")
    ticket = the_ticket(env.engine, "o_mine")
    reply = env.sim.send_text("o_mine", "我的咨询").reply
    assert ticket.ticket_no in reply and "排队中" in reply and "预计" in reply

    desk.claim(ticket.id, lawyer)
    assert "律师正在处理" in env.sim.send_text("o_mine", "我的咨询？").reply
    desk.reply(ticket.id, lawyer, "请问欠薪多久了？")
    assert env.sim.wait_for("o_mine", 5)[-1].startswith("【律师回复")
    assert "律师已回复" in env.sim.send_text("o_mine", "咨询进度").reply

    d = env.sim.send_text("o_mine", "三个月了，我还是想让律师帮我看看，转人工")
    assert d.reply == T.TICKET_REOPENED.format(no=ticket.ticket_no)
    t = the_ticket(env.engine, "o_mine")
    assert (t.status, t.claimed_by) == ("reopened", lawyer.id)  # 首问负责制: same lawyer
    assert t.id == ticket.id  # no second ticket
    assert t.id in [r.id for r in desk.queue(lawyer, scope="mine")]
    desk.reply(ticket.id, lawyer, "好的，请准备劳动合同和工资流水。")
    desk.close(ticket.id, lawyer)
    assert "已办结" in env.sim.send_text("o_mine", "我的咨询").reply


def test_a_bad_rating_is_stored_and_answered_with_a_way_forward(wx_env_factory):
    env = wx_env_factory()
    desk: Desk = env.server.server.config.app.state.desk
    lawyer = lawyer_on(env.engine)
    env.sim.send_text("o_unhappy", "转人工")
    tid = the_ticket(env.engine, "o_unhappy").id
    desk.claim(tid, lawyer)
    desk.reply(tid, lawyer, "建议咨询当地法律援助中心。")
    env.sim.wait_for("o_unhappy", 2)
    assert env.sim.send_text("o_unhappy", "不满意").reply == T.TICKET_RATING_THANKS_BAD
    assert the_ticket(env.engine, "o_unhappy").rating == 1
    # One rating per answer: the next "5" is a question again, the rating stays.
    env.sim.send_text("o_unhappy", "5")
    assert the_ticket(env.engine, "o_unhappy").rating == 1


def test_a_shared_location_routes_the_ticket_to_the_lawyers_of_that_district(wx_env_factory):
    env = wx_env_factory()
    desk: Desk = env.server.server.config.app.state.desk
    accounts = Accounts(env.engine, hasher=FAST_HASHER)
    local = accounts.add("hd", "password-7", "海淀律师", "lawyer", [], ["海淀区"])
    elsewhere = accounts.add("cy", "password-8", "朝阳律师", "lawyer", [], ["朝阳区"])
    env.sim.send_text("o_far", "转人工")  # no location shared
    env.sim.send("location", "o_near", label="北京市海淀区中关村大街1号")
    env.sim.send_text("o_near", "转人工")
    near = the_ticket(env.engine, "o_near")
    assert near.region == "北京市海淀区中关村大街1号"
    assert the_ticket(env.engine, "o_far").region is None
    rows = desk.queue(local)
    assert (rows[0].id, rows[0].matches) == (near.id, True)
    assert [r.matches for r in desk.queue(elsewhere)] == [False, False]
    assert [r.id for r in desk.queue(elsewhere, region="海淀区")] == [near.id]
