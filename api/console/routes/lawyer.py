"""The lawyer console: server-rendered pages under /lawyer/ and /admin/, login at /login.

Every /lawyer/ route depends on ``require_lawyer`` and every /admin/ route on
``require_admin`` at the router level, so a route cannot be added without the role check.
Actions are POST forms carrying the session's CSRF token; each answers with a redirect back
to the page and a one-line message (POST, redirect, GET).  Templates autoescape everything:
residents' text is never marked safe.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from assistant.queue.staff import AccountError, AccountLocked, Accounts, UserNotFound
from assistant.queue.desk import Desk
from api.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    Forbidden,
    NotSignedIn,
    Principal,
    WebAuth,
    check_csrf,
    login_redirect_target,
    require_admin,
    require_lawyer,
    safe_next,
    wants_html,
)
from assistant.queue.lifecycle import CHINA_TZ, PRIORITY_LABELS, STATUS_LABELS, QueueError, TicketNotFound
from assistant.queue.report import duration_text
from knowledge.taxonomy import CATEGORIES

HERE = Path(__file__).resolve().parents[1]  # api/console/
POLL_SECONDS = 5
MAX_REPLY_CHARS = 4000
SHOWN_CANDIDATES = 5  # the rest of the candidates are folded away
STATS_DEFAULT_DAYS = 30
MAX_ID = 2**31 - 1  # ids beyond any row (and beyond what the databases' integers hold)

MESSAGE_AUTHORS = {"in": "居民", "out": "智能助手"}
DELIVERY_LABELS = {"pending": "发送中", "sending": "发送中", "sent": "已送达",
                   # 45015 (48 hours without a word from the resident) or 45047 (quota)
                   "held": "待送达（微信暂不允许发送，居民再次留言后自动送达）",
                   "failed": "发送失败"}
# Content-Security-Policy: our own CSS and JS only, no inline script, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# -- template helpers -------------------------------------------------------------------
def _local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(CHINA_TZ)


def fmt_time(value: datetime | None) -> str:
    local = _local(value)
    return "—" if local is None else f"{local:%Y-%m-%d %H:%M}"


def fmt_short(value: datetime | None) -> str:
    local = _local(value)
    if local is None:
        return "—"
    today = datetime.now(CHINA_TZ).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%m-%d %H:%M}"


def fmt_deadline(value: datetime | None, overdue: bool) -> str:
    """"剩余 2小时05分" or "已超时 15分钟"."""
    if value is None:
        return "—"
    delta = (value - datetime.now(CHINA_TZ)).total_seconds()
    if overdue or delta < 0:
        return f"已超时 {duration_text(abs(delta))}"
    return f"剩余 {duration_text(delta)}"


def _make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(time=fmt_time, short=fmt_short, deadline=fmt_deadline,
                       duration=duration_text)
    env.globals.update(STATUS_LABELS=STATUS_LABELS, PRIORITY_LABELS=PRIORITY_LABELS,
                       CATEGORIES=CATEGORIES, MESSAGE_AUTHORS=MESSAGE_AUTHORS,
                       DELIVERY_LABELS=DELIVERY_LABELS, POLL_SECONDS=POLL_SECONDS,
                       MAX_REPLY_CHARS=MAX_REPLY_CHARS, SHOWN_CANDIDATES=SHOWN_CANDIDATES)
    return Jinja2Templates(env=env)


templates = _make_templates()


def _desk(request: Request) -> Desk:
    return request.app.state.desk


def _accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def _web_auth(request: Request) -> WebAuth:
    return request.app.state.web_auth


def render(request: Request, name: str, context: dict[str, Any],
           principal: Principal | None = None, status_code: int = 200,
           take_flash: bool = True) -> HTMLResponse:
    ctx: dict[str, Any] = {"principal": principal, "staff": principal.staff if principal else None,
                           "csrf_token": principal.csrf_token if principal else "",
                           "flash": None, "nav": ""}
    if principal is not None and take_flash:
        ctx["flash"] = _web_auth(request).pop_flash(principal.session_id)
    ctx.update(context)
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def back(request: Request, principal: Principal, target: str, kind: str = "",
         text: str = "") -> RedirectResponse:
    if text:
        _web_auth(request).set_flash(principal.session_id, kind or "ok", text)
    return RedirectResponse(target, status_code=303)


# -- login / logout ---------------------------------------------------------------------
public = APIRouter()


def _login_page(request: Request, error: str = "", next_: str = "", username: str = "",
                status_code: int = 200) -> HTMLResponse:
    # Login CSRF: a double-submit token in a cookie of its own (there is no session yet).
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", {"error": error, "next": safe_next(next_ or None),
                                               "username": username, "csrf_token": token},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600,
                        **_web_auth(request).cookie_options(request))
    return response


@public.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/lawyer/", status_code=303)


@public.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:  # noqa: A002 - query name
    if _web_auth(request).resolve(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(safe_next(next or None), status_code=303)
    return _login_page(request, next_=next)


@public.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 csrf_token: str = Form(""), next: str = Form("")) -> Response:  # noqa: A002
    try:
        check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE) or "", csrf_token)
    except CsrfRejected as exc:
        return _login_page(request, str(exc), next, username, status_code=403)
    if not username.strip() or not password:
        return _login_page(request, "请输入用户名和密码", next, username, status_code=400)
    auth = _web_auth(request)
    try:
        token, _staff = auth.login(username, password)
    except AccountLocked as exc:
        until = exc.until.astimezone(CHINA_TZ)
        return _login_page(request, f"{exc}（{until:%H:%M} 后可再次登录）", next, username,
                           status_code=429)
    except AccountError as exc:
        return _login_page(request, str(exc), next, username, status_code=401)
    response = RedirectResponse(safe_next(next or None), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(auth.lifetime.total_seconds()),
                        **auth.cookie_options(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@public.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    auth = _web_auth(request)
    principal = await run_in_threadpool(auth.resolve, token)
    if principal is not None:
        form = await request.form()
        supplied = request.headers.get("X-CSRF-Token") or form.get("csrf_token")
        check_csrf(principal.csrf_token, supplied if isinstance(supplied, str) else None)
        await run_in_threadpool(auth.logout, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the lawyer's pages -------------------------------------------------------------------
lawyer = APIRouter(prefix="/lawyer", dependencies=[Depends(require_lawyer)])


def _filters(request: Request) -> dict[str, Any]:
    """Queue filters from the query string; unknown values are ignored, not errors."""
    q = request.query_params
    category = q.get("category") or None
    priority = q.get("priority") or None
    return {
        "category": category if category in CATEGORIES else None,
        "region": (q.get("region") or "").strip()[:64] or None,
        "priority": priority if priority in PRIORITY_LABELS else None,
        "overdue": True if q.get("overdue") == "1" else None,
        "scope": "all" if q.get("scope") == "all" else "open",
    }


def _queue_page(request: Request, principal: Principal, scope: str, nav: str,
                title: str) -> HTMLResponse:
    desk = _desk(request)
    f = _filters(request)
    if scope == "mine":
        f["scope"] = "mine"
    rows = desk.queue(principal.staff, category=f["category"], region=f["region"],
                      priority=f["priority"], overdue=f["overdue"], scope=f["scope"])
    overdue = desk.overdue()
    mine_overdue = [r for r in overdue if r.claimed_by == principal.staff.id]
    return render(request, "queue.html", {
        "rows": rows, "filters": f, "overdue": overdue, "mine_overdue": mine_overdue,
        "revision": desk.revision(), "nav": nav, "title": title,
        "filtered": any(f[k] for k in ("category", "region", "priority", "overdue"))
        or f["scope"] == "all",
    }, principal)


@lawyer.get("/", response_class=HTMLResponse)
def queue_page(request: Request, principal: Principal = Depends(require_lawyer)) -> HTMLResponse:
    return _queue_page(request, principal, "open", "queue", "待办咨询")


@lawyer.get("/mine", response_class=HTMLResponse)
def mine_page(request: Request, principal: Principal = Depends(require_lawyer)) -> HTMLResponse:
    return _queue_page(request, principal, "mine", "mine", "我的咨询单")


@lawyer.get("/api/revision")
def revision(request: Request, principal: Principal = Depends(require_lawyer)) -> JSONResponse:
    """Polled by console.js: when it changes, the page's live region is refreshed."""
    desk = _desk(request)
    return JSONResponse({"revision": desk.revision(), "overdue": len(desk.overdue())},
                        headers={"Cache-Control": "no-store"})


def _ticket_url(ticket_id: int) -> str:
    return f"/lawyer/tickets/{ticket_id}"


@lawyer.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: int,
                principal: Principal = Depends(require_lawyer)) -> HTMLResponse:
    desk = _desk(request)
    try:
        if not 1 <= ticket_id <= MAX_ID:
            raise TicketNotFound(ticket_id)
        page = desk.ticket(ticket_id, principal.staff)
    except TicketNotFound:
        return render(request, "error.html", {"title": "咨询单不存在",
                                              "message": f"没有编号为 {ticket_id} 的咨询单。"},
                      principal, status_code=404)
    staff = _accounts(request).list()
    lawyers = [s for s in staff if s.role == "lawyer" and s.active and s.id != principal.staff.id]
    last_reply = next((m.content for m in reversed(page.messages) if m.direction == "lawyer"), "")
    return render(request, "ticket.html", {
        "page": page, "row": page.row, "lawyers": lawyers, "revision": desk.revision(),
        "last_reply": last_reply, "nav": "", "names": {s.id: s.display_name for s in staff},
    }, principal)


def _act(request: Request, principal: Principal, ticket_id: int,
         ok_text: str | Callable[[Any], str], action: Callable[[], Any],
         target: str | None = None) -> RedirectResponse:
    """Run one desk action; QueueError messages become the flash shown on the page."""
    target = target or _ticket_url(ticket_id)
    try:
        if not 1 <= ticket_id <= MAX_ID:
            raise TicketNotFound(ticket_id)
        result = action()
    except TicketNotFound as exc:  # nothing to go back to: the queue
        return back(request, principal, "/lawyer/", "error", str(exc))
    except QueueError as exc:
        return back(request, principal, target, "error", str(exc))
    text = ok_text(result) if callable(ok_text) else ok_text
    return back(request, principal, target, "ok", text)


@lawyer.post("/tickets/{ticket_id}/claim")
def claim(request: Request, ticket_id: int,
          principal: Principal = Depends(require_lawyer)) -> RedirectResponse:
    return _act(request, principal, ticket_id, "已接单：您现在是该咨询单的负责律师，请尽快答复",
                lambda: _desk(request).claim(ticket_id, principal.staff))


@lawyer.post("/tickets/{ticket_id}/reply")
def reply(request: Request, ticket_id: int, text: str = Form(""),
          principal: Principal = Depends(require_lawyer)) -> RedirectResponse:
    if len(text) > MAX_REPLY_CHARS:
        return back(request, principal, _ticket_url(ticket_id), "error",
                    f"答复过长（{len(text)} 字），请控制在 {MAX_REPLY_CHARS} 字以内")
    return _act(request, principal, ticket_id, "答复已提交，正在通过微信发送给居民",
                lambda: _desk(request).reply(ticket_id, principal.staff, text))


def _staff_id(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValueError(value)
    return int(value)


def _name_of(request: Request, user_id: int | None) -> str:
    if user_id is None:
        return "待接单池"
    try:
        return _accounts(request).get(user_id).display_name
    except UserNotFound:
        return f"#{user_id}"


@lawyer.post("/tickets/{ticket_id}/transfer")
def transfer(request: Request, ticket_id: int, to: str = Form(""), note: str = Form(""),
             principal: Principal = Depends(require_lawyer)) -> RedirectResponse:
    try:
        to_id = _staff_id(to)
    except ValueError:
        return back(request, principal, _ticket_url(ticket_id), "error", "请选择要转交的律师")
    text = "已退回待接单池" if to_id is None else f"已转交给 {_name_of(request, to_id)}"
    return _act(request, principal, ticket_id, text,
                lambda: _desk(request).transfer(ticket_id, principal.staff, to_id, note.strip()))


@lawyer.post("/tickets/{ticket_id}/close")
def close(request: Request, ticket_id: int,
          principal: Principal = Depends(require_lawyer)) -> RedirectResponse:
    return _act(request, principal, ticket_id, "咨询单已办结",
                lambda: _desk(request).close(ticket_id, principal.staff))


@lawyer.post("/tickets/{ticket_id}/reopen")
def reopen(request: Request, ticket_id: int,
           principal: Principal = Depends(require_lawyer)) -> RedirectResponse:
    return _act(request, principal, ticket_id, "咨询单已重新打开",
                lambda: _desk(request).reopen(ticket_id, principal.staff))


@lawyer.post("/tickets/{ticket_id}/draft")
def draft_entry(request: Request, ticket_id: int, question: str = Form(""),
                answer: str = Form(""),
                principal: Principal = Depends(require_lawyer)) -> RedirectResponse:
    if not question.strip() or not answer.strip():
        return back(request, principal, _ticket_url(ticket_id), "error",
                    "转为知识条目需要填写问题和答案")
    return _act(request, principal, ticket_id,
                lambda entry_id: f"已生成知识条目草稿（编号 {entry_id}），等待管理员审核发布",
                lambda: _desk(request).draft_entry(ticket_id, principal.staff,
                                                   question.strip(), answer.strip()))


def _day(value: str | None, default: date) -> tuple[date, bool]:
    if not value:
        return default, True
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return default, False
    return (day, True) if 2000 <= day.year <= 2100 else (default, False)


@lawyer.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, principal: Principal = Depends(require_lawyer)) -> HTMLResponse:
    today = datetime.now(CHINA_TZ).date()
    first, ok_first = _day(request.query_params.get("from"),
                           today - timedelta(days=STATS_DEFAULT_DAYS - 1))
    last, ok_last = _day(request.query_params.get("to"), today)
    error = "" if ok_first and ok_last else "日期格式应为 YYYY-MM-DD，已使用默认范围"
    if last < first:
        first, last = last, first
    start = datetime.combine(first, time.min, CHINA_TZ)
    end = datetime.combine(last + timedelta(days=1), time.min, CHINA_TZ)  # inclusive last day
    desk = _desk(request)
    mine = desk.stats(principal.staff.id, start, end)
    overall, per_lawyer = None, []
    if principal.staff.is_admin:
        rep = desk.report(start, end)
        overall, per_lawyer = rep.overall, [(ls.name, ls.stats) for ls in rep.lawyers]
    return render(request, "stats.html", {
        "mine": mine, "overall": overall, "per_lawyer": per_lawyer, "first": first,
        "last": last, "error": error, "nav": "stats",
    }, principal)


# -- admin pages ----------------------------------------------------------------------
admin = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])


@admin.get("/")
def admin_home(principal: Principal = Depends(require_admin)) -> RedirectResponse:
    return RedirectResponse("/admin/overdue", status_code=303)


@admin.get("/overdue", response_class=HTMLResponse)
def overdue_page(request: Request, principal: Principal = Depends(require_admin)) -> HTMLResponse:
    desk = _desk(request)
    return render(request, "overdue.html", {
        "rows": desk.overdue(), "lawyers": _accounts(request).lawyers(),
        "revision": desk.revision(), "nav": "overdue",
    }, principal)


@admin.post("/tickets/{ticket_id}/reassign")
def reassign(request: Request, ticket_id: int, to: str = Form(""), back_to: str = Form(""),
             principal: Principal = Depends(require_admin)) -> RedirectResponse:
    target = safe_next(back_to or "/admin/overdue")
    try:
        to_id = _staff_id(to)
    except ValueError:
        to_id = None
    if to_id is None:
        return back(request, principal, target, "error", "请选择改派的律师")
    return _act(request, principal, ticket_id,
                f"咨询单已改派给 {_name_of(request, to_id)}",
                lambda: _desk(request).reassign(ticket_id, principal.staff, to_id), target)


# -- wiring ---------------------------------------------------------------------------
def _error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    if not wants_html(request):
        return JSONResponse({"error": message}, status_code=status_code)
    # The flash stays for the next real page (and no database work on the event loop here).
    principal = getattr(request.state, "principal", None)
    return render(request, "error.html", {"title": title, "message": message}, principal,
                  status_code=status_code, take_flash=False)


async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
    if wants_html(request):
        return RedirectResponse(login_redirect_target(request), status_code=303)
    return JSONResponse({"error": "请先登录"}, status_code=401)


async def _forbidden(request: Request, exc: Forbidden) -> Response:
    return _error_page(request, 403, "没有权限", str(exc))


async def _csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
    return _error_page(request, 403, "请求被拒绝", str(exc))


def install_console(app: FastAPI) -> None:
    """Routes, static files and the error pages of the console (``create_app`` calls it;
    the lifespan puts ``accounts``, ``web_auth`` and ``desk`` on ``app.state``)."""
    app.include_router(public)
    app.include_router(lawyer)
    app.include_router(admin)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
