"""Deciding again at other thresholds from one evaluation pass."""
from __future__ import annotations

from assistant.outcome import Decision
from assistant.policy import Thresholds
from assistant.tuning import whatif
from assistant.tuning.whatif import Observation

QUESTIONS = ["公司拖欠工资不发，我该怎么办？", "试用期最长可以约定多久？", "今天天气怎么样", "我要找律师",
             "他说要杀了我，我好害怕", "离婚后孩子归谁", "邻居装修把我家墙弄裂了", "好的，谢谢",
             "朋友借钱不还怎么办", "网购的东西是假货能退吗"]


def test_deciding_again_at_the_thresholds_in_force_gives_every_decision_the_assistant_took(seed_assistant):
    for question in QUESTIONS:
        outcome = seed_assistant.respond(question)
        obs = whatif.from_outcome(question, outcome)
        assert whatif.redecide(obs, seed_assistant.thresholds) == (obs.decision, obs.answered, obs.suggestions), \
            question


def test_an_answer_threshold_above_the_confidence_offers_choices_or_a_lawyer_instead(seed_assistant):
    obs = whatif.from_outcome("w", seed_assistant.respond(QUESTIONS[0]))
    assert obs.decision == "answer"
    decision, answered, _ = whatif.redecide(obs, Thresholds(min(1.0, obs.confidence + 0.01), 0.2, 0.0))
    assert decision in ("suggest", "escalate") and answered is None


def test_decisions_not_taken_on_confidence_stay_at_any_threshold(seed_assistant):
    for question in ("我要找律师", "他说要杀了我，我好害怕", "今天天气怎么样"):
        obs = whatif.from_outcome(question, seed_assistant.respond(question))
        assert obs.reason not in whatif.THRESHOLD_REASONS
        assert whatif.redecide(obs, Thresholds(0.0, 0.0, 0.0))[0] == obs.decision


def obs(confidence: float, top_label: str, decision: str = "escalate", reason: str = "low_confidence",
        second: float = 0.0) -> Observation:
    return Observation("q", decision, reason, confidence, (("a", confidence), ("b", second), ("c", 0.0)),
                       labels={"a": top_label, "b": "right"})


def test_the_answer_table_counts_answers_and_their_precision_per_threshold():
    found = [obs(0.9, "right"), obs(0.6, "wrong"), obs(0.5, "right"), obs(0.1, "right")]
    rows = {r["answer"]: r for r in whatif.answer_table(found, Thresholds(0.45, 0.2, 0.1))}
    assert (rows[0.45]["answered"], rows[0.45]["precision"], rows[0.45]["current"]) == (3, round(2 / 3, 4), True)
    assert (rows[0.55]["answered"], rows[0.55]["precision"]) == (2, 0.5)
    assert (rows[0.8]["answered"], rows[0.8]["precision"], rows[0.8]["answered_share"]) == (1, 1.0, 0.25)


def test_the_suggest_table_counts_choices_that_offer_a_right_entry():
    found = [obs(0.3, "wrong", second=0.2), obs(0.15, "wrong", second=0.15)]
    rows = {r["suggest"]: r for r in whatif.suggest_table(found, Thresholds(0.45, 0.2, 0.1))}
    assert (rows[0.2]["suggested"], rows[0.2]["suggest_hit_rate"]) == (1, 1.0)
    assert rows[0.1]["suggested"] == 2 and rows[0.35]["suggested"] == 0 and rows[0.35]["escalation_share"] == 1.0
    assert 0.5 not in rows  # never above the answer threshold


def test_ranking_finds_the_first_right_candidate():
    found = [obs(0.9, "right"), obs(0.9, "wrong"), Observation("x", "escalate", "low_confidence", 0.1,
                                                                 (("a", 0.1),), labels={"a": "wrong"})]
    assert whatif.ranking(found) == {"n": 2, "depth": 5, "recall_at_1": 0.5, "recall_at_5": 1.0, "mrr": 0.75}


def test_the_label_confusion_counts_decisions_by_the_tops_label():
    found = [obs(0.9, "right", "answer", "confident"), obs(0.9, "wrong", "answer", "confident"),
             Observation("u", Decision.DECLINE.value, "not_legal", 0.0, ())]
    assert whatif.label_confusion(found) == {"right": {"answer": 1}, "wrong": {"answer": 1},
                                             "unlabelled": {"decline": 1}}
