"""The decision thresholds in the database: validated, audited, and followed by every worker.

Until an admin first saves them, the thresholds are the settings' (``AssistantSettings``) and
the table is empty.  Each save is one transaction that replaces the single row, bumps its
``revision`` and writes the audit row (who, when, old → new, why).  Every worker runs a
``ThresholdSync`` in a background loop: it reads the one integer ``revision`` and, when it
moved, loads the row and sets ``assistant.thresholds`` (no restart).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from assistant.policy import Thresholds
from assistant.settings import AssistantSettings
from assistant.tuning.models import ThresholdChange, ThresholdState
from knowledge.db import session_factory
from knowledge.timeutil import as_utc, utcnow

ROW_ID = 1
#: How often a worker checks whether the thresholds changed (seconds).
SYNC_INTERVAL_S = 2.0
MAX_REASON_CHARS = 500
FIELDS = ("answer", "suggest", "suggest_floor")
LABELS = {"answer": "回答阈值", "suggest": "推荐阈值", "suggest_floor": "候选下限"}


class InvalidThresholds(ValueError):
    """Thresholds that cannot be saved (the message is shown to the admin)."""


def defaults(settings: AssistantSettings) -> Thresholds:
    return Thresholds(settings.answer_threshold, settings.suggest_threshold, settings.suggest_floor)


def as_dict(t: Thresholds) -> dict[str, float]:
    return {"answer": t.answer, "suggest": t.suggest, "suggest_floor": t.suggest_floor}


def validate(answer: float, suggest: float, suggest_floor: float) -> Thresholds:
    """Thresholds with 0 <= floor <= suggest <= answer <= 1 (rounded to 4 places)."""
    values = {"answer": answer, "suggest": suggest, "suggest_floor": suggest_floor}
    for name, value in values.items():
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise InvalidThresholds(f"{LABELS[name]}须在 0 到 1 之间")
    if not suggest_floor <= suggest <= answer:
        raise InvalidThresholds("须满足 候选下限 ≤ 推荐阈值 ≤ 回答阈值")
    return Thresholds(round(answer, 4), round(suggest, 4), round(suggest_floor, 4))


def parse(answer: str, suggest: str, suggest_floor: str) -> Thresholds:
    """Thresholds typed into a form."""
    numbers: dict[str, float] = {}
    for name, text in zip(FIELDS, (answer, suggest, suggest_floor), strict=True):
        try:
            numbers[name] = float(text.strip())
        except ValueError:
            raise InvalidThresholds(f"{LABELS[name]}须是 0 到 1 之间的数字") from None
    return validate(numbers["answer"], numbers["suggest"], numbers["suggest_floor"])


@dataclass(frozen=True)
class StoredThresholds:
    thresholds: Thresholds
    revision: int  # 0: never saved, the settings' defaults are in force
    updated_at: datetime | None


@dataclass(frozen=True)
class Change:
    at: datetime
    actor_name: str
    old: Thresholds
    new: Thresholds
    reason: str
    revision: int


def _thresholds(values: dict[str, Any]) -> Thresholds:
    return Thresholds(float(values["answer"]), float(values["suggest"]), float(values["suggest_floor"]))


def revision(engine: Engine) -> int:
    """The thresholds' revision: one indexed integer, cheap to poll."""
    with session_factory(engine)() as s:
        return s.scalar(select(ThresholdState.revision).where(ThresholdState.id == ROW_ID)) or 0


def stored(engine: Engine) -> StoredThresholds | None:
    """The thresholds saved in the database (None: never saved)."""
    with session_factory(engine)() as s:
        row = s.get(ThresholdState, ROW_ID)
        if row is None:
            return None
        return StoredThresholds(Thresholds(row.answer, row.suggest, row.suggest_floor), row.revision,
                                as_utc(row.updated_at))


def current(engine: Engine, default: Thresholds) -> StoredThresholds:
    """The thresholds in force: the saved ones, else ``default`` (revision 0)."""
    return stored(engine) or StoredThresholds(default, 0, None)


def save(engine: Engine, new: Thresholds, actor_id: int | None, actor_name: str, reason: str,
         default: Thresholds) -> Change:
    """Store ``new`` (already validated) and its audit row in one transaction."""
    reason = reason.strip()
    if not reason:
        raise InvalidThresholds("请填写修改原因")
    new = validate(new.answer, new.suggest, new.suggest_floor)
    try:
        return _save(engine, new, actor_id, actor_name, reason[:MAX_REASON_CHARS], default)
    except IntegrityError:  # another admin saved the first row at the same moment
        return _save(engine, new, actor_id, actor_name, reason[:MAX_REASON_CHARS], default)


def _save(engine: Engine, new: Thresholds, actor_id: int | None, actor_name: str, reason: str,
          default: Thresholds) -> Change:
    now = utcnow()
    with session_factory(engine).begin() as s:
        row = s.scalar(select(ThresholdState).where(ThresholdState.id == ROW_ID).with_for_update())
        if row is None:
            old = default
            row = ThresholdState(id=ROW_ID, revision=0)
            s.add(row)
        else:
            old = Thresholds(row.answer, row.suggest, row.suggest_floor)
        row.answer, row.suggest, row.suggest_floor = new.answer, new.suggest, new.suggest_floor
        row.revision, row.updated_at = row.revision + 1, now
        s.add(ThresholdChange(at=now, actor_id=actor_id, actor_name=actor_name[:64], old=as_dict(old),
                              new=as_dict(new), reason=reason, revision=row.revision))
        return Change(now, actor_name, old, new, reason, row.revision)


def changes(engine: Engine, limit: int = 50) -> list[Change]:
    """The audit log, newest first."""
    with session_factory(engine)() as s:
        rows = s.scalars(select(ThresholdChange).order_by(ThresholdChange.id.desc()).limit(limit))
        return [Change(as_utc(r.at), r.actor_name, _thresholds(r.old), _thresholds(r.new), r.reason, r.revision)
                for r in rows]


class ThresholdSync:
    """Keeps ``target.thresholds`` (the assistant's) equal to the database's.

    ``step`` is a ``BackgroundLoop`` step: it reads the revision and reloads only when it
    moved.  While nothing was ever saved, the target keeps the thresholds it was made with.
    """

    def __init__(self, engine: Engine, target: Any, interval_s: float = SYNC_INTERVAL_S) -> None:
        self.engine, self.target, self.interval_s = engine, target, interval_s
        self.applied = 0

    def step(self) -> bool:
        if revision(self.engine) != self.applied:
            self.apply()
        return False  # then wait for the interval

    def apply(self) -> None:
        """Load the stored thresholds into the target now."""
        found = stored(self.engine)
        if found is not None and hasattr(self.target, "thresholds"):
            self.target.thresholds = found.thresholds
        self.applied = found.revision if found else 0
