"""/admin/regression: the saved questions with their current result, runs, and the preview
of a change (which saved questions a publish or an archive would change).

The page runs the set against the live assistant on every view (that is the current
result); routes are sync, so that work happens in the threadpool.
"""
from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.auth import Principal, safe_next
from api.console.forms import MAX_ID
from api.console.render import back, render
from api.deps import AdminPrincipal, AssistantDep, EngineDep, StoreDep
from assistant.tuning import regression
from assistant.tuning.models import RunTrigger
from assistant.tuning.regression import CaseNotFound, RegressionError
from knowledge.store import EntryNotFound
from knowledge.taxonomy import Status

PAGE = "/admin/regression"
ACTIONS = {"publish": "发布", "archive": "归档"}


def _id(value: str) -> int | None:
    """An id typed into a form or a query string (None when it is not one)."""
    value = value.strip().lstrip("#")
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        return None
    return int(value)


def regression_page(request: Request, principal: AdminPrincipal, engine: EngineDep,
                    assistant: AssistantDep) -> HTMLResponse:
    cases = regression.list_cases(engine)
    results = regression.run_cases(assistant, cases)
    return render(request, "tuning_regression.html", {
        "nav": "hit-test", "rows": list(zip(cases, results, strict=True)),
        "passed": sum(1 for r in results if r.passed), "failed": sum(1 for r in results if not r.passed),
        "latest": regression.latest_run(engine),
    }, principal)


def save_case(request: Request, principal: AdminPrincipal, engine: EngineDep, store: StoreDep,
              question: str = Form(""), expect: str = Form(""), entry_id: str = Form(""), note: str = Form(""),
              hit_test_id: str = Form(""), back_to: str = Form("")) -> RedirectResponse:
    target = safe_next(back_to or PAGE)
    entry = _id(entry_id)
    if entry_id.strip() and entry is None:
        return back(request, principal, target, "error", "条目编号须是数字")
    try:
        case = regression.save_case(engine, store, question, expect, entry, principal.staff.display_name, note,
                                    _id(hit_test_id))
    except RegressionError as exc:
        return back(request, principal, target, "error", str(exc))
    return back(request, principal, PAGE, "ok", f"已加入回归集（第 {case.id} 号）：{case.expect_label}")


def delete_case(request: Request, case_id: int, principal: AdminPrincipal, engine: EngineDep) -> RedirectResponse:
    try:
        if not 1 <= case_id <= MAX_ID:
            raise CaseNotFound(case_id)
        regression.delete_case(engine, case_id)
    except CaseNotFound as exc:
        return back(request, principal, PAGE, "error", str(exc))
    return back(request, principal, PAGE, "ok", f"已删除第 {case_id} 号回归用例")


def run_now(request: Request, principal: AdminPrincipal, engine: EngineDep, assistant: AssistantDep,
            store: StoreDep) -> RedirectResponse:
    run = regression.run_regressions(engine, assistant, store, RunTrigger.MANUAL, principal.staff.display_name)
    kind = "ok" if not run.failed else "error"
    return back(request, principal, PAGE, kind, f"回归集已运行：通过 {run.passed}，未通过 {run.failed}")


def _preview_error(request: Request, principal: Principal, message: str, status_code: int,
                   entry: str = "") -> HTMLResponse:
    return render(request, "tuning_regression_preview.html", {
        "nav": "hit-test", "error": message, "entry_text": entry, "entry": None, "rows": [],
        "actions": ACTIONS, "action": ""}, principal, status_code=status_code)


def preview_page(request: Request, principal: AdminPrincipal, engine: EngineDep, store: StoreDep,
                 assistant: AssistantDep, entry: str = "", action: str = "") -> HTMLResponse:
    """What the saved questions would get if entry ``entry`` were published (its current
    text) or archived; by default the move its status calls for."""
    if not entry.strip():
        return _preview_error(request, principal, "", 200)
    entry_id = _id(entry)
    if entry_id is None:
        return _preview_error(request, principal, "条目编号须是数字", 400, entry[:20])
    try:
        row = store.get(entry_id)
    except EntryNotFound:
        return _preview_error(request, principal, f"没有编号为 {entry_id} 的条目", 404, str(entry_id))
    if action not in ACTIONS:
        # A published entry is previewed archived, unless an edit of it waits: then published.
        action = "archive" if row.status == Status.PUBLISHED and not row.pending_version else "publish"
    preview = getattr(assistant, "preview", None)
    if preview is None:
        return _preview_error(request, principal, "当前的智能助手不支持预览", 503, str(entry_id))
    changed = preview(publish=[entry_id]) if action == "publish" else preview(remove=[entry_id])
    rows = regression.preview_regressions(changed, assistant, regression.list_cases(engine))
    return render(request, "tuning_regression_preview.html", {
        "nav": "hit-test", "error": "", "entry_text": str(entry_id), "entry": row,
        "status_label": Status(row.status).label, "action": action, "actions": ACTIONS, "rows": rows,
        "changed": [r for r in rows if r.changed], "breaks": sum(1 for r in rows if r.breaks),
    }, principal)


def add_routes(r: APIRouter) -> None:
    r.get("/regression", response_class=HTMLResponse)(regression_page)
    r.post("/regression")(save_case)
    r.post("/regression/run")(run_now)
    r.get("/regression/preview", response_class=HTMLResponse)(preview_page)
    r.post("/regression/{case_id}/delete")(delete_case)
