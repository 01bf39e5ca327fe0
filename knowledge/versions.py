"""Entry versions: every change to an entry writes a full snapshot (who, when, why).

This table is the knowledge base's audit log: the ``author`` and ``reason`` of each row say
who changed what and why (the lawyer queue keeps its own, ``assistant.queue.audit``).  A
snapshot holds the content fields of ``EntryData``; the status is a column of its own, so a
status change is a version whose content equals the one before.

An entry's versions are numbered in one sequence, but two lines run through it: the entry's
own text (``Entry.current_version`` is its newest version) and the snapshots of pending edits
(``pending``; ``Entry.pending_version`` is the newest of the edit now waiting, see
``knowledge.pending``).  A pending snapshot is never the entry's text until an
``APPLY_EDIT`` version copies it onto the entry.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.entry import EntryData
from knowledge.models import Entry, EntryVersion
from knowledge.timeutil import utcnow


class Action(StrEnum):
    BASELINE = "baseline"  # the content an entry had when versions began (migration 0006)
    CREATE = "create"
    EDIT = "edit"
    IMPORT = "import"  # created or updated by an import
    STATUS = "status"
    RESTORE = "restore"
    APPLY_EDIT = "apply_edit"  # a pending edit published: its content copied onto the entry
    DISCARD = "discard"  # a pending edit given up: the entry's text as it was


#: The actions that change content: their author is the entry's author, for the review rule
#: (an ``APPLY_EDIT``'s content was written by the pending edit's author: ``content_author``).
CONTENT_ACTIONS = frozenset({Action.BASELINE, Action.CREATE, Action.EDIT, Action.IMPORT, Action.RESTORE})


class VersionNotFound(LookupError):
    """No such version of that entry."""


def snapshot(data: EntryData) -> dict[str, Any]:
    return data.model_dump(mode="json", exclude={"status"})


def record(s: Session, entry: Entry, data: EntryData, action: Action, author: str,
           reason: str = "", pending: bool = False) -> int:
    """Write the next version of ``entry`` in the caller's transaction: of its text (``entry``
    already holds ``data``), or with ``pending`` a snapshot of its pending edit (``data`` is
    the edit, with the edit's status; the entry's text is left alone)."""
    s.flush()  # the entry has an id, and its row is written (locked on PostgreSQL) before ours
    # The next number after every version, pending ones included (those of an edit that was
    # dropped are above the current version until the entry's text gets a newer one).
    number = (s.scalar(select(func.max(EntryVersion.version)).where(EntryVersion.entry_id == entry.id)) or 0) + 1
    if pending:
        entry.pending_version = number
    else:
        entry.current_version = number
    s.add(EntryVersion(entry_id=entry.id, version=number, content=snapshot(data),
                       status=data.status.value, action=action.value, author=author[:100],
                       reason=reason[:500], pending=pending, created_at=utcnow()))
    return number


def history(s: Session, entry_id: int) -> list[EntryVersion]:
    """Every version of an entry, oldest first."""
    return list(s.scalars(select(EntryVersion).where(EntryVersion.entry_id == entry_id)
                          .order_by(EntryVersion.version)))


def get_version(s: Session, entry_id: int, version: int) -> EntryVersion:
    row = s.scalar(select(EntryVersion).where(EntryVersion.entry_id == entry_id,
                                              EntryVersion.version == version))
    if row is None:
        raise VersionNotFound(f"条目 {entry_id} 没有第 {version} 版")
    return row


def content_author(s: Session, entry_id: int, up_to: int | None = None, pending: bool = False) -> str | None:
    """Who wrote the entry's content (as of version ``up_to``): the author of the last
    content change of its text, or with ``pending`` of its pending edits.  A published edit
    (``APPLY_EDIT``) was written by whoever wrote that edit, not by its reviewer."""
    actions = [a.value for a in (*CONTENT_ACTIONS, Action.APPLY_EDIT)]
    stmt = select(EntryVersion.version, EntryVersion.action, EntryVersion.author).where(
        EntryVersion.entry_id == entry_id, EntryVersion.action.in_(actions), EntryVersion.pending == pending)
    if up_to is not None:
        stmt = stmt.where(EntryVersion.version <= up_to)
    row = s.execute(stmt.order_by(EntryVersion.version.desc()).limit(1)).first()
    if row is None:
        return None
    if row.action == Action.APPLY_EDIT.value:
        return content_author(s, entry_id, up_to=row.version, pending=True)
    return row.author


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: str
    after: str
    lines: list[str]  # a unified diff of the field's text, line by line


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return json.dumps(value, ensure_ascii=False, indent=1)


def diff(old: EntryVersion, new: EntryVersion) -> list[FieldDiff]:
    """The fields (and the status) that differ between two versions, each with a unified diff."""
    before = dict(old.content) | {"status": old.status}
    after = dict(new.content) | {"status": new.status}
    out: list[FieldDiff] = []
    for name in [*before, *(k for k in after if k not in before)]:
        a, b = _text(before.get(name)), _text(after.get(name))
        if a == b:
            continue
        lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), f"v{old.version}",
                                          f"v{new.version}", lineterm="", n=1))
        out.append(FieldDiff(name, a, b, lines))
    return out


@dataclass(frozen=True)
class Segment:
    """A run of text on one side of a side-by-side diff; ``changed``: not on the other side."""

    text: str
    changed: bool


INLINE_DIFF_MAX = 6000  # characters of one changed block compared character by character


def _push(side: list[Segment], text: str, changed: bool) -> None:
    if not text:
        return
    if side and side[-1].changed == changed:
        side[-1] = Segment(side[-1].text + text, changed)
    else:
        side.append(Segment(text, changed))


def inline_diff(before: str, after: str) -> tuple[list[Segment], list[Segment]]:
    """The old and the new text as segments, what changed marked on each side: lines are
    matched first, then the characters within each changed block (Chinese has no spaces)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        a, b = "".join(old[i1:i2]), "".join(new[j1:j2])
        if tag == "equal":
            _push(left, a, False)
            _push(right, b, False)
        elif tag != "replace" or len(a) + len(b) > INLINE_DIFF_MAX:
            _push(left, a, True)
            _push(right, b, True)
        else:
            chars = difflib.SequenceMatcher(None, a, b, autojunk=False)
            for ctag, c1, c2, d1, d2 in chars.get_opcodes():
                _push(left, a[c1:c2], ctag != "equal")
                _push(right, b[d1:d2], ctag != "equal")
    return left, right
