"""Dislike reasons and review tasks on real SQLite."""
from __future__ import annotations

import pytest

from assistant.learning.feedback import TaskClosed, TaskNotFound, close_task, parse_reason, record_dislike
from assistant.learning.models import FeedbackReason, TaskStatus
from knowledge.db import make_engine, migrate, session_factory


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fazhi.db'}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_one_tap_numbers_and_words_name_the_reasons():
    assert [parse_reason(t) for t in ("1", "２", "3。", "4", "看不懂", "其他")] == [
        FeedbackReason.NOT_ANSWERED, FeedbackReason.UNCLEAR, FeedbackReason.WRONG,
        FeedbackReason.OTHER, FeedbackReason.UNCLEAR, FeedbackReason.OTHER]


def test_anything_else_is_not_a_reason():
    assert [parse_reason(t) for t in ("5", "0", "12", "房东不退押金怎么办", "")] == [None] * 5


def test_dislikes_of_one_entry_count_on_its_open_task(sessions):
    with sessions.begin() as s:
        first = record_dislike(s, 7)
        again = record_dislike(s, 7)
        other = record_dislike(s, 8)
    assert again.id == first.id and again.dislikes == 2
    assert other.id != first.id and other.dislikes == 1


def test_a_dislike_after_the_task_was_closed_opens_a_new_task(sessions):
    with sessions.begin() as s:
        old = record_dislike(s, 7)
        closed = close_task(s, old.id, staff_id=1, note="已修改答复")
        new = record_dislike(s, 7)
    assert (closed.status, closed.open_entry_id, closed.note) == (TaskStatus.CLOSED, None, "已修改答复")
    assert new.id != old.id and (new.status, new.dislikes) == (TaskStatus.OPEN, 1)


def test_a_task_is_closed_once(sessions):
    with sessions.begin() as s:
        task = record_dislike(s, 7)
        close_task(s, task.id, staff_id=1)
        with pytest.raises(TaskClosed):
            close_task(s, task.id, staff_id=2)
        with pytest.raises(TaskNotFound):
            close_task(s, task.id + 100, staff_id=2)
