"""Feedback with a reason, through the real webhook and the WeChat simulator: a dislike
offers one-tap reasons, stores the chosen one with the question, and opens the entry's
review task."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.dialogue import texts as T
from assistant.dialogue.models import Conversation, Rating, State
from assistant.learning.models import REASON_CHOICES, FeedbackReason, ReviewTask, TaskStatus
from assistant.outcome import Decision
from assistant.policy import Thresholds

QUESTION = "公司拖欠工资怎么办"


def _ratings(env) -> list[Rating]:
    with Session(env.engine) as s:
        return list(s.scalars(select(Rating).order_by(Rating.id)))


def _inbound_id(env, openid: str, content: str) -> int:
    return next(m.id for m in env.inbound() if m.openid == openid and m.content == content)


def test_the_reasons_offered_are_the_choices_in_their_order():
    lines = T.RATING_THANKS_BAD.split("\n")
    for number, reason in enumerate(REASON_CHOICES, start=1):
        assert f"{number} {reason.label}" in lines


def test_a_dislike_offers_the_reasons_and_stores_the_chosen_one_with_the_question(wx_env):
    assert T.RATING_PROMPT in wx_env.sim.send_text("o_why1", QUESTION).reply
    offered = wx_env.sim.send_text("o_why1", "1").reply
    assert offered == T.RATING_THANKS_BAD and "1 没回答我的问题" in offered
    thanks = wx_env.sim.send_text("o_why1", "3").reply
    assert thanks == T.FEEDBACK_REASON_THANKS.format(reason="我觉得不对")
    [rating] = _ratings(wx_env)
    assert (rating.score, rating.reason) == (1, FeedbackReason.WRONG.value)
    assert rating.question_inbound_id == _inbound_id(wx_env, "o_why1", QUESTION)
    with Session(wx_env.engine) as s:
        assert s.get(Conversation, "o_why1").state == State.IDLE  # one reason per dislike


def test_a_dislike_creates_a_review_task_for_the_entry(wx_env):
    for openid in ("o_task_a", "o_task_b"):
        wx_env.sim.send_text(openid, QUESTION)
        wx_env.sim.send_text(openid, "不满意")
    first, second = _ratings(wx_env)
    assert first.entry_id == second.entry_id is not None
    with Session(wx_env.engine) as s:
        [task] = s.scalars(select(ReviewTask)).all()
    assert (task.entry_id, task.status, task.dislikes) == (first.entry_id, TaskStatus.OPEN, 2)


def test_a_good_rating_offers_no_reasons_and_opens_no_task(wx_env):
    wx_env.sim.send_text("o_happy", QUESTION)
    assert wx_env.sim.send_text("o_happy", "5").reply == T.RATING_THANKS_GOOD
    assert wx_env.sim.send_text("o_happy", "3").reply != T.FEEDBACK_REASON_THANKS.format(reason="我觉得不对")
    assert wx_env.count(ReviewTask) == 0
    assert _ratings(wx_env)[0].reason is None


def test_a_new_question_instead_of_a_reason_is_answered_as_a_question(wx_env, wx_assistant):
    wx_env.sim.send_text("o_moveon", QUESTION)
    wx_env.sim.send_text("o_moveon", "1")
    other = "房东不退押金怎么办"
    expected = wx_assistant.respond(other)
    reply = wx_env.sim.send_text("o_moveon", other).reply
    assert reply.split("\n")[0] == expected.messages[0].split("\n")[0]
    [rating] = _ratings(wx_env)
    assert rating.score == 1 and rating.reason is None


@pytest.fixture
def offering(wx_assistant, monkeypatch):
    """Thresholds under which a short legal question gets numbered choices."""
    monkeypatch.setattr(wx_assistant, "thresholds", Thresholds(answer=1.01, suggest=0.0, suggest_floor=0.0))
    assert wx_assistant.respond("工资").decision is Decision.SUGGEST
    return wx_assistant


def test_a_picked_answer_is_disliked_with_the_question_that_offered_the_choices(wx_env, offering):
    wx_env.sim.send_text("o_pick_why", "工资")
    assert T.RATING_PROMPT in wx_env.sim.send_text("o_pick_why", "2").reply
    wx_env.sim.send_text("o_pick_why", "1")
    wx_env.sim.send_text("o_pick_why", "2")
    [rating] = _ratings(wx_env)
    assert rating.reason == FeedbackReason.UNCLEAR.value
    assert rating.question_inbound_id == _inbound_id(wx_env, "o_pick_why", "工资")
