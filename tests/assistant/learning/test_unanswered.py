"""Which messages count as unanswered (``assistant.learning.unanswered.classify``)."""
from __future__ import annotations

from datetime import UTC, datetime

from assistant.learning.models import AskedQuestion, Unanswered
from assistant.learning.unanswered import Rules, classify

RULES = Rules(answer_threshold=0.45, answer_margin=0.10, min_declined_chars=12)
LONG = "我家的猫把邻居家的鱼缸打碎了要赔多少钱"


def asked(decision: str, reason: str = "", confidence: float | None = None, text: str = LONG) -> AskedQuestion:
    return AskedQuestion(1, "o_1", text, datetime(2026, 1, 1, tzinfo=UTC), decision, reason, confidence)


def test_an_escalation_we_could_not_answer_counts():
    for reason in ("no_match", "low_confidence", "out_of_scope"):
        assert classify(asked("escalate", reason), RULES) is Unanswered.ESCALATED


def test_a_bare_request_for_a_person_does_not_count():
    assert classify(asked("escalate", "explicit_request", text="转人工"), RULES) is None


def test_an_emergency_does_not_count():
    assert classify(asked("emergency", "emergency"), RULES) is None


def test_choices_offered_count_as_low_confidence():
    assert classify(asked("suggest", "likely_candidates", 0.3), RULES) is Unanswered.LOW_CONFIDENCE


def test_an_answer_within_the_margin_counts_as_low_confidence():
    assert classify(asked("answer", "confident", 0.50), RULES) is Unanswered.LOW_CONFIDENCE


def test_a_confident_answer_does_not_count():
    assert classify(asked("answer", "confident", 0.56), RULES) is None


def test_a_picked_choice_does_not_count():
    assert classify(asked("answer", "picked", 1.0, text="2"), RULES) is None


def test_a_long_message_declined_as_not_legal_counts():
    assert classify(asked("decline", "not_legal"), RULES) is Unanswered.DECLINED


def test_small_talk_and_thanks_declined_do_not_count():
    assert classify(asked("decline", "not_legal", text="你好，在吗"), RULES) is None
    assert classify(asked("decline", "thanks", text="好的谢谢律师，您辛苦了，非常感谢"), RULES) is None


def test_a_purged_message_does_not_count():
    assert classify(asked("escalate", "no_match", text=""), RULES) is None
