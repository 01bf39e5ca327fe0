"""Hit testing and tuning pages: /admin/hit-test, /admin/regression, /admin/eval, /admin/thresholds."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from assistant import pair_eval
from assistant.outcome import Decision
from assistant.policy import Thresholds
from assistant.tuning.models import HitTest, ThresholdChange, ThresholdState
from index.retriever import Mode
from knowledge.workflow import Actor
from tests.conftest import shared_file
from tests.helpers import console_routes, csrf_of, flash_of, post, wait_until

WAGES = "公司拖欠工资不发，我该怎么办？"  # a seed FAQ's own question: answered with it
TUNING_PATHS = ("/admin/hit-test", "/admin/regression", "/admin/eval", "/admin/thresholds")
REAL_LABELS = Path(__file__).resolve().parents[3] / "bench" / "data" / "real_labels.jsonl"


def admin_of(console, name: str = "boss"):
    console.add(name, role="admin", name="王主任")
    return console.login(name)


def hit_test(browser, question: str) -> tuple[int, str]:
    """Run a hit test as the page does; the id of the run and its page."""
    r = browser.post("/admin/hit-test", data={"csrf_token": csrf_of(browser.get("/admin/hit-test").text),
                                              "question": question}, follow_redirects=False)
    assert r.status_code == 303, r.text
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    return run_id, browser.get(r.headers["location"]).text


def save_case(browser, run_id: int, expect: str, entry_id: int | str = "") -> str:
    page = browser.get(f"/admin/hit-test/{run_id}").text
    question = html.unescape(re.search(r'name="question" value="([^"]*)"', page).group(1))
    return post(browser, "/admin/regression", f"/admin/hit-test/{run_id}", question=question, expect=expect,
                entry_id=str(entry_id), hit_test_id=str(run_id))


def save_thresholds(browser, answer, suggest, floor, reason="按评测结果调整") -> str:
    return post(browser, "/admin/thresholds", "/admin/eval", answer=str(answer), suggest=str(suggest),
                suggest_floor=str(floor), reason=reason)


# -- hit tests -----------------------------------------------------------------------------

def test_a_hit_test_shows_tokens_terms_scores_decision_and_the_exact_reply(console):
    browser = admin_of(console)
    expected = console.assistant.respond(WAGES)
    _run_id, page = hit_test(browser, WAGES)
    segmenter = console.assistant.retriever.segmenter
    tokens = re.findall(r'<span class="chip">([^<]*)</span>', page)
    assert tokens == segmenter.tokens(expected.normalized_query) and "拖欠" in tokens
    top = expected.candidates[0]
    row = page[page.index(f"#{top.id}</span>"):]
    row = row[:row.index("</tr>")]
    for value in (top.lexical, top.dense, top.score, top.answerability):
        assert f"{value:.4f}" in row
    assert f"({top.lexical_rank})" in row and f"({top.dense_rank})" in row
    assert expected.decision is Decision.ANSWER and "直接回答" in page
    assert f"置信度 {expected.confidence:.4f} ≥ 回答阈值 0.65" in page
    for message in expected.messages:
        assert html.escape(message, quote=False) in page.replace("&#34;", '"').replace("&#39;", "'")


def test_each_hit_test_is_kept_in_the_history_and_can_be_run_again(console):
    browser = admin_of(console)
    first, _ = hit_test(browser, WAGES)
    hit_test(browser, "今天天气怎么样")
    page = browser.get("/admin/hit-test").text
    history = page[page.index('id="hit-history"'):]
    assert history.index("今天天气怎么样") < history.index(WAGES)  # newest first
    assert "王主任" in history and "回答" in history and "拒答" in history
    r = browser.post(f"/admin/hit-test/{first}/rerun", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    with Session(console.engine) as s:
        rows = list(s.scalars(select(HitTest).order_by(HitTest.id)))
    assert [row.question for row in rows] == [WAGES, "今天天气怎么样", WAGES]
    assert rows[-1].id == int(r.headers["location"].rsplit("/", 1)[1])
    assert rows[0].decision == "answer" and rows[0].top_entry_id is not None and rows[0].confidence > 0.65


def test_an_empty_hit_test_is_refused_with_a_message(console):
    browser = admin_of(console)
    html_ = post(browser, "/admin/hit-test", "/admin/hit-test", question="   ")
    assert flash_of(html_) == "请输入要测试的问题"


# -- the regression set --------------------------------------------------------------------

def test_a_question_saved_as_should_get_entry_x_passes_now(console):
    browser = admin_of(console)
    run_id, _ = hit_test(browser, WAGES)
    entry = console.assistant.respond(WAGES).answered_entry_id
    page = save_case(browser, run_id, "answer", entry)
    assert flash_of(page).startswith("已加入回归集")
    row = re.search(r'<tr class="(is-\w+)" id="case-\d+">(.*?)</tr>', page, re.S)
    assert row.group(1) == "is-pass" and "通过" in row.group(2) and f"#{entry}" in row.group(2)


def test_a_previewed_archive_of_entry_x_flags_the_question_that_should_get_it(console):
    browser = admin_of(console)
    run_id, _ = hit_test(browser, WAGES)
    entry = console.assistant.respond(WAGES).answered_entry_id
    save_case(browser, run_id, "answer", entry)
    page = browser.get(f"/admin/regression/preview?entry={entry}").text
    assert "如果归档条目" in page and "其中 1 个将由通过变为未通过" in page
    changed = page[page.index("<tbody>"):page.index("</tbody>")]
    assert WAGES in changed and "将不通过" in changed
    assert console.assistant.respond(WAGES).answered_entry_id == entry  # the live search is untouched


def test_a_preview_of_an_unknown_entry_says_so(console):
    browser = admin_of(console)
    r = browser.get("/admin/regression/preview?entry=999999")
    assert r.status_code == 404 and "没有编号为 999999 的条目" in r.text
    r = browser.get("/admin/regression/preview?entry=abc")
    assert r.status_code == 400 and "条目编号须是数字" in r.text


def test_saving_should_get_entry_without_an_entry_is_refused(console):
    browser = admin_of(console)
    run_id, _ = hit_test(browser, WAGES)
    page = save_case(browser, run_id, "answer", "")
    assert flash_of(page) == "请填写应命中的条目编号"


def test_a_run_of_the_set_is_recorded_and_its_result_shown(kb_console):
    browser = admin_of(kb_console)
    run_id, _ = hit_test(browser, WAGES)
    entry = kb_console.assistant.respond(WAGES).answered_entry_id
    save_case(browser, run_id, "answer", entry)
    save_case(browser, run_id, "escalate")
    page = post(browser, "/admin/regression/run", "/admin/regression")
    assert flash_of(page) == "回归集已运行：通过 1，未通过 1"
    latest = page[page.index('id="reg-latest"'):page.index('id="reg-cases"')]
    assert "手动运行" in latest and "通过 1" in latest and "未通过 1" in latest and WAGES in latest


def test_after_a_publish_the_set_runs_and_the_page_shows_it(kb_console):
    browser = admin_of(kb_console)
    run_id, _ = hit_test(browser, WAGES)
    entry = kb_console.assistant.respond(WAGES).answered_entry_id
    save_case(browser, run_id, "answer", entry)
    kb_console.app.state.workflow.archive(entry, Actor("boss", operator=True))

    def latest() -> str:  # the app's sync loop applies the change and runs the set
        page = browser.get("/admin/regression").text
        return page[page.index('id="reg-latest"'):page.index('id="reg-cases"')]

    wait_until(lambda: "知识库变更后自动运行" in latest(), timeout_s=60, what="the run after the change")
    assert "未通过 1" in latest() and WAGES in latest()


# -- thresholds ----------------------------------------------------------------------------

def test_thresholds_saved_on_the_page_are_stored_audited_and_decide_the_next_answer(kb_console):
    assert kb_console.assistant.respond(WAGES).decision is Decision.ANSWER
    browser = admin_of(kb_console)
    page = save_thresholds(browser, 0.99, 0.3, 0.05, reason="只在非常有把握时直接回答")
    assert flash_of(page) == "阈值已保存并生效：回答 0.65 → 0.99，推荐 0.2 → 0.3，候选下限 0.1 → 0.05"
    with Session(kb_console.engine) as s:
        state = s.get(ThresholdState, 1)
        [change] = s.scalars(select(ThresholdChange))
    assert (state.answer, state.suggest, state.suggest_floor, state.revision) == (0.99, 0.3, 0.05, 1)
    assert change.old == {"answer": 0.65, "suggest": 0.2, "suggest_floor": 0.1}
    assert change.new == {"answer": 0.99, "suggest": 0.3, "suggest_floor": 0.05}
    assert change.actor_name == "王主任" and change.reason == "只在非常有把握时直接回答"
    audit = page[page.index('id="threshold-changes"'):]
    assert "0.65 → 0.99" in audit and "只在非常有把握时直接回答" in audit and "王主任" in audit
    assert kb_console.assistant.thresholds == Thresholds(0.99, 0.3, 0.05)
    assert kb_console.assistant.respond(WAGES).decision is not Decision.ANSWER


def test_a_second_app_on_the_same_database_follows_new_thresholds_without_restart(kb_console):
    second = create_app(kb_console.settings)  # another worker: its own assistant, same database
    with TestClient(second):
        other = second.state.assistant
        assert other is not kb_console.assistant and other.thresholds == Thresholds(0.65, 0.2, 0.1)
        save_thresholds(admin_of(kb_console), 0.7, 0.25, 0.05)
        wait_until(lambda: other.thresholds == Thresholds(0.7, 0.25, 0.05), what="the second worker's thresholds")
        assert other.respond(WAGES).confidence < 0.99  # it answers with them, as it is
    third = create_app(kb_console.settings)  # a worker started later begins with them
    with TestClient(third):
        assert third.state.assistant.thresholds == Thresholds(0.7, 0.25, 0.05)


@pytest.mark.parametrize(("answer", "suggest", "floor", "message"), [
    ("0.3", "0.4", "0.1", "须满足 候选下限 ≤ 推荐阈值 ≤ 回答阈值"),
    ("0.5", "0.2", "0.3", "须满足 候选下限 ≤ 推荐阈值 ≤ 回答阈值"),
    ("1.2", "0.2", "0.1", "回答阈值须在 0 到 1 之间"),
    ("0.5", "0.2", "-0.1", "候选下限须在 0 到 1 之间"),
    ("0.5", "abc", "0.1", "推荐阈值须是 0 到 1 之间的数字"),
    ("0.5", "nan", "0.1", "推荐阈值须在 0 到 1 之间"),
])
def test_invalid_thresholds_are_refused_with_a_message(console, answer, suggest, floor, message):
    browser = admin_of(console)
    before = console.assistant.thresholds
    page = save_thresholds(browser, answer, suggest, floor)
    assert flash_of(page) == f"阈值未保存：{message}"
    with Session(console.engine) as s:
        assert s.scalar(select(func.count()).select_from(ThresholdChange)) == 0
        assert s.get(ThresholdState, 1) is None
    assert console.assistant.thresholds == before


def test_thresholds_without_a_reason_are_refused(console):
    page = save_thresholds(admin_of(console), 0.5, 0.2, 0.1, reason=" ")
    assert flash_of(page) == "阈值未保存：请填写修改原因"


# -- evaluation ----------------------------------------------------------------------------

def upload(browser, name: str, content: bytes, split: str = "") -> str:
    r = browser.post("/admin/eval", data={"csrf_token": csrf_of(browser.get("/admin/eval").text), "split": split},
                     files={"file": (name, content, "application/octet-stream")})
    assert r.status_code == 200, r.text
    return r.text


def test_the_eval_page_on_a_small_pair_label_file_shows_precision_and_the_threshold_table(console, tmp_path):
    shared_file("faq_lawyer_llama.jsonl")
    rows = [json.loads(line) for line in REAL_LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = list(dict.fromkeys(r["query_id"] for r in rows if r["source"] == "faq_lawyer_llama"))[:24]
    subset = tmp_path / "labels.jsonl"
    subset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows if r["query_id"] in ids),
                      encoding="utf-8")
    questions = pair_eval.read_pair_labels([subset])
    texts = pair_eval.resolve_questions(questions, shared_file("faq_lawyer_llama.jsonl").parent)
    expected = pair_eval.evaluate_pairs(console.assistant, questions, texts, Mode.HYBRID)
    assert expected["answered"] and expected["precision"] is not None

    page = upload(admin_of(console), "labels.jsonl", subset.read_bytes())
    assert flash_of(page) == f"评测完成：labels.jsonl，共 {len(ids)} 题"
    precision = re.search(r'id="eval-precision">([^<]*)<small>(\d+)/(\d+)', page)
    assert precision.group(1).strip() == f"{expected['precision'] * 100:.1f}%"
    assert (int(precision.group(2)), int(precision.group(3))) == (expected["answered_right"], expected["answered"])
    table = page[page.index('id="answer-table"'):]
    table = table[:table.index("</table>")]
    cells = re.findall(r"<tr[^>]*>\s*<td>([\d.]+)(?: <small>（当时）</small>)?</td>\s*<td>(\d+)</td>", table)
    thresholds = [float(t) for t, _ in cells]
    counts = [int(n) for _, n in cells]
    assert 0.65 in thresholds and len(thresholds) >= 5 and "（当时）" in table
    assert counts == sorted(counts, reverse=True)  # a higher threshold answers fewer questions
    assert counts[thresholds.index(0.65)] == expected["answered"]
    assert 'id="suggest-table"' in page and "选项命中率" in page
    assert "首位候选标注" in page and "正确" in page  # the decision confusion by the top's label


def test_an_eval_case_file_shows_recall_mrr_and_the_decision_confusion(console):
    cases = [{"id": "w", "query": WAGES, "relevant": ["seed-faq-laodong-001"], "expect": "answer"},
             {"id": "c", "query": "今天天气怎么样", "expect": "decline"}]
    page = upload(admin_of(console), "cases.jsonl",
                  "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases).encode())
    figures = page[page.index('id="eval-figures"'):page.index("</dl>", page.index('id="eval-figures"'))]
    assert "recall@1" in figures and "MRR" in figures and "100.0%" in figures
    confusion = page[page.index('id="eval-confusion"'):]
    assert "期望决策" in confusion[:400]


@pytest.mark.parametrize(("content", "message"), [
    (b"not json\n", "无法评测 bad.jsonl：文件格式有误：第 1 行："),
    (b'{"query_id": "x", "entry": "e", "label": "maybe"}\n',
     "无法评测 bad.jsonl：文件格式有误：第 1 行：unknown label"),
    (b"\xff\xfe\x00bad", "无法评测 bad.jsonl：文件不是 UTF-8 编码的 JSONL"),
    (b"\n\n", "无法评测 bad.jsonl：文件中没有可评测的问题"),
    (b'{"query_id": "no-such-question", "entry": "e", "label": "right", "source": "faq_lawyer_llama"}\n',
     "无法评测 bad.jsonl：找不到问题原文"),
])
def test_a_bad_eval_file_gets_a_clear_message(console, content, message):
    page = upload(admin_of(console), "bad.jsonl", content)
    assert flash_of(page).startswith(message), flash_of(page)


def test_an_eval_file_over_the_size_cap_is_refused(console):
    from assistant.tuning.eval_runs import MAX_UPLOAD_BYTES

    page = upload(admin_of(console), "big.jsonl", b" " * (MAX_UPLOAD_BYTES + 1))
    assert flash_of(page) == "文件太大：最多 5 MB"


# -- access --------------------------------------------------------------------------------

def test_a_lawyer_gets_403_on_every_tuning_route(console):
    console.add("zhang")
    lawyer = console.login("zhang")
    csrf = csrf_of(lawyer.get("/lawyer/").text)
    routes = [(m, p) for m, p in console_routes(console.app) if p.startswith(TUNING_PATHS)]
    assert len(routes) >= 11
    for method, path in routes:
        url = re.sub(r"\{\w+\}", "1", path)
        r = lawyer.request(method, url, data={"csrf_token": csrf} if method == "POST" else None,
                           follow_redirects=False)
        assert r.status_code == 403 and "没有权限" in r.text, (method, path)
    with Session(console.engine) as s:
        assert s.scalar(select(func.count()).select_from(HitTest)) == 0
