"""Browsing the knowledge base as curators do: full text and filters, paged, with each
entry's citation problems (``knowledge.currency``) at hand."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from sqlalchemy import Select, func, or_, select

from knowledge.citation import Citation
from knowledge.currency import citation_problems
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import Kind, Status
from knowledge.timeutil import china_days

MAX_TERMS = 8  # words of a full-text query (each must occur)


@dataclass(frozen=True)
class EntryQuery:
    """What a curator looks for; empty fields do not filter."""

    text: str = ""  # every word in the title, question, answer, case text or article text
    kind: str | None = None
    category: str | None = None
    status: str | None = None
    law: str | None = None  # cited (or, for an article, its own law)
    region: str | None = None  # part of the region
    updated_from: date | None = None  # calendar days in Beijing time, both included
    updated_to: date | None = None
    flagged: bool = False  # only entries citing a repealed statute or a missing article

    @property
    def scans(self) -> bool:
        """Whether the filter needs each entry's citations (not expressible in SQL portably)."""
        return self.flagged or bool(self.law)


@dataclass(frozen=True)
class EntryPage:
    rows: list[Entry]
    total: int
    problems: dict[int, list[str]]  # the citation problems of the rows shown (flagged ones only)


def normalize_law(name: str) -> str:
    """《中华人民共和国民法典》 -> 民法典, as citations write a law's name."""
    return name.strip().strip("《》").strip().removeprefix("中华人民共和国")


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(stmt: Select[Any], q: EntryQuery) -> Select[Any]:
    if q.kind:
        stmt = stmt.where(Entry.kind == q.kind)
    if q.category:
        stmt = stmt.where(Entry.category == q.category)
    if q.status:
        stmt = stmt.where(Entry.status == q.status)
    if q.region:
        stmt = stmt.where(Entry.region.ilike(_like(q.region.strip()), escape="\\"))
    if q.updated_from or q.updated_to:
        first = q.updated_from or date(2000, 1, 1)
        last = q.updated_to or date(2100, 12, 31)
        start, end = china_days(min(first, last), max(first, last))
        # SQLite keeps naive UTC times: compare in UTC on every database.
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        stmt = stmt.where(Entry.updated_at >= start_utc, Entry.updated_at < end_utc)
    columns = (Entry.title, Entry.question, Entry.answer, Entry.text, Entry.facts, Entry.judgment,
               Entry.reasoning, Entry.external_id)
    for term in q.text.split()[:MAX_TERMS]:
        pattern = _like(term)
        stmt = stmt.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    if q.flagged:  # as ``currency.check_entries``: archived entries are not to fix
        stmt = stmt.where(Entry.status != Status.ARCHIVED.value)
    return stmt


def _as_data(kind: str, law: str | None, citations: list[Any] | None) -> EntryData:
    """Just what ``citation_problems`` reads, without validating a whole entry."""
    cites = [Citation.model_construct(law=c.get("law", ""), article=c.get("article", 0))
             for c in citations or [] if isinstance(c, dict)]
    return EntryData.model_construct(kind=Kind(kind), law=law, citations=cites)


def problems_of(entry: Entry, articles: Collection[tuple[str, int]]) -> list[str]:
    """Why an entry is flagged: a repealed statute or a citation that resolves to no article."""
    return citation_problems(_as_data(entry.kind, entry.law, entry.citations), articles)


def _cites_law(kind: str, own_law: str | None, citations: list[Any] | None, law: str) -> bool:
    if kind == Kind.ARTICLE.value and own_law and normalize_law(own_law) == law:
        return True
    return any(isinstance(c, dict) and normalize_law(str(c.get("law", ""))) == law for c in citations or [])


def browse(store: KnowledgeStore, q: EntryQuery, limit: int = 30, offset: int = 0) -> EntryPage:
    """One page of the entries matching ``q``, most recently changed first."""
    articles = store.article_keys()
    order = (Entry.updated_at.desc(), Entry.id.desc())
    with store.session() as s:
        if not q.scans:
            total = s.scalar(_where(select(func.count(Entry.id)), q)) or 0
            rows = list(s.scalars(_where(select(Entry), q).order_by(*order).limit(limit).offset(offset)))
        else:
            law = normalize_law(q.law or "")
            cols = _where(select(Entry.id, Entry.kind, Entry.law, Entry.citations), q).order_by(*order)
            ids = []
            for entry_id, kind, own_law, citations in s.execute(cols):
                if law and not _cites_law(kind, own_law, citations, law):
                    continue
                if q.flagged and not citation_problems(_as_data(kind, own_law, citations), articles):
                    continue
                ids.append(entry_id)
            total = len(ids)
            shown = ids[offset:offset + limit]
            found = {e.id: e for e in s.scalars(select(Entry).where(Entry.id.in_(shown)))} if shown else {}
            rows = [found[i] for i in shown if i in found]
    problems = {e.id: p for e in rows if (p := problems_of(e, articles))}
    return EntryPage(rows, total, problems)
