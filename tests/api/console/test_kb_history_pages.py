"""The entry page's history: every version with who, when and why, side-by-side diffs, and
restoring an old version as a draft or published."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.console.test_kb_pages import (
    ANSWER,
    FAQ,
    add_article,
    admin,
    create,
    kb_store,
    move,
    versions_of,
)
from tests.helpers import Console, flash_of, post


def _two_versions(console: Console) -> tuple[int, TestClient, TestClient]:
    """An entry published as v3 (A wrote it, B published it), then edited by A (the pending
    edit v4, submitted as v5) and the edit published by B as v6."""
    add_article(console)
    a, b = admin(console), admin(console, "li", "李主任")
    entry_id = create(a, intent="review")
    move(b, entry_id, "published")
    post(a, f"/admin/kb/{entry_id}/edit", f"/admin/kb/{entry_id}/edit",
         **(FAQ | {"answer": ANSWER.replace("合理要求", "合理的增加要求"), "intent": "review", "reason": "措辞"}))
    post(b, f"/admin/kb/{entry_id}/pending", f"/admin/kb/{entry_id}", target="published", version="5")
    return entry_id, a, b


def test_history_shows_every_version_and_the_diff_shows_the_changed_text(kb_console):
    entry_id, a, _b = _two_versions(kb_console)
    page = a.get(f"/admin/kb/{entry_id}").text
    history = page[page.index('id="kb-versions"'):]
    actions = ["新建", "状态变更", "状态变更", "修改", "状态变更", "发布修改"]
    pending = '<span class="tag tag-pending">待审核的修改</span>'
    for number, action in enumerate(actions, start=1):
        mark = rf"{pending}\s*" if number in (4, 5) else ""  # the pending edit's two versions
        assert re.search(rf'id="v{number}">\s*<div class="kb-version-head">\s*<strong>第 {number} 版</strong>\s*'
                         rf'{mark}<span class="tag">{action}</span>', history, re.S), number
    assert "王主任" in history and "李主任" in history and "措辞" in history
    diff = a.get(f"/admin/kb/{entry_id}?old=3&new=4").text
    section = diff[diff.index('id="diff"'):]
    assert "<h3>答案</h3>" in section and "<h3>状态</h3>" in section
    assert "<ins>的增加</ins>" in section  # the characters that changed, marked on the new side
    assert "合理要求" in section and "合理</del>" not in section


def test_restoring_a_published_entry_as_a_draft_makes_the_old_text_its_pending_edit(kb_console):
    entry_id, _a, b = _two_versions(kb_console)
    published = kb_store(kb_console).get(entry_id).answer
    html = post(b, f"/admin/kb/{entry_id}/restore", f"/admin/kb/{entry_id}", version="1", mode="draft",
                reason="新措辞不准确")
    assert flash_of(html).startswith("第 1 版已恢复为待审核的修改（草稿）：居民仍看到已发布的内容")
    entry = kb_store(kb_console).get(entry_id)
    assert (entry.status, entry.answer, entry.current_version, entry.pending_version) == (
        "published", published, 6, 7)
    last = versions_of(kb_console, entry_id)[-1]
    assert (last.action, last.author, last.reason, last.pending, last.content["answer"]) == (
        "restore", "li", "新措辞不准确", True, ANSWER)


def test_restoring_and_publishing_needs_someone_other_than_the_versions_author(kb_console):
    entry_id, a, b = _two_versions(kb_console)
    refused = post(a, f"/admin/kb/{entry_id}/restore", f"/admin/kb/{entry_id}", version="1", mode="publish")
    assert flash_of(refused) == "不能审核发布自己编写的条目，请由另一位管理员审核"
    html = post(b, f"/admin/kb/{entry_id}/restore", f"/admin/kb/{entry_id}", version="1", mode="publish")
    assert flash_of(html).startswith("第 1 版已恢复并发布")
    entry = kb_store(kb_console).get(entry_id)
    assert (entry.status, entry.answer) == ("published", ANSWER)
