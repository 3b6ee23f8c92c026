"""Token bitmasks: int32 words, bit ``i % 32`` of word ``i // 32`` set when token ``i`` is allowed.

The layout is the one common inference engines use, so kernels and masks interoperate.
"""
from __future__ import annotations

import numpy as np


def num_words(vocab_size: int) -> int:
    """Words needed for ``vocab_size`` tokens."""
    return (vocab_size + 31) // 32


def pack(allowed: np.ndarray) -> np.ndarray:
    """Boolean array (one entry per token) -> int32 words."""
    n = allowed.shape[-1]
    padded = num_words(n) * 32
    if padded != n:
        allowed = np.concatenate([allowed, np.zeros(padded - n, dtype=bool)])
    return np.packbits(allowed, bitorder="little").view("<i4").astype(np.int32, copy=False)


def unpack(words: np.ndarray, vocab_size: int) -> np.ndarray:
    """int32 words -> boolean array of ``vocab_size`` entries."""
    return np.unpackbits(np.ascontiguousarray(words, dtype="<i4").view(np.uint8), bitorder="little")[:vocab_size].astype(bool)


def allowed_ids(words: np.ndarray, vocab_size: int) -> np.ndarray:
    """Token ids whose bit is set."""
    return np.flatnonzero(unpack(words, vocab_size))


def is_allowed(words: np.ndarray, token_id: int) -> bool:
    """Whether one token's bit is set."""
    return bool((int(words[token_id >> 5]) >> (token_id & 31)) & 1)


def apply_numpy(logits: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Set disallowed logits to ``-inf`` in place (``logits``: ``(vocab,)`` or ``(batch, vocab)``).

    Columns beyond the mask's width (logit padding) are disallowed too.
    """
    width = logits.shape[-1]
    raw = np.ascontiguousarray(words, dtype="<i4").view(np.uint8)
    bits = np.unpackbits(raw, axis=-1, bitorder="little").astype(bool)[..., :width]
    if bits.shape[-1] < width:
        pad = np.zeros(bits.shape[:-1] + (width - bits.shape[-1],), dtype=bool)
        bits = np.concatenate([bits, pad], axis=-1)
    logits[~bits] = -np.inf
    return logits
