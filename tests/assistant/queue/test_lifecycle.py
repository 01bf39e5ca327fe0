"""The lawyer queue's domain rules on a real SQLite database: lifecycle, the atomic claim,
routing order, deadlines, overdue tickets, expiry, the resident's expected wait, and the
migration of tickets from before the queue."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from api.settings import Settings
from assistant.outcome import Candidate, Decision, Outcome
from assistant.queue import intake as tickets
from assistant.queue import lifecycle as queue
from assistant.queue import views
from assistant.queue.errors import AlreadyClaimed, BadTransition, EmptyReply, NotOwner, TicketNotFound
from assistant.queue.models import Ticket, TicketStatus
from assistant.queue.settings import QueuePolicy
from knowledge.db import make_engine, migrate, session_factory
from knowledge.timeutil import as_utc, utcnow
from tests.helpers import act, claim_race, new_ticket, status_of

LAWYER_A, LAWYER_B, LAWYER_C = 101, 102, 103
WAITING, CLAIMED, ANSWERED, CLOSED = (TicketStatus.WAITING, TicketStatus.CLAIMED,
                                      TicketStatus.ANSWERED, TicketStatus.CLOSED)
TRANSFERRED, REOPENED, EXPIRED = (TicketStatus.TRANSFERRED, TicketStatus.REOPENED,
                                  TicketStatus.EXPIRED)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    eng = make_engine(settings.storage.sqlalchemy_url)
    migrate(eng)
    yield eng
    eng.dispose()


# -- lifecycle --------------------------------------------------------------------------
def test_every_state_lists_where_it_may_go():
    assert set(queue.ALLOWED) == set(TicketStatus) == set(queue.STATUS_LABELS)
    assert queue.sources(CLAIMED) == (WAITING, TRANSFERRED, REOPENED)
    assert queue.sources(REOPENED) == (ANSWERED, CLOSED, EXPIRED)
    assert CLOSED not in queue.OPEN_STATES and ANSWERED in queue.OPEN_STATES
    assert ANSWERED not in queue.PENDING_STATES


def test_a_ticket_is_claimed_answered_closed_and_reopened(engine):
    tid = new_ticket(engine)
    assert status_of(engine, tid).status == WAITING
    with pytest.raises(NotOwner, match="请先接单"):
        act(engine, queue.record_reply, tid, LAWYER_A, "您好")
    t = act(engine, queue.claim, tid, LAWYER_A)
    assert (t.status, t.claimed_by) == (CLAIMED, LAWYER_A) and t.claimed_at is not None
    with pytest.raises(EmptyReply):
        act(engine, queue.record_reply, tid, LAWYER_A, "   ")
    with pytest.raises(NotOwner):
        act(engine, queue.record_reply, tid, LAWYER_B, "我来答")
    msg = act(engine, queue.record_reply, tid, LAWYER_A, "可以向劳动监察大队投诉。")
    t = status_of(engine, tid)
    assert (t.status, msg.direction, msg.author_id) == (ANSWERED, "lawyer", LAWYER_A)
    first = t.first_response_at
    act(engine, queue.record_reply, tid, LAWYER_A, "补充：也可以申请劳动仲裁。")
    assert status_of(engine, tid).first_response_at == first  # the first response stays
    with pytest.raises(NotOwner):
        act(engine, queue.close, tid, LAWYER_B)
    t = act(engine, queue.close, tid, LAWYER_A)
    assert t.status == CLOSED and t.closed_at is not None
    with pytest.raises(BadTransition, match="已办结"):
        act(engine, queue.record_reply, tid, LAWYER_A, "还有一点")
    with pytest.raises(BadTransition):
        act(engine, queue.claim, tid, LAWYER_B)
    t = act(engine, queue.reopen, tid, QueuePolicy(), LAWYER_A)
    assert (t.status, t.claimed_by, t.closed_at) == (REOPENED, LAWYER_A, None)
    assert as_utc(t.deadline_at) > utcnow() + timedelta(hours=23)  # a fresh deadline


def test_a_claimed_ticket_cannot_be_claimed_by_another_lawyer(engine):
    tid = new_ticket(engine)
    act(engine, queue.claim, tid, LAWYER_A)
    with pytest.raises(AlreadyClaimed, match="其他律师"):
        act(engine, queue.claim, tid, LAWYER_B)
    with pytest.raises(TicketNotFound):
        act(engine, queue.claim, 99999, LAWYER_B)


def test_transfer_to_a_lawyer_or_back_to_the_pool(engine):
    tid = new_ticket(engine)
    act(engine, queue.claim, tid, LAWYER_A)
    with pytest.raises(NotOwner):
        act(engine, queue.transfer, tid, LAWYER_B, LAWYER_C)
    with pytest.raises(BadTransition):
        act(engine, queue.transfer, tid, LAWYER_A, LAWYER_A)
    t = act(engine, queue.transfer, tid, LAWYER_A, LAWYER_B)
    assert (t.status, t.claimed_by) == (TRANSFERRED, LAWYER_B)
    # Transferred to B: B owns it now; A and C cannot take it back.
    for other in (LAWYER_A, LAWYER_C):
        with pytest.raises(AlreadyClaimed):
            act(engine, queue.claim, tid, other)
    assert act(engine, queue.claim, tid, LAWYER_B).status == CLAIMED
    t = act(engine, queue.transfer, tid, LAWYER_B, None)  # back to the pool
    assert (t.status, t.claimed_by) == (TRANSFERRED, None)
    assert act(engine, queue.claim, tid, LAWYER_C).claimed_by == LAWYER_C


def test_an_admin_may_move_a_ticket_nobody_owns(engine):
    tid = new_ticket(engine)
    with pytest.raises(NotOwner):
        act(engine, queue.transfer, tid, LAWYER_A, LAWYER_B)
    t = act(engine, queue.transfer, tid, 1, LAWYER_B, admin=True)
    assert (t.status, t.claimed_by) == (TRANSFERRED, LAWYER_B)


def test_two_lawyers_claiming_at_once_exactly_one_wins(engine):
    claim_race(engine, rounds=15, lawyers=4)


# -- routing and deadlines ---------------------------------------------------------------
def test_routing_puts_the_lawyers_subjects_first_then_emergencies_then_deadlines(engine):
    early_normal = new_ticket(engine, "o1", category="婚姻家庭", age=timedelta(hours=20))
    late_normal = new_ticket(engine, "o2", category="婚姻家庭")
    emergency = new_ticket(engine, "o3", category="人身损害", emergency=True)
    mine_late = new_ticket(engine, "o4", category="劳动争议")
    mine_early = new_ticket(engine, "o5", category="劳动争议", age=timedelta(hours=3))
    in_region = new_ticket(engine, "o6", category=None, region="海淀区")
    with Session(engine) as s:
        every = list(s.scalars(select(Ticket)))
        order = [t.id for t in views.routing_order(every, ["劳动争议"], ["海淀区"])]
        generalist = [t.id for t in views.routing_order(every)]
    assert order == [mine_early, mine_late, in_region, emergency, early_normal, late_normal]
    assert generalist[0] == emergency and generalist[1] == early_normal


def test_the_category_is_the_one_most_top_candidates_agree_on():
    def with_categories(*cats: str) -> Outcome:
        return Outcome(Decision.ESCALATE, 0.2, [], candidates=[
            Candidate(id=i, external_id=None, kind="faq", title="t", category=c, score=0.3)
            for i, c in enumerate(cats)])

    assert tickets.category_of(with_categories("工伤", "劳动争议", "工伤", "继承")) == "工伤"
    assert tickets.category_of(with_categories("民间借贷", "婚姻家庭", "交通事故")) is None
    assert tickets.category_of(with_categories("继承")) == "继承"
    assert tickets.category_of(with_categories()) is None and tickets.category_of(None) is None


def test_the_region_is_the_latest_location_the_resident_shared():
    now = utcnow()
    lines = [(now, "in", 1, "[位置] 广州市天河区"), (now, "out", 1, "收到！"),
             (now, "in", 2, "[位置] 北京市海淀区中关村"), (now, "in", 3, "转人工")]
    assert tickets.region_of(lines) == "北京市海淀区中关村"
    assert tickets.region_of(lines[1:2]) is None
    assert tickets.region_of([(now, "out", None, "[位置] 不是居民发的")]) is None


def test_deadlines_per_priority_and_category():
    policy = QueuePolicy({"normal": 600, "继承": 2880})
    assert policy.deadline_for("emergency", "继承") == timedelta(minutes=30)  # default kept
    assert policy.deadline_for("normal", "继承") == timedelta(hours=48)
    assert policy.deadline_for("normal", "劳动争议") == timedelta(hours=10)
    assert policy.deadline_for("normal", None) == timedelta(hours=10)
    assert QueuePolicy().deadline_for("normal", None) == timedelta(hours=24)


def test_deadlines_come_from_the_environment_as_json(monkeypatch, tmp_path):
    monkeypatch.setenv("FAZHI_TICKET_DEADLINE_MINUTES", '{"emergency": 15, "工伤": 120}')
    policy = QueuePolicy.from_settings(Settings(data_dir=tmp_path).queue)
    assert policy.deadline_for("emergency", None) == timedelta(minutes=15)
    assert policy.deadline_for("normal", "工伤") == timedelta(hours=2)
    assert policy.deadline_for("normal", "继承") == timedelta(hours=24)


def test_a_new_ticket_is_due_by_its_deadline_and_an_emergency_tightens_it(engine):
    tid = new_ticket(engine, policy=QueuePolicy({"劳动争议": 120}))
    t = status_of(engine, tid)
    due = as_utc(t.deadline_at) - as_utc(t.created_at)
    assert due == timedelta(hours=2) and t.category == "劳动争议"
    with session_factory(engine).begin() as s:
        tickets.attach(s, s.get(Ticket, tid), "in", "他现在正在打我", emergency=True)
    t = status_of(engine, tid)
    assert t.priority == "emergency"
    assert as_utc(t.deadline_at) - utcnow() <= timedelta(minutes=30)


def test_overdue_tickets_are_found_and_alerted_once(engine):
    late = new_ticket(engine, "o1", age=timedelta(hours=25))
    late_emergency = new_ticket(engine, "o2", emergency=True, age=timedelta(minutes=31))
    on_time = new_ticket(engine, "o3", age=timedelta(hours=23))
    answered_late = new_ticket(engine, "o4", age=timedelta(hours=30))
    act(engine, queue.claim, answered_late, LAWYER_A)
    act(engine, queue.record_reply, answered_late, LAWYER_A, "答复")
    with Session(engine) as s:
        flagged = {t.id for t in s.scalars(select(Ticket)) if queue.is_overdue(t)}
    assert flagged == {late, late_emergency}
    assert set(act(engine, queue.mark_overdue_alerted)) == {late, late_emergency}
    assert act(engine, queue.mark_overdue_alerted) == []  # once
    assert status_of(engine, on_time).overdue_alerted_at is None


def test_answered_tickets_the_resident_never_returns_to_expire(engine):
    policy = QueuePolicy(expire_after=timedelta(days=7))
    old = new_ticket(engine, "o1", age=timedelta(days=9))
    act(engine, queue.claim, old, LAWYER_A)
    act(engine, queue.record_reply, old, LAWYER_A, "答复")
    recent = new_ticket(engine, "o2")
    act(engine, queue.claim, recent, LAWYER_A)
    act(engine, queue.record_reply, recent, LAWYER_A, "答复")
    with session_factory(engine).begin() as s:  # the answer was 8 days ago
        s.get(Ticket, old).updated_at = utcnow() - timedelta(days=8)
    assert act(engine, queue.expire_stale, policy) == [old]
    t = status_of(engine, old)
    assert t.status == EXPIRED and t.closed_at is not None
    assert status_of(engine, recent).status == ANSWERED
    assert act(engine, queue.reopen, old, policy, LAWYER_A).status == REOPENED


# -- the resident's expected wait --------------------------------------------------------
def answered_after(engine: Engine, minutes: float, openid: str) -> None:
    tid = new_ticket(engine, openid, age=timedelta(minutes=minutes))
    act(engine, queue.claim, tid, LAWYER_A)
    act(engine, queue.record_reply, tid, LAWYER_A, "答复")


def test_expected_wait_is_the_deadline_without_history(engine):
    new_ticket(engine, "o_ahead")
    with Session(engine) as s:
        est = tickets.expected_wait(s, QueuePolicy(), "normal", "劳动争议")
    assert (est.basis, est.minutes, est.deadline_minutes, est.ahead) == \
        ("deadline", 24 * 60, 24 * 60, 1)


def test_expected_wait_follows_the_recent_first_responses(engine):
    for i, minutes in enumerate((20, 30, 40, 50, 60)):
        answered_after(engine, minutes, f"o_hist{i}")
    with Session(engine) as s:
        est = tickets.expected_wait(s, QueuePolicy(), "normal", None)
    # The median is 40 minutes (and a few milliseconds: rounded up, never promised short).
    assert (est.basis, est.ahead) == ("history", 0) and est.minutes in (40, 41)
    # Five answered in the last day: 1 per 288 minutes.  Ten waiting ahead take longer
    # than the median, and the estimate says so.
    for i in range(10):
        new_ticket(engine, f"o_wait{i}")
    with Session(engine) as s:
        est = tickets.expected_wait(s, QueuePolicy(), "normal", None)
        emergency = tickets.expected_wait(s, QueuePolicy(), "emergency", None)
    assert est.ahead == 10 and abs(est.minutes - 10 * 288) <= 1
    assert emergency.ahead == 0 and emergency.basis == "deadline"  # no emergency history


# -- migration ----------------------------------------------------------------------------
def test_open_tickets_from_before_the_queue_become_waiting_with_a_deadline(tmp_path: Path):
    from alembic import command
    from alembic.config import Config

    from knowledge.db import MIGRATIONS_DIR

    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to(revision: str, down: bool = False) -> None:
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)

    to("0003_accounts")
    created = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f")  # as stored
    with eng.begin() as conn:
        for i, (status, priority) in enumerate((("open", "emergency"), ("closed", "normal"))):
            conn.execute(text(
                "INSERT INTO wx_tickets (ticket_no, openid, status, priority, reason, question,"
                " candidates, created_at, updated_at) VALUES (:no, 'o_old', :st, :pr, '', '问题',"
                " '[]', :at, :at)"), {"no": f"FZ{i}", "st": status, "pr": priority, "at": created})
    to("head")
    with Session(eng) as s:
        open_one, closed_one = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert (open_one.status, closed_one.status) == (WAITING, CLOSED)
        assert as_utc(open_one.deadline_at) - as_utc(open_one.created_at) == timedelta(minutes=30)
        assert queue.is_overdue(open_one)  # 2 hours old, due within 30 minutes
    to("0003_accounts", down=True)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT status FROM wx_tickets ORDER BY id")).scalars().all() \
            == ["open", "closed"]
    to("head")
    eng.dispose()


def test_a_question_in_an_uncovered_area_of_law_is_filed_under_that_area():
    outcome = Outcome(Decision.ESCALATE, 0.9, [], area="刑事", candidates=[
        Candidate(id=1, external_id=None, kind="faq", title="t", category="民间借贷", score=0.9)])
    assert tickets.category_of(outcome) == "刑事"
