"""Hit tests: the evidence kept for one question, and its history."""
from __future__ import annotations

import pytest

from assistant.outcome import Candidate, Decision, Outcome
from assistant.policy import Thresholds
from assistant.tuning import hit_tests
from assistant.tuning.hit_tests import EmptyQuestion, HitTestNotFound

WAGES = "公司拖欠工资不发，我该怎么办？"


def test_candidates_carry_their_final_rank_and_their_rank_by_fused_score(seed_assistant):
    result = hit_tests.run_hit_test(seed_assistant, WAGES)
    assert [c.rank for c in result.candidates] == list(range(1, len(result.candidates) + 1))
    by_score = sorted(result.candidates, key=lambda c: -c.score)
    assert [c.fused_rank for c in by_score] == list(range(1, len(by_score) + 1))
    assert result.candidates[0].answered and result.answered_entry_id == result.candidates[0].id


def test_the_text_is_normalised_and_segmented_as_the_retriever_does(seed_assistant):
    result = hit_tests.run_hit_test(seed_assistant, "  公司拖欠工資不發，怎麼辦！！！ ")
    assert result.normalized == "公司拖欠工资不发,怎么办!"
    assert "拖欠" in result.tokens and "工资" in result.tokens


def test_a_hit_test_is_kept_and_reads_back_as_it_was(engine, seed_assistant):
    result = hit_tests.run_hit_test(seed_assistant, WAGES)
    run_id = hit_tests.record(engine, 3, "王主任", result)
    row, again = hit_tests.get(engine, run_id)
    assert again == result
    assert (row.actor_name, row.question, row.decision, row.top_entry_id) == (
        "王主任", WAGES, "answer", result.candidates[0].id)
    assert [h.id for h in hit_tests.history(engine)] == [run_id]
    with pytest.raises(HitTestNotFound):
        hit_tests.get(engine, run_id + 1)


def test_an_empty_question_is_refused(seed_assistant):
    with pytest.raises(EmptyQuestion):
        hit_tests.run_hit_test(seed_assistant, " \n ")


@pytest.mark.parametrize(("confidence", "answerabilities", "expected"), [
    (0.1, (0.1, 0.05), "置信度 0.1000 低于推荐阈值 0.20：转交律师。"),
    (0.3, (0.3, 0.05), "但可回答度 ≥ 候选下限 0.10 的候选不足 2 个：转交律师。"),
])
def test_a_low_confidence_escalation_says_which_threshold_it_missed(confidence, answerabilities, expected):
    cands = [Candidate(i, f"e{i}", "faq", "题", "劳动争议", 0.5, answerability=a)
             for i, a in enumerate(answerabilities)]
    outcome = Outcome(Decision.ESCALATE, confidence, ["转交"], candidates=cands, reason="low_confidence")
    assert expected in hit_tests.explain(outcome, Thresholds(0.45, 0.2, 0.1))[-1]
