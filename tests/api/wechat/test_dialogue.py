"""Conversation behaviour through the real webhook: choices, ratings, follow-ups, tickets,
rate limit."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from assistant.dialogue import texts as T
from assistant.dialogue.conversation import parse_choice, parse_rating
from assistant.dialogue.models import Rating
from assistant.outcome import Decision
from assistant.policy import Thresholds
from assistant.queue.models import Ticket, TicketMessage


def test_parse_choice_and_rating():
    assert [parse_choice(t) for t in ("1", "２", "第3个", "选2", "3。", "13", "好")] == \
        [1, 2, 3, 2, 3, None, None]
    assert [parse_rating(t) for t in ("5", "1", "５分", "满意", "不满意", "6", "谢谢")] == \
        [5, 1, 5, 5, 1, None, None]


@pytest.fixture
def offering(wx_assistant, monkeypatch):
    """The assistant with thresholds under which a legal question gets numbered choices (the
    tests' hashing embedder has no fitted curve, so the shipped thresholds rarely offer any)."""
    monkeypatch.setattr(wx_assistant, "thresholds", Thresholds(answer=1.01, suggest=0.0, suggest_floor=0.0))
    return wx_assistant


def _suggesting(assistant):
    """A short query for which the knowledge base offers numbered choices."""
    outcome = assistant.respond("工资")
    assert outcome.decision is Decision.SUGGEST and len(outcome.suggestions) >= 2, outcome.reason
    return "工资", outcome


def test_pick_a_suggestion_then_rate_it(wx_env, offering):
    wx_assistant = offering
    query, outcome = _suggesting(wx_assistant)
    d = wx_env.sim.send_text("o_pick", query)
    assert "1." in d.reply and "2." in d.reply
    d = wx_env.sim.send_text("o_pick", "2")
    picked = outcome.suggestions[1]
    expected = wx_assistant.answer_entry(picked.id).messages[0]
    assert d.reply.startswith(expected[:50]) and T.RATING_PROMPT in d.reply
    d = wx_env.sim.send_text("o_pick", "5")
    assert d.reply == T.RATING_THANKS_GOOD
    with Session(wx_env.engine) as s:
        [rating] = s.scalars(select(Rating)).all()
        assert (rating.openid, rating.entry_id, rating.score) == ("o_pick", picked.id, 5)
    # A second "5" is no longer a rating (one per answer): it is asked as a question.
    d = wx_env.sim.send_text("o_pick", "5")
    assert d.reply != T.RATING_THANKS_GOOD


def test_choice_out_of_range(wx_env, offering):
    query, _ = _suggesting(offering)
    wx_env.sim.send_text("o_range", query)
    d = wx_env.sim.send_text("o_range", "9")
    assert "请回复 1 到" in d.reply


def test_unsatisfied_rating_recorded(wx_env):
    d = wx_env.sim.send_text("o_rate1", "公司拖欠工资怎么办")
    assert T.RATING_PROMPT in d.reply
    assert wx_env.sim.send_text("o_rate1", "1").reply == T.RATING_THANKS_BAD
    with Session(wx_env.engine) as s:
        [rating] = s.scalars(select(Rating)).all()
        assert rating.score == 1 and rating.entry_id is not None


@pytest.mark.parametrize("first,followup", [
    ("公司拖欠工资怎么办", "那赔偿怎么算？"),
    ("公司拖欠工资怎么办", "如果公司不给呢"),
    ("房东不退押金怎么办", "那要多久？"),
])
def test_followup_understood_with_the_previous_question(wx_env, wx_assistant, first, followup):
    openid = f"o_follow_{abs(hash(followup)) % 10**6}"
    wx_env.sim.send_text(openid, first)
    d = wx_env.sim.send_text(openid, followup)
    with_context = wx_assistant.respond(followup, history=[first])
    assert with_context.normalized_query.startswith(first[:4])  # rewritten with the topic
    assert d.reply.split("\n")[0] == with_context.messages[0].split("\n")[0]
    # Without the conversation the same words would not reach that answer.
    alone = wx_assistant.respond(followup)
    assert (alone.decision, alone.answered_entry_id) != (with_context.decision,
                                                         with_context.answered_entry_id)


def test_followup_context_expires_for_a_new_resident(wx_env):
    wx_env.sim.send_text("o_ctx_a", "公司拖欠工资怎么办")
    d = wx_env.sim.send_text("o_ctx_b", "那赔偿怎么算？")  # someone else: no context
    assert "工资" not in d.reply.split("\n")[0]


def test_escalation_opens_one_ticket_and_followups_attach(wx_env):
    d = wx_env.sim.send_text("o_ticket", "公司拖欠工资怎么办")
    d = wx_env.sim.send_text("o_ticket", "转人工")
    assert "咨询单号：FZ" in d.reply
    ticket_no = re.search(r"咨询单号：(FZ\d+)", d.reply).group(1)
    d = wx_env.sim.send_text("o_ticket", "他们欠了我三个月工资，一共一万二")
    d2 = wx_env.sim.send_text("o_ticket", "转人工")
    assert ticket_no in d2.reply and "处理中" in d2.reply
    with Session(wx_env.engine) as s:
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.ticket_no == ticket_no
        assert (ticket.openid, ticket.status, ticket.priority) == ("o_ticket", "waiting", "normal")
        assert ticket.created_at is not None and ticket.candidates
        assert ticket.question.startswith("公司拖欠工资怎么办")  # not just "转人工"
        assert {"id", "title", "score"} <= set(ticket.candidates[0])
        msgs = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                         .order_by(TicketMessage.id)).all()
        contents = [m.content for m in msgs if m.direction == "in"]
        # The conversation before the escalation travels with the ticket, then follow-ups.
        assert contents[0] == "公司拖欠工资怎么办"
        assert "他们欠了我三个月工资，一共一万二" in contents
        assert any(m.direction == "out" for m in msgs)


def test_emergency_ticket_has_emergency_priority(wx_env):
    d = wx_env.sim.send_text("o_sos", "他拿着刀说要杀了我")
    assert "110" in d.reply and "咨询单号" in d.reply
    with Session(wx_env.engine) as s:
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.priority == "emergency"


def test_emergency_raises_the_priority_of_an_open_ticket(wx_env):
    wx_env.sim.send_text("o_sos2", "转人工")
    d = wx_env.sim.send_text("o_sos2", "他现在正在打我")
    assert "110" in d.reply
    with Session(wx_env.engine) as s:
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.priority == "emergency"


def test_rate_limit_one_notice_then_silence_nothing_lost(wx_env_factory):
    env = wx_env_factory(wechat_rate_limit_count=3, wechat_rate_limit_window_s=60)
    replies = [env.sim.send_text("o_burst", f"公司拖欠工资怎么办{i}").reply for i in range(6)]
    assert all(r and "工资" in r for r in replies[:3])
    assert replies[3] == T.RATE_LIMITED
    assert replies[4] is None and replies[5] is None
    assert env.count(InboundMessage, InboundMessage.openid == "o_burst") == 6  # all stored
    assert env.count(InboundMessage, InboundMessage.status == "limited") == 3
    # Another resident is unaffected.
    assert "工资" in env.sim.send_text("o_calm", "公司拖欠工资怎么办").reply


def test_inbound_stores_openid_only(wx_env):
    wx_env.sim.send_text("o_privacy", "公司拖欠工资怎么办")
    [row] = wx_env.inbound()
    assert row.openid == "o_privacy"
    assert {c.name for c in InboundMessage.__table__.columns}.isdisjoint({"name", "nickname"})
