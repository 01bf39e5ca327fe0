"""One entry's page (/admin/kb/{id}): its content and reply, the workflow buttons, every
version with who / when / why, a side-by-side diff of any two, and restoring a version.

A published entry's pending edit (``knowledge.pending``) is shown above its content, as a
side-by-side diff against the published text, with its own buttons (/kb/{id}/pending):
submit it, publish it (not by its author), send it back, discard it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.render import MAX_ID, back
from api.console.routes.kb_common import (
    actor,
    author_names,
    entry_url,
    find_entry,
    kb_render,
    not_found,
    reply_size,
    ticket_links,
)
from api.deps import AccountsDep, AdminPrincipal, EngineDep, StoreDep, WorkflowDep, kb_changed
from knowledge.browse import problems_of
from knowledge.citation import Citation
from knowledge.models import Entry, EntryVersion
from knowledge.pending import PendingEdit, pending_edit
from knowledge.store import EntryNotFound, to_data
from knowledge.taxonomy import Status
from knowledge.validation import FIELD_LABELS, citation_text
from knowledge.versions import Segment, VersionNotFound, content_author, diff, history, inline_diff
from knowledge.workflow import ALLOWED, Who, WorkflowError

MAX_REASON = 500
#: The buttons of each move an admin can make (the command line's operator moves are not here).
MOVE_LABELS: dict[tuple[Status, Status], str] = {
    (Status.DRAFT, Status.IN_REVIEW): "提交审核",
    (Status.DRAFT, Status.ARCHIVED): "归档",
    (Status.IN_REVIEW, Status.PUBLISHED): "审核通过并发布",
    (Status.IN_REVIEW, Status.DRAFT): "退回草稿",
    (Status.IN_REVIEW, Status.ARCHIVED): "归档",
    (Status.PUBLISHED, Status.DRAFT): "撤回为草稿",
    (Status.PUBLISHED, Status.ARCHIVED): "归档（下线）",
    (Status.ARCHIVED, Status.DRAFT): "恢复为草稿",
}
DONE_TEXT = {Status.IN_REVIEW: "已提交审核，等待另一位管理员审核发布",
             Status.PUBLISHED: "已发布，居民现在可以查到这一条目",
             Status.DRAFT: "已转为草稿", Status.ARCHIVED: "已归档，居民不会再查到这一条目"}
#: The buttons of a pending edit's moves (the same table, ``ALLOWED``); 放弃 is ``DISCARD``.
EDIT_MOVE_LABELS: dict[tuple[Status, Status], str] = {
    (Status.DRAFT, Status.IN_REVIEW): "提交修改审核",
    (Status.IN_REVIEW, Status.PUBLISHED): "审核通过并发布修改",
    (Status.IN_REVIEW, Status.DRAFT): "退回修改",
}
DISCARD = "discard"
EDIT_DONE_TEXT = {Status.IN_REVIEW: "修改已提交审核，等待另一位管理员审核发布；居民仍看到已发布的内容",
                  Status.PUBLISHED: "修改已发布，居民现在看到新的内容",
                  Status.DRAFT: "修改已退回为草稿；居民仍看到已发布的内容"}


@dataclass(frozen=True)
class Move:
    target: str
    label: str
    review: bool  # a publish: the reviewer rule applies


def moves_from(status: Status, labels: dict[tuple[Status, Status], str] = MOVE_LABELS) -> list[Move]:
    return [Move(to.value, label, ALLOWED[(frm, to)] is Who.REVIEWER)
            for (frm, to), label in labels.items() if frm is status and ALLOWED.get((frm, to)) is not None
            and ALLOWED[(frm, to)] is not Who.OPERATOR]


def field_text(name: str, version: EntryVersion) -> str:
    """A field of a version as people read it (citations as 《法》第N条, the status by name)."""
    if name == "status":
        return Status(version.status).label
    value = version.content.get(name)
    if name == "citations":
        return "\n".join(citation_text(Citation.model_validate(c)) for c in value or [])
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: list[Segment]
    after: list[Segment]


def changes(old: EntryVersion, new: EntryVersion) -> list[FieldChange]:
    out = []
    for change in diff(old, new):
        left, right = inline_diff(field_text(change.field, old), field_text(change.field, new))
        out.append(FieldChange(change.field, FIELD_LABELS.get(change.field, change.field), left, right))
    return out


def bases(versions: list[EntryVersion]) -> dict[int, int]:
    """The version each one (oldest first) is compared with for "查看本次改动": the one
    before it on its own line (the entry's text, or its pending edits), and for the first
    snapshot of an edit the text it edits."""
    out: dict[int, int] = {}
    text: int | None = None
    edit: int | None = None
    for v in versions:
        base = (edit if edit is not None and (text is None or edit > text) else text) if v.pending else text
        if base is not None:
            out[v.version] = base
        if v.pending:
            edit = v.version
        else:
            text = v.version
    return out


@dataclass(frozen=True)
class PendingView:
    """A published entry's pending edit as its page shows it."""

    edit: PendingEdit
    live: int  # the published version it is compared with
    changes: list[FieldChange]  # against the published text (the status aside)
    notes: list[str]  # warnings about the edited reply
    moves: list[Move]
    mine: bool  # the admin wrote it: another admin must publish it


def pending_view(edit: PendingEdit, by_no: dict[int, EntryVersion], entry: Entry, me: str, strict: bool) -> PendingView:
    live, new = by_no[entry.current_version], by_no[edit.version]
    shown = [c for c in changes(live, new) if c.name != "status"]
    return PendingView(edit, entry.current_version, shown, reply_size(edit.data).notes,
                       moves_from(edit.status, EDIT_MOVE_LABELS), strict and edit.author == me)


def _version_no(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def entry_page(request: Request, entry_id: int, principal: AdminPrincipal, store: StoreDep,
               workflow: WorkflowDep, accounts: AccountsDep, engine: EngineDep) -> HTMLResponse:
    entry = find_entry(store, entry_id)
    if entry is None:
        return not_found(request, principal, entry_id)
    data = to_data(entry)
    with store.session() as s:
        versions = history(s, entry_id)
        author = content_author(s, entry_id)
        edit = pending_edit(s, entry)
    by_no = {v.version: v for v in versions}
    q = request.query_params
    old_no, new_no = _version_no(q.get("old")), _version_no(q.get("new"))
    compared: dict[str, Any] | None = None
    if old_no is not None or new_no is not None:
        new_no = new_no if new_no in by_no else entry.current_version
        old_no = old_no if old_no in by_no else max(1, new_no - 1)
        if old_no in by_no and new_no in by_no:
            compared = {"old": by_no[old_no], "new": by_no[new_no],
                        "changes": changes(by_no[old_no], by_no[new_no])}
    restore_no = _version_no(q.get("restore"))
    # Any version but the text residents get now and the pending edit as it stands.
    earlier = [v.version for v in versions if v.version not in (entry.current_version, entry.pending_version)]
    current = by_no.get(entry.current_version)
    # By default the newest version of the text that differs from the current one (a status
    # change keeps the text, so restoring it would change nothing).
    different = [v.version for v in versions if current is not None and v.content != current.content
                 and not v.pending]
    status = Status(entry.status)
    me, strict = principal.staff.username, not workflow.settings.kb_allow_self_review
    return kb_render(request, "kb_entry.html", {
        "entry": entry, "data": data, "status": status, "versions": list(reversed(versions)),
        "names": author_names(accounts), "author": author, "problems": problems_of(entry, store.article_keys()),
        "reply": reply_size(data), "moves": moves_from(status), "self_review": strict and author == me,
        "compared": compared, "ticket": ticket_links(engine, [entry_id]).get(entry_id),
        "restore_no": restore_no if restore_no in earlier else next(reversed(different or earlier), None),
        "max_reason": MAX_REASON, "bases": bases(versions),
        "pending": pending_view(edit, by_no, entry, me, strict) if edit is not None else None,
    }, principal)


def move(request: Request, entry_id: int, principal: AdminPrincipal, workflow: WorkflowDep,
         target: str = Form(""), reason: str = Form("")) -> RedirectResponse:
    url = entry_url(entry_id)
    if not 1 <= entry_id <= MAX_ID:
        return back(request, principal, "/admin/kb", "error", f"没有编号为 {entry_id} 的条目")
    if target not in {s.value for s in Status}:
        return back(request, principal, url, "error", "请选择要执行的操作")
    try:
        change = workflow.move(entry_id, Status(target), actor(principal), reason.strip()[:MAX_REASON])
    except EntryNotFound as exc:
        return back(request, principal, "/admin/kb", "error", str(exc))
    except WorkflowError as exc:  # SelfReview, BadMove: the workflow's own words
        return back(request, principal, url, "error", str(exc))
    kb_changed(request)
    return back(request, principal, url, "ok", f"{DONE_TEXT[change.status]}（第 {change.version} 版）")


def restore(request: Request, entry_id: int, principal: AdminPrincipal, workflow: WorkflowDep,
            version: str = Form(""), mode: str = Form("draft"), reason: str = Form("")) -> RedirectResponse:
    url = entry_url(entry_id)
    if not 1 <= entry_id <= MAX_ID:
        return back(request, principal, "/admin/kb", "error", f"没有编号为 {entry_id} 的条目")
    number = _version_no(version)
    if number is None:
        return back(request, principal, url, "error", "请选择要恢复的版本")
    publish = mode == "publish"
    try:
        change = workflow.restore(entry_id, number, actor(principal), publish=publish,
                                  reason=reason.strip()[:MAX_REASON])
    except EntryNotFound as exc:
        return back(request, principal, "/admin/kb", "error", str(exc))
    except (VersionNotFound, WorkflowError) as exc:
        return back(request, principal, url, "error", str(exc))
    kb_changed(request)
    if change.pending:
        done = "已恢复为待审核的修改（草稿）：居民仍看到已发布的内容，审核发布后才替换"
    else:
        done = "已恢复并发布" if publish else "已恢复为草稿（提交审核、发布后居民才会看到）"
    return back(request, principal, url, "ok", f"第 {number} 版{done}，现为第 {change.version} 版")


def move_pending(request: Request, entry_id: int, principal: AdminPrincipal, workflow: WorkflowDep,
                 target: str = Form(""), version: str = Form(""), reason: str = Form("")) -> RedirectResponse:
    """A move of the entry's pending edit; ``version``: the snapshot the admin looked at (a
    newer one by now is refused, so nobody publishes text they have not seen)."""
    url = entry_url(entry_id)
    if not 1 <= entry_id <= MAX_ID:
        return back(request, principal, "/admin/kb", "error", f"没有编号为 {entry_id} 的条目")
    if target not in {DISCARD, *(to.value for _frm, to in EDIT_MOVE_LABELS)}:
        return back(request, principal, url, "error", "请选择要执行的操作")
    who, why, seen = actor(principal), reason.strip()[:MAX_REASON], _version_no(version)
    try:
        if target == DISCARD:
            change = workflow.discard_edit(entry_id, who, why, seen)
            done = "已放弃这项修改，居民仍看到已发布的内容"
        else:
            change = workflow.move_edit(entry_id, Status(target), who, why, seen)
            done = EDIT_DONE_TEXT[change.status]
    except EntryNotFound as exc:
        return back(request, principal, "/admin/kb", "error", str(exc))
    except WorkflowError as exc:  # SelfReview, BadMove, NoPendingEdit, StaleEdit: the workflow's words
        return back(request, principal, url, "error", str(exc))
    kb_changed(request)
    return back(request, principal, url, "ok", f"{done}（第 {change.version} 版）")


def register(r: APIRouter) -> None:
    r.get("/kb/{entry_id}", response_class=HTMLResponse)(entry_page)
    r.post("/kb/{entry_id}/move")(move)
    r.post("/kb/{entry_id}/restore")(restore)
    r.post("/kb/{entry_id}/pending")(move_pending)
