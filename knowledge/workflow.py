"""The review workflow: draft → in_review → published → archived.

``ALLOWED`` is the one table of moves, each with who may make it.  A publish needs a
reviewer who is not the entry's author (the author of its last content change), unless
``KnowledgeSettings.kb_allow_self_review`` relaxes it; an operator (the command line) may
publish directly.  Every move is a version (``knowledge.versions``) with its author and
reason, in the transaction that makes it, with the entry's row locked.

An admin's edit of a published entry does not touch its published text: it becomes the
entry's pending edit (``knowledge.pending``), which goes through the same moves (draft →
in_review → published, the same reviewer rule against the edit's author) on its own, while
residents keep getting the published text.  Publishing the edit copies it onto the entry;
archiving or withdrawing the entry, or restoring a version and publishing it, drops it.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.pending import PendingEdit, drop, drop_unless_published, head, pending_edit, write
from knowledge.settings import KnowledgeSettings
from knowledge.store import KnowledgeStore, UpsertResult, apply, to_data
from knowledge.taxonomy import Status
from knowledge.timeutil import utcnow
from knowledge.versions import Action, content_author, get_version, record


class Who(StrEnum):
    """Who may make a move."""

    CURATOR = "curator"  # anyone curating the knowledge base
    REVIEWER = "reviewer"  # a curator other than the author (or anyone, with self-review allowed)
    OPERATOR = "operator"  # the command line: publishes without review, recorded as such


D, R, P, A = Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED, Status.ARCHIVED
ALLOWED: dict[tuple[Status, Status], Who] = {
    (D, R): Who.CURATOR,  # submitted for review
    (D, P): Who.OPERATOR,
    (D, A): Who.CURATOR,
    (R, P): Who.REVIEWER,
    (R, D): Who.CURATOR,  # sent back to its author
    (R, A): Who.CURATOR,
    (P, A): Who.CURATOR,
    (P, D): Who.CURATOR,  # withdrawn for rework
    (A, D): Who.CURATOR,
    (A, P): Who.OPERATOR,
}


@dataclass(frozen=True)
class Actor:
    name: str
    operator: bool = False


class WorkflowError(ValueError):
    """A move the workflow does not allow."""


class BadMove(WorkflowError):
    pass


class SelfReview(WorkflowError):
    pass


class NoPendingEdit(BadMove):
    """The entry has no edit waiting (it was published or discarded meanwhile)."""


class StaleEdit(WorkflowError):
    """An edit made on an older version than the entry's newest."""


@dataclass(frozen=True)
class Change:
    entry_id: int
    version: int
    status: Status  # the entry's; with ``pending``, its pending edit's
    pending: bool = False  # a change to the pending edit: the entry's published text stays


@dataclass(frozen=True)
class Edit:
    result: UpsertResult  # UPDATED or UNCHANGED
    change: Change  # unchanged: the newest version, as it was


class Workflow:
    def __init__(self, store: KnowledgeStore, settings: KnowledgeSettings) -> None:
        self.store = store
        self.settings = settings

    def submit(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.IN_REVIEW, actor, reason)

    def publish(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        """Publish the entry, or, when it is published and an edit is waiting, that edit (how
        ``fazhi kb publish`` brings an edit live)."""
        with self.store.changing(entry_id) as (s, entry):
            if entry.status == Status.PUBLISHED.value and entry.pending_version is not None:
                return self._move_edit(s, entry, Status.PUBLISHED, actor, reason)
            return self._move(s, entry, Status.PUBLISHED, actor, reason)

    def archive(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.ARCHIVED, actor, reason)

    def return_to_draft(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.DRAFT, actor, reason)

    def move(self, entry_id: int, target: Status, actor: Actor, reason: str = "") -> Change:
        with self.store.changing(entry_id) as (s, entry):
            return self._move(s, entry, target, actor, reason)

    def _move(self, s: Session, entry: Entry, target: Status, actor: Actor, reason: str) -> Change:
        current = Status(entry.status)
        who = ALLOWED.get((current, target))
        if who is None:
            raise BadMove(f"条目 {entry.id} 当前为“{current.label}”，不能改为“{target.label}”")
        if who is Who.OPERATOR and not actor.operator:
            raise BadMove(f"“{current.label}”的条目须先提交审核，审核通过后才能发布")
        if who is Who.REVIEWER:
            self._check_reviewer(content_author(s, entry.id), actor)
        entry.status = target.value
        entry.updated_at = utcnow()
        dropped = drop_unless_published(entry)  # archived or withdrawn: the edit waiting goes
        version = record(s, entry, to_data(entry), Action.STATUS, actor.name,
                         (reason or _default_reason(current, target, actor)) + dropped)
        return Change(entry.id, version, target)

    # -- edits, and the pending edit of a published entry (knowledge.pending) ------------
    def edit(self, entry_id: int, data: EntryData, actor: Actor, reason: str = "",
             base_version: int | None = None) -> Edit:
        """An admin's edit.  A published entry keeps its published text: ``data`` becomes its
        pending edit, as a draft (a new edit, or a new snapshot of the one waiting, which
        returns to draft).  Any other entry is edited in place, taking ``data``'s status.
        ``base_version``: the version the editor started from (``pending.head``); the entry
        having a newer one by now is a ``StaleEdit``."""
        with self.store.changing(entry_id) as (s, entry):
            if data.kind.value != entry.kind:
                raise ValueError(f"条目 {entry_id} 是 {entry.kind}，不能改为 {data.kind.value}")
            if base_version is not None and base_version != head(entry):
                raise StaleEdit(f"该条目已被修改（现为第 {head(entry)} 版）")
            waiting = pending_edit(s, entry) if entry.status == Status.PUBLISHED.value else None
            if data.content_hash() == (waiting.data.content_hash() if waiting else entry.content_hash):
                status = waiting.status if waiting else Status(entry.status)
                return Edit(UpsertResult.UNCHANGED, Change(entry_id, head(entry), status, waiting is not None))
            if entry.status == Status.PUBLISHED.value:
                version = write(s, entry, data, Status.DRAFT, Action.EDIT, actor.name, reason)
                return Edit(UpsertResult.UPDATED, Change(entry_id, version, Status.DRAFT, pending=True))
            apply(entry, data)
            version = record(s, entry, data, Action.EDIT, actor.name, reason)
            return Edit(UpsertResult.UPDATED, Change(entry_id, version, data.status))

    def move_edit(self, entry_id: int, target: Status, actor: Actor, reason: str = "",
                  seen: int | None = None) -> Change:
        """Move the entry's pending edit: submit it (in_review), send it back (draft), or
        publish it (onto the entry, by a reviewer other than the edit's author).  ``seen``:
        the snapshot the actor looked at; a newer one by now is a ``StaleEdit`` (nobody
        publishes text they have not seen)."""
        with self.store.changing(entry_id) as (s, entry):
            return self._move_edit(s, entry, target, actor, reason, seen)

    def _move_edit(self, s: Session, entry: Entry, target: Status, actor: Actor, reason: str,
                   seen: int | None = None) -> Change:
        waiting = _waiting(s, entry, seen)
        current = waiting.status
        who = ALLOWED.get((current, target)) if target is not Status.ARCHIVED else None
        if who is None:
            raise BadMove(f"这项修改当前为“{current.label}”，不能改为“{target.label}”")
        if who is Who.OPERATOR and not actor.operator:
            raise BadMove("修改须先提交审核，审核通过后才能发布")
        if who is Who.REVIEWER:
            self._check_reviewer(waiting.author, actor, "修改")
        if target is not Status.PUBLISHED:
            version = write(s, entry, waiting.data, target, Action.STATUS, actor.name,
                            reason or "修改：" + _default_reason(current, target, actor))
            return Change(entry.id, version, target, pending=True)
        data = waiting.data.model_copy(update={"status": Status.PUBLISHED})
        apply(entry, data)
        drop(entry)
        direct = "（操作员直接发布，未经审核）" if actor.operator and current is not Status.IN_REVIEW else ""
        version = record(s, entry, data, Action.APPLY_EDIT, actor.name,
                         reason or f"发布待审核的修改（第 {waiting.version} 版）{direct}")
        return Change(entry.id, version, Status.PUBLISHED)

    def discard_edit(self, entry_id: int, actor: Actor, reason: str = "", seen: int | None = None) -> Change:
        """Give up the entry's pending edit: a version of the published text as it is."""
        with self.store.changing(entry_id) as (s, entry):
            waiting = _waiting(s, entry, seen)
            drop(entry)
            version = record(s, entry, to_data(entry), Action.DISCARD, actor.name,
                             reason or f"放弃待审核的修改（第 {waiting.version} 版），保留已发布的内容")
            return Change(entry_id, version, Status(entry.status))

    def restore(self, entry_id: int, version: int, actor: Actor, publish: bool = False,
                reason: str = "") -> Change:
        """Bring back the content of ``version`` (of the text or of a pending edit) as a new
        version: published directly when asked (by an operator, or a reviewer who did not
        write that content), dropping any pending edit; else as a draft, which for a
        published entry is its pending edit (the published text stays online until the
        restored one is reviewed and published)."""
        with self.store.changing(entry_id) as (s, entry):
            old = get_version(s, entry_id, version)
            target = Status.PUBLISHED if publish else Status.DRAFT
            if publish and not actor.operator:
                self._check_reviewer(content_author(s, entry_id, up_to=version, pending=old.pending), actor)
            data = EntryData.model_validate(old.content | {"status": target.value})
            if not publish and entry.status == Status.PUBLISHED.value:
                new = write(s, entry, data, Status.DRAFT, Action.RESTORE, actor.name,
                            reason or f"恢复第 {version} 版为待审核的修改（草稿）")
                return Change(entry_id, new, Status.DRAFT, pending=True)
            apply(entry, data)
            dropped = drop(entry)  # the restored text replaces the edit waiting, if any
            new = record(s, entry, data, Action.RESTORE, actor.name,
                         (reason or f"恢复第 {version} 版为“{target.label}”") + dropped)
            return Change(entry_id, new, target)

    def _check_reviewer(self, author: str | None, actor: Actor, what: str = "条目") -> None:
        if actor.operator or self.settings.kb_allow_self_review:
            return
        if author is not None and author == actor.name:
            raise SelfReview(f"不能审核发布自己编写的{what}，请由另一位管理员审核")


def _waiting(s: Session, entry: Entry, seen: int | None) -> PendingEdit:
    waiting = pending_edit(s, entry)
    if waiting is None:
        raise NoPendingEdit(f"条目 {entry.id} 没有待审核的修改（可能已被发布或放弃）")
    if seen is not None and seen != waiting.version:
        raise StaleEdit(f"这项修改已更新（现为第 {waiting.version} 版），请查看最新内容后再操作")
    return waiting


def _default_reason(current: Status, target: Status, actor: Actor) -> str:
    text = f"{current.label} → {target.label}"
    if actor.operator and target is Status.PUBLISHED and current is not Status.IN_REVIEW:
        text += "（操作员直接发布，未经审核）"
    return text
