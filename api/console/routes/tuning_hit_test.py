"""/admin/hit-test: what the assistant would do with a question, and the history of runs.

A run is a POST (it is stored), then the page of that run shows what was seen then; 重新运行
asks again with the same question (a new run).  Routes are sync: the assistant's work runs
in the threadpool, never on the event loop.
"""
from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from api.console.auth import Principal
from api.console.forms import MAX_ID
from api.console.render import back, render
from api.deps import AdminPrincipal, AssistantDep, EngineDep
from assistant.pii import mask_numbers
from assistant.tuning import hit_tests
from assistant.tuning.hit_tests import EmptyQuestion, HistoryRow, HitTestNotFound, HitTestResult
from assistant.tuning.models import Expectation
from assistant.tuning.regression import EXPECT_LABELS

PAGE = "/admin/hit-test"


def _context(engine: Engine, result: HitTestResult | None = None, run: HistoryRow | None = None,
             question: str = "") -> dict:
    rows = hit_tests.history(engine)
    return {"nav": "hit-test", "result": result, "run": run, "question": question,
            "history": [(r, mask_numbers(r.question)) for r in rows],
            "expectations": [(e.value, EXPECT_LABELS[e]) for e in Expectation]}


def hit_test_page(request: Request, principal: AdminPrincipal, engine: EngineDep, q: str = "") -> HTMLResponse:
    return render(request, "tuning_hit_test.html", _context(engine, question=q[:hit_tests.MAX_QUESTION_CHARS]),
                  principal)


def _run(request: Request, principal: Principal, engine: EngineDep, assistant: AssistantDep,
         question: str) -> RedirectResponse:
    try:
        result = hit_tests.run_hit_test(assistant, question)
    except EmptyQuestion as exc:
        return back(request, principal, PAGE, "error", str(exc))
    run_id = hit_tests.record(engine, principal.staff.id, principal.staff.display_name, result)
    return RedirectResponse(f"{PAGE}/{run_id}", status_code=303)


def run_hit_test(request: Request, principal: AdminPrincipal, engine: EngineDep, assistant: AssistantDep,
                 question: str = Form("")) -> RedirectResponse:
    return _run(request, principal, engine, assistant, question)


def _not_found(request: Request, principal: Principal, run_id: int) -> HTMLResponse:
    return render(request, "error.html", {"title": "命中测试不存在", "message": f"没有第 {run_id} 次命中测试。"},
                  principal, status_code=404)


def hit_test_run_page(request: Request, run_id: int, principal: AdminPrincipal,
                      engine: EngineDep) -> HTMLResponse:
    try:
        if not 1 <= run_id <= MAX_ID:
            raise HitTestNotFound(run_id)
        run, result = hit_tests.get(engine, run_id)
    except HitTestNotFound:
        return _not_found(request, principal, run_id)
    return render(request, "tuning_hit_test.html", _context(engine, result, run, result.question), principal)


def rerun_hit_test(request: Request, run_id: int, principal: AdminPrincipal, engine: EngineDep,
                   assistant: AssistantDep) -> Response:
    try:
        if not 1 <= run_id <= MAX_ID:
            raise HitTestNotFound(run_id)
        _run_row, result = hit_tests.get(engine, run_id)
    except HitTestNotFound:
        return _not_found(request, principal, run_id)
    return _run(request, principal, engine, assistant, result.question)


def add_routes(r: APIRouter) -> None:
    r.get("/hit-test", response_class=HTMLResponse)(hit_test_page)
    r.post("/hit-test")(run_hit_test)
    r.get("/hit-test/{run_id}", response_class=HTMLResponse)(hit_test_run_page)
    r.post("/hit-test/{run_id}/rerun")(rerun_hit_test)
