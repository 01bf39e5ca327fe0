"""Staff accounts: lawyers and admins who work the queue in the console.

Passwords are stored as argon2id hashes only.  Repeated wrong passwords lock the account
for a while; an unknown user name costs the same hashing work as a known one, so response
time does not tell which user names exist.  The schema is created by migration
``0003_accounts``.
"""
from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON, Boolean, DateTime, Engine, Integer, String, and_, case, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from assistant.queue.settings import StaffSettings
from knowledge.db import Base, session_factory
from knowledge.taxonomy import CATEGORIES
from knowledge.timeutil import as_utc, utcnow


class Role(StrEnum):
    LAWYER = "lawyer"
    ADMIN = "admin"


ROLES = tuple(Role)
ROLE_LABELS: dict[str, str] = {Role.LAWYER: "律师", Role.ADMIN: "管理员"}
MIN_PASSWORD_CHARS = 8
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    categories: Mapped[list] = mapped_column(JSON, default=list)  # taxonomy category names
    regions: Mapped[list] = mapped_column(JSON, default=list)  # free-form, e.g. "海淀区"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set when an admin resets the password (0009): the console lets the user do nothing
    # but choose a new one (``assistant.queue.staff_admin``).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())


@dataclass(frozen=True)
class Staff:
    """A signed-in (or listed) staff member, detached from the database."""

    id: int
    username: str
    display_name: str
    role: str
    categories: tuple[str, ...]
    regions: tuple[str, ...]
    active: bool = True
    must_change_password: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class AccountError(Exception):
    """Base of the account errors; the message is fit to show to staff."""


class InvalidCredentials(AccountError):
    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class AccountLocked(AccountError):
    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__("登录失败次数过多，账号已临时锁定，请稍后再试")


class UserExists(AccountError, ValueError):
    def __init__(self, username: str) -> None:
        super().__init__(f"用户名已存在：{username}")


class UserNotFound(AccountError, LookupError):
    def __init__(self, key: object) -> None:
        super().__init__(f"没有这个用户：{key}")


class InvalidAccount(AccountError, ValueError):
    """A user name, role, password or category that cannot be accepted."""


def _staff(user: User) -> Staff:
    return Staff(user.id, user.username, user.display_name, user.role,
                 tuple(user.categories or ()), tuple(user.regions or ()), bool(user.active),
                 bool(user.must_change_password))


def _clean_list(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def check_username(username: str) -> str:
    username = username.strip()
    if not _USERNAME.match(username):
        raise InvalidAccount("用户名须为 2-64 位字母、数字或 _ . @ -，并以字母或数字开头")
    return username


def check_profile(display_name: str, role: str, categories: Iterable[str]) -> tuple[str, list[str]]:
    """The display name and categories as stored, or InvalidAccount."""
    display_name = display_name.strip()
    if role not in ROLES:
        raise InvalidAccount(f"未知角色：{role}（可选：{'、'.join(ROLES)}）")
    if not display_name or len(display_name) > 64:
        raise InvalidAccount("显示名不能为空，且不超过 64 个字符")
    cats = _clean_list(categories)
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise InvalidAccount(f"未知分类：{'、'.join(unknown)}（可选：{'、'.join(CATEGORIES)}）")
    return display_name, cats


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidAccount(f"密码至少 {MIN_PASSWORD_CHARS} 位")


def clean_regions(regions: Iterable[str]) -> list[str]:
    return _clean_list(regions)


class Accounts:
    """Create, list, disable and authenticate staff accounts."""

    def __init__(self, engine: Engine, *, max_failures: int = 5,
                 lockout: timedelta = timedelta(minutes=15),
                 hasher: PasswordHasher | None = None) -> None:
        self._sessions = session_factory(engine)
        self.max_failures = max(1, max_failures)
        self.lockout = lockout
        self._hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the user name is unknown, to spend the same time."""
        return self._hasher.hash("fazhi-no-such-user")

    def add(self, username: str, password: str, display_name: str, role: str,
            categories: Iterable[str] = (), regions: Iterable[str] = ()) -> Staff:
        username = check_username(username)
        display_name, cats = check_profile(display_name, role, categories)
        check_password(password)
        user = User(username=username, display_name=display_name, role=role,
                    password_hash=self._hasher.hash(password), categories=cats,
                    regions=clean_regions(regions), active=True, failed_logins=0,
                    created_at=utcnow())
        try:
            with self._sessions.begin() as s:
                s.add(user)
                s.flush()
                return _staff(user)
        except IntegrityError as exc:
            raise UserExists(username) from exc

    def authenticate(self, username: str, password: str) -> Staff:
        """The staff member, or InvalidCredentials / AccountLocked.

        Each guess first takes one of the ``max_failures`` slots of the window in a single
        conditional UPDATE, before the (slow) hash is checked; so however many requests
        arrive at once, at most ``max_failures`` passwords are checked per lockout window.
        A disabled account answers exactly like a wrong password (no password oracle)."""
        now = utcnow()
        with self._sessions() as s:
            found = s.execute(select(User.id, User.password_hash, User.active)
                              .where(User.username == username.strip())).first()
        if found is None:
            self._verify(self._dummy_hash, password)
            raise InvalidCredentials()
        user_id, stored, active = found
        locked_until = self._take_guess(user_id, now)
        if not (self._verify(stored, password) and active):
            if locked_until is not None:  # this guess was the last one of the window
                raise AccountLocked(locked_until)
            raise InvalidCredentials()
        with self._sessions.begin() as s:
            user = s.get(User, user_id)
            assert user is not None
            user.failed_logins = 0
            user.locked_until = None
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            return _staff(user)

    def hash_password(self, password: str) -> str:
        """The argon2id hash of an acceptable password (InvalidAccount otherwise)."""
        check_password(password)
        return self._hasher.hash(password)

    def password_matches(self, user_id: int, password: str) -> bool:
        """Whether ``password`` is the account's current one (no lockout bookkeeping: for a
        user who is already signed in and confirms it)."""
        with self._sessions() as s:
            stored = s.scalar(select(User.password_hash).where(User.id == user_id))
        return stored is not None and self._verify(stored, password)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _take_guess(self, user_id: int, now: datetime) -> datetime | None:
        """Count this guess (before it is checked) or raise AccountLocked, atomically: the
        row's write lock serialises parallel guesses on SQLite and PostgreSQL alike.  The
        guess that reaches the limit also sets the lock (returned; a success lifts it)."""
        expired = and_(User.locked_until.is_not(None), User.locked_until <= now)
        count = case((expired, 1), else_=User.failed_logins + 1)
        with self._sessions.begin() as s:
            taken = s.execute(
                update(User)
                .where(User.id == user_id,
                       or_(expired, and_(User.locked_until.is_(None),
                                         User.failed_logins < self.max_failures)))
                .values(failed_logins=count,
                        locked_until=case((count >= self.max_failures, now + self.lockout),
                                          else_=None))
                .returning(User.locked_until)
                .execution_options(synchronize_session=False)).first()
            if taken is not None:
                return as_utc(taken[0])
            locked_until = as_utc(s.scalar(select(User.locked_until).where(User.id == user_id)))
        raise AccountLocked(locked_until or now + self.lockout)

    def get(self, user_id: int) -> Staff:
        with self._sessions() as s:
            user = s.get(User, user_id)
            if user is None:
                raise UserNotFound(user_id)
            return _staff(user)

    def by_username(self, username: str) -> Staff:
        with self._sessions() as s:
            user = s.scalar(select(User).where(User.username == username.strip()))
            if user is None:
                raise UserNotFound(username)
            return _staff(user)

    def list(self) -> list[Staff]:
        with self._sessions() as s:
            return [_staff(u) for u in s.scalars(select(User).order_by(User.id))]

    def lawyers(self) -> builtins.list[Staff]:
        """Active lawyers: who a ticket can be transferred or reassigned to."""
        with self._sessions() as s:
            rows = s.scalars(select(User).where(User.role == Role.LAWYER, User.active.is_(True))
                             .order_by(User.id))
            return [_staff(u) for u in rows]

    def disable(self, username: str) -> Staff:
        """Disable an account; its open login sessions stop working at the next request."""
        return self._set_active(username, False)

    def enable(self, username: str) -> Staff:
        return self._set_active(username, True)

    def _set_active(self, username: str, active: bool) -> Staff:
        with self._sessions.begin() as s:
            user = s.scalar(select(User).where(User.username == username.strip()))
            if user is None:
                raise UserNotFound(username)
            user.active = active
            if active:
                user.failed_logins, user.locked_until = 0, None
            return _staff(user)

    def unlock(self, username: str) -> Staff:
        """Lift a lockout now (anyone can lock an account with wrong passwords)."""
        with self._sessions.begin() as s:
            user = s.scalar(select(User).where(User.username == username.strip()))
            if user is None:
                raise UserNotFound(username)
            user.failed_logins, user.locked_until = 0, None
            return _staff(user)

    def set_password(self, username: str, password: str) -> None:
        check_password(password)
        with self._sessions.begin() as s:
            user = s.scalar(select(User).where(User.username == username.strip()))
            if user is None:
                raise UserNotFound(username)
            user.password_hash = self._hasher.hash(password)
            user.failed_logins, user.locked_until = 0, None


def accounts_from_settings(engine: Engine, settings: StaffSettings) -> Accounts:
    return Accounts(engine, max_failures=settings.login_max_failures,
                    lockout=timedelta(minutes=settings.login_lockout_minutes))
