"""Articles are also found by the questions of the FAQs and cases that cite them."""
from index.builder import build_index
from index.documents import document_for
from index.embedder import HashingEmbedder
from index.expansion import MAX_TEXTS_PER_ARTICLE, citing_questions
from index.retriever import LoadedIndex, Mode, Retriever
from index.segment import Segmenter
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.taxonomy import Kind, Status

COOLING_OFF = EntryData(kind=Kind.ARTICLE, external_id="民法典#1077", law="民法典", article_no=1077,
                        category="婚姻家庭",
                        text="自婚姻登记机关收到离婚登记申请之日起三十日内，任何一方不愿意离婚的，可以撤回离婚登记申请。")
LITIGATION = EntryData(kind=Kind.ARTICLE, external_id="民法典#1079", law="民法典", article_no=1079,
                       category="婚姻家庭",
                       text="夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。")


def _faq(question, alts=(), citations=(), status=Status.PUBLISHED):
    return EntryData(kind=Kind.FAQ, external_id=question, category="婚姻家庭", question=question,
                     alt_questions=list(alts), answer="答复。", status=status,
                     citations=[{"law": law, "article": n} for law, n in citations])


def test_questions_and_case_titles_go_to_every_article_they_cite():
    faq = Entry(kind="faq", title="冷静期反悔", question="冷静期反悔", alt_questions=["不想离了"],
                citations=[{"law": "民法典", "article": 1077}, {"law": "中华人民共和国民法典", "article": 1079}])
    case = Entry(kind="case", title="起诉离婚获准", citations=[{"law": "民法典", "article": 1079}])
    uncited = Entry(kind="faq", title="无引用", question="无引用", citations=[])
    assert citing_questions([faq, case, uncited]) == {
        ("民法典", 1077): ["冷静期反悔", "不想离了"],
        ("民法典", 1079): ["冷静期反悔", "不想离了", "起诉离婚获准"],
    }


def test_an_article_cited_by_many_entries_takes_a_bounded_number_of_distinct_questions():
    many = [Entry(kind="faq", title=f"问题{i}", question=f"问题{i}", alt_questions=[f"问题{i}"],
                  citations=[{"law": "民法典", "article": 1}]) for i in range(MAX_TEXTS_PER_ARTICLE + 5)]
    assert citing_questions(many)[("民法典", 1)] == [f"问题{i}" for i in range(MAX_TEXTS_PER_ARTICLE)]


def test_a_malformed_citation_is_skipped():
    faq = Entry(kind="faq", title="问", question="问", citations=[{"law": "民法典"}, {"law": "民法典", "article": "x"}])
    assert citing_questions([faq]) == {}


def test_citing_questions_are_lexical_only_and_leave_the_embedded_passage_unchanged(store):
    store.upsert(COOLING_OFF)
    article = next(store.iter_published())
    plain, expanded = document_for(article), document_for(article, ["冷静期里反悔了怎么办"])
    assert "冷静期里反悔了怎么办" in expanded.lexical_text and "冷静期" not in plain.lexical_text
    assert expanded.passages == plain.passages


def _article_ranking(store, tmp_path, query):
    emb, seg = HashingEmbedder(), Segmenter().load()
    build_index(store, emb, seg, tmp_path / "index", tmp_path / "cache", show_progress=False)
    retriever = Retriever(LoadedIndex.load(tmp_path / "index"), emb, seg)
    return [h.doc.external_id for h in retriever.search(query, mode=Mode.BM25, kinds=["article"]).hits]


def test_an_article_is_found_by_the_words_of_a_published_faq_that_cites_it(store, tmp_path):
    store.upsert_many([COOLING_OFF, LITIGATION, _faq("冷静期里反悔了怎么办", ["后悔了不想离"], [("民法典", 1077)])])
    assert _article_ranking(store, tmp_path, "冷静期 后悔")[:1] == ["民法典#1077"]


def test_a_draft_faq_does_not_expand_the_articles_it_cites(store, tmp_path):
    store.upsert_many([COOLING_OFF, LITIGATION,
                       _faq("冷静期里反悔了怎么办", ["后悔了不想离"], [("民法典", 1077)], Status.DRAFT)])
    assert _article_ranking(store, tmp_path, "冷静期 后悔") == []
