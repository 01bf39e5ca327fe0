"""Console logins: server-side sessions behind an HttpOnly cookie, CSRF tokens, role checks.

The cookie carries a random token; the database keeps only its SHA-256, so a copy of the
table cannot be replayed as cookies.  Each session has its own CSRF token, required on every
state-changing request (form field ``csrf_token`` or header ``X-CSRF-Token``).  The role is
checked on every /lawyer/ and /admin/ request against the account as it is *now*: a disabled
account's sessions stop working at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from fastapi import Request
from sqlalchemy import JSON, DateTime, Engine, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from starlette.concurrency import run_in_threadpool

from api.console.settings import ConsoleSettings
from assistant.queue.staff import Accounts, Role, Staff, UserNotFound
from knowledge.db import Base, session_factory
from knowledge.timeutil import as_utc, utcnow

SESSION_COOKIE = "fazhi_session"
LOGIN_CSRF_COOKIE = "fazhi_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# last_seen_at is refreshed at most this often: the queue polls every few seconds and
# each refresh is a database write.
LAST_SEEN_EVERY = timedelta(minutes=1)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    flash: Mapped[dict | None] = mapped_column(JSON)


@dataclass(frozen=True)
class Principal:
    """Who is making this request: the staff member and their session's CSRF token."""

    staff: Staff
    session_id: int
    csrf_token: str


class NotSignedIn(Exception):
    """No valid session: pages redirect to /login, JSON and SSE answer 401."""


class PasswordChangeRequired(NotSignedIn):
    """Signed in with a password an admin reset: nothing but /password until a new one is
    chosen (pages go through /login, which sends the user on to /password)."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this page."""

    def __init__(self, message: str = "您没有权限访问此页面") -> None:
        super().__init__(message)


class CsrfRejected(Exception):
    def __init__(self) -> None:
        super().__init__("页面已过期或请求来源无法验证，请刷新页面后重试")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebAuth:
    """Sessions in the ``web_sessions`` table."""

    def __init__(self, engine: Engine, accounts: Accounts, settings: ConsoleSettings) -> None:
        self._sessions = session_factory(engine)
        self.accounts = accounts
        self.lifetime = timedelta(hours=settings.web_session_hours)
        self.always_secure = settings.web_cookie_secure

    def login(self, username: str, password: str) -> tuple[str, Staff]:
        """A new session token for these credentials (AccountError when refused)."""
        staff = self.accounts.authenticate(username, password)
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._sessions.begin() as s:
            # A login is also when expired sessions are swept away (indexed, cheap).
            s.execute(delete(WebSession).where(WebSession.expires_at < now))
            s.add(WebSession(token_hash=_hash(token), csrf_token=secrets.token_urlsafe(24),
                             user_id=staff.id, created_at=now, expires_at=now + self.lifetime,
                             last_seen_at=now))
        return token, staff

    def resolve(self, token: str | None) -> Principal | None:
        """The principal of a session cookie, or None (unknown, expired, disabled account)."""
        if not token:
            return None
        now = utcnow()
        with self._sessions.begin() as s:
            row = s.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
            if row is None:
                return None
            if as_utc(row.expires_at) <= now:
                s.delete(row)
                return None
            if now - as_utc(row.last_seen_at) >= LAST_SEEN_EVERY:
                row.last_seen_at = now
            user_id, session_id, csrf = row.user_id, row.id, row.csrf_token
        try:
            staff = self.accounts.get(user_id)
        except UserNotFound:
            return None
        if not staff.active:
            return None
        return Principal(staff, session_id, csrf)

    def logout(self, token: str | None) -> None:
        if not token:
            return
        with self._sessions.begin() as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))

    # -- flash: one message carried from a POST to the page it redirects to -----------
    def set_flash(self, session_id: int, kind: str, text: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(WebSession, session_id)
            if row is not None:
                row.flash = {"kind": kind, "text": text}

    def pop_flash(self, session_id: int) -> dict | None:
        with self._sessions.begin() as s:
            row = s.get(WebSession, session_id)
            if row is None or not row.flash:
                return None
            flash, row.flash = dict(row.flash), None
            return flash

    # -- cookies ----------------------------------------------------------------------
    def secure(self, request: Request) -> bool:
        return self.always_secure or request.url.scheme == "https"

    def cookie_options(self, request: Request) -> dict:
        return {"httponly": True, "samesite": "lax", "secure": self.secure(request), "path": "/"}


def wants_html(request: Request) -> bool:
    """Page requests get redirected to the login page; API calls (JSON, SSE) get a 401."""
    if "/api/" in request.url.path:
        return False
    accept = request.headers.get("accept", "")
    return not ("application/json" in accept or "text/event-stream" in accept)


def login_redirect_target(request: Request) -> str:
    """Where to sign in and come back to: the page itself, or for a form posted after the
    session ended, the page the form was on (an action URL cannot be opened with GET)."""
    if request.method in SAFE_METHODS:
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        target = referer.path + ("?" + referer.query if referer.query else "") \
            if same_site and referer.path else "/lawyer/"
    return "/login?next=" + quote(safe_next(target), safe="")


def safe_next(target: str | None) -> str:
    """Only local paths: ``next`` must not send a freshly signed-in lawyer elsewhere."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ch.isspace() or ord(ch) < 0x20 for ch in target)):
        return "/lawyer/"
    return target


def check_csrf(expected: str, supplied: str | None) -> None:
    if not supplied or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise CsrfRejected()


def _auth(request: Request) -> WebAuth:
    return request.app.state.web_auth


async def _principal(request: Request, roles: tuple[str, ...],
                     pending_password_change: bool = False) -> Principal:
    principal = await run_in_threadpool(_auth(request).resolve,
                                        request.cookies.get(SESSION_COOKIE))
    if principal is None:
        raise NotSignedIn()
    if principal.staff.must_change_password and not pending_password_change:
        raise PasswordChangeRequired()
    request.state.principal = principal  # the error pages show who is signed in
    if principal.staff.role not in roles:
        raise Forbidden()
    if request.method not in SAFE_METHODS:
        supplied = request.headers.get(CSRF_HEADER)
        if supplied is None:
            form = await request.form()  # Starlette caches it for the route's Form fields
            value = form.get(CSRF_FIELD)
            supplied = value if isinstance(value, str) else None
        check_csrf(principal.csrf_token, supplied)
    return principal


async def require_lawyer(request: Request) -> Principal:
    """Lawyers and admins (admins can also work tickets)."""
    return await _principal(request, (Role.LAWYER, Role.ADMIN))


async def require_admin(request: Request) -> Principal:
    return await _principal(request, (Role.ADMIN,))


async def require_signed_in(request: Request) -> Principal:
    """Any staff member, also one who must still replace a reset password (/password)."""
    return await _principal(request, (Role.LAWYER, Role.ADMIN), pending_password_change=True)
