"""Knowledge-base curation: browse, edit, review, history, import and export (/admin/kb).

This module holds the list and the flagged list and registers the other kb pages
(``kb_edit``, ``kb_entry``, ``kb_review``, ``kb_transfer``).  The router depends on
``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.console.auth import require_admin
from api.console.routes import kb_edit, kb_entry, kb_review, kb_transfer
from api.console.routes.kb_common import kb_render, kind_of
from api.deps import AdminPrincipal, StoreDep
from knowledge.browse import EntryQuery, browse, normalize_law
from knowledge.currency import check_entries
from knowledge.taxonomy import CATEGORIES, Status
from knowledge.timeutil import parse_day

PAGE_SIZE = 30
FLAGGED_PAGE_SIZE = 50
MAX_PAGE = 100_000


def _page_no(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 1 <= int(value) <= MAX_PAGE else 1


def _day(value: str | None, errors: list[str], label: str) -> date | None:
    if not value:
        return None
    try:
        day = parse_day(value.strip())
    except ValueError:
        errors.append(f"{label}格式应为 YYYY-MM-DD，已忽略")
        return None
    if not 2000 <= day.year <= 2100:
        errors.append(f"{label}超出范围，已忽略")
        return None
    return day


def _query(request: Request) -> tuple[EntryQuery, dict[str, str], list[str]]:
    """The filters of the query string (unknown values are ignored, not errors), as given back
    to the form, and what was ignored."""
    q = request.query_params
    errors: list[str] = []
    kind = kind_of(q.get("kind"))
    category = q.get("category") if q.get("category") in CATEGORIES else None
    status = q.get("status") if q.get("status") in {s.value for s in Status} else None
    query = EntryQuery(
        text=(q.get("q") or "").strip()[:200], kind=kind.value if kind else None, category=category, status=status,
        law=normalize_law(q.get("law") or "")[:200] or None, region=(q.get("region") or "").strip()[:64] or None,
        updated_from=_day(q.get("from"), errors, "起始日期"), updated_to=_day(q.get("to"), errors, "截止日期"),
        flagged=q.get("flagged") == "1")
    form = {"q": query.text, "kind": query.kind or "", "category": category or "", "status": status or "",
            "law": query.law or "", "region": query.region or "",
            "from": query.updated_from.isoformat() if query.updated_from else "",
            "to": query.updated_to.isoformat() if query.updated_to else "", "flagged": "1" if query.flagged else ""}
    return query, form, errors


def _pages(base: str, form: dict[str, str], page: int, total: int, size: int) -> dict[str, Any]:
    last = max(1, (total + size - 1) // size)
    kept = {k: v for k, v in form.items() if v}

    def url(n: int) -> str:
        return base + "?" + urlencode(kept | {"page": str(n)})

    return {"page": min(page, last), "last": last, "prev": url(page - 1) if page > 1 else "",
            "next": url(page + 1) if page < last else ""}


def list_page(request: Request, principal: AdminPrincipal, store: StoreDep) -> HTMLResponse:
    query, form, errors = _query(request)
    page = _page_no(request.query_params.get("page"))
    result = browse(store, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    filtered = any(v for v in form.values())
    return kb_render(request, "kb_list.html", {
        "result": result, "form": form, "errors": errors, "filtered": filtered,
        "pages": _pages("/admin/kb", form, page, result.total, PAGE_SIZE),
    }, principal)


def flagged_page(request: Request, principal: AdminPrincipal, store: StoreDep) -> HTMLResponse:
    """Every entry (not archived) citing a repealed statute or an article we do not have."""
    reasons: dict[int, list[str]] = {}
    external: dict[int, str | None] = {}
    for flag in check_entries(store):
        if flag.entry_id is not None:
            reasons.setdefault(flag.entry_id, []).append(flag.reason)
            external[flag.entry_id] = flag.external_id
    ids = sorted(reasons, reverse=True)  # the newest first
    page = _page_no(request.query_params.get("page"))
    shown = ids[(page - 1) * FLAGGED_PAGE_SIZE:page * FLAGGED_PAGE_SIZE]
    entries = store.get_many(shown)
    rows = [{"id": i, "external_id": external[i], "reasons": reasons[i], "entry": entries.get(i)} for i in shown]
    return kb_render(request, "kb_flagged.html", {
        "rows": rows, "total": len(ids), "citations": sum(len(r) for r in reasons.values()),
        "no_articles": not store.article_keys(),
        "pages": _pages("/admin/kb/flagged", {}, page, len(ids), FLAGGED_PAGE_SIZE),
    }, principal)


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/kb", response_class=HTMLResponse)(list_page)
    r.get("/kb/flagged", response_class=HTMLResponse)(flagged_page)
    kb_transfer.register(r)  # /kb/import…, /kb/export: before /kb/{entry_id}
    kb_edit.register(r)  # /kb/new, /kb/{entry_id}/edit
    kb_entry.register(r)  # /kb/{entry_id} and its actions
    kb_review.register(r)  # /review
    return r
