"""The regression set: what passes, runs after knowledge-base changes, and previews of a change."""
from __future__ import annotations

import pytest

from assistant.outcome import Candidate, Decision, Outcome
from assistant.tuning import regression
from assistant.tuning.models import Expectation, RunTrigger
from assistant.tuning.regression import RegressionError
from knowledge.entry import EntryData
from knowledge.taxonomy import Status
from knowledge.workflow import Actor
from tests.helpers import wait_until

WAGES = "公司拖欠工资不发，我该怎么办？"
OPERATOR = Actor("boss", operator=True)


def cand(i: int) -> Candidate:
    return Candidate(i, f"faq-{i}", "faq", f"问题{i}", "劳动争议", 0.5, answerability=0.3)


def outcome(decision: Decision, answered: int | None = None, offered: tuple[int, ...] = ()) -> Outcome:
    return Outcome(decision, 0.5, ["回复"], candidates=[cand(1), cand(2), cand(3)], answered_entry_id=answered,
                   suggestions=[cand(i) for i in offered])


@pytest.mark.parametrize(("expect", "entry", "got", "passes"), [
    (Expectation.ANSWER, 1, outcome(Decision.ANSWER, 1), True),
    (Expectation.ANSWER, 2, outcome(Decision.ANSWER, 1), False),
    (Expectation.ANSWER, 1, outcome(Decision.SUGGEST, offered=(1, 2)), False),
    (Expectation.SUGGEST, 2, outcome(Decision.SUGGEST, offered=(1, 2)), True),
    (Expectation.SUGGEST, 3, outcome(Decision.SUGGEST, offered=(1, 2)), False),
    (Expectation.SUGGEST, 1, outcome(Decision.ANSWER, 1), False),
    (Expectation.ESCALATE, None, outcome(Decision.ESCALATE), True),
    (Expectation.ESCALATE, None, outcome(Decision.EMERGENCY), True),
    (Expectation.ESCALATE, None, outcome(Decision.ANSWER, 1), False),
    (Expectation.DECLINE, None, outcome(Decision.DECLINE), True),
    (Expectation.DECLINE, None, outcome(Decision.ESCALATE), False),
])
def test_a_case_passes_only_on_the_outcome_it_expects(expect, entry, got, passes):
    assert regression.passes(expect, entry, got) is passes


def test_a_case_that_should_get_an_entry_needs_one_that_exists(engine, seed_assistant):
    store = seed_assistant.store
    with pytest.raises(RegressionError, match="请填写应命中的条目编号"):
        regression.save_case(engine, store, WAGES, "answer", None, "王主任")
    with pytest.raises(RegressionError, match="没有编号为 999999 的条目"):
        regression.save_case(engine, store, WAGES, "suggest", 999999, "王主任")
    with pytest.raises(RegressionError, match="请填写问题"):
        regression.save_case(engine, store, " ", "escalate", None, "王主任")
    assert regression.list_cases(engine) == []


def test_a_run_stores_time_passed_failed_and_each_result(engine, seed_assistant):
    entry = seed_assistant.respond(WAGES).answered_entry_id
    store = seed_assistant.store
    good = regression.save_case(engine, store, WAGES, "answer", entry, "王主任")
    regression.save_case(engine, store, WAGES, "decline", None, "王主任")
    run = regression.run_regressions(engine, seed_assistant, store, RunTrigger.MANUAL, "王主任")
    assert (run.passed, run.failed) == (1, 1)
    latest = regression.latest_run(engine)
    assert latest is not None and latest.id == run.id and latest.at is not None
    assert [(r.case_id, r.passed) for r in latest.results] == [(good.id, True), (good.id + 1, False)]
    assert latest.failures[0].decision == "answer" and latest.failures[0].answered_entry_id == entry


def test_a_knowledge_base_change_runs_the_set_once_per_revision(kb_console):
    """The app runs the set after each change it applies; another worker's call at the same
    revision runs nothing."""
    assistant, engine = kb_console.assistant, kb_console.engine
    store = kb_console.app.state.store
    entry = assistant.respond(WAGES).answered_entry_id
    regression.save_case(engine, store, WAGES, "answer", entry, "王主任")

    def run_at_this_revision():
        run = regression.latest_run(engine)
        revision = store.revision()
        return run if run and run.trigger is RunTrigger.KB_CHANGE and run.kb_revision == revision else None

    kb_console.app.state.workflow.archive(entry, OPERATOR)
    wait_until(run_at_this_revision, timeout_s=60, what="the run after archiving")
    assert (run_at_this_revision().passed, run_at_this_revision().failed) == (0, 1)
    assert regression.on_kb_change(engine, assistant, store) is None  # another worker, same revision
    kb_console.app.state.workflow.restore(entry, 1, OPERATOR, publish=True)
    wait_until(run_at_this_revision, timeout_s=60, what="the run after restoring")
    assert (run_at_this_revision().passed, run_at_this_revision().failed) == (1, 0)


def test_with_no_saved_questions_a_change_runs_nothing(engine, seed_assistant):
    assert regression.on_kb_change(engine, seed_assistant, seed_assistant.store) is None
    assert regression.latest_run(engine) is None


def test_a_preview_of_archiving_x_shows_the_case_for_x_would_break(engine, seed_assistant):
    entry = seed_assistant.respond(WAGES).answered_entry_id
    case = regression.save_case(engine, seed_assistant.store, WAGES, "answer", entry, "王主任")
    other = regression.save_case(engine, seed_assistant.store, "今天天气怎么样", "decline", None, "王主任")
    rows = regression.preview_regressions(seed_assistant.preview(remove=[entry]), seed_assistant, [case, other])
    assert [(r.case.id, r.changed, r.breaks) for r in rows] == [(case.id, True, True), (other.id, False, False)]
    assert rows[0].preview.answered_entry_id != entry


def test_a_preview_of_publishing_a_draft_shows_the_case_it_would_fix(kb_console):
    assistant, engine = kb_console.assistant, kb_console.engine
    store = kb_console.app.state.store
    question = "无人机飞到我家阳台外面拍照，侵犯隐私吗？"
    _result, draft = store.upsert(EntryData(
        kind="faq", external_id="tuning-drone", category="人身损害", title=question, question=question,
        answer="可能侵犯隐私权，可以要求停止拍摄、删除照片。", status=Status.DRAFT))
    case = regression.save_case(engine, store, question, "answer", draft, "王主任")
    [row] = regression.preview_regressions(assistant.preview(publish=[draft]), assistant, [case])
    assert not row.live.passed and row.preview.passed and row.fixes and row.changed
    assert assistant.respond(question).answered_entry_id != draft  # live search untouched
