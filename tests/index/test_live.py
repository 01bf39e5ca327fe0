"""The live index: knowledge-base changes reach search incrementally, without downtime."""
import numpy as np
import pytest

from index.bm25 import BM25Index
from index.live import LiveIndex
from index.retriever import LoadedIndex, Mode
from index.segment import Segmenter
from knowledge.entry import EntryData
from knowledge.taxonomy import Kind, Status
from tests.helpers import wait_until
from tests.index.test_index import ENTRIES, CountingEmbedder

DEPOSIT = EntryData(kind=Kind.FAQ, external_id="deposit", category="房屋租赁",
                    question="房东不退押金怎么办", alt_questions=["租房押金要不回来"],
                    answer="先协商，协商不成可起诉。")


@pytest.fixture
def live(store, tmp_path):
    store.upsert_many(ENTRIES)
    emb = CountingEmbedder()
    return LiveIndex(store, emb, Segmenter().load(), tmp_path / "index", tmp_path / "cache").load(
        lambda _m: None, show_progress=False)


def ids(live, query: str, k: int = 5, mode: Mode = Mode.HYBRID) -> list[str]:
    return [h.doc.external_id for h in live.retriever.search(query, k=k, mode=mode).hits]


def test_a_published_entry_is_found_after_a_sync_embedding_only_its_passages(live, store):
    before = live.embedder.embedded
    store.upsert(DEPOSIT)
    assert live.sync().added == 1
    assert ids(live, "押金不退")[0] == "deposit"
    assert live.embedder.embedded == before + 2  # its question and its one alternative


def test_an_archived_entry_leaves_search(live, store):
    wage = store.find("faq", "wage")
    store.set_status(wage.id, Status.ARCHIVED)
    assert live.sync().removed == 1
    assert "wage" not in ids(live, "老板不发工资怎么办", k=10)
    assert len(live.retriever.index.docs) == 2


def test_an_edited_entry_is_matched_by_its_new_text_only(live, store):
    wage = store.find("faq", "wage")
    store.upsert(EntryData(kind=Kind.FAQ, external_id="wage", category="劳动争议",
                           question="单位不交社保怎么办", answer="可以向社保经办机构投诉。"))
    live.sync()
    assert ids(live, "单位不交社保")[0] == "wage"
    assert "wage" not in ids(live, "拖欠工资", mode=Mode.BM25)
    assert [d.entry_id for d in live.retriever.index.docs].count(wage.id) == 1


def test_a_sync_without_changes_keeps_the_same_snapshot(live):
    snapshot = live.retriever
    assert not live.sync().changed
    assert live.retriever is snapshot


def test_a_query_on_the_snapshot_it_started_with_is_not_disturbed_by_a_sync(live, store):
    snapshot = live.retriever
    store.set_status(store.find("faq", "wage").id, Status.ARCHIVED)
    live.sync()
    assert snapshot.search("老板不发工资怎么办").hits[0].doc.external_id == "wage"
    assert live.retriever is not snapshot


def test_a_draft_from_another_draft_of_the_store_is_not_indexed(live, store):
    store.upsert(DEPOSIT.model_copy(update={"status": Status.DRAFT}))
    live.sync()
    assert "deposit" not in ids(live, "押金不退")


def test_a_preview_includes_a_draft_and_leaves_the_live_index_alone(live, store):
    _, draft = store.upsert(DEPOSIT.model_copy(update={"status": Status.DRAFT}))
    wage = store.find("faq", "wage").id
    preview = live.preview(publish=[draft], remove=[wage])
    assert preview.search("押金不退").hits[0].doc.external_id == "deposit"
    assert all(h.doc.external_id != "wage" for h in preview.search("老板不发工资", k=10).hits)
    assert "deposit" not in ids(live, "押金不退")
    assert ids(live, "老板不发工资")[0] == "wage"


def test_loading_after_changes_made_elsewhere_updates_incrementally_and_saves(live, store, tmp_path):
    store.upsert(DEPOSIT)  # e.g. `fazhi kb publish` while this process was down
    emb = CountingEmbedder()
    again = LiveIndex(store, emb, live.segmenter, tmp_path / "index", tmp_path / "cache").load(
        lambda _m: None, show_progress=False)
    assert again.retriever.search("押金不退").hits[0].doc.external_id == "deposit"
    assert emb.embedded == 2  # the new entry's passages; the rest came from the index
    assert LoadedIndex.load(tmp_path / "index").manifest.kb_revision == store.revision()


def test_a_background_rebuild_swaps_in_a_full_index_while_queries_go_on(live, store):
    store.upsert(DEPOSIT)
    live.sync()
    assert live.status().changes_since_build == 1
    assert live.start_rebuild()
    assert ids(live, "押金不退")[0] == "deposit"  # answered while it runs
    rebuild = live.wait_rebuild(60)
    assert rebuild is not None and not rebuild.running and rebuild.error is None
    status = live.status()
    assert status.changes_since_build == 0 and status.revision == store.revision()
    assert ids(live, "押金不退")[0] == "deposit"


def test_enough_incremental_changes_start_a_full_rebuild(store, tmp_path):
    store.upsert_many(ENTRIES)
    live = LiveIndex(store, CountingEmbedder(), Segmenter().load(), tmp_path / "index",
                     tmp_path / "cache", rebuild_after=2).load(lambda _m: None, show_progress=False)
    store.upsert(DEPOSIT)
    store.set_status(store.find("faq", "wage").id, Status.ARCHIVED)
    live.sync()
    wait_until(lambda: live.status().rebuild is not None and not live.status().rebuild.running,
               timeout_s=60)
    assert live.status().changes_since_build == 0


def test_bm25_rows_removed_and_added_back_score_as_before():
    docs = [["工资", "拖欠"], ["离婚", "冷静期"], ["押金", "租房", "押金"]]
    full = BM25Index.build(docs)
    again = full.replaced(np.array([True, False, True]), []).replaced(np.ones(2, dtype=bool), [docs[1]])
    for query in (["离婚"], ["押金", "工资"]):
        before, best = full.score(query)
        after, best_after = again.score(query)
        assert best == pytest.approx(best_after)
        assert after[[0, 2, 1]] == pytest.approx(before)  # the re-added row comes last


def test_a_preview_of_publishing_an_entry_with_a_pending_edit_uses_the_edit(live, store):
    from knowledge.settings import KnowledgeSettings
    from knowledge.workflow import Actor, Workflow

    wage = store.find("faq", "wage")
    edited = EntryData(kind=Kind.FAQ, external_id="wage", category="劳动争议", question="单位不交社保怎么办",
                       answer="可以向社保经办机构投诉，并要求补缴滞纳金。")
    Workflow(store, KnowledgeSettings()).edit(wage.id, edited, Actor("editor"), base_version=wage.current_version)
    live.sync()
    assert ids(live, "滞纳金", mode=Mode.BM25) == []  # the published text is still the old one
    preview = live.preview(publish=[wage.id])
    assert [h.doc.external_id for h in preview.search("滞纳金", mode=Mode.BM25).hits] == ["wage"]
