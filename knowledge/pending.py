"""Pending edits: a change to a published entry waits for review while residents keep
getting the published text.

Search, the assistant and the index read the entry rows (``kb_entries``: their content,
content hash and status).  Writing an edit onto a published entry's row would let unreviewed
text reach residents; making the entry a draft until it is published again would take the
answer offline.  So:

- The entry row keeps the published content and stays published.  The edit lives in
  ``kb_entry_versions`` only, as full snapshots marked ``pending``, numbered in the entry's
  one sequence of versions; ``Entry.pending_version`` names the newest (None: no edit
  waiting).  An entry has at most one pending edit: editing it again writes a newer snapshot
  of the same edit (the older ones stay in the history).
- The edit has its own status on its snapshots, draft → in_review, moved by
  ``knowledge.workflow`` (the moves of ``ALLOWED``, and the same reviewer rule, against
  whoever wrote the edit's content).
- Publishing it copies its content onto the entry as a new version of the text
  (``Action.APPLY_EDIT``, by the reviewer); discarding it writes a version of the text as it
  was (``Action.DISCARD``).  Either clears ``pending_version``.
- A pending edit exists only while its entry is published.  Whatever takes the entry out of
  published (archiving, withdrawing it to draft, an import or a restore that sets another
  status) drops the edit, and the reason of the version that change writes says so.
  Restoring an old version and publishing it drops the edit too (the restored text replaces
  both); restoring an old version of a published entry as a draft makes that text its pending
  edit instead.  A dropped edit's snapshots stay in the history and can be restored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from knowledge.entry import EntryData
from knowledge.models import Entry, EntryVersion
from knowledge.taxonomy import Status
from knowledge.versions import Action, content_author, get_version, record


@dataclass(frozen=True)
class PendingEdit:
    """The edit waiting on a published entry."""

    version: int  # its newest snapshot
    status: Status  # draft or in_review
    author: str | None  # who wrote its content: the reviewer rule
    data: EntryData  # its content, with its status
    updated_at: datetime


def head(entry: Entry) -> int:
    """The newest version number, of the text or of its pending edit: the version an edit
    form is based on, for its stale-edit check."""
    return max(entry.current_version or 0, entry.pending_version or 0)


def pending_edit(s: Session, entry: Entry) -> PendingEdit | None:
    if entry.pending_version is None:
        return None
    row = get_version(s, entry.id, entry.pending_version)
    return PendingEdit(row.version, Status(row.status), content_author(s, entry.id, pending=True),
                       EntryData.model_validate(row.content | {"status": row.status}), row.created_at)


def write(s: Session, entry: Entry, data: EntryData, status: Status, action: Action, author: str,
          reason: str) -> int:
    """A new snapshot of the entry's pending edit, ``data``'s content in ``status`` (the first
    snapshot starts the edit); the entry's text is left alone."""
    return record(s, entry, data.model_copy(update={"status": status}), action, author, reason, pending=True)


def drop(entry: Entry) -> str:
    """Forget the entry's pending edit (its snapshots stay in the history).  Returns what to
    add to the reason of the version the caller writes next: '' when no edit was waiting."""
    if entry.pending_version is None:
        return ""
    note = f"（待审核的修改第 {entry.pending_version} 版已放弃，可在版本历史中查看或恢复）"
    entry.pending_version = None
    return note


def drop_unless_published(entry: Entry) -> str:
    """``drop`` once the entry (already holding its new status) is no longer published."""
    return "" if entry.status == Status.PUBLISHED.value else drop(entry)


def waiting(s: Session, status: Status | None = None, limit: int = 500) -> list[tuple[Entry, EntryVersion]]:
    """Entries with a pending edit (in ``status``), each with the edit's newest snapshot,
    the longest waiting first."""
    stmt = select(Entry, EntryVersion).join(EntryVersion, and_(EntryVersion.entry_id == Entry.id,
                                                               EntryVersion.version == Entry.pending_version))
    if status is not None:
        stmt = stmt.where(EntryVersion.status == status.value)
    rows = s.execute(stmt.order_by(EntryVersion.created_at, Entry.id).limit(limit))
    return [(entry, version) for entry, version in rows]
