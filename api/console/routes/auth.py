"""Signing in and out: /login (with its own CSRF cookie, there is no session yet), /logout."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.console.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, CsrfRejected, WebAuth, check_csrf, safe_next
from api.console.render import render
from api.deps import WebAuthDep
from assistant.queue.staff import AccountError, AccountLocked
from knowledge.timeutil import CHINA_TZ


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
    if auth.resolve(request.cookies.get(SESSION_COOKIE)) is not None:
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
        token, _staff = auth.login(username, password)
    except AccountLocked as exc:
        until = exc.until.astimezone(CHINA_TZ)
        return _login_page(request, auth, f"{exc}（{until:%H:%M} 后可再次登录）", next, username,
                           status_code=429)
    except AccountError as exc:
        return _login_page(request, auth, str(exc), next, username, status_code=401)
    response = RedirectResponse(safe_next(next or None), status_code=303)
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


def router() -> APIRouter:
    r = APIRouter()
    r.get("/", include_in_schema=False)(home)
    r.get("/login", response_class=HTMLResponse)(login_form)
    r.post("/login", response_class=HTMLResponse)(login_submit)
    r.post("/logout")(logout)
    return r
