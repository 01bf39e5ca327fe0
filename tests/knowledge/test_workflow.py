"""The review workflow and entry versions, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from api.settings import Settings
from assistant.service import open_store
from knowledge.entry import EntryData
from knowledge.settings import KnowledgeSettings
from knowledge.store import UpsertResult
from knowledge.taxonomy import Kind, Status
from knowledge.versions import Action, VersionNotFound, diff, get_version, history
from knowledge.workflow import ALLOWED, Actor, BadMove, SelfReview, Workflow

ALICE, BOB = Actor("alice"), Actor("bob")
OPERATOR = Actor("cli", operator=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kb(request, tmp_path):
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    store = open_store(Settings(data_dir=tmp_path / "data", database_url=url).storage)
    yield store
    store.engine.dispose()


def faq(answer: str = "先协商；协商不成可以起诉。", status: Status = Status.DRAFT) -> EntryData:
    return EntryData(kind=Kind.FAQ, external_id="wf1", category="房屋租赁", question="房东不退押金怎么办",
                     answer=answer, status=status)


def versions(store, entry_id):
    with store.session() as s:
        return history(s, entry_id)


def test_every_change_writes_a_version_with_its_author_and_action(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    kb.upsert(faq("改过的答案。"), author="alice")
    kb.upsert(faq("改过的答案。"), author="alice")  # unchanged: no version
    Workflow(kb, KnowledgeSettings()).submit(entry_id, ALICE)
    Workflow(kb, KnowledgeSettings()).publish(entry_id, BOB, "核对无误")
    Workflow(kb, KnowledgeSettings()).restore(entry_id, 1, BOB)
    rows = versions(kb, entry_id)
    assert [(v.version, v.action, v.author, v.status) for v in rows] == [
        (1, Action.CREATE, "alice", "draft"), (2, Action.EDIT, "alice", "draft"),
        (3, Action.STATUS, "alice", "in_review"), (4, Action.STATUS, "bob", "published"),
        (5, Action.RESTORE, "bob", "draft")]
    assert rows[3].reason == "核对无误"
    assert rows[1].content["answer"] == "改过的答案。" and "status" not in rows[1].content
    assert rows[4].pending  # restoring a published entry as a draft: its pending edit (knowledge.pending)
    assert (kb.get(entry_id).current_version, kb.get(entry_id).pending_version) == (4, 5)


def test_the_author_may_not_publish_their_own_entry(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    flow = Workflow(kb, KnowledgeSettings())
    flow.submit(entry_id, ALICE)
    with pytest.raises(SelfReview):
        flow.publish(entry_id, ALICE)
    assert kb.get(entry_id).status == Status.IN_REVIEW
    assert len(versions(kb, entry_id)) == 2  # the refused publish left nothing behind


def test_the_self_review_setting_lets_the_author_publish(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    flow = Workflow(kb, KnowledgeSettings(kb_allow_self_review=True))
    flow.submit(entry_id, ALICE)
    assert flow.publish(entry_id, ALICE).status is Status.PUBLISHED


def test_the_reviewer_rule_looks_at_who_wrote_the_content_last(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    kb.upsert(faq("鲍勃改写的答案。"), author="bob")
    flow = Workflow(kb, KnowledgeSettings())
    flow.submit(entry_id, ALICE)
    with pytest.raises(SelfReview):
        flow.publish(entry_id, BOB)
    assert flow.publish(entry_id, ALICE).status is Status.PUBLISHED


def test_a_draft_is_published_only_after_review_unless_by_the_operator(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    flow = Workflow(kb, KnowledgeSettings())
    with pytest.raises(BadMove):
        flow.publish(entry_id, BOB)
    change = flow.publish(entry_id, OPERATOR)
    assert change.status is Status.PUBLISHED
    assert "操作员直接发布" in versions(kb, entry_id)[-1].reason


def test_moves_outside_the_table_are_refused(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    flow = Workflow(kb, KnowledgeSettings())
    flow.archive(entry_id, ALICE)
    assert (Status.ARCHIVED, Status.IN_REVIEW) not in ALLOWED
    with pytest.raises(BadMove):
        flow.submit(entry_id, ALICE)
    with pytest.raises(BadMove):
        flow.archive(entry_id, ALICE)  # already archived


def test_publishing_and_archiving_bump_the_revision(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    flow = Workflow(kb, KnowledgeSettings())
    before = kb.revision()
    flow.publish(entry_id, OPERATOR)
    assert kb.revision() == before + 1
    flow.archive(entry_id, OPERATOR)
    assert kb.revision() == before + 2


def test_restore_brings_back_old_content_as_a_draft_or_published(kb):
    _, entry_id = kb.upsert(faq("第一版答案。", Status.PUBLISHED), author="alice")
    kb.upsert(faq("第二版答案。", Status.PUBLISHED), author="alice")
    flow = Workflow(kb, KnowledgeSettings())
    flow.archive(entry_id, BOB)  # (a published entry restored as a draft: test_pending_edits)
    assert flow.restore(entry_id, 1, BOB).status is Status.DRAFT
    entry = kb.get(entry_id)
    assert (entry.answer, entry.status) == ("第一版答案。", "draft")
    flow.restore(entry_id, 2, BOB, publish=True)
    entry = kb.get(entry_id)
    assert (entry.answer, entry.status) == ("第二版答案。", "published")
    assert entry.content_hash == faq("第二版答案。").content_hash()


def test_restoring_and_publishing_ones_own_version_needs_a_reviewer(kb):
    _, entry_id = kb.upsert(faq("第一版答案。"), author="alice")
    kb.upsert(faq("第二版答案。"), author="bob")
    with pytest.raises(SelfReview):
        Workflow(kb, KnowledgeSettings()).restore(entry_id, 1, ALICE, publish=True)
    with pytest.raises(VersionNotFound):
        Workflow(kb, KnowledgeSettings()).restore(entry_id, 9, OPERATOR)


def test_the_diff_shows_the_changed_fields_line_by_line(kb):
    _, entry_id = kb.upsert(faq("先协商。\n协商不成可以起诉。"), author="alice")
    kb.upsert(faq("先协商。\n协商不成可以申请调解或起诉。", Status.PUBLISHED), author="alice")
    with kb.session() as s:
        changes = diff(get_version(s, entry_id, 1), get_version(s, entry_id, 2))
    assert [c.field for c in changes] == ["answer", "status"]
    assert "-协商不成可以起诉。" in changes[0].lines and "+协商不成可以申请调解或起诉。" in changes[0].lines
    assert " 先协商。" in changes[0].lines


def test_save_edits_an_entry_by_id_and_refuses_another_kind(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    assert kb.save(entry_id, faq("新答案。"), author="bob", reason="更正") is UpsertResult.UPDATED
    assert versions(kb, entry_id)[-1].reason == "更正"
    article = EntryData(kind=Kind.ARTICLE, law="民法典", article_no=1, text="为了保护……")
    with pytest.raises(ValueError):
        kb.save(entry_id, article, author="bob")


def test_an_entry_is_named_by_id_or_external_id(kb):
    _, entry_id = kb.upsert(faq(), author="alice")
    assert kb.resolve(str(entry_id)).id == entry_id
    assert kb.resolve("wf1").id == entry_id
    with pytest.raises(LookupError):
        kb.resolve("no-such-entry")
