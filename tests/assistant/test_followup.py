"""``followup.rewrite``: a short continuation borrows the last question's topic."""
from __future__ import annotations

from assistant.followup import rewrite

LAST = "公司拖欠工资怎么办"


def test_without_history_the_text_stays_as_it_is():
    assert rewrite("那赔偿怎么算？", None, False) == "那赔偿怎么算？"
    assert rewrite("那赔偿怎么算？", [], False) == "那赔偿怎么算？"


def test_a_message_opening_like_a_continuation_gets_the_last_question():
    assert rewrite("那赔偿怎么算？", ["离婚怎么分财产", LAST], True) == f"{LAST} 那赔偿怎么算？"


def test_a_short_message_without_a_topic_of_its_own_gets_the_last_question():
    assert rewrite("要多久？", [LAST], False) == f"{LAST} 要多久？"


def test_a_short_message_with_its_own_topic_stands_alone():
    assert rewrite("工伤怎么认定", [LAST], True) == "工伤怎么认定"


def test_a_long_message_carries_its_own_topic_even_when_it_opens_like_a_follow_up():
    long_text = "那如果" + "我在上班路上被车撞了对方逃逸了我还能不能申请工伤认定和赔偿" * 2
    assert rewrite(long_text, [LAST], False) == long_text
