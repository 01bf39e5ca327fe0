"""Seed content shipped with the product: FAQs and typical cases we wrote ourselves."""
from __future__ import annotations

from pathlib import Path

from knowledge.importers import ImportReport, import_file
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import Kind

SEED_DIR = Path(__file__).parent / "seed"


def seed_files() -> list[tuple[Path, Kind]]:
    files = [(p, Kind.FAQ) for p in sorted(SEED_DIR.glob("faq_*.jsonl"))]
    return files + [(p, Kind.CASE) for p in sorted(SEED_DIR.glob("cases_*.jsonl"))]


def load_seed(store: KnowledgeStore) -> dict[str, ImportReport]:
    """Import every seed file (idempotent: unchanged entries stay as they are)."""
    return {path.name: import_file(store, path, kind) for path, kind in seed_files()}
