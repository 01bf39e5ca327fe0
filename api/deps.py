"""What routes depend on: the services the app's lifespan put on ``app.state``, and the
signed-in staff member (``Annotated`` dependencies, so a route declares what it needs)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine

from api.console.auth import Principal, WebAuth, require_admin, require_lawyer
from api.settings import Settings
from assistant.queue.desk import Desk
from assistant.queue.staff import Accounts
from assistant.queue.staff_admin import StaffAdmin
from knowledge.store import KnowledgeStore
from knowledge.workflow import Workflow


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def staff_admin_of(request: Request) -> StaffAdmin:
    admin: StaffAdmin = request.app.state.staff_admin
    return admin


def web_auth_of(request: Request) -> WebAuth:
    auth: WebAuth = request.app.state.web_auth
    return auth


def store_of(request: Request) -> KnowledgeStore:
    """The knowledge base the assistant answers from."""
    store: KnowledgeStore = request.app.state.store
    return store


def workflow_of(request: Request) -> Workflow:
    workflow: Workflow = request.app.state.workflow
    return workflow


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def assistant_of(request: Request) -> Any:
    """The assistant (``assistant.service.Assistant`` when serving; tests may pass another)."""
    return request.app.state.assistant


def kb_changed(request: Request) -> None:
    """A knowledge-base change was committed: bring this worker's search up to date now
    (the other workers follow within their sync interval)."""
    request.app.state.kb_sync.sync()


DeskDep = Annotated[Desk, Depends(desk_of)]
AccountsDep = Annotated[Accounts, Depends(accounts_of)]
StaffAdminDep = Annotated[StaffAdmin, Depends(staff_admin_of)]
WebAuthDep = Annotated[WebAuth, Depends(web_auth_of)]
#: Lawyers and admins (admins can also work tickets).
LawyerPrincipal = Annotated[Principal, Depends(require_lawyer)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
StoreDep = Annotated[KnowledgeStore, Depends(store_of)]
WorkflowDep = Annotated[Workflow, Depends(workflow_of)]
EngineDep = Annotated[Engine, Depends(engine_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
AssistantDep = Annotated[Any, Depends(assistant_of)]
