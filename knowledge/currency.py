"""Law currency: statutes that are no longer in force, and what replaced them.

Shipped as data (``knowledge/data/repealed_laws.tsv``) so that an admin can see why an
entry is flagged, the importer can warn, and a reply never presents a repealed statute as
current law.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.entry import EntryData
from knowledge.taxonomy import Kind, Status

if TYPE_CHECKING:
    from knowledge.store import KnowledgeStore

DATA = Path(__file__).parent / "data" / "repealed_laws.tsv"


@dataclass(frozen=True)
class Repeal:
    law: str
    until: date  # the day from which it no longer applies
    successor: str
    note: str = ""


@cache
def repealed_laws() -> dict[str, Repeal]:
    table: dict[str, Repeal] = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        law, until, successor, *rest = line.split("\t")
        table[law] = Repeal(law, date.fromisoformat(until), successor, rest[0] if rest else "")
    return table


def repeal_of(law: str) -> Repeal | None:
    """The repeal of ``law`` (named with or without the 中华人民共和国 prefix), if it was repealed."""
    return repealed_laws().get(law.removeprefix("中华人民共和国"))


@dataclass(frozen=True)
class Flag:
    """An entry to fix: it cites a repealed statute or an article we do not have."""

    entry_id: int | None  # None for a row not yet imported
    external_id: str | None
    reason: str


def citation_problems(data: EntryData, articles: Collection[tuple[str, int]]) -> list[str]:
    """Why the entry's legal content may be wrong or stale (empty when it is fine).  With no
    article loaded at all (a knowledge base of FAQs only) nothing can be resolved, so only
    repealed statutes are reported: flagging every citation would bury them."""
    reasons: list[str] = []
    if data.kind is Kind.ARTICLE and data.law and (repeal := repeal_of(data.law)):
        reasons.append(_repealed(data.law, repeal))
    for cite in data.citations:
        law = cite.law.removeprefix("中华人民共和国")
        if repeal := repeal_of(law):
            reasons.append(f"{cite.render()}：{_repealed(law, repeal)}")
        elif articles and (law, cite.article) not in articles:
            reasons.append(f"{cite.render()}：知识库中没有这一条文")
    return reasons


def _repealed(law: str, repeal: Repeal) -> str:
    return f"《{law}》已于 {repeal.until.isoformat()} 废止，应改引《{repeal.successor}》"


def check_entries(store: KnowledgeStore, articles: Collection[tuple[str, int]] | None = None) -> list[Flag]:
    """Every entry (not archived) that cites a repealed statute or an article that resolves to
    no article entry of the store (``articles``: the (law, number) keys, by default the store's)."""
    keys = store.article_keys() if articles is None else articles
    flags: list[Flag] = []
    from knowledge.store import to_data

    for entry in store.iter_entries(exclude=Status.ARCHIVED):
        for reason in citation_problems(to_data(entry), keys):
            flags.append(Flag(entry.id, entry.external_id, reason))
    return flags
