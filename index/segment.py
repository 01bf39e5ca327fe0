"""jieba segmentation with a legal dictionary, stopwords and a colloquial→legal term map."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def _read_lines(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def load_colloquial() -> list[tuple[str, list[str]]]:
    pairs = [line.split("\t", 1) for line in _read_lines("colloquial.tsv")]
    # Longest phrase first so that 老板不发工资 wins over 不发工资.
    return sorted(((p, terms.split()) for p, terms in pairs), key=lambda x: -len(x[0]))


class Segmenter:
    """Tokens for lexical matching. The jieba dictionary cache lives in ``cache_dir``.

    Construction is free; ``load()`` reads the dictionaries (jieba takes a few seconds).
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._jieba: Any = None
        self._stop: frozenset[str] = frozenset()
        self._colloquial: list[tuple[str, list[str]]] = []

    def load(self) -> Segmenter:
        if self._jieba is not None:
            return self
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tok.tmp_dir = str(self.cache_dir)
        tok.load_userdict(str(DATA / "legal_dict.txt"))
        self._jieba = tok
        self._stop = frozenset(_read_lines("stopwords.txt"))
        self._colloquial = load_colloquial()
        return self

    def _loaded(self) -> Segmenter:
        if self._jieba is None:
            raise RuntimeError("Segmenter.load() has not been called")
        return self

    @property
    def tokenizer(self) -> Any:
        return self._loaded()._jieba

    def words(self, text: str) -> list[str]:
        """Plain segmentation (search mode: long words plus their parts)."""
        return [w for w in self.tokenizer.cut_for_search(text) if w.strip()]

    def legal_terms(self, text: str) -> list[str]:
        """Legal terms implied by colloquial phrases in ``text``."""
        terms: list[str] = []
        for phrase, mapped in self._loaded()._colloquial:
            if phrase in text:
                terms.extend(mapped)
                text = text.replace(phrase, " ")
        return terms

    def tokens(self, text: str) -> list[str]:
        """Lower-cased content tokens: words minus stopwords and punctuation, plus mapped terms."""
        words = self.words(text.lower()) + [w for t in self.legal_terms(text) for w in self.words(t)]
        return [w for w in words if w not in self._stop and any(ch.isalnum() for ch in w)]
