"""What routes depend on: the services the app's lifespan put on ``app.state``, and the
signed-in staff member (``Annotated`` dependencies, so a route declares what it needs)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.console.auth import Principal, WebAuth, require_admin, require_lawyer
from assistant.queue.desk import Desk
from assistant.queue.staff import Accounts


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def web_auth_of(request: Request) -> WebAuth:
    auth: WebAuth = request.app.state.web_auth
    return auth


DeskDep = Annotated[Desk, Depends(desk_of)]
AccountsDep = Annotated[Accounts, Depends(accounts_of)]
WebAuthDep = Annotated[WebAuth, Depends(web_auth_of)]
#: Lawyers and admins (admins can also work tickets).
LawyerPrincipal = Annotated[Principal, Depends(require_lawyer)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
