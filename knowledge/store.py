"""The knowledge store: the database is the source of truth for every entry."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from knowledge.db import session_factory
from knowledge.entry import EntryData
from knowledge.models import Entry, KbState
from knowledge.taxonomy import Status
from knowledge.timeutil import utcnow


class EntryNotFound(LookupError):
    """No entry with that id."""


class UpsertResult(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class EntryFilter:
    kind: str | None = None
    category: str | None = None
    status: str | None = None


_FIELDS = ("kind", "external_id", "category", "title", "question", "answer", "alt_questions",
           "facts", "judgment", "reasoning", "law", "article_no", "text", "version", "citations",
           "tags", "region", "status", "source")


def _apply(entry: Entry, data: EntryData) -> None:
    dumped = data.model_dump(mode="json")
    for name in _FIELDS:
        setattr(entry, name, dumped[name])
    entry.content_hash = data.content_hash()
    entry.updated_at = utcnow()


def to_data(entry: Entry) -> EntryData:
    return EntryData.model_validate({name: getattr(entry, name) for name in _FIELDS})


class KnowledgeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    def session(self) -> Session:
        return self._sessions()

    # -- writes -------------------------------------------------------------
    def upsert_many(self, items: Iterable[EntryData]) -> list[tuple[UpsertResult, int]]:
        """Insert or update by (kind, external_id) in one transaction."""
        results: list[tuple[UpsertResult, int]] = []
        with self._sessions.begin() as s:
            for data in items:
                results.append(self._upsert(s, data))
            if any(r is not UpsertResult.UNCHANGED for r, _ in results):
                _bump_revision(s)
        return results

    def upsert(self, data: EntryData) -> tuple[UpsertResult, int]:
        return self.upsert_many([data])[0]

    def _upsert(self, s: Session, data: EntryData) -> tuple[UpsertResult, int]:
        entry = None
        if data.external_id:
            entry = s.scalar(select(Entry).where(Entry.kind == data.kind.value,
                                                 Entry.external_id == data.external_id))
        if entry is None:
            entry = Entry(created_at=utcnow())
            _apply(entry, data)
            s.add(entry)
            s.flush()
            return UpsertResult.CREATED, entry.id
        if entry.content_hash == data.content_hash() and entry.status == data.status.value:
            return UpsertResult.UNCHANGED, entry.id
        _apply(entry, data)
        return UpsertResult.UPDATED, entry.id

    def set_status(self, entry_id: int, status: Status) -> None:
        with self._sessions.begin() as s:
            entry = s.get(Entry, entry_id)
            if entry is None:
                raise EntryNotFound(entry_id)
            entry.status = status.value
            entry.updated_at = utcnow()
            _bump_revision(s)

    # -- reads --------------------------------------------------------------
    def get(self, entry_id: int) -> Entry:
        with self.session() as s:
            entry = s.get(Entry, entry_id)
            if entry is None:
                raise EntryNotFound(entry_id)
            return entry

    def get_many(self, ids: Iterable[int]) -> dict[int, Entry]:
        ids = list(ids)
        if not ids:
            return {}
        with self.session() as s:
            return {e.id: e for e in s.scalars(select(Entry).where(Entry.id.in_(ids)))}

    def find(self, kind: str, external_id: str) -> Entry | None:
        with self.session() as s:
            return s.scalar(select(Entry).where(Entry.kind == kind, Entry.external_id == external_id))

    def list(self, flt: EntryFilter = EntryFilter(), limit: int = 50, offset: int = 0) -> list[Entry]:
        stmt = _filtered(select(Entry), flt).order_by(Entry.id).limit(limit).offset(offset)
        with self.session() as s:
            return list(s.scalars(stmt))

    def count(self, flt: EntryFilter = EntryFilter()) -> int:
        with self.session() as s:
            return s.scalar(_filtered(select(func.count(Entry.id)), flt)) or 0

    def iter_published(self, batch: int = 1000) -> Iterator[Entry]:
        last = 0
        with self.session() as s:
            while True:
                rows = list(s.scalars(select(Entry).where(Entry.status == Status.PUBLISHED.value,
                                                          Entry.id > last)
                                      .order_by(Entry.id).limit(batch)))
                if not rows:
                    return
                yield from rows
                last = rows[-1].id

    def revision(self) -> int:
        with self.session() as s:
            return s.scalar(select(KbState.revision).where(KbState.id == 1)) or 0


def _filtered(stmt, flt: EntryFilter):  # a Select of any shape
    if flt.kind:
        stmt = stmt.where(Entry.kind == flt.kind)
    if flt.category:
        stmt = stmt.where(Entry.category == flt.category)
    if flt.status:
        stmt = stmt.where(Entry.status == flt.status)
    return stmt


def _bump_revision(s: Session) -> None:
    s.execute(update(KbState).where(KbState.id == 1).values(revision=KbState.revision + 1))
