"""Creating and editing entries (/admin/kb/new, /admin/kb/{id}/edit).

A new entry is a draft.  Saving an edit of a draft (or an entry in review, or archived)
writes a new version and makes it a draft.  Saving an edit of a published entry keeps the
published text online: the edit becomes the entry's pending edit (``knowledge.pending``;
editing again continues it), which a second admin reviews and publishes from the entry page.
Either way "保存并提交审核" submits it at once, and where the settings let an author publish
(``kb_allow_self_review``) "保存并发布" publishes it.
Invalid input re-shows the form with what was typed and a message at each field; a reply
longer than one WeChat message is a warning, not an error (as is what looks like a resident's
phone or ID number).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from api.console.auth import Principal
from api.console.render import back
from api.console.routes.kb_common import actor, entry_url, find_entry, kb_render, kind_of, not_found, reply_size
from api.deps import AdminPrincipal, StoreDep, WorkflowDep, kb_changed
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.pending import PendingEdit, head, pending_edit
from knowledge.store import EntryNotFound, KnowledgeStore, UpsertResult, to_data
from knowledge.taxonomy import Kind, Status
from knowledge.validation import FORM_FIELDS, CheckedEntry, check_form, form_values
from knowledge.versions import Action
from knowledge.workflow import Change, StaleEdit, Workflow, WorkflowError

MAX_REASON = 500
INTENTS = ("draft", "review", "publish", "check")
NEW_SOURCE = "后台录入"


class EntryFields(BaseModel):
    """The edit form as posted (every field text; ``check_form`` reads them)."""

    model_config = ConfigDict(extra="ignore")

    kind: str = ""
    external_id: str = ""
    category: str = ""
    title: str = ""
    question: str = ""
    alt_questions: str = ""
    answer: str = ""
    facts: str = ""
    judgment: str = ""
    reasoning: str = ""
    law: str = ""
    article_no: str = ""
    text: str = ""
    version: str = ""
    citations: str = ""
    cite_law: str = ""
    cite_no: str = ""
    tags: str = ""
    region: str = ""
    intent: str = "draft"
    reason: str = ""
    base_version: str = ""

    def values(self, kind: Kind) -> dict[str, str]:
        """The fields the form of ``kind`` shows (the others keep the entry's values)."""
        shown = (*FORM_FIELDS[kind], "cite_law", "cite_no")
        return {name: getattr(self, name) for name in shown}


FormDep = Annotated[EntryFields, Form()]


def _form(request: Request, principal: Principal, workflow: Workflow, kind: Kind, values: dict[str, str],
          entry: Entry | None = None, checked: CheckedEntry | None = None, reason: str = "",
          base_version: int | None = None, status_code: int = 200, waiting: PendingEdit | None = None) -> HTMLResponse:
    data = checked.data if checked is not None else None
    if data is None and entry is not None and checked is None:
        data = waiting.data if waiting is not None else to_data(entry)
    preview = reply_size(data) if data is not None else None
    return kb_render(request, "kb_form.html", {
        "kind": kind.value, "fields": FORM_FIELDS[kind], "values": values, "entry": entry,
        "errors": checked.errors if checked is not None else {}, "preview": preview,
        "checked": checked is not None and checked.ok, "reason": reason, "waiting": waiting,
        "base_version": base_version if base_version is not None else (head(entry) if entry else 0),
        "self_publish": workflow.settings.kb_allow_self_review,
        "action": entry_url(entry.id) + "/edit" if entry is not None else "/admin/kb/new",
    }, principal, status_code=status_code)


def _waiting(store: KnowledgeStore, entry: Entry) -> PendingEdit | None:
    """The edit waiting on a published entry: what its form shows and continues."""
    with store.session() as s:
        return pending_edit(s, entry)


def new_page(request: Request, principal: AdminPrincipal, workflow: WorkflowDep) -> HTMLResponse:
    kind = kind_of(request.query_params.get("kind")) or Kind.FAQ
    return _form(request, principal, workflow, kind, {})


def edit_page(request: Request, entry_id: int, principal: AdminPrincipal, store: StoreDep,
              workflow: WorkflowDep) -> HTMLResponse:
    entry = find_entry(store, entry_id)
    if entry is None:
        return not_found(request, principal, entry_id)
    waiting = _waiting(store, entry)
    data = waiting.data if waiting is not None else to_data(entry)
    return _form(request, principal, workflow, Kind(entry.kind), form_values(data), entry, waiting=waiting)


def _advance(workflow: Workflow, saved: Change, intent: str, principal: Principal, said: list[str]) -> bool:
    """Submit (and publish) after a save, as asked, saying what happened; whether it moved.
    ``saved.pending``: the save was the entry's pending edit, which moves on its own."""
    moved, status, who = False, saved.status, actor(principal)
    if intent in ("review", "publish") and status is Status.DRAFT:
        change = (workflow.move_edit(saved.entry_id, Status.IN_REVIEW, who, "保存并提交审核") if saved.pending
                  else workflow.submit(saved.entry_id, who, "保存并提交审核"))
        status, moved = change.status, True
        said.append(f"已提交审核（第 {change.version} 版）")
    if intent == "publish" and status is Status.IN_REVIEW:
        change = (workflow.move_edit(saved.entry_id, Status.PUBLISHED, who, "保存并发布") if saved.pending
                  else workflow.publish(saved.entry_id, who, "保存并发布"))
        moved = True
        said.append(f"已发布（第 {change.version} 版）")
    return moved


def _finish(request: Request, principal: Principal, workflow: Workflow, saved: Change,
            intent: str, said: list[str], notes: list[str], changed: bool) -> RedirectResponse:
    kind = "warn" if notes else "ok"
    try:
        changed |= _advance(workflow, saved, intent, principal, said)
    except WorkflowError as exc:  # e.g. SelfReview: saved and submitted, not published
        said.append(str(exc))
        kind, changed = "error", True
    if changed:
        kb_changed(request)
    said += ["注意：" + note for note in notes]
    return back(request, principal, entry_url(saved.entry_id), kind, "；".join(said))


def create(request: Request, principal: AdminPrincipal, store: StoreDep, workflow: WorkflowDep,
           form: FormDep) -> HTMLResponse | RedirectResponse:
    kind = kind_of(form.kind) or Kind.FAQ
    intent = form.intent if form.intent in INTENTS else "draft"
    values = {"source": NEW_SOURCE, **form.values(kind)}
    checked = check_form(kind, values, store, status=Status.DRAFT)
    if checked.data is None or intent == "check":
        return _form(request, principal, workflow, kind, values, checked=checked, reason=form.reason,
                     status_code=400 if checked.errors else 200)
    result, entry_id = store.upsert(checked.data, author=principal.staff.username,
                                    reason=form.reason.strip()[:MAX_REASON] or "在后台新建", action=Action.CREATE)
    said = [f"已新建草稿 #{entry_id}" if result is UpsertResult.CREATED else f"已保存条目 #{entry_id}"]
    return _finish(request, principal, workflow, Change(entry_id, 0, Status.DRAFT), intent, said,
                   reply_size(checked.data).notes, True)


def _base_version(form: EntryFields) -> int | None:
    return int(form.base_version) if form.base_version.isdigit() and len(form.base_version) < 10 else None


def _stale_text(version: int) -> str:
    return (f"该条目已被修改（现为第 {version} 版），请在条目页查看最新内容后重新编辑；"
            "您填写的内容仍保留在下方")


def update(request: Request, entry_id: int, principal: AdminPrincipal, store: StoreDep, workflow: WorkflowDep,
           form: FormDep) -> HTMLResponse | RedirectResponse:
    entry = find_entry(store, entry_id)
    if entry is None:
        return not_found(request, principal, entry_id)
    kind = Kind(entry.kind)
    intent = form.intent if form.intent in INTENTS else "draft"
    waiting = _waiting(store, entry)
    values = form_values(waiting.data if waiting is not None else to_data(entry)) | form.values(kind)
    checked = check_form(kind, values, store, entry_id=entry_id, status=Status.DRAFT)
    base = _base_version(form)
    if base is not None and base != head(entry):
        checked.add("form", _stale_text(head(entry)))
    if not checked.ok or checked.data is None or intent == "check":
        return _form(request, principal, workflow, kind, values, entry, checked, form.reason, base_version=base,
                     status_code=400 if checked.errors else 200, waiting=waiting)
    data: EntryData = checked.data
    try:
        saved = workflow.edit(entry_id, data, actor(principal), form.reason.strip()[:MAX_REASON] or "在后台修改",
                              base_version=base)
    except EntryNotFound as exc:
        return back(request, principal, "/admin/kb", "error", str(exc))
    except StaleEdit:  # saved by someone else since the check above
        fresh = find_entry(store, entry_id) or entry
        checked.add("form", _stale_text(head(fresh)))
        return _form(request, principal, workflow, kind, values, fresh, checked, form.reason, base_version=base,
                     status_code=400, waiting=_waiting(store, fresh))
    changed = saved.result is UpsertResult.UPDATED
    if not changed:
        said = ["内容没有变化，未生成新版本"]
    elif saved.change.pending:
        said = [f"已保存为待审核的修改（第 {saved.change.version} 版，草稿）",
                "居民仍看到已发布的内容，修改审核发布后才会替换"]
    else:
        said = [f"已保存为第 {saved.change.version} 版（草稿）"]
    return _finish(request, principal, workflow, saved.change, intent, said, reply_size(data).notes, changed)


def register(r: APIRouter) -> None:
    r.get("/kb/new", response_class=HTMLResponse)(new_page)
    r.post("/kb/new", response_model=None)(create)
    r.get("/kb/{entry_id}/edit", response_class=HTMLResponse)(edit_page)
    r.post("/kb/{entry_id}/edit", response_model=None)(update)
