"""``policy.decide``: one rule per test, in the order the policy applies them."""
from __future__ import annotations

from assistant.outcome import Candidate, Decision
from assistant.policy import Signals, Thresholds, decide, suggestions

T = Thresholds(answer=0.6, suggest=0.45, suggest_floor=0.2)


def cand(i: int, answerability: float, category: str = "劳动争议") -> Candidate:
    return Candidate(i, f"e{i}", "faq", f"问题{i}", category, 0.5, answerability=answerability)


def signals(confidence: float = 0.9, legal: bool = True, emergency: bool = False,
            wants_person: bool = False, out_of_scope: bool = False) -> Signals:
    return Signals(emergency=emergency, wants_person=wants_person, legal=legal,
                   confidence=confidence, out_of_scope=out_of_scope)


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


def test_an_uncovered_area_of_law_goes_to_a_lawyer_however_sure_the_match():
    assert decide(signals(confidence=0.95, out_of_scope=True), [cand(1, 0.95)], T) == \
        (Decision.ESCALATE, "out_of_scope")


def test_two_likely_candidates_between_the_thresholds_are_offered():
    assert decide(signals(confidence=0.5), [cand(1, 0.5), cand(2, 0.3)], T) == \
        (Decision.SUGGEST, "likely_candidates")


def test_a_lone_likely_candidate_between_the_thresholds_is_escalated_not_offered():
    assert decide(signals(confidence=0.5), [cand(1, 0.5), cand(2, 0.1)], T) == \
        (Decision.ESCALATE, "low_confidence")


def test_low_confidence_escalates():
    assert decide(signals(confidence=0.2), [cand(1, 0.9), cand(2, 0.89)], T) == \
        (Decision.ESCALATE, "low_confidence")


def test_choices_are_the_first_three_candidates_at_or_above_the_floor():
    found = suggestions([cand(1, 0.5), cand(2, 0.1), cand(3, 0.25), cand(4, 0.9)], 0.2)
    assert [c.id for c in found] == [1, 3]
    assert suggestions([], 0.2) == []


def test_thanks_are_acknowledged_not_taken_as_a_question():
    thanks = Signals(emergency=False, wants_person=False, legal=True, confidence=0.1, thanks=True)
    assert decide(thanks, [cand(1, 0.1)], T) == (Decision.DECLINE, "thanks")
