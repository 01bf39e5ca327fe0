"""What fired and when: the console banner (open, unacknowledged episodes), the history
page, and acknowledging an alert."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from assistant.alerts.models import Alert, Severity
from assistant.alerts.rules import RULE_LABELS
from assistant.queue.staff import User
from knowledge.db import rows_changed, session_factory
from knowledge.timeutil import as_utc, utcnow

BANNER_LIMIT = 3  # alerts named in the banner; the rest are counted
HISTORY_LIMIT = 200


class AlertNotFound(LookupError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"没有编号为 {alert_id} 的预警")


@dataclass(frozen=True)
class AlertView:
    id: int
    rule: str
    key: str
    severity: str
    title: str
    detail: str
    started_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by_name: str | None
    deliveries: dict[str, Any]
    data: dict[str, Any]

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    @property
    def critical(self) -> bool:
        return self.severity == Severity.CRITICAL

    @property
    def rule_label(self) -> str:
        return RULE_LABELS.get(self.rule, self.rule)

    @property
    def duration_s(self) -> float:
        return ((self.cleared_at or utcnow()) - self.started_at).total_seconds()


@dataclass(frozen=True)
class Banner:
    alerts: list[AlertView]  # the newest few
    total: int  # open and unacknowledged

    @property
    def more(self) -> int:
        return self.total - len(self.alerts)

    @property
    def critical(self) -> bool:
        return any(a.critical for a in self.alerts)


def _view(a: Alert, names: dict[int, str]) -> AlertView:
    return AlertView(a.id, a.rule, a.key, a.severity, a.title, a.detail, as_utc(a.started_at),
                     as_utc(a.last_seen_at), as_utc(a.cleared_at), as_utc(a.acknowledged_at),
                     names.get(a.acknowledged_by) if a.acknowledged_by is not None else None,
                     dict(a.deliveries or {}), dict(a.data or {}))


def _names(s: Session) -> dict[int, str]:
    return {user_id: name for user_id, name in s.execute(select(User.id, User.display_name))}


class AlertBoard:
    """The console's side of the alerts."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def banner(self) -> Banner | None:
        """Open episodes nobody acknowledged yet, newest first (None when there are none)."""
        unseen = (Alert.open_key.is_not(None), Alert.acknowledged_at.is_(None))
        with self._sessions() as s:
            total = s.scalar(select(func.count(Alert.id)).where(*unseen)) or 0
            if not total:
                return None
            rows = s.scalars(select(Alert).where(*unseen)
                             .order_by(Alert.severity == Severity.WARNING, Alert.started_at.desc(),
                                       Alert.id.desc()).limit(BANNER_LIMIT))
            return Banner([_view(a, {}) for a in rows], total)

    def history(self, only_open: bool = False, limit: int = HISTORY_LIMIT) -> list[AlertView]:
        """Open episodes first, then the rest, newest first."""
        with self._sessions() as s:
            stmt = select(Alert).order_by(Alert.open_key.is_(None), Alert.started_at.desc(),
                                          Alert.id.desc()).limit(limit)
            if only_open:
                stmt = stmt.where(Alert.open_key.is_not(None))
            names = _names(s)
            return [_view(a, names) for a in s.scalars(stmt)]

    def acknowledge(self, alert_id: int, user_id: int, now: datetime | None = None) -> bool:
        """Mark an alert seen (it leaves the banner); False when it already was."""
        with self._sessions.begin() as s:
            if s.get(Alert, alert_id) is None:
                raise AlertNotFound(alert_id)
            changed = s.execute(update(Alert).where(Alert.id == alert_id,
                                                    Alert.acknowledged_at.is_(None))
                                .values(acknowledged_at=now or utcnow(), acknowledged_by=user_id))
            return bool(rows_changed(changed))
