"""What the knowledge-base pages share: their labels, finding the entry a URL names, who
acts (the signed-in admin), authors' display names, the tickets lawyers' drafts came from,
and how long an entry's reply is in WeChat messages."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.console.auth import Principal
from api.console.render import MAX_ID, render
from assistant.pii import mask_numbers
from assistant.queue.models import Ticket
from assistant.queue.staff import Accounts
from assistant.reply import WECHAT_MAX_BYTES, entry_text, split_message
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.store import EntryNotFound, KnowledgeStore, apply
from knowledge.taxonomy import CATEGORIES, STATUS_LABELS, Kind, Status
from knowledge.validation import FIELD_LABELS, KIND_LABELS
from knowledge.workflow import Actor

ACTION_LABELS = {"baseline": "初始版本", "create": "新建", "edit": "修改", "import": "导入",
                 "status": "状态变更", "restore": "恢复", "apply_edit": "发布修改", "discard": "放弃修改"}
LABELS: dict[str, Any] = {
    "kinds": KIND_LABELS, "statuses": {s.value: label for s, label in STATUS_LABELS.items()},
    "fields": FIELD_LABELS, "actions": ACTION_LABELS, "categories": CATEGORIES,
}


def kb_render(request: Request, name: str, context: dict[str, Any], principal: Principal,
              status_code: int = 200) -> HTMLResponse:
    """A knowledge-base page: the labels as ``kb``, ``mask`` for the numbers in list rows (a
    lawyer's draft may quote a resident), the admin menu's 知识库 marked."""
    return render(request, name, {"kb": LABELS, "nav": "kb", "mask": mask_numbers, **context}, principal,
                  status_code=status_code)


def entry_url(entry_id: int) -> str:
    return f"/admin/kb/{entry_id}"


def find_entry(store: KnowledgeStore, entry_id: int) -> Entry | None:
    if not 1 <= entry_id <= MAX_ID:
        return None
    try:
        return store.get(entry_id)
    except EntryNotFound:
        return None


def not_found(request: Request, principal: Principal, entry_id: int) -> HTMLResponse:
    return render(request, "error.html", {"title": "条目不存在", "message": f"没有编号为 {entry_id} 的知识条目。",
                                          "nav": "kb"}, principal, status_code=404)


def actor(principal: Principal) -> Actor:
    """The admin as the workflow sees them: versions record the username (as lawyers' drafts do)."""
    return Actor(principal.staff.username)


def author_names(accounts: Accounts) -> dict[str, str]:
    """username -> display name, for the authors versions record."""
    return {s.username: s.display_name for s in accounts.list()}


@dataclass(frozen=True)
class TicketLink:
    ticket_id: int
    ticket_no: str

    @property
    def url(self) -> str:
        return f"/lawyer/tickets/{self.ticket_id}"


def ticket_links(engine: Engine, entry_ids: list[int] | None = None,
                 statuses: tuple[Status, ...] = ()) -> dict[int, TicketLink]:
    """The ticket each entry was drafted from (转为知识条目), for the given entries or for
    every entry in one of ``statuses``."""
    stmt = select(Ticket.kb_entry_id, Ticket.id, Ticket.ticket_no).where(Ticket.kb_entry_id.is_not(None))
    if entry_ids is not None:
        if not entry_ids:
            return {}
        stmt = stmt.where(Ticket.kb_entry_id.in_(entry_ids))
    if statuses:
        stmt = stmt.join(Entry, Entry.id == Ticket.kb_entry_id).where(Entry.status.in_([s.value for s in statuses]))
    with Session(engine) as s:
        rows = s.execute(stmt.order_by(Ticket.id))
        return {entry_id: TicketLink(tid, no or f"#{tid}") for entry_id, tid, no in rows if entry_id is not None}


@dataclass(frozen=True)
class ReplySize:
    """An entry's reply as a resident would get it, measured in WeChat messages, and whether
    its text holds what looks like someone's phone, ID or bank-card number."""

    text: str
    bytes: int
    parts: int
    personal_numbers: bool = False

    @property
    def warning(self) -> str:
        if self.parts <= 1:
            return ""
        return (f"答复约 {self.bytes} 字节，超过微信单条消息上限（{WECHAT_MAX_BYTES} 字节），"
                f"将分 {self.parts} 条消息发送；建议精简答案")

    @property
    def notes(self) -> list[str]:
        """Warnings (the entry can still be saved)."""
        notes = [self.warning] if self.warning else []
        if self.personal_numbers:
            notes.append("内容中有疑似手机号、身份证号或银行卡号；如是居民的个人信息，请删除后再发布")
        return notes


TEXT_FIELDS = ("title", "question", "answer", "facts", "judgment", "reasoning", "text")


def reply_size(data: EntryData) -> ReplySize:
    entry = Entry()
    apply(entry, data)
    text = entry_text(entry)
    typed = "\n".join([*(getattr(data, f) or "" for f in TEXT_FIELDS), *data.alt_questions])
    return ReplySize(text, len(text.encode("utf-8")), len(split_message(text)), mask_numbers(typed) != typed)


def kind_of(value: str | None) -> Kind | None:
    return Kind(value) if value in {k.value for k in Kind} else None
