"""Law citations and how residents read them: 《劳动合同法》第八十二条."""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

_DIGITS = "零一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))


def chinese_number(n: int) -> str:
    """1079 -> 一千零七十九, 10 -> 十, 15 -> 十五 (as article numbers are written)."""
    if n <= 0 or n >= 10000:
        return str(n)
    out, zero_pending = "", False
    for unit, name in _UNITS:
        d, n = divmod(n, unit)
        if d:
            if zero_pending:
                out += "零"
            out += ("" if (unit == 10 and d == 1 and not out) else _DIGITS[d]) + name
            zero_pending = False
        elif out:
            zero_pending = True
    if n:
        out += ("零" if zero_pending else "") + _DIGITS[n]
    return out


class Citation(BaseModel):
    law: str = Field(min_length=1, max_length=200)
    article: int = Field(ge=1, le=9999)

    def render(self) -> str:
        return f"《{self.law}》第{chinese_number(self.article)}条"


_VALUES = {c: i for i, c in enumerate(_DIGITS)} | {"两": 2, "〇": 0}
_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000}
_CITATION_RE = re.compile(r"《([^》]{1,60})》\s*第([零〇一二两三四五六七八九十百千\d]{1,8})条")


def parse_chinese_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _VALUES:
            digit = _VALUES[ch]
        elif ch in _MULTIPLIERS:
            total += (digit or 1) * _MULTIPLIERS[ch]
            digit = 0
        else:
            raise ValueError(f"not a Chinese number: {text!r}")
    return total + digit


def parse_citations(text: str) -> list[Citation]:
    """Every 《法律》第N条 in ``text``, in order, without repeats."""
    seen: dict[tuple[str, int], Citation] = {}
    for law, num in _CITATION_RE.findall(text or ""):
        law = law.removeprefix("中华人民共和国")
        cite = Citation(law=law, article=parse_chinese_number(num))
        seen.setdefault((cite.law, cite.article), cite)
    return list(seen.values())
