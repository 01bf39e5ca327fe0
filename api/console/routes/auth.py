"""Signing in and out: /login (with its own CSRF cookie, there is no session yet), /logout."""
from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    Principal,
    WebAuth,
    check_csrf,
    require_signed_in,
    safe_next,
)
from api.console.render import back, render
from api.deps import StaffAdminDep, WebAuthDep
from assistant.queue.staff import AccountError, AccountLocked, InvalidCredentials
from knowledge.timeutil import CHINA_TZ

SignedIn = Annotated[Principal, Depends(require_signed_in)]


def password_url(next_: str | None) -> str:
    """The page where a user with a reset password chooses a new one, then goes on."""
    return "/password?next=" + quote(safe_next(next_ or None), safe="")


def _login_page(request: Request, auth: WebAuth, error: str = "", next_: str = "", username: str = "",
                status_code: int = 200) -> HTMLResponse:
    # Login CSRF: a double-submit token in a cookie of its own (there is no session yet).
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", {"error": error, "next": safe_next(next_ or None),
                                               "username": username, "csrf_token": token},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600,
                        **auth.cookie_options(request))
    return response


def home() -> RedirectResponse:
    return RedirectResponse("/lawyer/", status_code=303)


def login_form(request: Request, auth: WebAuthDep, next: str = "") -> Response:  # query name
    principal = auth.resolve(request.cookies.get(SESSION_COOKIE))
    if principal is not None:
        if principal.staff.must_change_password:
            return RedirectResponse(password_url(next), status_code=303)
        return RedirectResponse(safe_next(next or None), status_code=303)
    return _login_page(request, auth, next_=next)


def login_submit(request: Request, auth: WebAuthDep, username: str = Form(""),
                 password: str = Form(""), csrf_token: str = Form(""), next: str = Form("")) -> Response:
    try:
        check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE) or "", csrf_token)
    except CsrfRejected as exc:
        return _login_page(request, auth, str(exc), next, username, status_code=403)
    if not username.strip() or not password:
        return _login_page(request, auth, "请输入用户名和密码", next, username, status_code=400)
    try:
        token, staff = auth.login(username, password)
    except AccountLocked as exc:
        until = exc.until.astimezone(CHINA_TZ)
        return _login_page(request, auth, f"{exc}（{until:%H:%M} 后可再次登录）", next, username,
                           status_code=429)
    except AccountError as exc:
        return _login_page(request, auth, str(exc), next, username, status_code=401)
    # After an admin's reset the user must choose a new password before anything else.
    target = password_url(next) if staff.must_change_password else safe_next(next or None)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(auth.lifetime.total_seconds()),
                        **auth.cookie_options(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: Request, auth: WebAuthDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    principal = await run_in_threadpool(auth.resolve, token)
    if principal is not None:
        form = await request.form()
        supplied = request.headers.get("X-CSRF-Token") or form.get("csrf_token")
        check_csrf(principal.csrf_token, supplied if isinstance(supplied, str) else None)
        await run_in_threadpool(auth.logout, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _password_page(request: Request, principal: Principal, next_: str, error: str = "",
                   status_code: int = 200) -> HTMLResponse:
    return render(request, "users_password.html", {
        "forced": principal.staff.must_change_password, "next": safe_next(next_ or None),
        "error": error, "title": "修改密码"}, principal, status_code=status_code)


def password_form(request: Request, principal: SignedIn, next: str = "") -> HTMLResponse:
    return _password_page(request, principal, next)


def password_submit(request: Request, principal: SignedIn, staff_admin: StaffAdminDep,
                    current: str = Form(""), new: str = Form(""), confirm: str = Form(""),
                    next: str = Form("")) -> Response:
    if new != confirm:
        return _password_page(request, principal, next, "两次输入的新密码不一致", 400)
    try:
        staff_admin.change_password(principal.staff, current, new)
    except AccountLocked:
        return _password_page(request, principal, next,
                              "当前密码错误次数过多，账号已临时锁定，请稍后再试", 429)
    except InvalidCredentials:
        return _password_page(request, principal, next, "当前密码不正确", 400)
    except AccountError as exc:
        return _password_page(request, principal, next, str(exc), 400)
    return back(request, principal, safe_next(next or None), "ok", "密码已修改")


def router() -> APIRouter:
    r = APIRouter()
    r.get("/", include_in_schema=False)(home)
    r.get("/login", response_class=HTMLResponse)(login_form)
    r.post("/login", response_class=HTMLResponse)(login_submit)
    r.post("/logout")(logout)
    r.get("/password", response_class=HTMLResponse)(password_form)
    r.post("/password", response_class=HTMLResponse)(password_submit)
    return r
