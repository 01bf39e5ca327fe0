"""Admin pages under /admin/: overdue tickets and reassigning them; the search index.

The router depends on ``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.auth import require_admin, safe_next
from api.console.forms import act, name_of, staff_id_of
from api.console.render import back, render
from api.deps import AccountsDep, AdminPrincipal, AssistantDep, DeskDep


def admin_home(principal: AdminPrincipal) -> RedirectResponse:
    return RedirectResponse("/admin/overdue", status_code=303)


def overdue_page(request: Request, principal: AdminPrincipal, desk: DeskDep,
                 accounts: AccountsDep) -> HTMLResponse:
    return render(request, "overdue.html", {
        "rows": desk.overdue(), "lawyers": accounts.lawyers(),
        "revision": desk.revision(), "nav": "overdue",
    }, principal)


def reassign(request: Request, ticket_id: int, principal: AdminPrincipal, desk: DeskDep,
             accounts: AccountsDep, to: str = Form(""), back_to: str = Form("")) -> RedirectResponse:
    target = safe_next(back_to or "/admin/overdue")
    try:
        to_id = staff_id_of(to)
    except ValueError:
        to_id = None
    if to_id is None:
        return back(request, principal, target, "error", "请选择改派的律师")
    return act(request, principal, ticket_id,
                f"咨询单已改派给 {name_of(accounts, to_id)}",
                lambda: desk.reassign(ticket_id, principal.staff, to_id), target)


def index_page(request: Request, principal: AdminPrincipal, assistant: AssistantDep) -> HTMLResponse:
    """What search answers from: the revision it reflects, and a full rebuild's progress."""
    live = getattr(assistant, "index", None)
    status = live.status() if live is not None and hasattr(live, "status") else None
    return render(request, "index_status.html", {"status": status, "nav": "index"}, principal)


def rebuild_index(request: Request, principal: AdminPrincipal, assistant: AssistantDep) -> RedirectResponse:
    live = getattr(assistant, "index", None)
    if live is None or not hasattr(live, "start_rebuild"):
        return back(request, principal, "/admin/index", "error", "当前检索服务不支持重建")
    started = live.start_rebuild()
    text = "已开始全量重建索引，期间检索照常进行" if started else "全量重建正在进行中"
    return back(request, principal, "/admin/index", "ok", text)


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/")(admin_home)
    r.get("/overdue", response_class=HTMLResponse)(overdue_page)
    r.post("/tickets/{ticket_id}/reassign")(reassign)
    r.get("/index", response_class=HTMLResponse)(index_page)
    r.post("/index/rebuild")(rebuild_index)
    return r
