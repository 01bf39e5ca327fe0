"""Pending edits (knowledge.pending, knowledge.workflow): an edit of a published entry waits
for review while the entry keeps its published text, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from api.settings import Settings
from assistant.service import open_store
from knowledge.entry import EntryData
from knowledge.pending import head, pending_edit, waiting
from knowledge.settings import KnowledgeSettings
from knowledge.store import UpsertResult
from knowledge.taxonomy import Kind, Status
from knowledge.versions import Action, content_author, history
from knowledge.workflow import Actor, BadMove, NoPendingEdit, SelfReview, StaleEdit, Workflow

ALICE, BOB = Actor("alice"), Actor("bob")
OPERATOR = Actor("cli", operator=True)
LIVE = "先协商；协商不成可以起诉。"
NEW = "先协商；协商不成可以申请调解、仲裁或起诉。"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kb(request, tmp_path):
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    store = open_store(Settings(data_dir=tmp_path / "data", database_url=url).storage)
    yield store
    store.engine.dispose()


def faq(answer: str = LIVE, status: Status = Status.PUBLISHED) -> EntryData:
    return EntryData(kind=Kind.FAQ, external_id="pe1", category="房屋租赁", question="房东不退押金怎么办",
                     answer=answer, status=status)


def flow(kb, self_review: bool = False) -> Workflow:
    return Workflow(kb, KnowledgeSettings(kb_allow_self_review=self_review))


def published(kb) -> int:
    """An entry alice wrote and bob published (v1 draft, v2 in review, v3 published)."""
    _, entry_id = kb.upsert(faq(status=Status.DRAFT), author="alice")
    flow(kb).submit(entry_id, ALICE)
    flow(kb).publish(entry_id, BOB)
    return entry_id


def edited(kb, answer: str = NEW, by: Actor = ALICE) -> int:
    """``published`` with an edit by ``by`` waiting (v4)."""
    entry_id = published(kb)
    flow(kb).edit(entry_id, faq(answer, Status.DRAFT), by, "补充仲裁")
    return entry_id


def the_edit(kb, entry_id):
    with kb.session() as s:
        return pending_edit(s, kb.get(entry_id))


def versions(kb, entry_id):
    with kb.session() as s:
        return history(s, entry_id)


def test_editing_a_published_entry_keeps_its_text_and_status_and_saves_a_pending_draft(kb):
    entry_id = published(kb)
    revision = kb.revision()
    result = flow(kb).edit(entry_id, faq(NEW, Status.DRAFT), ALICE, "补充仲裁")
    entry = kb.get(entry_id)
    assert result.result is UpsertResult.UPDATED and result.change.pending
    assert (entry.status, entry.answer, entry.current_version, entry.pending_version) == ("published", LIVE, 3, 4)
    assert entry.content_hash == faq().content_hash()  # what the index syncs on
    assert kb.published_hashes()[entry_id] == faq().content_hash()
    last = versions(kb, entry_id)[-1]
    assert (last.version, last.pending, last.status, last.action, last.author) == (4, True, "draft", "edit", "alice")
    assert last.content["answer"] == NEW
    assert kb.revision() == revision + 1


def test_editing_again_writes_a_new_snapshot_of_the_same_pending_edit(kb):
    entry_id = edited(kb)
    flow(kb).move_edit(entry_id, Status.IN_REVIEW, ALICE)
    flow(kb).edit(entry_id, faq(NEW + "（更正）", Status.DRAFT), BOB, "更正", base_version=5)
    edit = the_edit(kb, entry_id)
    assert (edit.version, edit.status, edit.author, edit.data.answer) == (6, Status.DRAFT, "bob", NEW + "（更正）")
    assert [v.version for v in versions(kb, entry_id) if v.pending] == [4, 5, 6]
    assert kb.get(entry_id).answer == LIVE


def test_an_unchanged_edit_of_the_pending_edit_writes_nothing(kb):
    entry_id = edited(kb)
    again = flow(kb).edit(entry_id, faq(NEW, Status.DRAFT), BOB)
    assert again.result is UpsertResult.UNCHANGED and again.change.version == 4
    assert len(versions(kb, entry_id)) == 4


def test_an_edit_made_on_an_older_version_is_refused(kb):
    entry_id = edited(kb)
    with pytest.raises(StaleEdit):
        flow(kb).edit(entry_id, faq("另一种改法。", Status.DRAFT), BOB, base_version=3)
    assert the_edit(kb, entry_id).data.answer == NEW


def test_the_edits_author_cannot_publish_it_and_a_second_admin_can(kb):
    entry_id = edited(kb)
    flow(kb).move_edit(entry_id, Status.IN_REVIEW, ALICE, "请审核")
    with pytest.raises(SelfReview, match="自己编写的修改"):
        flow(kb).move_edit(entry_id, Status.PUBLISHED, ALICE)
    assert kb.get(entry_id).answer == LIVE
    revision = kb.revision()
    change = flow(kb).move_edit(entry_id, Status.PUBLISHED, BOB, "核对无误")
    entry = kb.get(entry_id)
    assert (change.version, change.status, change.pending) == (6, Status.PUBLISHED, False)
    assert (entry.status, entry.answer, entry.current_version, entry.pending_version) == ("published", NEW, 6, None)
    assert entry.content_hash == faq(NEW).content_hash()
    last = versions(kb, entry_id)[-1]
    assert (last.action, last.author, last.reason, last.pending, last.status) == (
        "apply_edit", "bob", "核对无误", False, "published")
    assert kb.revision() == revision + 1


def test_the_self_review_setting_lets_the_author_publish_their_edit(kb):
    entry_id = edited(kb)
    flow(kb, self_review=True).move_edit(entry_id, Status.IN_REVIEW, ALICE)
    assert flow(kb, self_review=True).move_edit(entry_id, Status.PUBLISHED, ALICE).status is Status.PUBLISHED
    assert kb.get(entry_id).answer == NEW


def test_a_draft_edit_is_published_only_after_review_unless_by_the_operator(kb):
    entry_id = edited(kb)
    with pytest.raises(BadMove):
        flow(kb).move_edit(entry_id, Status.PUBLISHED, BOB)
    change = flow(kb).publish(entry_id, OPERATOR)  # `fazhi kb publish` of an entry with an edit waiting
    assert change.status is Status.PUBLISHED and kb.get(entry_id).answer == NEW
    assert "操作员直接发布" in versions(kb, entry_id)[-1].reason


def test_a_published_edit_counts_as_written_by_its_author_not_its_reviewer(kb):
    entry_id = edited(kb, by=BOB)
    flow(kb).move_edit(entry_id, Status.IN_REVIEW, BOB)
    flow(kb).move_edit(entry_id, Status.PUBLISHED, ALICE)
    with kb.session() as s:
        assert content_author(s, entry_id) == "bob"
        assert content_author(s, entry_id, up_to=3) == "alice"


def test_sending_an_edit_back_returns_it_to_draft(kb):
    entry_id = edited(kb)
    flow(kb).move_edit(entry_id, Status.IN_REVIEW, ALICE)
    change = flow(kb).move_edit(entry_id, Status.DRAFT, BOB, "引用要改")
    assert change.pending and the_edit(kb, entry_id).status is Status.DRAFT
    assert versions(kb, entry_id)[-1].reason == "引用要改"


def test_discarding_an_edit_leaves_the_published_text_and_records_it(kb):
    entry_id = edited(kb)
    change = flow(kb).discard_edit(entry_id, BOB, "不需要改")
    entry = kb.get(entry_id)
    assert (entry.status, entry.answer, entry.pending_version, entry.current_version) == ("published", LIVE, None, 5)
    last = versions(kb, entry_id)[-1]
    assert (change.version, last.action, last.pending, last.content["answer"]) == (5, "discard", False, LIVE)
    with pytest.raises(NoPendingEdit):
        flow(kb).discard_edit(entry_id, BOB)


@pytest.mark.parametrize("target", [Status.ARCHIVED, Status.DRAFT])
def test_taking_an_entry_out_of_published_drops_its_edit_and_says_so(kb, target):
    entry_id = edited(kb)
    flow(kb).move(entry_id, target, BOB)
    entry = kb.get(entry_id)
    assert (entry.status, entry.answer, entry.pending_version) == (target.value, LIVE, None)
    rows = versions(kb, entry_id)
    assert "待审核的修改第 4 版已放弃" in rows[-1].reason
    assert rows[3].pending and rows[3].content["answer"] == NEW  # the edit stays in the history


def test_an_import_that_unpublishes_an_entry_drops_its_edit(kb):
    entry_id = edited(kb)
    kb.upsert(faq("导入的答案。"), author="cli")  # still published: the edit waits on
    assert kb.get(entry_id).pending_version == 4
    kb.upsert(faq("导入的答案。", Status.DRAFT), author="cli")
    assert kb.get(entry_id).pending_version is None
    assert "待审核的修改第 4 版已放弃" in versions(kb, entry_id)[-1].reason


def test_restoring_a_published_entry_as_a_draft_makes_the_old_text_its_pending_edit(kb):
    entry_id = edited(kb)
    change = flow(kb).restore(entry_id, 1, BOB)
    entry = kb.get(entry_id)
    assert (change.pending, change.version) == (True, 5)
    assert (entry.status, entry.answer, entry.pending_version) == ("published", LIVE, 5)
    edit = the_edit(kb, entry_id)
    assert (edit.status, edit.author, edit.data.answer) == (Status.DRAFT, "bob", LIVE)
    assert versions(kb, entry_id)[-1].action == Action.RESTORE


def test_restoring_and_publishing_replaces_the_text_and_drops_the_edit(kb):
    entry_id = edited(kb)
    flow(kb).restore(entry_id, 1, OPERATOR, publish=True)
    entry = kb.get(entry_id)
    assert (entry.status, entry.answer, entry.pending_version, entry.current_version) == ("published", LIVE, None, 5)
    assert "待审核的修改第 4 版已放弃" in versions(kb, entry_id)[-1].reason


def test_restoring_a_pending_snapshot_checks_the_author_of_that_edit(kb):
    entry_id = edited(kb, by=BOB)
    flow(kb).discard_edit(entry_id, ALICE)
    with pytest.raises(SelfReview):
        flow(kb).restore(entry_id, 4, BOB, publish=True)
    flow(kb).restore(entry_id, 4, ALICE, publish=True)
    assert kb.get(entry_id).answer == NEW


def test_a_draft_is_still_edited_in_place(kb):
    _, entry_id = kb.upsert(faq(status=Status.DRAFT), author="alice")
    result = flow(kb).edit(entry_id, faq(NEW, Status.DRAFT), BOB)
    entry = kb.get(entry_id)
    assert not result.change.pending and (entry.answer, entry.pending_version, entry.current_version) == (NEW, None, 2)


def test_the_waiting_list_holds_published_entries_whose_edit_is_in_review(kb):
    entry_id = edited(kb)
    with kb.session() as s:
        assert waiting(s, Status.IN_REVIEW) == [] and [e.id for e, _v in waiting(s)] == [entry_id]
    flow(kb).move_edit(entry_id, Status.IN_REVIEW, ALICE)
    with kb.session() as s:
        [(entry, version)] = waiting(s, Status.IN_REVIEW)
        assert (entry.id, version.version, head(entry)) == (entry_id, 5, 5)


def test_downgrading_the_migration_drops_the_edits_still_waiting(kb):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from knowledge.db import MIGRATIONS_DIR, migrate

    done = edited(kb)
    flow(kb).discard_edit(done, BOB)  # v4 pending, then v5 the text: v4 stays
    kb.upsert(faq().model_copy(update={"external_id": "pe2"}), author="alice")
    waiting_id = kb.find("faq", "pe2").id
    flow(kb).edit(waiting_id, faq(NEW, Status.DRAFT).model_copy(update={"external_id": "pe2"}), ALICE)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with kb.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011_feedback_learning")
        rows = conn.execute(text("SELECT entry_id, max(version) FROM kb_entry_versions GROUP BY entry_id"))
        numbers = {entry_id: number for entry_id, number in rows}
    migrate(kb.engine)
    assert numbers[done] == 5 and numbers[waiting_id] == 1
