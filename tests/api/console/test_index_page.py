"""The search index page (/admin/index), and a serving app keeping its search current."""
from __future__ import annotations

from knowledge.entry import EntryData
from knowledge.taxonomy import Kind, Status
from tests.helpers import flash_of, post, wait_until

NEW = EntryData(kind=Kind.FAQ, external_id="index-page-test", category="消费维权",
                question="健身房老板跑路了预付的会员费怎么要回来",
                answer="可以向市场监管部门投诉，也可以起诉要求退还剩余费用。", status=Status.PUBLISHED)


def test_the_index_page_shows_the_revision_search_reflects(kb_console):
    kb_console.add("boss", role="admin")
    html = kb_console.login("boss").get("/admin/index").text
    revision = kb_console.assistant.index.status().revision
    assert "对应知识库版本" in html and f"<dd>{revision}</dd>" in html


def test_a_lawyer_may_not_see_or_rebuild_the_index(kb_console):
    kb_console.add("zhang")
    lawyer = kb_console.login("zhang")
    assert lawyer.get("/admin/index").status_code == 403
    assert lawyer.post("/admin/index/rebuild", data={"csrf_token": "x"}).status_code == 403


def test_an_admin_starts_a_full_rebuild_and_sees_it_finish(kb_console):
    kb_console.add("boss", role="admin")
    admin = kb_console.login("boss")
    assert flash_of(post(admin, "/admin/index/rebuild", "/admin/index")) == "已开始全量重建索引，期间检索照常进行"
    live = kb_console.assistant.index
    wait_until(lambda: not live.status().rebuild.running, timeout_s=120, what="the rebuild")
    assert live.status().rebuild.error is None
    assert "已完成" in admin.get("/admin/index").text


def test_a_change_committed_elsewhere_reaches_the_running_app_without_a_restart(kb_console):
    store = kb_console.assistant.store
    store.upsert(NEW, author="cli", reason="另一进程发布")  # as `fazhi kb publish` would

    def found() -> bool:
        hits = kb_console.assistant.retriever.search(NEW.question, k=3).hits
        return bool(hits) and hits[0].doc.external_id == NEW.external_id

    wait_until(found, timeout_s=30, what="the sync loop applying the change")
