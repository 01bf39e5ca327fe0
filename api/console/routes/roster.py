"""The on-duty roster: lawyers mark themselves on or off duty (POST /lawyer/duty, on the
lawyer router), admins keep the weekly schedule (/admin/roster).

This router depends on ``require_admin``; ``toggle_duty`` is registered on the lawyer
router, which depends on ``require_lawyer``.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.auth import require_admin, safe_next
from api.console.forms import MAX_ID, staff_id_of
from api.console.render import back, render
from api.deps import AdminPrincipal, EngineDep, LawyerPrincipal
from assistant.queue.roster import WEEKDAYS, InvalidShift, Roster, ShiftNotFound


def roster_of(engine: EngineDep) -> Roster:
    return Roster(engine)


def toggle_duty(request: Request, principal: LawyerPrincipal, engine: EngineDep,
                on: str = Form(""), back_to: str = Form("")) -> RedirectResponse:
    on_duty = on == "1"
    roster_of(engine).set_on_duty(principal.staff.id, on_duty)
    return back(request, principal, safe_next(back_to or "/lawyer/"), "ok",
                "您已开始值班：居民的预计等待和超时预测会计入您" if on_duty else "您已结束值班")


def roster_page(request: Request, principal: AdminPrincipal, engine: EngineDep) -> HTMLResponse:
    roster = roster_of(engine)
    board = roster.board()
    return render(request, "roster.html", {
        "board": board, "on_duty": [d for d in board if d.on_duty], "in_use": roster.in_use(),
        "WEEKDAYS": WEEKDAYS, "nav": "roster",
    }, principal)


def add_shift(request: Request, principal: AdminPrincipal, engine: EngineDep,
              user: str = Form(""), weekday: str = Form(""), start: str = Form(""),
              end: str = Form("")) -> RedirectResponse:
    try:
        user_id = staff_id_of(user)
        day = int(weekday) if weekday.strip().isdigit() else -1
        if user_id is None:
            raise InvalidShift("请选择律师")
        shift = roster_of(engine).add_shift(user_id, day, start, end)
    except ValueError as exc:  # InvalidShift, or a user id that is not a number
        text = str(exc) if isinstance(exc, InvalidShift) else "请选择律师"
        return back(request, principal, "/admin/roster", "error", text)
    return back(request, principal, "/admin/roster", "ok", f"已添加排班：{shift.label}")


def remove_shift(request: Request, shift_id: int, principal: AdminPrincipal,
                 engine: EngineDep) -> RedirectResponse:
    try:
        if not 1 <= shift_id <= MAX_ID:
            raise ShiftNotFound(shift_id)
        roster_of(engine).remove_shift(shift_id)
    except ShiftNotFound as exc:
        return back(request, principal, "/admin/roster", "error", str(exc))
    return back(request, principal, "/admin/roster", "ok", "已删除该排班")


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/roster", response_class=HTMLResponse)(roster_page)
    r.post("/roster/shifts")(add_shift)
    r.post("/roster/shifts/{shift_id}/delete")(remove_shift)
    return r
