"""The learning loop: unanswered questions grouped by meaning, dislikes with a reason (/admin/unanswered).

The page lists the review tasks of disliked entries, then the date range's unanswered
questions (``assistant.learning.unanswered``) grouped by meaning (``assistant.learning.groups``),
largest groups first; "写一条新问答" turns a group into a knowledge-base draft and opens it
on the entry page (/admin/kb/{id}), where it goes through review.

The router depends on ``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.auth import require_admin
from api.console.forms import MAX_ID, day_of
from api.console.render import back, render
from api.deps import AdminPrincipal, AssistantDep, EngineDep, SettingsDep, StoreDep, kb_changed
from api.wechat.questions import InboundQuestions
from assistant.learning import drafts, feedback, groups, unanswered
from assistant.learning.models import TaskStatus
from knowledge.db import session_factory
from knowledge.taxonomy import Status
from knowledge.timeutil import CHINA_TZ, china_days

PAGE = "/admin/unanswered"
MAX_DRAFT_QUESTIONS = 200  # the questions a draft form may carry
SHOWN_PHRASINGS = 6
READER = InboundQuestions()



def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**6 else 1


def _entry_url(entry_id: int) -> str:
    return f"/admin/kb/{entry_id}"


def unanswered_page(request: Request, principal: AdminPrincipal, engine: EngineDep,
                    settings: SettingsDep, assistant: AssistantDep, store: StoreDep) -> HTMLResponse:
    conf = settings.learning
    today = datetime.now(CHINA_TZ).date()
    q = request.query_params
    first, ok_first = day_of(q.get("from"), today - timedelta(days=conf.learning_default_days - 1))
    last, ok_last = day_of(q.get("to"), today)
    error = "" if ok_first and ok_last else "日期格式应为 YYYY-MM-DD，已使用默认范围"
    if last < first:
        first, last = last, first
    start, end = china_days(first, last)
    # The thresholds the assistant answers with now (tuned in the console, else the settings').
    live = getattr(getattr(assistant, "thresholds", None), "answer", None)
    rules = unanswered.Rules.of(live if live is not None else settings.assistant.answer_threshold, conf)
    with session_factory(engine)() as s:
        questions = unanswered.collect(s, READER, start, end, rules, conf.learning_max_questions)
        tasks = feedback.tasks(s, READER, TaskStatus.OPEN)
        vectors = groups.QuestionVectors(assistant.embedder, settings.storage.cache_dir)
        distance = groups.distance_for(assistant.embedder.name, conf.learning_group_distance)
        found = groups.group(questions, vectors, distance)
        size = max(1, conf.learning_groups_per_page)
        pages = max(1, -(-len(found) // size))
        page = min(_page_number(q.get("page")), pages)
        shown = found[(page - 1) * size:page * size]
        for g in shown:
            g.near = groups.near_entries(assistant, g.representative.text)
        drafted = drafts.drafts_by_question(s, [i for g in shown for i in g.inbound_ids])
    disliked = {e for g in shown for e in g.disliked_entries[:3]}
    titles = {e.id: e.title for e in store.get_many(disliked).values()} if disliked else {}
    rows = [{"group": g, "phrasings": g.phrasings(SHOWN_PHRASINGS),
             "ids": ",".join(str(i) for i in [g.representative.asked.inbound_id, *g.inbound_ids]),
             "draft": next((drafted[i] for i in g.inbound_ids if i in drafted), None)}
            for g in shown]
    return render(request, "unanswered.html", {
        "nav": "unanswered", "title": "未解答问题", "first": first, "last": last, "error": error,
        "rows": rows, "tasks": tasks, "total_groups": len(found), "total_questions": len(questions),
        "page": page, "pages": pages, "offset": (page - 1) * size,
        "capped": len(questions) >= conf.learning_max_questions, "max_questions": conf.learning_max_questions,
        "titles": titles, "KB_STATUS_LABELS": {st.value: st.label for st in Status}, "entry_url": _entry_url,
    }, principal)


def _ids(value: str) -> list[int]:
    ids: list[int] = []
    for part in value.split(","):
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= MAX_ID and int(part) not in ids:
            ids.append(int(part))
    return ids[:MAX_DRAFT_QUESTIONS]


def draft_from_group(request: Request, principal: AdminPrincipal, engine: EngineDep,
                     store: StoreDep, ids: str = Form(""), back_to: str = Form("")) -> RedirectResponse:
    target = back_to if back_to.startswith(PAGE) else PAGE
    wanted = _ids(ids)
    try:
        with session_factory(engine).begin() as s:
            found = READER.by_ids(s, wanted)
            questions = [found[i] for i in wanted if i in found]
            if not questions:
                raise drafts.EmptyGroup("这组问题已不存在，或其文字已按保留期限清除")
            entry_id, created = drafts.write_draft(s, store, questions, principal.staff.username)
    except feedback.LearningError as exc:
        return back(request, principal, target, "error", str(exc))
    if not created:
        return back(request, principal, _entry_url(entry_id), "ok",
                    f"这组问题已有草稿（编号 {entry_id}），请在此修改后提交审核")
    kb_changed(request)
    return back(request, principal, _entry_url(entry_id), "ok",
                f"已由 {len(questions)} 条提问生成草稿（编号 {entry_id}），请修改答复后提交审核")


def close_task(request: Request, task_id: int, principal: AdminPrincipal, engine: EngineDep,
               note: str = Form("")) -> RedirectResponse:
    if not 1 <= task_id <= MAX_ID:
        return back(request, principal, PAGE, "error", f"没有编号为 {task_id} 的复核任务")
    try:
        with session_factory(engine).begin() as s:
            feedback.close_task(s, task_id, principal.staff.id, note)
    except feedback.LearningError as exc:
        return back(request, principal, PAGE, "error", str(exc))
    return back(request, principal, PAGE + "#review-tasks", "ok", "复核任务已关闭")


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/unanswered", response_class=HTMLResponse)(unanswered_page)
    r.post("/unanswered/draft")(draft_from_group)
    r.post("/unanswered/tasks/{task_id}/close")(close_task)
    return r
