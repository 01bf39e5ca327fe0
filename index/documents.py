"""What of each entry is matched: a lexical text for BM25 and passages to embed."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.normalize import normalize
from knowledge.models import Entry

PASSAGE_CHARS = 400
MAX_ALT_QUESTIONS = 6


@dataclass(frozen=True)
class IndexedDoc:
    entry_id: int
    kind: str
    category: str
    external_id: str | None
    title: str
    content_hash: str
    lexical_text: str
    passages: tuple[str, ...]


def document_for(entry: Entry, asked_as: Sequence[str] = ()) -> IndexedDoc:
    """``asked_as``: for an article, the questions of the entries citing it (lexical only)."""
    if entry.kind == "faq":
        questions = [entry.question or entry.title, *(entry.alt_questions or [])[:MAX_ALT_QUESTIONS]]
        # Questions count twice: they say what the entry is about, the answer says more.
        lexical = " ".join(questions * 2) + " " + (entry.answer or "")
        passages = questions
    elif entry.kind == "case":
        lexical = " ".join(filter(None, [entry.title, entry.title, entry.facts, entry.judgment,
                                         entry.reasoning]))
        passages = [f"{entry.title}。{entry.facts or ''}"]
    else:
        lexical = " ".join([f"{entry.law} {entry.title} {entry.text or ''}", *asked_as])
        passages = [f"{entry.title} {entry.text or ''}"]
    norm = [normalize(p, PASSAGE_CHARS) for p in passages]
    return IndexedDoc(entry.id, entry.kind, entry.category, entry.external_id, entry.title,
                      entry.content_hash, normalize(lexical, 20000), tuple(p for p in norm if p))
