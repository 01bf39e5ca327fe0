"""The review list (/admin/review): what waits for a second admin (new entries in review,
and the pending edits in review of published entries, each labelled), and the drafts
lawyers made from their answers (转为知识条目), each with the ticket it came from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console.routes.kb_common import TicketLink, author_names, kb_render, ticket_links
from api.deps import AccountsDep, AdminPrincipal, EngineDep, StoreDep, WorkflowDep
from knowledge.models import Entry
from knowledge.pending import waiting as pending_edits
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
    since: datetime
    edit: int | None = None  # a published entry's pending edit: its newest version


def review_page(request: Request, principal: AdminPrincipal, store: StoreDep, engine: EngineDep,
                workflow: WorkflowDep, accounts: AccountsDep) -> HTMLResponse:
    waiting = store.list(EntryFilter(status=Status.IN_REVIEW.value), limit=MAX_ROWS)
    links = ticket_links(engine, statuses=(Status.DRAFT, Status.IN_REVIEW))
    waiting_ids = {e.id for e in waiting}
    drafts = [e for e in store.get_many([i for i in links if i not in waiting_ids]).values()
              if e.status == Status.DRAFT.value]
    me = principal.staff.username
    strict = not workflow.settings.kb_allow_self_review

    def row(entry: Entry, author: str | None, since: datetime, edit: int | None = None) -> ReviewRow:
        return ReviewRow(entry, author, links.get(entry.id), strict and author == me, since, edit)

    with store.session() as s:
        entries = [row(e, content_author(s, e.id), e.updated_at) for e in waiting]
        edits = [row(e, content_author(s, e.id, pending=True), v.created_at, v.version)
                 for e, v in pending_edits(s, Status.IN_REVIEW, limit=MAX_ROWS)]
        lawyers = [row(e, content_author(s, e.id), e.updated_at) for e in drafts]
    return kb_render(request, "review.html", {
        "waiting": sorted(entries + edits, key=lambda r: r.since), "edits": len(edits),
        "drafts": sorted(lawyers, key=lambda r: r.since), "names": author_names(accounts), "nav": "review",
    }, principal)


def register(r: APIRouter) -> None:
    r.get("/review", response_class=HTMLResponse)(review_page)
