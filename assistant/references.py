"""What an escalated resident can read while a lawyer answers: the law articles and the
typical case retrieval finds confidently, labelled as reference, never as the answer.

"Confidently" is absolute evidence, not the fused score (which is ~1.0 for every query's
top hit): the article's dense cosine and its lexical score (BM25 over the query's best
possible BM25) must both clear a floor. The floors were measured on the calibration split
of eval_stard_dev (bench/data/real_questions.jsonl; all 4,648 articles of ../shared plus
the seed, e5 embedder): see the figures beside the constants.
"""
from __future__ import annotations

from dataclasses import dataclass

from index.retriever import Hit, Retriever, SearchResult
from knowledge.citation import Citation
from knowledge.currency import repeal_of
from knowledge.models import Entry
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import Kind, Status

MAX_ARTICLES = 3
EXCERPT_CHARS = 60
# Measured on the calib split of eval_stard_dev (102 questions; e5; all 4,648 articles + seed),
# looking at the best 3 current articles: an article is shown when its dense cosine is
# >= 0.92, its lexical score >= 0.3 and its fused score within 0.1 of the best article's.
# calib: 65% of shown articles relevant, a relevant one shown for 34% of questions,
# nothing shown for 55%, 0.53 articles per question (without floors: 23% relevant, 66%).
# Held-out (205): 73% of shown relevant, relevant one shown 34%, nothing shown 59%.
# e5 cosines are compressed (irrelevant top-3 articles: median 0.911, relevant: 0.922), so
# the dense floor is sharp: 0.915 gives 58% relevant, 0.925 gives 74% (calib).
ARTICLE_POOL = 3
ARTICLE_MIN_DENSE = 0.92
ARTICLE_MIN_LEXICAL = 0.3
ARTICLE_MAX_GAP = 0.1
# A typical case only beside the articles it illustrates: the best case must cite one of
# the articles shown, with a dense cosine >= 0.88.  On all 307 questions that shows 4 cases,
# 3 judged partly relevant and 1 wrong in bench/data/real_labels.jsonl (case labels are few;
# without the citation rule wrong cases outnumber relevant ones at every cosine).
CASE_MIN_DENSE = 0.88
LOOKED_AT = 10  # articles read from the store, so that repealed ones leave room for others


@dataclass(frozen=True)
class Reference:
    """One article or typical case shown to an escalated resident."""

    kind: str  # "article" or "case"
    entry_id: int
    external_id: str | None
    title: str
    law: str | None  # articles only
    article_no: int | None  # articles only
    excerpt: str  # articles: the start of the text; cases: empty (the title says it)
    score: float  # the dense cosine that let it through

    @property
    def citation(self) -> str:
        if self.law is None or self.article_no is None:
            return self.title
        return Citation(law=self.law, article=self.article_no).render()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of ``text``: whole sentences when they fit, else cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(p) for p in "。；！？")
    return head[: end + 1] if end >= limit // 2 else head.rstrip("，、：；") + "……"


def find_references(retriever: Retriever, store: KnowledgeStore, result: SearchResult,
                    max_articles: int = MAX_ARTICLES) -> list[Reference]:
    """Up to ``max_articles`` current articles and one case that match ``result``'s query
    confidently, reusing its query vector (no second embedding; nothing without one)."""
    if result.query_vector is None or not result.normalized_query:
        return []
    hits = _search(retriever, result, Kind.ARTICLE, LOOKED_AT)
    entries = store.get_many(h.doc.entry_id for h in hits)
    current = [(h, entries[h.doc.entry_id]) for h in hits
               if h.doc.entry_id in entries and _is_current_article(entries[h.doc.entry_id])]
    top = current[0][0].score if current else 0.0
    refs = [_reference(e, h.dense) for h, e in current[:ARTICLE_POOL]
            if h.dense >= ARTICLE_MIN_DENSE and h.lexical >= ARTICLE_MIN_LEXICAL
            and top - h.score <= ARTICLE_MAX_GAP][:max_articles]
    if refs:
        shown = {(r.law, r.article_no) for r in refs}
        for case_hit in _search(retriever, result, Kind.CASE, 1):
            case = store.get_many([case_hit.doc.entry_id]).get(case_hit.doc.entry_id)
            if (case is not None and case.status == Status.PUBLISHED and case_hit.dense >= CASE_MIN_DENSE
                    and shown & _cited(case)):
                refs.append(_reference(case, case_hit.dense))
    return refs


def _search(retriever: Retriever, result: SearchResult, kind: Kind, k: int) -> list[Hit]:
    return retriever.rerank(result, k=k, kinds=[kind.value]).hits


def _is_current_article(entry: Entry) -> bool:
    """Published, with law and number, and not of a repealed statute (never shown as current)."""
    return (entry.status == Status.PUBLISHED and bool(entry.law) and bool(entry.article_no)
            and repeal_of(entry.law or "") is None)


def _cited(entry: Entry) -> set[tuple[str, int]]:
    cites = [Citation.model_validate(c) for c in entry.citations or []]
    return {(c.law.removeprefix("中华人民共和国"), c.article) for c in cites}


def _reference(entry: Entry, dense: float) -> Reference:
    if entry.kind == Kind.ARTICLE.value:
        return Reference(entry.kind, entry.id, entry.external_id, entry.title, entry.law,
                         entry.article_no, excerpt(entry.text or ""), round(dense, 4))
    return Reference(entry.kind, entry.id, entry.external_id, entry.title, None, None, "",
                     round(dense, 4))
