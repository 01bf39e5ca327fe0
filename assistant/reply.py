"""The words residents read: answers with citations, choices, hand-overs, and WeChat's
2048-byte message limit."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.outcome import Candidate
from knowledge.citation import Citation
from knowledge.models import Entry

if TYPE_CHECKING:
    from assistant.references import Reference

WECHAT_MAX_BYTES = 2048
DISCLAIMER = ("（以上为一般性法律信息，不构成正式法律意见。"
              "具体问题可回复“转人工”咨询值班律师，或拨打12348公共法律服务热线。）")
REFERENCES_HEAD = "在律师回复前，您可以先了解以下相关规定（仅供参考，不是对您问题的答复）："
SUGGEST_FOOTER = "请回复序号查看答案；都不是，请换个说法描述，或回复“转人工”。"

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def citations_line(citations: list[dict] | list[Citation]) -> str:
    cites = [c if isinstance(c, Citation) else Citation.model_validate(c) for c in citations]
    return "法律依据：" + "、".join(c.render() for c in cites) if cites else ""


def entry_text(entry: Entry, for_resident: bool = True) -> str:
    """An entry as a reply: body and citations, and for residents the note on how to reach
    a lawyer (left out when a lawyer quotes the entry in their own reply)."""
    if entry.kind == "faq":
        body = entry.answer or ""
    elif entry.kind == "case":
        parts = [f"【典型案例】{entry.title}", f"基本案情：{entry.facts or ''}"]
        if entry.judgment:
            parts.append(f"裁判结果：{entry.judgment}")
        if entry.reasoning:
            parts.append(f"典型意义：{entry.reasoning}")
        body = "\n".join(parts)
    else:
        body = f"{entry.title}：{entry.text or ''}"
    cites = citations_line(entry.citations or [])
    return "\n\n".join(p for p in (body, cites, DISCLAIMER if for_resident else "") if p)


def suggest_text(choices: list[Candidate]) -> str:
    lines = ["您是不是想问："] + [f"{i}. {c.title}" for i, c in enumerate(choices, 1)] + [SUGGEST_FOOTER]
    return "\n".join(lines)


def escalate_text(reason: str) -> str:
    if reason == "explicit_request":
        head = "好的，已为您转接人工律师。"
    else:
        head = "这个问题需要结合具体情况判断，为避免给您不准确的答复，已为您转交值班律师。"
    return (f"{head}律师会尽快通过本公众号回复您，请留意消息；您也可以继续补充情况（时间、地点、"
            "金额、已有证据等），律师会一并看到。紧急情况请拨打12348公共法律服务热线。")


def references_text(refs: list[Reference]) -> str:
    """The articles and case shown while a lawyer answers, labelled as reference only."""
    if not refs:
        return ""
    articles = [r for r in refs if r.kind == "article"]
    lines = [REFERENCES_HEAD] + [f"{i}. {r.citation}：{r.excerpt}" for i, r in enumerate(articles, 1)]
    lines += [f"相关典型案例：{r.title}" for r in refs if r.kind == "case"]
    return "\n".join(lines)


def thanks_text() -> str:
    return "不客气！还有其他法律问题，可以直接描述您的情况；需要律师帮助请回复“转人工”。"


def decline_text() -> str:
    return ("您好，我是公共法律服务智能助手，只能解答法律方面的问题，例如劳动争议、工伤、婚姻家庭、"
            "继承、借贷、租房、物业、交通事故、消费维权、法律援助和诉讼程序等。"
            "请直接描述您遇到的法律问题；需要律师帮助请回复“转人工”，或拨打12348。")


def emergency_text() -> str:
    return ("如果您或他人正面临人身危险，请立即拨打110报警；情况危急请先到安全的地方。\n"
            "· 遭受家庭暴力：可报警，并可向人民法院申请人身安全保护令；妇女维权热线12338。\n"
            "· 未成年人遇到侵害：拨打110，或12355青少年服务热线。\n"
            "· 心理危机：请联系身边可信任的人，或拨打当地心理援助热线。\n"
            "· 法律帮助：12348公共法律服务热线。\n"
            "我们已将您的消息作为紧急事项转交值班律师，会尽快联系您。")


def split_message(text: str, limit: int = WECHAT_MAX_BYTES) -> list[str]:
    """Split into parts of at most ``limit`` UTF-8 bytes, at sentence ends where possible."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in (p for p in _SENTENCE_END.split(text) if p):
        while len(piece.encode("utf-8")) > limit:  # one sentence longer than a message
            cut = _fit(piece, limit - len(current.encode("utf-8")))
            if cut == 0:
                parts.append(current)
                current = ""
                continue
            parts.append(current + piece[:cut])
            current, piece = "", piece[cut:]
        if len((current + piece).encode("utf-8")) > limit:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    return [p.strip("\n") for p in parts if p.strip()]


def _fit(text: str, budget: int) -> int:
    """How many leading characters of ``text`` fit in ``budget`` bytes."""
    used = 0
    for i, ch in enumerate(text):
        used += len(ch.encode("utf-8"))
        if used > budget:
            return i
    return len(text)
