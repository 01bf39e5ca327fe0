"""Administering staff accounts from the console: create, edit roles, categories and regions,
disable and enable, unlock, reset a password, each with an entry in the accounts' audit log
(``staff_audit``) written in the same transaction as the change.

A new account and a reset password get a random temporary password, shown once to the
admin; the account is flagged ``must_change_password`` and the console lets its user do
nothing but choose a new one (``api.console.auth``).  An admin can neither disable nor demote
themselves, so there is always an active admin left.  The schema is created by migration
``0009_admin_insight``.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, Engine, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.queue.staff import (
    ROLE_LABELS,
    Accounts,
    InvalidAccount,
    Role,
    Staff,
    User,
    UserExists,
    UserNotFound,
    _staff,
    check_password,
    check_profile,
    check_username,
    clean_regions,
)
from knowledge.db import Base, session_factory
from knowledge.timeutil import as_utc, utcnow

#: Shown in the console's account audit trail.
ACTION_LABELS: dict[str, str] = {
    "create": "新建账号", "update": "修改资料", "disable": "停用", "enable": "启用",
    "unlock": "解除锁定", "reset_password": "重置密码", "change_password": "修改密码",
}
FIELD_LABELS: dict[str, str] = {"display_name": "显示名", "role": "角色", "categories": "擅长分类",
                                "regions": "服务地区"}
# No look-alikes (0/O, 1/l/I): a temporary password is read out over the phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
TEMP_PASSWORD_CHARS = 12


class StaffAuditEntry(Base):
    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: the system
    action: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class CannotChangeSelf(InvalidAccount):
    """An admin tried to disable or demote their own account."""


@dataclass(frozen=True)
class Issued:
    """An account with a fresh temporary password (shown to the admin once, never stored)."""

    staff: Staff
    password: str


@dataclass(frozen=True)
class StaffRow:
    staff: Staff
    created_at: datetime
    locked_until: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    target: str
    detail: str

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


def temporary_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(TEMP_PASSWORD_CHARS))


def _shown(field: str, value: object) -> str:
    if field == "role":
        return ROLE_LABELS.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（无）"
    return str(value)


def detail_text(action: str, detail: dict) -> str:
    """One line saying what changed (never a password)."""
    if action == "update":
        parts = [f"{FIELD_LABELS.get(k, k)}：{_shown(k, old)} → {_shown(k, new)}"
                 for k, (old, new) in sorted(detail.get("changes", {}).items())]
        return "；".join(parts)
    if action == "create":
        return f"角色：{_shown('role', detail.get('role', ''))}"
    return ""


def _record(s: Session, actor_id: int | None, action: str, target_id: int | None,
            **detail: object) -> None:
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown account audit action {action!r}")
    s.add(StaffAuditEntry(at=utcnow(), actor_id=actor_id, action=action, target_id=target_id,
                          detail=dict(detail)))


class StaffAdmin:
    """What /admin/users and the password page call; ``actor`` is the signed-in admin."""

    def __init__(self, engine: Engine, accounts: Accounts) -> None:
        self._sessions = session_factory(engine)
        self.accounts = accounts

    @staticmethod
    def _user(s: Session, user_id: int) -> User:
        user = s.get(User, user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    def rows(self) -> list[StaffRow]:
        with self._sessions() as s:
            return [StaffRow(_staff(u), as_utc(u.created_at), as_utc(u.locked_until))
                    for u in s.scalars(select(User).order_by(User.role, User.username))]

    def row(self, user_id: int) -> StaffRow:
        with self._sessions() as s:
            u = self._user(s, user_id)
            return StaffRow(_staff(u), as_utc(u.created_at), as_utc(u.locked_until))

    def create(self, actor: Staff, username: str, display_name: str, role: str,
               categories: Iterable[str] = (), regions: Iterable[str] = ()) -> Issued:
        username = check_username(username)
        display_name, cats = check_profile(display_name, role, categories)
        password = temporary_password()
        user = User(username=username, display_name=display_name, role=role,
                    password_hash=self.accounts.hash_password(password), categories=cats,
                    regions=clean_regions(regions), active=True, failed_logins=0,
                    must_change_password=True, created_at=utcnow())
        try:
            with self._sessions.begin() as s:
                s.add(user)
                s.flush()
                _record(s, actor.id, "create", user.id, role=role)
                return Issued(_staff(user), password)
        except IntegrityError as exc:
            raise UserExists(username) from exc

    def update(self, actor: Staff, user_id: int, display_name: str, role: str,
               categories: Iterable[str], regions: Iterable[str]) -> Staff:
        display_name, cats = check_profile(display_name, role, categories)
        if user_id == actor.id and role != Role.ADMIN:
            raise CannotChangeSelf("不能取消自己的管理员角色（请另一位管理员操作）")
        wanted = {"display_name": display_name, "role": role, "categories": cats,
                  "regions": clean_regions(regions)}
        with self._sessions.begin() as s:
            user = self._user(s, user_id)
            changes = {k: [getattr(user, k), v] for k, v in wanted.items()
                       if getattr(user, k) != v}
            for key, (_old, new) in changes.items():
                setattr(user, key, new)
            if changes:
                _record(s, actor.id, "update", user.id, changes=changes)
            return _staff(user)

    def set_active(self, actor: Staff, user_id: int, active: bool) -> Staff:
        """Disable (its open sessions stop working at the next request) or enable."""
        if user_id == actor.id and not active:
            raise CannotChangeSelf("不能停用自己的账号")
        with self._sessions.begin() as s:
            user = self._user(s, user_id)
            if bool(user.active) != active:
                user.active = active
                if active:
                    user.failed_logins, user.locked_until = 0, None
                _record(s, actor.id, "enable" if active else "disable", user.id)
            return _staff(user)

    def unlock(self, actor: Staff, user_id: int) -> Staff:
        with self._sessions.begin() as s:
            user = self._user(s, user_id)
            user.failed_logins, user.locked_until = 0, None
            _record(s, actor.id, "unlock", user.id)
            return _staff(user)

    def reset_password(self, actor: Staff, user_id: int) -> Issued:
        """A new temporary password; the user must choose their own at the next login (and
        any session they still have is held on the password page until they do)."""
        password = temporary_password()
        with self._sessions.begin() as s:
            user = self._user(s, user_id)
            user.password_hash = self.accounts.hash_password(password)
            user.must_change_password = True
            user.failed_logins, user.locked_until = 0, None
            _record(s, actor.id, "reset_password", user.id)
            return Issued(_staff(user), password)

    def change_password(self, staff: Staff, current: str, new: str) -> Staff:
        """The user's own change: the current password is checked like a login (wrong
        guesses count towards the lockout), the new one must differ from it."""
        check_password(new)
        if new == current:
            raise InvalidAccount("新密码不能与当前密码相同")
        self.accounts.authenticate(staff.username, current)  # AccountError when wrong
        with self._sessions.begin() as s:
            user = self._user(s, staff.id)
            user.password_hash = self.accounts.hash_password(new)
            user.must_change_password = False
            _record(s, staff.id, "change_password", user.id)
            return _staff(user)

    def audit(self, target_id: int | None = None, limit: int = 50) -> list[AuditLine]:
        """The newest entries first, for one account or for all."""
        with self._sessions() as s:
            stmt = select(StaffAuditEntry).order_by(StaffAuditEntry.id.desc()).limit(limit)
            if target_id is not None:
                stmt = stmt.where(StaffAuditEntry.target_id == target_id)
            entries = list(s.scalars(stmt))
            ids = {e.actor_id for e in entries} | {e.target_id for e in entries}
            names = {i: f"{n}（{u}）" for i, n, u in s.execute(
                select(User.id, User.display_name, User.username)
                .where(User.id.in_([i for i in ids if i is not None])))}
        return [AuditLine(as_utc(e.at), names.get(e.actor_id, "系统") if e.actor_id else "系统",
                          e.action, names.get(e.target_id, f"#{e.target_id}") if e.target_id else "",
                          detail_text(e.action, e.detail or {}))
                for e in entries]
