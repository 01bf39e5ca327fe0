"""Law currency: statutes that are no longer in force, and what replaced them.

Shipped as data (``knowledge/data/repealed_laws.tsv``) so that an admin can see why an
entry is flagged, the importer can warn, and a reply never presents a repealed statute as
current law.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

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
