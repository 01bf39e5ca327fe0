"""Hit testing and tuning in a real headless Chromium against the served app: run a hit
test, save it as a regression case, preview a change, run an evaluation file; screenshots of
each page on a desktop and at 390 px (in /tmp/fazhi-shots/, tuning-*.png)."""
from __future__ import annotations

import json
import re

import pytest

from tests.api.console import test_browser as browser

# The browser fixtures of the console's browser tests (Chromium, the served app, screenshots).
playwright_api, chromium, service, shots = browser.playwright_api, browser.chromium, browser.service, browser.shots
PHONE, login = browser.PHONE, browser.login

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WAGES = "公司拖欠工资不发，我该怎么办？"


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def test_an_admin_hit_tests_saves_a_regression_case_previews_a_change_and_evaluates(
        chromium, service, shots, wx_assistant, tmp_path):
    env = service()
    boss = login(chromium, env, "boss")
    boss.goto(env.base_url + "/admin/hit-test")
    boss.fill("#hit-question", WAGES)
    boss.click("button[data-action=hit-test]")
    boss.wait_for_url(re.compile(r".*/admin/hit-test/\d+$"))
    assert boss.locator("#hit-tokens .chip").count() >= 3
    assert boss.locator("#hit-candidates tbody tr").count() >= 3
    assert "直接回答" in boss.inner_text("#hit-result")
    assert boss.locator("#hit-reply .msg-text").first.inner_text().strip()
    assert WAGES in boss.inner_text("#hit-history")
    shots(boss, "tuning-01-hit-test-desktop")
    run_url = boss.url

    # Save it as "should get this entry" (the form is filled from the run).
    entry = boss.input_value("#hit-save input[name=entry_id]")
    assert entry.isdigit() and boss.input_value("#hit-save select[name=expect]") == "answer"
    boss.click("button[data-action=save-regression]")
    boss.wait_for_url(env.base_url + "/admin/regression")
    assert boss.locator(".flash").inner_text().startswith("已加入回归集")
    assert "通过" in boss.inner_text("#reg-cases tbody tr.is-pass")
    boss.click("button[data-action=run-regressions]")
    boss.wait_for_load_state()
    assert boss.locator(".flash").inner_text() == "回归集已运行：通过 1，未通过 0"
    shots(boss, "tuning-02-regression-desktop")

    # Before archiving that entry: the saved question would break.
    boss.fill("#preview-form input[name=entry]", entry)
    boss.select_option("#preview-form select[name=action]", "archive")
    boss.click("#preview-form button[type=submit]")
    boss.wait_for_url(re.compile(r".*/admin/regression/preview\?entry=\d+.*"))
    assert "其中 1 个将由通过变为未通过" in boss.inner_text("#preview-verdict")
    shots(boss, "tuning-03-preview-desktop")

    # An evaluation file, then a threshold from the what-if table into the form.
    top = wx_assistant.respond(WAGES).candidates[0].external_id
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in [
        {"id": "wages", "query": WAGES, "relevant": [top], "expect": "answer"},
        {"id": "trial", "query": "试用期最长可以约定多久？", "expect": "answer"},
        {"id": "weather", "query": "今天天气怎么样", "expect": "decline"},
        {"id": "lawyer", "query": "我要找律师", "expect": "escalate"},
    ]), encoding="utf-8")
    boss.goto(env.base_url + "/admin/eval")
    boss.set_input_files("#eval-upload input[type=file]", str(cases))
    boss.click("button[data-action=run-eval]")
    boss.wait_for_url(re.compile(r".*/admin/eval\?run=\d+$"))
    assert boss.locator(".flash").inner_text() == "评测完成：cases.jsonl，共 4 题"
    assert "100.0%" in boss.inner_text("#eval-figures")
    boss.locator("#answer-table button[data-value='0.6']").click()
    assert boss.input_value("#th-answer") == "0.6"
    shots(boss, "tuning-04-eval-desktop")
    eval_url = boss.url

    phone = login(chromium, env, "boss", viewport=PHONE)
    for url, name in ((run_url, "tuning-05-hit-test-phone"), (env.base_url + "/admin/regression",
                                                              "tuning-06-regression-phone"),
                      (eval_url, "tuning-07-eval-phone")):
        phone.goto(url)
        no_sideways_scroll(phone)
        shots(phone, name)
    phone.goto(run_url)  # what a phone shows of the evidence, a screen at a time
    for section in ("#hit-result", "#hit-text", "#hit-candidates", "#hit-save", "#hit-history"):
        phone.evaluate(f"document.querySelector('{section}').scrollIntoView()")
        shots(phone, f"tuning-08-hit-test-phone-{section[5:]}", full_page=False)
    phone.goto(eval_url)
    for section in ("#eval-report", "#eval-whatif", "#thresholds"):
        phone.evaluate(f"document.querySelector('{section}').scrollIntoView()")
        shots(phone, f"tuning-09-eval-phone-{section[1:]}", full_page=False)
