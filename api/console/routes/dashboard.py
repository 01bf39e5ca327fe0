"""The dashboard: statistics of what residents ask and how they are served (/admin/dashboard),
and its exports: an XLSX workbook and a printable page, both for the period and filters shown.

The printable page is one self-contained file (its stylesheet inline, its charts ``data:``
images) so that it can be saved and attached to a report; its Content-Security-Policy
allows exactly that stylesheet (by hash) and no script at all.

The router depends on ``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.console.auth import require_admin
from api.console.forms import day_of
from api.console.render import render
from api.deps import AdminPrincipal, EngineDep
from assistant.pii import mask_numbers
from assistant.stats.charts.dashboard import charts
from assistant.stats.export import filename, scope_text, to_xlsx
from assistant.stats.figures import (
    DECISION_LABELS,
    DECISIONS,
    UNCATEGORISED,
    Dashboard,
    Scope,
    ScopeError,
    Statistics,
    key_figures,
    percent,
)
from knowledge.taxonomy import CATEGORIES
from knowledge.timeutil import CHINA_TZ

DEFAULT_DAYS = 30
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)



def scope_of(request: Request) -> tuple[Scope, str]:
    """The period and filters asked for (the last 30 days by default), and what was wrong
    with them, if anything (then the defaults are used for that part)."""
    q = request.query_params
    today = datetime.now(CHINA_TZ).date()
    default_first = today - timedelta(days=DEFAULT_DAYS - 1)
    first, ok_first = day_of(q.get("from"), default_first)
    last, ok_last = day_of(q.get("to"), today)
    errors = [] if ok_first and ok_last else ["日期格式应为 YYYY-MM-DD，已使用默认范围"]
    category = q.get("category") or None
    if category is not None and category not in CATEGORIES and category != UNCATEGORISED:
        errors.append(f"没有这个分类：{category}")
        category = None
    try:
        scope = Scope(first, last, category, q.get("region"))
    except ScopeError as exc:
        errors.append(f"{exc}，已使用默认范围")
        scope = Scope(default_first, today, category, q.get("region"))
    return scope, "；".join(errors)


def query_of(scope: Scope) -> str:
    params = {"from": scope.first.isoformat(), "to": scope.last.isoformat()}
    if scope.category:
        params["category"] = scope.category
    if scope.region:
        params["region"] = scope.region
    return urlencode(params)


def _context(d: Dashboard) -> dict[str, object]:
    return {"d": d, "charts": charts(d), "key_figures": key_figures(d), "scope_text": scope_text(d),
            "query": query_of(d.scope), "DECISIONS": DECISIONS, "DECISION_LABELS": DECISION_LABELS,
            "percent": percent, "mask": mask_numbers,
            "nav": "dashboard",
            "lawyer_rows": [("全部", d.queue.overall)] + [(ls.name, ls.stats) for ls in d.queue.lawyers]}


def dashboard_page(request: Request, principal: AdminPrincipal, engine: EngineDep) -> HTMLResponse:
    scope, error = scope_of(request)
    stats = Statistics(engine)
    d = stats.dashboard(scope)
    examples = stats.disliked_examples(scope, [x.entry_id for x in d.disliked])
    return render(request, "dashboard.html", {
        **_context(d), "examples": examples, "regions": stats.regions(), "error": error,
        "title": "数据看板"}, principal)


def export_xlsx(request: Request, principal: AdminPrincipal, engine: EngineDep) -> Response:
    scope, _error = scope_of(request)
    d = Statistics(engine).dashboard(scope)
    return Response(to_xlsx(d), media_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{filename(d, "xlsx")}"',
        "Cache-Control": "no-store"})


def printable(request: Request, principal: AdminPrincipal, engine: EngineDep,
              download: bool = False) -> HTMLResponse:
    scope, _error = scope_of(request)
    d = Statistics(engine).dashboard(scope)
    response = render(request, "dashboard_print.html", {**_context(d), "title": "统计报告"},
                      principal, take_flash=False)
    style = _STYLE.search(bytes(response.body).decode("utf-8"))
    digest = base64.b64encode(hashlib.sha256((style.group(1) if style else "").encode()).digest())
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'sha256-{digest.decode()}'; img-src data:; "
        "frame-ancestors 'none'; form-action 'none'; base-uri 'none'")
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename(d, "html")}"'
    return response


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/dashboard", response_class=HTMLResponse)(dashboard_page)
    r.get("/dashboard/export.xlsx")(export_xlsx)
    r.get("/dashboard/report.html", response_class=HTMLResponse)(printable)
    return r
