"""Accounts: create, edit, disable, unlock staff and reset passwords (/admin/users).

A new account and a reset password get a temporary password, shown once on the page that
answers the POST (never put in a flash, which the database would keep); its user must choose
a new one at the next login.  Every change is in the accounts' audit log.

The router depends on ``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.auth import Principal, require_admin
from api.console.forms import MAX_ID
from api.console.render import back, render
from api.deps import AdminPrincipal, StaffAdminDep
from assistant.queue.staff import ROLE_LABELS, ROLES, AccountError, Role, Staff, UserNotFound
from assistant.queue.staff_admin import Issued

USERS = "/admin/users"
_SEPARATORS = re.compile(r"[,，、;；\s]+")


def split_regions(value: str) -> list[str]:
    return [part for part in _SEPARATORS.split(value) if part]


def user_url(user_id: int) -> str:
    return f"{USERS}/{user_id}"


def _context(**extra: object) -> dict[str, object]:
    return {"nav": "users", "ROLE_LABELS": ROLE_LABELS, "ROLES": ROLES, **extra}


def users_page(request: Request, principal: AdminPrincipal, staff_admin: StaffAdminDep) -> HTMLResponse:
    return render(request, "users.html", _context(
        rows=staff_admin.rows(), audit=staff_admin.audit(limit=30), title="账号管理"), principal)


def _issued(request: Request, principal: Principal, issued: Issued, created: bool) -> HTMLResponse:
    return render(request, "users_issued.html", _context(
        issued=issued, created=created, title="临时密码"), principal)


def create_user(request: Request, principal: AdminPrincipal, staff_admin: StaffAdminDep,
                username: str = Form(""), display_name: str = Form(""),
                role: str = Form(Role.LAWYER.value), categories: list[str] = Form([]),
                regions: str = Form("")) -> Response:
    try:
        issued = staff_admin.create(principal.staff, username, display_name, role, categories,
                                    split_regions(regions))
    except AccountError as exc:
        return back(request, principal, USERS, "error", str(exc))
    return _issued(request, principal, issued, created=True)


def _user_or_back(request: Request, principal: Principal, user_id: int,
                  action: Callable[[], object]) -> object | RedirectResponse:
    if not 1 <= user_id <= MAX_ID:
        return back(request, principal, USERS, "error", str(UserNotFound(user_id)))
    try:
        return action()
    except UserNotFound as exc:
        return back(request, principal, USERS, "error", str(exc))
    except AccountError as exc:
        return back(request, principal, user_url(user_id), "error", str(exc))


def user_page(request: Request, user_id: int, principal: AdminPrincipal,
              staff_admin: StaffAdminDep) -> Response:
    row = _user_or_back(request, principal, user_id, lambda: staff_admin.row(user_id))
    if isinstance(row, RedirectResponse):
        return row
    return render(request, "users_edit.html", _context(
        row=row, audit=staff_admin.audit(target_id=user_id), title="管理账号"), principal)


def _done(request: Request, principal: Principal, user_id: int, text: Callable[[Staff], str],
          action: Callable[[], Staff]) -> Response:
    result = _user_or_back(request, principal, user_id, action)
    if isinstance(result, RedirectResponse):
        return result
    assert isinstance(result, Staff)
    return back(request, principal, user_url(user_id), "ok", text(result))


def update_user(request: Request, user_id: int, principal: AdminPrincipal,
                staff_admin: StaffAdminDep, display_name: str = Form(""), role: str = Form(""),
                categories: list[str] = Form([]), regions: str = Form("")) -> Response:
    return _done(request, principal, user_id, lambda st: f"已保存 {st.display_name} 的资料",
                 lambda: staff_admin.update(principal.staff, user_id, display_name, role,
                                            categories, split_regions(regions)))


def disable_user(request: Request, user_id: int, principal: AdminPrincipal,
                 staff_admin: StaffAdminDep) -> Response:
    return _done(request, principal, user_id, lambda st: f"已停用 {st.display_name}，其登录随即失效",
                 lambda: staff_admin.set_active(principal.staff, user_id, False))


def enable_user(request: Request, user_id: int, principal: AdminPrincipal,
                staff_admin: StaffAdminDep) -> Response:
    return _done(request, principal, user_id, lambda st: f"已启用 {st.display_name}",
                 lambda: staff_admin.set_active(principal.staff, user_id, True))


def unlock_user(request: Request, user_id: int, principal: AdminPrincipal,
                staff_admin: StaffAdminDep) -> Response:
    return _done(request, principal, user_id, lambda st: f"已解除 {st.display_name} 的锁定",
                 lambda: staff_admin.unlock(principal.staff, user_id))


def reset_password(request: Request, user_id: int, principal: AdminPrincipal,
                   staff_admin: StaffAdminDep) -> Response:
    issued = _user_or_back(request, principal, user_id,
                           lambda: staff_admin.reset_password(principal.staff, user_id))
    if isinstance(issued, RedirectResponse):
        return issued
    assert isinstance(issued, Issued)
    return _issued(request, principal, issued, created=False)


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/users", response_class=HTMLResponse)(users_page)
    r.post("/users", response_class=HTMLResponse)(create_user)
    r.get("/users/{user_id}", response_class=HTMLResponse)(user_page)
    r.post("/users/{user_id}")(update_user)
    r.post("/users/{user_id}/disable")(disable_user)
    r.post("/users/{user_id}/enable")(enable_user)
    r.post("/users/{user_id}/unlock")(unlock_user)
    r.post("/users/{user_id}/reset-password", response_class=HTMLResponse)(reset_password)
    return r
