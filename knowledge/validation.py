"""Checking an entry as a curator typed it: per-field messages in Chinese.

``check_form`` turns the text fields of an edit form into an ``EntryData``, or says for each
field what is wrong: required fields, the category from the taxonomy, citations that are
well formed, resolve to an article entry of the knowledge base and do not cite a repealed
statute (``knowledge.currency``), lengths the database holds, and an external id no other
entry uses.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select

from knowledge.citation import Citation, parse_chinese_number
from knowledge.currency import repeal_of
from knowledge.entry import EntryData
from knowledge.models import Entry
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import CATEGORIES, Kind, Status

FIELD_LABELS: dict[str, str] = {
    "kind": "类型", "external_id": "外部编号", "category": "分类", "title": "标题", "question": "问题",
    "alt_questions": "其他问法", "answer": "答案", "facts": "基本案情", "judgment": "裁判结果",
    "reasoning": "典型意义", "law": "法律名称", "article_no": "条号", "text": "条文内容",
    "version": "法律版本", "citations": "法律依据", "tags": "标签", "region": "适用地区",
    "status": "状态", "source": "来源",
}
KIND_LABELS: dict[str, str] = {"faq": "问答", "case": "案例", "article": "法条"}

#: The fields each kind's form shows, in order (``cite_law``/``cite_no`` add one citation).
FORM_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.FAQ: ("question", "alt_questions", "answer", "title", "citations", "category", "tags", "region",
               "external_id"),
    Kind.CASE: ("title", "facts", "judgment", "reasoning", "citations", "category", "tags", "region",
                "external_id"),
    Kind.ARTICLE: ("law", "article_no", "text", "version", "category", "tags", "region", "external_id"),
}
REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.FAQ: ("question", "answer"), Kind.CASE: ("title", "facts"), Kind.ARTICLE: ("law", "article_no", "text"),
}
MAX_CHARS = {"title": 500, "question": 500, "alt_questions": 500, "answer": 20000, "facts": 20000,
             "judgment": 20000, "reasoning": 20000, "text": 20000, "law": 200, "version": 64, "region": 64,
             "external_id": 255, "tags": 40}
MAX_ITEMS = {"alt_questions": 30, "tags": 30, "citations": 40}

_NUM = r"[零〇一二两三四五六七八九十百千\d]{1,8}"
_BRACKETED = re.compile(rf"^《(.+)》\s*第\s*({_NUM})\s*条$")
_PLAIN = re.compile(rf"^(.+?)\s*第\s*({_NUM})\s*条$")
_SPACED = re.compile(r"^《?(.+?)》?[\s:：]+(\d{1,4})$")
_SAME_LAW = re.compile(rf"^第\s*({_NUM})\s*条$")
_SEPARATORS = re.compile(r"[、，,；;\n]+")
_EXTERNAL_ID = re.compile(r"^[\w.:#/\-]+$")


@dataclass
class CheckedEntry:
    data: EntryData | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def citation_text(cite: Citation) -> str:
    """A citation as the form shows it (Arabic numbers, which the parser reads back)."""
    return f"《{cite.law}》第{cite.article}条"


def form_values(data: EntryData) -> dict[str, str]:
    """An entry as the text fields of its edit form."""
    values = {name: "" for name in FIELD_LABELS}
    for name, value in data.model_dump(mode="json").items():
        if name in ("alt_questions", "tags"):
            values[name] = "\n".join(value)
        elif name == "citations":
            values[name] = "\n".join(citation_text(c) for c in data.citations)
        elif value is not None:
            values[name] = str(value)
    defaults = {Kind.FAQ: data.question, Kind.ARTICLE: data.article_label() if data.law else None}
    if data.title == defaults.get(data.kind):
        values["title"] = ""  # the form leaves it to follow the question (or the article's name)
    return values


def _law_name(text: str) -> str:
    """A law's name as citations write it: 《中华人民共和国民法典》 -> 民法典 (a name quoting
    another law, 最高人民法院关于适用《民法典》…的解释, keeps its inner quotes)."""
    name = text.strip().replace("〈", "《").replace("〉", "》")
    if name.startswith("《") and name.endswith("》"):
        name = name[1:-1].strip()
    return name.removeprefix("中华人民共和国").strip()


def _number(text: str) -> int | None:
    try:
        n = parse_chinese_number(text.replace(" ", ""))
    except ValueError:
        return None
    return n if 1 <= n <= 9999 else None


def parse_citation_list(text: str) -> tuple[list[Citation], list[str]]:
    """Citations written one per line (or separated by 、，；): 《民法典》第1084条, 民法典第一千零八十四条,
    民法典 1084, and 第1085条 for another article of the law before.  Returns the citations
    (without repeats) and a message for each piece that cannot be read."""
    found: dict[tuple[str, int], Citation] = {}
    problems: list[str] = []
    last_law = ""
    for piece in (p.strip() for p in _SEPARATORS.split(text or "")):
        if not piece:
            continue
        match = _BRACKETED.match(piece) or _PLAIN.match(piece) or _SPACED.match(piece)
        same = _SAME_LAW.match(piece)
        if match:
            law, number = _law_name(match.group(1)), _number(match.group(2))
        elif same and last_law:
            law, number = last_law, _number(same.group(1))
        else:
            problems.append(f"“{piece}”格式不对，请写作《民法典》第1084条")
            continue
        if not law or len(law) > MAX_CHARS["law"]:
            problems.append(f"“{piece}”缺少法律名称")
            continue
        if number is None:
            problems.append(f"“{piece}”的条号应为 1 到 9999")
            continue
        last_law = law
        found.setdefault((law, number), Citation(law=law, article=number))
    return list(found.values()), problems


def citation_errors(citations: list[Citation], articles: Collection[tuple[str, int]]) -> list[str]:
    """Why these citations cannot be saved: a repealed statute, or no such article entry."""
    errors: list[str] = []
    for cite in citations:
        if repeal := repeal_of(cite.law):
            errors.append(f"{citation_text(cite)}：《{cite.law}》已于 {repeal.until.isoformat()} 废止，"
                          f"请改引《{repeal.successor}》的相应条文")
        elif (cite.law, cite.article) not in articles:
            errors.append(f"{citation_text(cite)}：知识库中没有这一条文（请检查法律名称和条号，或先添加该法条）")
    return errors


def _lines(text: str) -> list[str]:
    return [v.strip() for v in (text or "").splitlines() if v.strip()]


def _tags(text: str) -> list[str]:
    out: list[str] = []
    for tag in (t.strip() for t in re.split(r"[\n,，、；;]+", text or "")):
        if tag and tag not in out:
            out.append(tag)
    return out


def new_external_id(kind: Kind) -> str:
    """An external id for an entry typed in the console (so an export re-imports onto it)."""
    return f"kb-{kind.value}-{secrets.token_hex(4)}"


def check_form(kind: Kind, values: Mapping[str, str], store: KnowledgeStore, *, entry_id: int | None = None,
               status: Status = Status.DRAFT, articles: Collection[tuple[str, int]] | None = None) -> CheckedEntry:
    """The entry the form describes (of ``kind``, with ``status``), or the errors per field.
    ``values``: text fields as ``form_values`` writes them (fields the form does not show, such
    as ``source``, are taken as given); ``entry_id``: the entry being edited (its own external
    id and article key are not taken by another)."""
    get = {name: (values.get(name) or "").strip() for name in (*FIELD_LABELS, "cite_law", "cite_no")}
    out = CheckedEntry(None)
    shown = FORM_FIELDS[kind]
    for name in REQUIRED[kind]:
        if not get[name]:
            out.add(name, f"请填写{FIELD_LABELS[name]}")
    for name in shown:
        limit = MAX_CHARS.get(name)
        items = _lines(get[name]) if name == "alt_questions" else _tags(get[name]) if name == "tags" else [get[name]]
        if limit and any(len(v) > limit for v in items):
            out.add(name, f"{FIELD_LABELS[name]}过长（每项不超过 {limit} 字）")
        if name in MAX_ITEMS and len(items) > MAX_ITEMS[name]:
            out.add(name, f"{FIELD_LABELS[name]}最多 {MAX_ITEMS[name]} 项")
    category = get["category"]
    if not category:
        out.add("category", "请选择分类")
    elif category not in CATEGORIES:
        out.add("category", f"分类“{category}”不在分类表中，请从列表中选择")
    external_id = get["external_id"]
    if external_id and not _EXTERNAL_ID.match(external_id):
        out.add("external_id", "外部编号只能包含字母、数字、汉字和 - _ . : # /，不能有空格")
    elif external_id and (other := store.find(kind.value, external_id)) is not None and other.id != entry_id:
        out.add("external_id", f"外部编号 {external_id} 已被条目 #{other.id} 使用")

    keys = store.article_keys() if articles is None else articles
    article_no: int | None = None
    citations: list[Citation] = []
    if kind is Kind.ARTICLE:
        law = _law_name(get["law"])
        if get["article_no"]:
            article_no = _number(get["article_no"])
            if article_no is None:
                out.add("article_no", "条号应为 1 到 9999 的数字，如 1084 或 一千零八十四")
        if law and (repeal := repeal_of(law)):
            out.add("law", f"《{law}》已于 {repeal.until.isoformat()} 废止（已由《{repeal.successor}》取代），"
                           "不能再作为现行法条录入")
        if law and article_no and (other_id := _article_entry(store, law, article_no)) not in (None, entry_id):
            out.add("article_no", f"《{law}》第{article_no}条已有条目 #{other_id}")
    else:
        citations, problems = parse_citation_list(get["citations"])
        if get["cite_law"] or get["cite_no"]:
            extra, extra_problems = parse_citation_list(f"《{_law_name(get['cite_law'])}》第{get['cite_no']}条")
            citations += [c for c in extra if c not in citations]
            problems += extra_problems
        for message in problems + citation_errors(citations, keys):
            out.add("citations", message)
    if out.errors:
        return out

    fields: dict[str, object] = {
        "kind": kind, "status": status, "external_id": external_id or new_external_id(kind),
        "category": category, "title": get["title"], "tags": _tags(get["tags"]), "region": get["region"] or None,
        "source": get["source"] or None, "version": get["version"] or None,
    }
    if kind is Kind.ARTICLE:
        fields |= {"law": _law_name(get["law"]), "article_no": article_no, "text": get["text"]}
    else:
        fields |= {"citations": citations}
        fields |= {name: get[name] or None for name in ("question", "answer", "facts", "judgment", "reasoning")}
        if kind is Kind.FAQ:
            fields["alt_questions"] = _lines(get["alt_questions"])
    try:
        out.data = EntryData.model_validate(fields)
    except ValidationError as exc:  # what the checks above did not foresee, still per field
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "form"
            out.add(name if name in FIELD_LABELS else "form", str(err["msg"]))
    return out


def _article_entry(store: KnowledgeStore, law: str, article_no: int) -> int | None:
    stmt = select(Entry.id).where(Entry.kind == Kind.ARTICLE.value, Entry.law == law, Entry.article_no == article_no)
    with store.session() as s:
        return s.scalar(stmt.limit(1))
