"""jieba segmentation with a legal dictionary, stopwords and a colloquial→legal term map."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _read_lines(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def load_colloquial() -> list[tuple[str, list[str]]]:
    pairs = [line.split("\t", 1) for line in _read_lines("colloquial.tsv")]
    # Longest phrase first so that 老板不发工资 wins over 不发工资.
    return sorted(((p, terms.split()) for p, terms in pairs), key=lambda x: -len(x[0]))


@dataclass
class Segmenter:
    """Tokens for lexical matching. The jieba dictionary cache lives in ``cache_dir``."""

    cache_dir: Path | None = None
    _jieba: object = field(init=False, default=None)
    _stop: frozenset[str] = field(init=False, default=frozenset())
    _colloquial: list[tuple[str, list[str]]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        import jieba  # noqa: PLC0415

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tok.tmp_dir = str(self.cache_dir)
        tok.load_userdict(str(DATA / "legal_dict.txt"))
        self._jieba = tok
        self._stop = frozenset(_read_lines("stopwords.txt"))
        self._colloquial = load_colloquial()

    def words(self, text: str) -> list[str]:
        """Plain segmentation (search mode: long words plus their parts)."""
        return [w for w in self._jieba.cut_for_search(text) if w.strip()]  # type: ignore[attr-defined]

    def legal_terms(self, text: str) -> list[str]:
        """Legal terms implied by colloquial phrases in ``text``."""
        terms: list[str] = []
        for phrase, mapped in self._colloquial:
            if phrase in text:
                terms.extend(mapped)
                text = text.replace(phrase, " ")
        return terms

    def tokens(self, text: str) -> list[str]:
        """Lower-cased content tokens: words minus stopwords and punctuation, plus mapped terms."""
        words = self.words(text.lower()) + [w for t in self.legal_terms(text) for w in self.words(t)]
        return [w for w in words if w not in self._stop and any(ch.isalnum() for ch in w)]
