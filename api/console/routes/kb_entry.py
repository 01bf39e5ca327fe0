"""One entry's page (/admin/kb/{id}): its content and reply, the workflow buttons, every
version with who / when / why, a side-by-side diff of any two, and restoring a version."""
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
from knowledge.models import EntryVersion
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


@dataclass(frozen=True)
class Move:
    target: str
    label: str
    review: bool  # a publish: the reviewer rule applies


def moves_from(status: Status) -> list[Move]:
    return [Move(to.value, label, ALLOWED[(frm, to)] is Who.REVIEWER)
            for (frm, to), label in MOVE_LABELS.items() if frm is status and ALLOWED.get((frm, to)) is not None
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
    earlier = [v.version for v in versions if v.version != entry.current_version]
    current = by_no.get(entry.current_version)
    # By default the newest version whose text differs from the current one (a status change
    # keeps the text, so restoring it would change nothing).
    different = [v.version for v in versions if current is not None and v.content != current.content]
    status = Status(entry.status)
    self_review = author == principal.staff.username and not workflow.settings.kb_allow_self_review
    return kb_render(request, "kb_entry.html", {
        "entry": entry, "data": data, "status": status, "versions": list(reversed(versions)),
        "names": author_names(accounts), "author": author, "problems": problems_of(entry, store.article_keys()),
        "reply": reply_size(data), "moves": moves_from(status), "self_review": self_review,
        "compared": compared, "ticket": ticket_links(engine, [entry_id]).get(entry_id),
        "restore_no": restore_no if restore_no in earlier else next(reversed(different or earlier), None),
        "max_reason": MAX_REASON,
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
    done = "已恢复并发布" if publish else "已恢复为草稿（提交审核、发布后居民才会看到）"
    return back(request, principal, url, "ok", f"第 {number} 版{done}，现为第 {change.version} 版")


def register(r: APIRouter) -> None:
    r.get("/kb/{entry_id}", response_class=HTMLResponse)(entry_page)
    r.post("/kb/{entry_id}/move")(move)
    r.post("/kb/{entry_id}/restore")(restore)
