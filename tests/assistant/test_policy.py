"""``policy.decide``: one rule per test, in the order the policy applies them."""
from __future__ import annotations

from assistant.outcome import Candidate, Decision
from assistant.policy import Signals, Thresholds, close_candidates, decide

T = Thresholds(answer=0.6, suggest=0.45, suggest_margin=0.12)


def cand(i: int, score: float) -> Candidate:
    return Candidate(i, f"e{i}", "faq", f"问题{i}", "劳动争议", score)


def signals(confidence: float = 0.9, legal: bool = True, emergency: bool = False,
            wants_person: bool = False) -> Signals:
    return Signals(emergency=emergency, wants_person=wants_person, legal=legal,
                   confidence=confidence)


def test_an_emergency_wins_over_everything():
    assert decide(signals(emergency=True, wants_person=True, legal=False), [], T) == \
        (Decision.EMERGENCY, "emergency")


def test_asking_for_a_person_escalates_even_when_we_could_answer():
    assert decide(signals(wants_person=True), [cand(1, 0.9)], T) == \
        (Decision.ESCALATE, "explicit_request")


def test_a_message_that_is_not_legal_is_declined():
    assert decide(signals(legal=False), [cand(1, 0.9)], T) == (Decision.DECLINE, "not_legal")


def test_a_legal_question_without_candidates_goes_to_a_lawyer():
    assert decide(signals(), [], T) == (Decision.ESCALATE, "no_match")


def test_confidence_at_the_answer_threshold_answers():
    assert decide(signals(confidence=0.6), [cand(1, 0.9)], T) == (Decision.ANSWER, "confident")


def test_two_close_candidates_between_the_thresholds_are_offered():
    assert decide(signals(confidence=0.5), [cand(1, 0.9), cand(2, 0.8)], T) == \
        (Decision.SUGGEST, "close_candidates")


def test_a_lone_candidate_between_the_thresholds_is_escalated_not_offered():
    assert decide(signals(confidence=0.5), [cand(1, 0.9), cand(2, 0.5)], T) == \
        (Decision.ESCALATE, "low_confidence")


def test_low_confidence_escalates():
    assert decide(signals(confidence=0.2), [cand(1, 0.9), cand(2, 0.89)], T) == \
        (Decision.ESCALATE, "low_confidence")


def test_close_candidates_are_within_the_margin_of_the_top_and_at_most_three():
    found = close_candidates([cand(1, 0.9), cand(2, 0.85), cand(3, 0.8), cand(4, 0.79),
                              cand(5, 0.5)], 0.12)
    assert [c.id for c in found] == [1, 2, 3]
    assert close_candidates([], 0.12) == []
