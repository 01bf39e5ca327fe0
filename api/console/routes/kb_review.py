"""The review list (/admin/review): entries waiting for a second admin, and the drafts
lawyers made from their answers (转为知识条目), each with the ticket it came from."""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console.routes.kb_common import TicketLink, author_names, kb_render, ticket_links
from api.deps import AccountsDep, AdminPrincipal, EngineDep, StoreDep, WorkflowDep
from knowledge.models import Entry
from knowledge.store import EntryFilter
from knowledge.taxonomy import Status
from knowledge.versions import content_author

MAX_ROWS = 500


@dataclass(frozen=True)
class ReviewRow:
    entry: Entry
    author: str | None
    ticket: TicketLink | None
    mine: bool  # the admin wrote it: another admin must publish it


def review_page(request: Request, principal: AdminPrincipal, store: StoreDep, engine: EngineDep,
                workflow: WorkflowDep, accounts: AccountsDep) -> HTMLResponse:
    waiting = store.list(EntryFilter(status=Status.IN_REVIEW.value), limit=MAX_ROWS)
    links = ticket_links(engine, statuses=(Status.DRAFT, Status.IN_REVIEW))
    waiting_ids = {e.id for e in waiting}
    drafts = [e for e in store.get_many([i for i in links if i not in waiting_ids]).values()
              if e.status == Status.DRAFT.value]
    me = principal.staff.username
    strict = not workflow.settings.kb_allow_self_review

    def rows(entries: list[Entry]) -> list[ReviewRow]:
        with store.session() as s:
            authors = {e.id: content_author(s, e.id) for e in entries}
        return [ReviewRow(e, authors[e.id], links.get(e.id), strict and authors[e.id] == me)
                for e in sorted(entries, key=lambda e: e.updated_at)]

    return kb_render(request, "review.html", {
        "waiting": rows(waiting), "drafts": rows(drafts), "names": author_names(accounts), "nav": "review",
    }, principal)


def register(r: APIRouter) -> None:
    r.get("/review", response_class=HTMLResponse)(review_page)
