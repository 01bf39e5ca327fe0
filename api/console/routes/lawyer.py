"""The lawyer's pages under /lawyer/: the queue, a ticket and its actions, statistics.

The router depends on ``require_lawyer``, so no route can be added without the role check.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from api.console.auth import Principal, require_lawyer
from api.console.forms import MAX_ID, act, day_of, name_of, staff_id_of, ticket_url
from api.console.render import MAX_REPLY_CHARS, STATS_DEFAULT_DAYS, back, render
from api.console.routes.roster import roster_of, toggle_duty
from api.deps import AccountsDep, DeskDep, LawyerPrincipal
from assistant.queue.desk import Desk
from assistant.queue.errors import TicketNotFound
from assistant.queue.lifecycle import PRIORITY_LABELS
from knowledge.taxonomy import CATEGORIES
from knowledge.timeutil import CHINA_TZ, china_days


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


def _queue_page(request: Request, principal: Principal, desk: Desk, scope: str, nav: str,
                title: str) -> HTMLResponse:
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
        "duty": roster_of(desk.engine).status(principal.staff.id),  # the on-duty toggle
        "filtered": any(f[k] for k in ("category", "region", "priority", "overdue"))
        or f["scope"] == "all",
    }, principal)


def queue_page(request: Request, principal: LawyerPrincipal, desk: DeskDep) -> HTMLResponse:
    return _queue_page(request, principal, desk, "open", "queue", "待办咨询")


def mine_page(request: Request, principal: LawyerPrincipal, desk: DeskDep) -> HTMLResponse:
    return _queue_page(request, principal, desk, "mine", "mine", "我的咨询单")


def revision(principal: LawyerPrincipal, desk: DeskDep) -> JSONResponse:
    """Polled by console.js: when it changes, the page's live region is refreshed."""
    return JSONResponse({"revision": desk.revision(), "overdue": len(desk.overdue())},
                        headers={"Cache-Control": "no-store"})


def ticket_page(request: Request, ticket_id: int, principal: LawyerPrincipal, desk: DeskDep,
                accounts: AccountsDep) -> HTMLResponse:
    try:
        if not 1 <= ticket_id <= MAX_ID:
            raise TicketNotFound(ticket_id)
        page = desk.ticket(ticket_id, principal.staff)
    except TicketNotFound:
        return render(request, "error.html", {"title": "咨询单不存在",
                                              "message": f"没有编号为 {ticket_id} 的咨询单。"},
                      principal, status_code=404)
    staff = accounts.list()
    lawyers = [s for s in staff if s.role == "lawyer" and s.active and s.id != principal.staff.id]
    last_reply = next((m.content for m in reversed(page.messages) if m.direction == "lawyer"), "")
    return render(request, "ticket.html", {
        "page": page, "row": page.row, "lawyers": lawyers, "revision": desk.revision(),
        "last_reply": last_reply, "nav": "", "names": {s.id: s.display_name for s in staff},
    }, principal)


def claim(request: Request, ticket_id: int, principal: LawyerPrincipal,
          desk: DeskDep) -> RedirectResponse:
    return act(request, principal, ticket_id, "已接单：您现在是该咨询单的负责律师，请尽快答复",
                lambda: desk.claim(ticket_id, principal.staff))


def reply(request: Request, ticket_id: int, principal: LawyerPrincipal, desk: DeskDep,
          text: str = Form("")) -> RedirectResponse:
    if len(text) > MAX_REPLY_CHARS:
        return back(request, principal, ticket_url(ticket_id), "error",
                    f"答复过长（{len(text)} 字），请控制在 {MAX_REPLY_CHARS} 字以内")
    return act(request, principal, ticket_id, "答复已提交，正在通过微信发送给居民",
                lambda: desk.reply(ticket_id, principal.staff, text))


def transfer(request: Request, ticket_id: int, principal: LawyerPrincipal, desk: DeskDep,
             accounts: AccountsDep, to: str = Form(""), note: str = Form("")) -> RedirectResponse:
    try:
        to_id = staff_id_of(to)
    except ValueError:
        return back(request, principal, ticket_url(ticket_id), "error", "请选择要转交的律师")
    text = "已退回待接单池" if to_id is None else f"已转交给 {name_of(accounts, to_id)}"
    return act(request, principal, ticket_id, text,
                lambda: desk.transfer(ticket_id, principal.staff, to_id, note.strip()))


def close(request: Request, ticket_id: int, principal: LawyerPrincipal,
          desk: DeskDep) -> RedirectResponse:
    return act(request, principal, ticket_id, "咨询单已办结",
                lambda: desk.close(ticket_id, principal.staff))


def reopen(request: Request, ticket_id: int, principal: LawyerPrincipal,
           desk: DeskDep) -> RedirectResponse:
    return act(request, principal, ticket_id, "咨询单已重新打开",
                lambda: desk.reopen(ticket_id, principal.staff))


def draft_entry(request: Request, ticket_id: int, principal: LawyerPrincipal, desk: DeskDep,
                question: str = Form(""), answer: str = Form("")) -> RedirectResponse:
    if not question.strip() or not answer.strip():
        return back(request, principal, ticket_url(ticket_id), "error",
                    "转为知识条目需要填写问题和答案")
    return act(request, principal, ticket_id,
                lambda entry_id: f"已生成知识条目草稿（编号 {entry_id}），等待管理员审核发布",
                lambda: desk.draft_entry(ticket_id, principal.staff, question.strip(), answer.strip()))



def stats_page(request: Request, principal: LawyerPrincipal, desk: DeskDep) -> HTMLResponse:
    today = datetime.now(CHINA_TZ).date()
    first, ok_first = day_of(request.query_params.get("from"),
                           today - timedelta(days=STATS_DEFAULT_DAYS - 1))
    last, ok_last = day_of(request.query_params.get("to"), today)
    error = "" if ok_first and ok_last else "日期格式应为 YYYY-MM-DD，已使用默认范围"
    if last < first:
        first, last = last, first
    start, end = china_days(first, last)  # the last day included
    mine = desk.stats(principal.staff.id, start, end)
    overall, per_lawyer = None, []
    if principal.staff.is_admin:
        rep = desk.report(start, end)
        overall, per_lawyer = rep.overall, [(ls.name, ls.stats) for ls in rep.lawyers]
    return render(request, "stats.html", {
        "mine": mine, "overall": overall, "per_lawyer": per_lawyer, "first": first,
        "last": last, "error": error, "nav": "stats",
    }, principal)


def router() -> APIRouter:
    r = APIRouter(prefix="/lawyer", dependencies=[Depends(require_lawyer)])
    r.get("/", response_class=HTMLResponse)(queue_page)
    r.get("/mine", response_class=HTMLResponse)(mine_page)
    r.get("/api/revision")(revision)
    r.get("/tickets/{ticket_id}", response_class=HTMLResponse)(ticket_page)
    r.post("/tickets/{ticket_id}/claim")(claim)
    r.post("/tickets/{ticket_id}/reply")(reply)
    r.post("/tickets/{ticket_id}/transfer")(transfer)
    r.post("/tickets/{ticket_id}/close")(close)
    r.post("/tickets/{ticket_id}/reopen")(reopen)
    r.post("/tickets/{ticket_id}/draft")(draft_entry)
    r.get("/stats", response_class=HTMLResponse)(stats_page)
    r.post("/duty")(toggle_duty)
    return r
