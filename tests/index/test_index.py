"""Index build, round trip, filters, staleness, corruption and the vector cache."""
import json

import numpy as np
import pytest

from index.builder import build_index
from index.embedder import HashingEmbedder
from index.live import LiveIndex
from index.retriever import LoadedIndex, Mode, Retriever
from index.segment import Segmenter
from index.storage import IndexMissing, current_dir, read_manifest
from knowledge.entry import EntryData
from knowledge.taxonomy import Kind, Status


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def encode_passages(self, texts, progress=None):
        self.embedded += len(texts)
        return super().encode_passages(texts, progress)


ENTRIES = [
    EntryData(kind=Kind.FAQ, external_id="wage", category="劳动争议", question="公司拖欠工资怎么办",
              alt_questions=["老板不发工资"], answer="可以向劳动保障监察机构投诉或申请劳动仲裁。"),
    EntryData(kind=Kind.FAQ, external_id="divorce", category="婚姻家庭", question="离婚冷静期是多久",
              answer="协议离婚的冷静期为三十日。"),
    EntryData(kind=Kind.ARTICLE, external_id="民法典#1077", law="民法典", article_no=1077,
              text="自婚姻登记机关收到离婚登记申请之日起三十日内，任何一方不愿意离婚的，可以撤回离婚登记申请。",
              category="婚姻家庭"),
    EntryData(kind=Kind.FAQ, external_id="draft", category="其他", question="草稿里的工资问题",
              answer="草稿", status=Status.DRAFT),
]


@pytest.fixture
def built(store, tmp_path):
    store.upsert_many(ENTRIES)
    emb, seg = CountingEmbedder(), Segmenter().load()
    index_dir, cache = tmp_path / "index", tmp_path / "cache"
    build_index(store, emb, seg, index_dir, cache, show_progress=False)
    return store, emb, seg, index_dir, cache


def test_index_round_trip_finds_published_entries_only(built):
    store, emb, seg, index_dir, _ = built
    index = LoadedIndex.load(index_dir)
    assert index.manifest.entry_count == 3
    assert index.manifest.model == "hashing" and index.manifest.dimension == emb.dim
    assert index.manifest.kb_revision == store.revision()
    retriever = Retriever(index, emb, seg)
    for mode in Mode:
        hits = retriever.search("老板不发工资怎么办", mode=mode).hits
        assert hits[0].doc.external_id == "wage", mode
    assert all(h.doc.external_id != "draft" for h in retriever.search("草稿 工资", k=10).hits)


def test_filters_by_kind_and_category(built):
    _, emb, seg, index_dir, _ = built
    retriever = Retriever(LoadedIndex.load(index_dir), emb, seg)
    hits = retriever.search("离婚冷静期", kinds=["article"]).hits
    assert [h.doc.kind for h in hits] == ["article"]
    assert all(h.doc.category == "劳动争议" for h in retriever.search("离婚 工资", category="劳动争议").hits)


def test_index_files_are_plain_arrays_and_json(built):
    folder = current_dir(built[3])
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "docs.json", "dense.faiss", "bm25_vocab.json", "bm25_idf.npy"} <= names
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    for npy in folder.glob("*.npy"):
        np.load(npy, allow_pickle=False)
    assert json.loads((folder / "manifest.json").read_text())["entry_count"] == 3


def test_a_changed_knowledge_base_makes_the_index_stale_and_rebuild_reembeds_only_changes(built):
    store, emb, seg, index_dir, cache = built
    first = emb.embedded
    store.upsert(EntryData(kind=Kind.FAQ, external_id="deposit", category="房屋租赁",
                           question="房东不退押金怎么办", answer="先协商，协商不成可起诉。"))
    index = LiveIndex(store, emb, seg, index_dir, cache).load(lambda _m: None, show_progress=False).retriever.index
    assert index.manifest.entry_count == 4
    assert emb.embedded == first + 1  # only the new question was embedded
    assert Retriever(index, emb, seg).search("押金不退").hits[0].doc.external_id == "deposit"


def test_a_corrupt_index_is_detected_and_rebuilt_from_the_database(built):
    store, emb, seg, index_dir, cache = built
    folder = current_dir(index_dir)
    (folder / "bm25_idf.npy").write_bytes(b"garbage")
    messages = []
    index = LiveIndex(store, emb, seg, index_dir, cache).load(messages.append, show_progress=False).retriever.index
    assert any("损坏" in m for m in messages)
    assert read_manifest(index.folder).entry_count == 3


def test_another_model_means_a_rebuild(built):
    store, _, seg, index_dir, cache = built
    other = HashingEmbedder(dim=128)
    index = LiveIndex(store, other, seg, index_dir, cache).load(lambda _m: None, show_progress=False).retriever.index
    assert index.manifest.dimension == 128


def test_missing_index_is_reported(tmp_path):
    with pytest.raises(IndexMissing):
        LoadedIndex.load(tmp_path / "nothing")


def test_an_entry_beyond_the_searched_passages_still_has_its_exact_similarity(built):
    _, emb, _, index_dir, _ = built
    index = LoadedIndex.load(index_dir)
    query = emb.encode_queries(["离婚冷静期"])[0]
    searched = index.dense.search(query, 1, len(index.docs))  # only the nearest passage row
    outside = next(i for i, s in enumerate(searched) if s == -1.0)
    passages = [p for d, p in zip(index.dense.row_doc, range(index.dense.index.ntotal)) if d == outside]
    expected = max(float(index.dense.index.reconstruct(p) @ query) for p in passages)
    assert index.dense.similarity(query, outside) == pytest.approx(expected)
    assert index.dense.similarity(query, len(index.docs)) == -1.0  # no such document
