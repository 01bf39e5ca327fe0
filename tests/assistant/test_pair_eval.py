"""Pair-label evaluation: reading, question texts from the shared data, and the metrics."""
from __future__ import annotations

import json

import pytest

from assistant.eval_details import outcome_details
from assistant.outcome import Candidate, Decision, Outcome
from assistant.pair_eval import (
    PairLabelError,
    PairQuestion,
    PairResult,
    UnresolvedQuestion,
    auc,
    band_table,
    is_pair_file,
    pair_metrics,
    read_pair_labels,
    resolve_questions,
    result_of,
)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def res(decision="answer", confidence=0.9, top="right", answered="same", suggestions=()):
    answered_label = (top if answered == "same" else answered) if decision == "answer" else None
    return PairResult("q", decision, confidence, top, answered_label, tuple(suggestions))


def cand(i, ext):
    return Candidate(i, ext, "faq", f"问题{i}", "劳动争议", 0.5)


# -- reading ---------------------------------------------------------------------------

def test_pair_rows_group_into_questions_with_their_labels(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [
        {"query_id": "a", "entry": "e1", "label": "right", "split": "calib", "source": "faq"},
        {"query_id": "b", "entry": "e1", "label": "wrong", "split": "heldout", "source": "faq"},
        {"query_id": "a", "entry": "e2", "label": "partial", "split": "calib", "source": "faq"},
    ])
    questions = read_pair_labels([path])
    assert [q.id for q in questions] == ["a", "b"]
    assert questions[0].labels == {"e1": "right", "e2": "partial"}
    assert questions[0].split == "calib" and questions[0].source == "faq"


def test_split_keeps_only_that_part(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [
        {"query_id": "a", "entry": "e1", "label": "right", "split": "calib"},
        {"query_id": "b", "entry": "e1", "label": "wrong", "split": "heldout"},
    ])
    assert [q.id for q in read_pair_labels([path], "heldout")] == ["b"]


@pytest.mark.parametrize("row, message", [
    ({"query_id": "a", "entry": "e1", "label": "maybe"}, "unknown label"),
    ({"query_id": "a", "label": "right"}, "entry"),
    ({"query_id": "a", "entry": "e1", "label": "right", "split": "test"}, "unknown split"),
])
def test_a_bad_pair_row_is_reported_with_its_line(tmp_path, row, message):
    path = write_jsonl(tmp_path / "p.jsonl", [{"query_id": "z", "entry": "e", "label": "wrong"}, row])
    with pytest.raises(PairLabelError, match=f"p.jsonl:2: .*{message}"):
        read_pair_labels([path])


def test_one_pair_labelled_two_ways_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"query_id": "a", "entry": "e1", "label": "right"},
                                               {"query_id": "a", "entry": "e1", "label": "wrong"}])
    with pytest.raises(PairLabelError, match="both right and wrong"):
        read_pair_labels([path])


def test_pair_files_are_told_from_case_files_by_their_first_row(tmp_path):
    pairs = write_jsonl(tmp_path / "p.jsonl", [{"query_id": "a", "entry": "e1", "label": "right"}])
    cases = write_jsonl(tmp_path / "c.jsonl", [{"id": "1", "query": "拖欠工资", "expect": "escalate"}])
    assert is_pair_file(pairs) and not is_pair_file(cases)


# -- question texts ----------------------------------------------------------------------

def test_ids_resolve_to_the_question_or_query_of_their_source(tmp_path):
    write_jsonl(tmp_path / "faq.jsonl", [{"id": "a", "question": "押金不退怎么办", "answer": "…"}])
    write_jsonl(tmp_path / "stard.jsonl", [{"id": "b", "query": "个体户债务谁承担"}])
    questions = [PairQuestion("a", "faq"), PairQuestion("b", "stard"), PairQuestion("b2", None)]
    write_jsonl(tmp_path / "other.jsonl", [{"id": "b2", "query": "没有来源也能找到"}])
    assert resolve_questions(questions, tmp_path) == {"a": "押金不退怎么办", "b": "个体户债务谁承担",
                                                      "b2": "没有来源也能找到"}


def test_an_id_missing_from_its_source_is_a_clear_error(tmp_path):
    write_jsonl(tmp_path / "faq.jsonl", [{"id": "a", "question": "押金不退怎么办"}])
    with pytest.raises(UnresolvedQuestion, match=r"no question zzz in .*faq\.jsonl"):
        resolve_questions([PairQuestion("a", "faq"), PairQuestion("zzz", "faq")], tmp_path)


def test_a_missing_source_file_names_the_shared_option(tmp_path):
    with pytest.raises(UnresolvedQuestion, match="--shared"):
        resolve_questions([PairQuestion("a", "faq")], tmp_path)


def test_an_id_in_two_files_without_a_source_is_ambiguous(tmp_path):
    write_jsonl(tmp_path / "x.jsonl", [{"id": "a", "query": "一"}])
    write_jsonl(tmp_path / "y.jsonl", [{"id": "a", "query": "二"}])
    with pytest.raises(UnresolvedQuestion, match="name its source"):
        resolve_questions([PairQuestion("a")], tmp_path)


def test_a_source_cannot_leave_the_shared_dir(tmp_path):
    with pytest.raises(UnresolvedQuestion, match="bad source"):
        resolve_questions([PairQuestion("a", "../secret")], tmp_path)


# -- metrics -----------------------------------------------------------------------------

def test_auc_counts_pairs_ordered_rightly():
    assert auc([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == 1.0
    assert auc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert auc([0.9, 0.5, 0.7, 0.1], [True, True, False, False]) == 0.75


def test_auc_counts_ties_as_half():
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert auc([0.7, 0.5, 0.5, 0.2], [True, True, False, False]) == pytest.approx(0.875)


def test_auc_needs_both_classes():
    assert auc([0.5, 0.9], [True, True]) is None
    assert auc([], []) is None


def test_bands_count_labelled_tops_and_answers_per_tenth():
    rows = band_table([res(confidence=0.95), res(confidence=1.0, top="wrong"), res(confidence=0.6),
                       res("escalate", 0.05, top="right"), res("escalate", 0.05, top=None)])
    assert [r["band"] for r in rows][:2] == ["0.0-0.1", "0.1-0.2"] and rows[-1]["band"] == "0.9-1.0"
    assert rows[9] == {"band": "0.9-1.0", "n": 2, "right": 1, "answered": 2, "answered_right": 1,
                            "precision": 0.5}
    assert (rows[6]["n"], rows[6]["right"]) == (1, 1)
    assert (rows[0]["n"], rows[0]["answered"]) == (1, 0)  # the unlabelled top is not counted
    assert rows[3]["precision"] is None


def test_a_confidence_on_a_band_edge_belongs_to_the_band_above():
    assert band_table([res(confidence=0.7)])[7]["n"] == 1


def test_precision_counts_unlabelled_answers_as_not_right():
    report = pair_metrics([res(top="right"), res(top="partial"), res(top="wrong"), res(top=None),
                           res("escalate", 0.2, top="right")])
    assert report["answered"] == 4 and report["answered_unlabelled"] == 1
    assert report["precision"] == 0.25 and report["right_or_partial_rate"] == 0.5
    assert report["answered_right"] == 1


def test_decision_shares_escalation_and_declined_legal_questions():
    report = pair_metrics([res(), res("escalate", 0.2), res("escalate", 0.1), res("decline", 0.0)])
    assert report["decisions"]["escalate"] == 2 and report["decision_shares"]["answer"] == 0.25
    assert report["escalation_share"] == 0.5
    assert (report["legal_declined"], report["legal_declined_share"]) == (1, 0.25)


def test_auc_over_labelled_tops_and_over_answers_only():
    report = pair_metrics([res(confidence=0.9), res(confidence=0.8, top="wrong"),
                           res("escalate", 0.3, top="right"), res("escalate", 0.1, top="wrong"),
                           res("escalate", 0.5, top=None)])
    assert report["n_auc"] == 4 and report["auc"] == 0.75
    assert report["n_auc_answered"] == 2 and report["auc_answered"] == 1.0


def test_suggest_hit_rate_is_the_share_of_suggestions_offering_a_right_entry():
    report = pair_metrics([res("suggest", 0.5, suggestions=("wrong", "right")),
                           res("suggest", 0.5, suggestions=("partial", None)),
                           res("suggest", 0.5, suggestions=()), res()])
    assert (report["suggested"], report["suggest_hits"]) == (3, 1)
    assert report["suggest_hit_rate"] == pytest.approx(0.3333)


def test_an_empty_set_reports_no_rates():
    report = pair_metrics([])
    assert report["precision"] is None and report["auc"] is None and report["suggest_hit_rate"] is None


# -- from an outcome ------------------------------------------------------------------------

def outcome(decision, candidates, answered=None, suggestions=()):
    return Outcome(decision=decision, confidence=0.7, messages=["回复"], candidates=list(candidates),
                   query="押金不退", answered_entry_id=answered, suggestions=list(suggestions), reason="test")


def test_an_outcome_reduces_to_the_labels_of_its_top_answer_and_suggestions():
    q = PairQuestion("a", labels={"e1": "wrong", "e2": "right"})
    answered = result_of(q, outcome(Decision.ANSWER, [cand(1, "e1"), cand(2, "e2")], answered=1))
    assert (answered.top_label, answered.answered_label) == ("wrong", "wrong")
    suggested = result_of(q, outcome(Decision.SUGGEST, [cand(3, "e3"), cand(2, "e2")],
                                     suggestions=[cand(3, "e3"), cand(2, "e2")]))
    assert suggested.top_label is None and suggested.answered_label is None
    assert suggested.suggestion_labels == (None, "right")


def test_a_details_line_carries_scores_labels_and_the_reply():
    row = outcome_details("a", outcome(Decision.ANSWER, [cand(1, "e1"), cand(2, "e2")], answered=1),
                          {"e1": "partial"})
    assert {"id", "query", "decision", "confidence", "reason", "candidates", "reply"} <= row.keys()
    assert row["decision"] == "answer" and row["reply"] == "回复"
    assert (row["answered_entry"], row["label"]) == ("e1", "partial")
    top = row["candidates"][0]
    assert {"external_id", "kind", "title", "score", "lexical", "dense", "answerability"} <= top.keys()
    assert top["label"] == "partial" and row["candidates"][1]["label"] is None
