"""The pending edit of a published entry on the console pages: while it waits for review the
assistant keeps answering with the published text; a second admin publishes it from the entry
page (or it is sent back or discarded); the review list and the history show it for what it
is; archiving drops it.  Each test changes its own copy of the knowledge base (``kb_console``):
a seed FAQ the assistant answers with its own question."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from assistant.outcome import Decision
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.store import KnowledgeStore, to_data
from knowledge.validation import form_values
from tests.api.console.test_kb_pages import admin, versions_of
from tests.helpers import Console, flash_of, post

WAGES = "公司拖欠工资不发，我该怎么办？"  # a seed FAQ's own question: answered with it
ADDED = "（另：申请劳动仲裁的时效期间为一年。）"


def kb_store(console: Console) -> KnowledgeStore:
    return console.app.state.store


def wages_entry(console: Console) -> Entry:
    """The seed FAQ the assistant answers ``WAGES`` with, the articles it cites loaded (so its
    edit form passes the citation check)."""
    console.assistant.refresh()
    outcome = console.assistant.respond(WAGES)
    assert outcome.decision is Decision.ANSWER
    entry = kb_store(console).get(outcome.answered_entry_id)
    for c in to_data(entry).citations:
        kb_store(console).upsert(EntryData(kind="article", law=c.law, article_no=c.article, text=f"{c.law}条文。",
                                           external_id=f"test-{c.law}-{c.article}"))
    return kb_store(console).get(entry.id)


def edit(client: TestClient, entry: Entry, intent: str = "review", **changes) -> str:
    """Save the entry's edit form with ``changes`` (from the entry's published values)."""
    values = form_values(to_data(entry)) | {"answer": entry.answer + ADDED} | changes
    return flash_of(post(client, f"/admin/kb/{entry.id}/edit", f"/admin/kb/{entry.id}/edit",
                         **(values | {"intent": intent, "reason": "补充仲裁时效"})))


def act(client: TestClient, entry_id: int, target: str, reason: str = "") -> str:
    """A button of the pending edit on the entry page (with the version the page shows)."""
    page = client.get(f"/admin/kb/{entry_id}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return flash_of(post(client, f"/admin/kb/{entry_id}/pending", f"/admin/kb/{entry_id}", target=target,
                         version=version, reason=reason))


def answer_now(console: Console) -> str:
    console.assistant.refresh()
    outcome = console.assistant.respond(WAGES)
    assert outcome.decision is Decision.ANSWER
    return "".join(outcome.messages)


def test_while_an_edit_waits_for_review_the_assistant_answers_with_the_published_text(kb_console):
    entry = wages_entry(kb_console)
    assert "已提交审核" in edit(admin(kb_console), entry)
    kb_console.assistant.refresh()
    outcome = kb_console.assistant.respond(WAGES)
    assert outcome.decision is Decision.ANSWER and outcome.answered_entry_id == entry.id
    assert outcome.answered_entry_version == entry.current_version  # the published text's version
    assert entry.answer[:30] in "".join(outcome.messages) and ADDED not in "".join(outcome.messages)


def test_the_author_cannot_publish_their_edit_and_once_a_second_admin_does_the_assistant_answers_with_it(
        kb_console):
    entry = wages_entry(kb_console)
    author = admin(kb_console)
    edit(author, entry)
    assert act(author, entry.id, "published") == "不能审核发布自己编写的修改，请由另一位管理员审核"
    assert ADDED not in answer_now(kb_console)
    done = act(admin(kb_console, "li", "李主任"), entry.id, "published", "核对无误")
    assert done.startswith("修改已发布，居民现在看到新的内容")
    assert ADDED in answer_now(kb_console)
    live = kb_store(kb_console).get(entry.id)
    assert (live.status, live.pending_version) == ("published", None)
    last = versions_of(kb_console, entry.id)[-1]
    assert (last.action, last.author, last.reason, last.version) == ("apply_edit", "li", "核对无误",
                                                                     live.current_version)


def test_discarding_an_edit_leaves_the_published_text(kb_console):
    entry = wages_entry(kb_console)
    browser = admin(kb_console)
    edit(browser, entry)
    assert act(admin(kb_console, "li", "李主任"), entry.id, "discard").startswith("已放弃这项修改")
    assert ADDED not in answer_now(kb_console)
    after = kb_store(kb_console).get(entry.id)
    assert (after.answer, after.pending_version) == (entry.answer, None)
    assert 'id="kb-pending"' not in browser.get(f"/admin/kb/{entry.id}").text


def test_a_sent_back_edit_is_a_draft_again_and_the_published_text_stays(kb_console):
    entry = wages_entry(kb_console)
    edit(admin(kb_console), entry)
    assert act(admin(kb_console, "li", "李主任"), entry.id, "draft", "请补充依据").startswith("修改已退回为草稿")
    page = admin(kb_console, "zhao", "赵主任").get(f"/admin/kb/{entry.id}").text
    section = page[page.index('id="kb-pending"'):page.index('id="kb-content"')]
    assert 'data-action="pending-in_review"' in section and 'data-action="pending-published"' not in section
    assert kb_store(kb_console).get(entry.id).answer == entry.answer


def test_the_entry_page_shows_the_edit_side_by_side_with_the_published_text(kb_console):
    entry = wages_entry(kb_console)
    browser = admin(kb_console)
    edit(browser, entry)
    page = browser.get(f"/admin/kb/{entry.id}").text
    section = page[page.index('id="kb-pending"'):page.index('id="kb-content"')]
    assert "居民目前仍收到已发布的内容" in section and "<h3>答案</h3>" in section
    assert f"已发布（第 {entry.current_version} 版）" in section and "<h3>状态</h3>" not in section
    assert f"<ins>{ADDED}</ins>" in section
    assert "您是这项修改的作者，需由另一位管理员审核发布" in section
    content = page[page.index('id="kb-content"'):]
    assert ADDED not in content[:content.index("</section>")]  # the published text, as residents get it


def test_editing_again_continues_the_pending_edit_and_an_old_form_is_refused(kb_console):
    entry = wages_entry(kb_console)
    browser = admin(kb_console)
    edit(browser, entry, intent="draft")
    form = browser.get(f"/admin/kb/{entry.id}/edit").text
    assert "您在编辑待审核的修改" in form and ADDED in form  # the form holds the edit, not the published text
    pending = kb_store(kb_console).get(entry.id).pending_version
    assert f'name="base_version" value="{pending}"' in form
    stale = browser.post(f"/admin/kb/{entry.id}/edit", data={
        **form_values(to_data(entry)), "answer": "另一种改法。", "intent": "draft",
        "base_version": str(entry.current_version), "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                                             form).group(1)})
    assert stale.status_code == 400 and f"该条目已被修改（现为第 {pending} 版）" in stale.text
    again = edit(browser, entry, intent="draft", answer=entry.answer + ADDED + "（再补充）",
                 base_version=str(pending))
    assert again.startswith(f"已保存为待审核的修改（第 {pending + 1} 版，草稿）")
    assert kb_store(kb_console).get(entry.id).answer == entry.answer


def test_the_review_list_shows_the_pending_edit_labelled_apart_from_new_entries(kb_console):
    entry = wages_entry(kb_console)
    edit(admin(kb_console), entry)
    page = admin(kb_console, "li", "李主任").get("/admin/review").text
    waiting = page[page.index('id="review-waiting"'):page.index('id="review-drafts"')]
    row = waiting[waiting.index(f'href="/admin/kb/{entry.id}#kb-pending"'):]
    row = row[:row.index("</li>")]
    assert "修改已发布的条目" in row and f"仍在线：第 {entry.current_version} 版" in row and "作者：王主任" in row
    assert "其中 1 条是已发布条目的修改" in page


def test_history_lists_the_pending_versions_as_pending_edits(kb_console):
    entry = wages_entry(kb_console)
    browser = admin(kb_console)
    edit(browser, entry)
    page = browser.get(f"/admin/kb/{entry.id}").text
    history = page[page.index('id="kb-versions"'):]
    edit_no, submit_no = entry.current_version + 1, entry.current_version + 2
    for number in (edit_no, submit_no):
        assert re.search(rf'<li class="kb-version is-pending" id="v{number}">\s*<div class="kb-version-head">\s*'
                         rf'<strong>第 {number} 版</strong>\s*<span class="tag tag-pending">待审核的修改</span>',
                         history), number
    current = history[history.index(f'id="v{entry.current_version}"'):]
    assert "待审核的修改" not in current[:current.index("</li>")] and "当前" in current[:current.index("</li>")]
    assert f"?old={entry.current_version}&amp;new={edit_no}#diff" in history  # the edit against the text


def test_archiving_an_entry_with_a_pending_edit_discards_the_edit_and_records_it(kb_console):
    entry = wages_entry(kb_console)
    browser = admin(kb_console)
    edit(browser, entry)
    assert "撤回为草稿或归档会放弃待审核的修改" in browser.get(f"/admin/kb/{entry.id}").text
    flash = flash_of(post(browser, f"/admin/kb/{entry.id}/move", f"/admin/kb/{entry.id}", target="archived"))
    assert flash.startswith("已归档")
    archived = kb_store(kb_console).get(entry.id)
    assert (archived.status, archived.answer, archived.pending_version) == ("archived", entry.answer, None)
    last = versions_of(kb_console, entry.id)[-1]
    assert f"待审核的修改第 {entry.current_version + 2} 版已放弃" in last.reason
    page = browser.get(f"/admin/kb/{entry.id}").text
    history = page[page.index('id="kb-versions"'):]
    assert 'id="kb-pending"' not in page and "补充仲裁时效" in history  # gone from the page, kept in the history
