"""The seed content we ship: every citation resolves to a real article, no repealed law."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.citation import parse_citations
from knowledge.currency import repeal_of
from knowledge.seed import seed_files

LAWS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "laws_articles.jsonl"


def _seed_entries() -> list[dict]:
    return [json.loads(line) for path, _ in seed_files()
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def articles() -> set[tuple[str, int]]:
    if not LAWS.is_file():
        pytest.skip("../shared/data/laws_articles.jsonl is not beside the checkout")
    rows = (json.loads(line) for line in LAWS.read_text(encoding="utf-8").splitlines() if line.strip())
    return {(r["law"], int(r["article_num"])) for r in rows}


def test_every_seed_citation_resolves_to_an_article(articles: set[tuple[str, int]]) -> None:
    missing = [(e["external_id"], c["law"], c["article"]) for e in _seed_entries()
               for c in e.get("citations", []) if (c["law"], int(c["article"])) not in articles]
    assert missing == []


def test_every_article_named_in_a_seed_answer_resolves(articles: set[tuple[str, int]]) -> None:
    named = [(e["external_id"], c.law, c.article) for e in _seed_entries()
             for c in parse_citations(e.get("answer", "")) if c.law in {law for law, _ in articles}]
    assert [n for n in named if (n[1], n[2]) not in articles] == []


def test_no_seed_entry_cites_a_repealed_law() -> None:
    cited = [(e["external_id"], c["law"]) for e in _seed_entries() for c in e.get("citations", [])
             if repeal_of(c["law"]) is not None]
    assert cited == []


def test_seed_external_ids_are_unique() -> None:
    ids = [e["external_id"] for e in _seed_entries()]
    assert len(ids) == len(set(ids))
