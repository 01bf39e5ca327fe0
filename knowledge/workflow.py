"""The review workflow: draft → in_review → published → archived.

``ALLOWED`` is the one table of moves, each with who may make it.  A publish needs a
reviewer who is not the entry's author (the author of its last content change), unless
``KnowledgeSettings.kb_allow_self_review`` relaxes it; an operator (the command line) may
publish directly.  Every move is a version (``knowledge.versions``) with its author and
reason, in the transaction that makes it, with the entry's row locked.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from knowledge.entry import EntryData
from knowledge.settings import KnowledgeSettings
from knowledge.store import KnowledgeStore, apply, to_data
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


@dataclass(frozen=True)
class Change:
    entry_id: int
    version: int
    status: Status


class Workflow:
    def __init__(self, store: KnowledgeStore, settings: KnowledgeSettings) -> None:
        self.store = store
        self.settings = settings

    def submit(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.IN_REVIEW, actor, reason)

    def publish(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.PUBLISHED, actor, reason)

    def archive(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.ARCHIVED, actor, reason)

    def return_to_draft(self, entry_id: int, actor: Actor, reason: str = "") -> Change:
        return self.move(entry_id, Status.DRAFT, actor, reason)

    def move(self, entry_id: int, target: Status, actor: Actor, reason: str = "") -> Change:
        with self.store.changing(entry_id) as (s, entry):
            current = Status(entry.status)
            who = ALLOWED.get((current, target))
            if who is None:
                raise BadMove(f"条目 {entry_id} 当前为“{current.label}”，不能改为“{target.label}”")
            if who is Who.OPERATOR and not actor.operator:
                raise BadMove(f"“{current.label}”的条目须先提交审核，审核通过后才能发布")
            if who is Who.REVIEWER:
                self._check_reviewer(content_author(s, entry_id), actor)
            entry.status = target.value
            entry.updated_at = utcnow()
            version = record(s, entry, to_data(entry), Action.STATUS, actor.name,
                             reason or _default_reason(current, target, actor))
            return Change(entry_id, version, target)

    def restore(self, entry_id: int, version: int, actor: Actor, publish: bool = False,
                reason: str = "") -> Change:
        """Bring back the content of ``version`` as a new version: a draft, or published
        directly when asked (by an operator, or a reviewer who did not write that content)."""
        with self.store.changing(entry_id) as (s, entry):
            old = get_version(s, entry_id, version)
            target = Status.PUBLISHED if publish else Status.DRAFT
            if publish and not actor.operator:
                self._check_reviewer(content_author(s, entry_id, up_to=version), actor)
            data = EntryData.model_validate(old.content | {"status": target.value})
            apply(entry, data)
            new = record(s, entry, data, Action.RESTORE, actor.name,
                         reason or f"恢复第 {version} 版为“{target.label}”")
            return Change(entry_id, new, target)

    def _check_reviewer(self, author: str | None, actor: Actor) -> None:
        if actor.operator or self.settings.kb_allow_self_review:
            return
        if author is not None and author == actor.name:
            raise SelfReview("不能审核发布自己编写的条目，请由另一位管理员审核")


def _default_reason(current: Status, target: Status, actor: Actor) -> str:
    text = f"{current.label} → {target.label}"
    if actor.operator and target is Status.PUBLISHED and current is not Status.IN_REVIEW:
        text += "（操作员直接发布，未经审核）"
    return text
