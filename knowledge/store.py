"""The knowledge store: the database is the source of truth for every entry."""
from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from knowledge.db import session_factory
from knowledge.entry import EntryData
from knowledge.models import Entry, KbState
from knowledge.pending import drop_unless_published, pending_edit
from knowledge.taxonomy import Status
from knowledge.timeutil import utcnow
from knowledge.versions import Action, record


class EntryNotFound(LookupError):
    """No entry with that id (or external id)."""


class AmbiguousEntry(LookupError):
    """An external id that several kinds of entry share."""


class UpsertResult(StrEnum):
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


def apply(entry: Entry, data: EntryData) -> None:
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

    # -- writes: each change writes a version (knowledge.versions) and bumps the revision --
    def upsert_many(self, items: Iterable[EntryData], author: str = "system", reason: str = "",
                    action: Action | None = None) -> list[tuple[UpsertResult, int]]:
        """Insert or update by (kind, external_id) in one transaction.  ``action`` names the
        versions written (default: create or edit)."""
        results: list[tuple[UpsertResult, int]] = []
        with self._sessions.begin() as s:
            for data in items:
                results.append(self._upsert(s, data, author, reason, action))
            if any(r is not UpsertResult.UNCHANGED for r, _ in results):
                _bump_revision(s)
        return results

    def upsert(self, data: EntryData, author: str = "system", reason: str = "",
               action: Action | None = None) -> tuple[UpsertResult, int]:
        return self.upsert_many([data], author, reason, action)[0]

    def preview(self, items: Iterable[EntryData]) -> list[UpsertResult]:
        """What ``upsert_many`` would do, writing nothing (an import's dry run)."""
        with self.session() as s:
            out = []
            for data in items:
                entry = _by_external_id(s, data)
                out.append(UpsertResult.CREATED if entry is None else _compare(entry, data))
            return out

    def _upsert(self, s: Session, data: EntryData, author: str, reason: str,
                action: Action | None) -> tuple[UpsertResult, int]:
        entry = _by_external_id(s, data, lock=True)
        if entry is None:
            entry = Entry(created_at=utcnow())
            apply(entry, data)
            s.add(entry)
            record(s, entry, data, action or Action.CREATE, author, reason)
            return UpsertResult.CREATED, entry.id
        result = _compare(entry, data)
        if result is UpsertResult.UPDATED:
            apply(entry, data)  # in place, as an import does: a pending edit waits on (if still published)
            record(s, entry, data, action or Action.EDIT, author, reason + drop_unless_published(entry))
        return result, entry.id

    def save(self, entry_id: int, data: EntryData, author: str, reason: str = "",
             action: Action = Action.EDIT) -> UpsertResult:
        """Replace an entry's content and status in place, without the review rules (an
        admin's edit goes through ``Workflow.edit``, which keeps a published text online);
        unchanged content writes nothing."""
        with self.changing(entry_id) as (s, entry):
            if data.kind.value != entry.kind:
                raise ValueError(f"条目 {entry_id} 是 {entry.kind}，不能改为 {data.kind.value}")
            result = _compare(entry, data)
            if result is UpsertResult.UPDATED:
                apply(entry, data)
                record(s, entry, data, action, author, reason + drop_unless_published(entry))
            return result

    def set_status(self, entry_id: int, status: Status, author: str = "system", reason: str = "") -> None:
        """Move an entry to ``status`` without the review rules (``knowledge.workflow`` has them)."""
        with self.changing(entry_id) as (s, entry):
            entry.status = status.value
            entry.updated_at = utcnow()
            record(s, entry, to_data(entry), Action.STATUS, author, reason + drop_unless_published(entry))

    @contextmanager
    def changing(self, entry_id: int) -> Iterator[tuple[Session, Entry]]:
        """One transaction on one entry, its row locked (PostgreSQL); the revision is bumped
        when the block succeeds, everything rolled back when it raises."""
        with self._sessions.begin() as s:
            entry = s.scalar(select(Entry).where(Entry.id == entry_id).with_for_update())
            if entry is None:
                raise EntryNotFound(f"没有编号为 {entry_id} 的条目")
            yield s, entry
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

    def resolve(self, name: str | int) -> Entry:
        """An entry named by its id or, failing that, its external id (unique across kinds)."""
        name = str(name).strip()
        with self.session() as s:
            entry = s.get(Entry, int(name)) if name.isdigit() else None
            if entry is not None:
                return entry
            found = list(s.scalars(select(Entry).where(Entry.external_id == name).limit(2)))
        if not found:
            raise EntryNotFound(f"没有编号或外部编号为 {name} 的条目")
        if len(found) > 1:
            raise AmbiguousEntry(f"外部编号 {name} 对应多个条目，请用编号")
        return found[0]

    def article_keys(self) -> set[tuple[str, int]]:
        """(law, article number) of every article entry that is not archived."""
        stmt = select(Entry.law, Entry.article_no).where(Entry.kind == "article",
                                                         Entry.status != Status.ARCHIVED.value)
        with self.session() as s:
            return {(law, no) for law, no in s.execute(stmt) if law and no}

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
        return self.iter_entries(Status.PUBLISHED, batch=batch)

    def iter_entries(self, status: Status | None = None, exclude: Status | None = None,
                     kind: str | None = None, batch: int = 1000) -> Iterator[Entry]:
        """Entries in id order, read in batches."""
        stmt = select(Entry)
        if status is not None:
            stmt = stmt.where(Entry.status == status.value)
        if exclude is not None:
            stmt = stmt.where(Entry.status != exclude.value)
        if kind is not None:
            stmt = stmt.where(Entry.kind == kind)
        last = 0
        with self.session() as s:
            while True:
                rows = list(s.scalars(stmt.where(Entry.id > last).order_by(Entry.id).limit(batch)))
                if not rows:
                    return
                yield from rows
                last = rows[-1].id

    def as_published(self, ids: Iterable[int]) -> builtins.list[Entry]:
        """The entries as publishing them would leave them, in id order: a published entry
        with a pending edit carries the edit's content (detached rows, for previews)."""
        out: builtins.list[Entry] = []
        with self.session() as s:
            for entry in s.scalars(select(Entry).where(Entry.id.in_(builtins.list(ids))).order_by(Entry.id)):
                edit = pending_edit(s, entry)
                if edit is not None:
                    entry = Entry(id=entry.id, created_at=entry.created_at)
                    apply(entry, edit.data)
                out.append(entry)
        return out

    def published_hashes(self) -> dict[int, str]:
        """The content hash of every published entry: what the index should hold."""
        stmt = select(Entry.id, Entry.content_hash).where(Entry.status == Status.PUBLISHED.value)
        with self.session() as s:
            return {i: h for i, h in s.execute(stmt)}

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


def _by_external_id(s: Session, data: EntryData, lock: bool = False) -> Entry | None:
    if not data.external_id:
        return None
    stmt = select(Entry).where(Entry.kind == data.kind.value, Entry.external_id == data.external_id)
    return s.scalar(stmt.with_for_update() if lock else stmt)


def _compare(entry: Entry, data: EntryData) -> UpsertResult:
    same = entry.content_hash == data.content_hash() and entry.status == data.status.value
    return UpsertResult.UNCHANGED if same else UpsertResult.UPDATED


def _bump_revision(s: Session) -> None:
    s.execute(update(KbState).where(KbState.id == 1).values(revision=KbState.revision + 1))
