"""Rendering the console: the templates (built by ``make_templates`` when the app is made),
their filters, the security headers, and POST-redirect-GET with a one-line message."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.console.auth import Principal
from api.deps import web_auth_of
from assistant.durations import duration_text
from assistant.queue.lifecycle import PRIORITY_LABELS, STATUS_LABELS
from knowledge.taxonomy import CATEGORIES
from knowledge.timeutil import CHINA_TZ

HERE = Path(__file__).parent
POLL_SECONDS = 5
MAX_REPLY_CHARS = 4000
SHOWN_CANDIDATES = 5  # the rest of the candidates are folded away
STATS_DEFAULT_DAYS = 30
MAX_ID = 2**31 - 1  # ids beyond any row (and beyond what the databases' integers hold)

# The admin pages, in the order of the admin menu: (path, nav key, label).
ADMIN_NAV = [("/admin/kb", "kb", "知识库"), ("/admin/review", "review", "待审核"),
             ("/admin/hit-test", "hit-test", "命中测试"), ("/admin/eval", "eval", "评测与阈值"),
             ("/admin/dashboard", "dashboard", "数据看板"), ("/admin/unanswered", "unanswered", "未解答问题"),
             ("/admin/alerts", "alerts", "预警"), ("/admin/roster", "roster", "值班"),
             ("/admin/users", "users", "账号"),
             ("/admin/overdue", "overdue", "超时督办"), ("/admin/index", "index", "检索索引")]
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


def fmt_epoch(value: float | None) -> str:
    """A Unix timestamp (the index's build times) in China time."""
    return "—" if value is None else fmt_time(datetime.fromtimestamp(value, CHINA_TZ))


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(time=fmt_time, short=fmt_short, deadline=fmt_deadline, epoch=fmt_epoch,
                       duration=duration_text)
    env.globals.update(STATUS_LABELS=STATUS_LABELS, PRIORITY_LABELS=PRIORITY_LABELS,
                       CATEGORIES=CATEGORIES, MESSAGE_AUTHORS=MESSAGE_AUTHORS,
                       DELIVERY_LABELS=DELIVERY_LABELS, POLL_SECONDS=POLL_SECONDS,
                       MAX_REPLY_CHARS=MAX_REPLY_CHARS, SHOWN_CANDIDATES=SHOWN_CANDIDATES,
                       ADMIN_NAV=ADMIN_NAV)
    return Jinja2Templates(env=env)



def render(request: Request, name: str, context: dict[str, Any],
           principal: Principal | None = None, status_code: int = 200,
           take_flash: bool = True) -> HTMLResponse:
    ctx: dict[str, Any] = {"principal": principal, "staff": principal.staff if principal else None,
                           "csrf_token": principal.csrf_token if principal else "",
                           "flash": None, "nav": "", "alert_banner": None}
    if principal is not None and take_flash:
        ctx["flash"] = web_auth_of(request).pop_flash(principal.session_id)
        board = getattr(request.app.state, "alert_board", None)  # alerts: the banner for admins
        if board is not None and principal.staff.is_admin:
            ctx["alert_banner"] = board.banner()
    ctx.update(context)
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def back(request: Request, principal: Principal, target: str, kind: str = "",
         text: str = "") -> RedirectResponse:
    if text:
        web_auth_of(request).set_flash(principal.session_id, kind or "ok", text)
    return RedirectResponse(target, status_code=303)


