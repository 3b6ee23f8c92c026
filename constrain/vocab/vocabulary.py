"""A model's vocabulary as exact bytes: token id -> the bytes it adds to the output.

Masks are computed over bytes, so every tokenizer family is mapped to exact bytes once:
byte-level BPE (GPT-2 alphabet), SentencePiece (``▁`` for space, ``<0xNN>`` byte
fallback) and tiktoken ranks. Special tokens have no bytes: they are never allowed,
except the end-of-sequence ids, which are allowed exactly in accepting states.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import VocabularyError
from .trie import TokenTrie

_BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@functools.cache
def _byte_level_decoder() -> dict[str, int]:
    """The printable-character alphabet of byte-level BPE (GPT-2 family), character -> byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table: dict[str, int] = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            table[chr(256 + extra)] = b
            extra += 1
    return table


class Vocabulary:
    """Token id -> bytes for one tokenizer, plus its end-of-sequence and special ids.

    ``size`` is the width of the model's logits; it may exceed the number of tokens
    (padding rows), and ids without bytes are always masked.
    """

    def __init__(
        self,
        token_bytes: Sequence[bytes | None],
        eos_token_ids: Iterable[int] = (),
        special_token_ids: Iterable[int] = (),
        size: int | None = None,
        name: str = "",
    ) -> None:
        self.token_bytes: list[bytes | None] = [b if b else None for b in token_bytes]
        self.eos_token_ids: frozenset[int] = frozenset(int(i) for i in eos_token_ids)
        self.special_token_ids: frozenset[int] = frozenset(int(i) for i in special_token_ids) | self.eos_token_ids
        for i in self.special_token_ids:
            if 0 <= i < len(self.token_bytes):
                self.token_bytes[i] = None
        n = max([len(self.token_bytes)] + [i + 1 for i in self.special_token_ids])
        if size is not None and size < n:
            raise VocabularyError(f"size {size} is smaller than the vocabulary ({n} ids)")
        self.size: int = size if size is not None else n
        self.name = name
        self._trie: TokenTrie | None = None
        self._arrays: TokenByteArrays | None = None
        self._eos_words: np.ndarray | None = None
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<Vocabulary{label} size={self.size} eos={sorted(self.eos_token_ids)}>"

    @property
    def trie(self) -> TokenTrie:
        """The tokens as an array trie (built on first use, then kept)."""
        if self._trie is None:
            self._trie = TokenTrie.build(self.token_bytes)
        return self._trie

    @property
    def byte_arrays(self) -> "TokenByteArrays":
        """Every token's bytes as flat numpy arrays (built on first use, then kept)."""
        if self._arrays is None:
            self._arrays = TokenByteArrays.build(self.token_bytes, self.size)
        return self._arrays

    @property
    def eos_words(self) -> np.ndarray:
        """The bitmask allowing exactly the end-of-sequence ids (read-only)."""
        if self._eos_words is None:
            words = np.zeros((self.size + 31) // 32, dtype=np.int32)
            for i in self.eos_token_ids:
                words[i >> 5] |= np.int32(np.uint32(1 << (i & 31)).view(np.int32))
            words.flags.writeable = False
            self._eos_words = words
        return self._eos_words

    @property
    def fingerprint(self) -> str:
        """A digest of the byte mapping, for caches keyed by vocabulary."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for b in self.token_bytes:
                h.update(b"\xff" if b is None else len(b).to_bytes(2, "little") + b)
            h.update(repr((sorted(self.eos_token_ids), self.size)).encode())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def token_to_bytes(self, token_id: int) -> bytes | None:
        """The bytes of one token, or ``None`` for special and unused ids."""
        if 0 <= token_id < len(self.token_bytes):
            return self.token_bytes[token_id]
        return None

    def decode(self, token_ids: Iterable[int]) -> bytes:
        """Concatenated bytes of the tokens (special tokens contribute nothing)."""
        return b"".join(self.token_bytes[i] or b"" for i in token_ids if 0 <= i < len(self.token_bytes))

    @classmethod
    def from_token_bytes(
        cls, token_bytes: Sequence[bytes | None], eos_token_ids: Iterable[int] = (), size: int | None = None
    ) -> "Vocabulary":
        """A vocabulary from an explicit list (index = token id; ``None`` = special/unused)."""
        return cls(token_bytes, eos_token_ids=eos_token_ids, size=size)

    @classmethod
    def from_tiktoken(
        cls, encoding: Any, eos_token_ids: Iterable[int] | None = None, size: int | None = None
    ) -> "Vocabulary":
        """A vocabulary from a ``tiktoken.Encoding`` (ranks are token ids)."""
        n = encoding.n_vocab
        out: list[bytes | None] = [None] * n
        specials: set[int] = set()
        special_names = set(getattr(encoding, "special_tokens_set", set()))
        for name in special_names:
            specials.add(encoding.encode_single_token(name))
        for i in range(n):
            if i in specials:
                continue
            try:
                out[i] = encoding.decode_single_token_bytes(i)
            except KeyError:
                out[i] = None
        if eos_token_ids is None:
            eos_token_ids = [encoding.encode_single_token(t) for t in ("<|endoftext|>",) if t in special_names]
        return cls(out, eos_token_ids=eos_token_ids, special_token_ids=specials, size=size, name=encoding.name)

    @classmethod
    def from_tokenizer(
        cls, tokenizer: Any, eos_token_ids: Iterable[int] | None = None, size: int | None = None
    ) -> "Vocabulary":
        """A vocabulary from a Hugging Face (fast) tokenizer: byte-level BPE or SentencePiece-style."""
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise VocabularyError(
                f"{type(tokenizer).__name__} has no fast (Rust) backend; load it with use_fast=True "
                "so token bytes can be read exactly"
            )
        spec = json.loads(backend.to_str())
        decoder = spec.get("decoder") or {}
        model = spec.get("model") or {}
        kinds = _decoder_kinds(decoder)
        vocab: dict[str, int] = tokenizer.get_vocab()
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        n = max(vocab.values()) + 1 if vocab else 0
        out: list[bytes | None] = [None] * n
        specials: set[int] = set()
        byte_level = "ByteLevel" in kinds
        metaspace = _metaspace_char(decoder)
        byte_fallback = "ByteFallback" in kinds or bool(model.get("byte_fallback"))
        if not byte_level and metaspace is None and model.get("type") in ("WordPiece",):
            raise VocabularyError("WordPiece tokenizers are not supported: their tokens do not map to exact bytes")
        table = _byte_level_decoder() if byte_level else None
        for text, idx in vocab.items():
            tok = added.get(idx)
            if tok is not None:
                if getattr(tok, "special", False):
                    specials.add(idx)
                else:
                    out[idx] = str(tok.content).encode("utf-8")
                continue
            if table is not None:
                try:
                    out[idx] = bytes(table[ch] for ch in text)
                except KeyError:
                    out[idx] = text.encode("utf-8")
                continue
            m = _BYTE_FALLBACK.match(text) if byte_fallback else None
            if m:
                out[idx] = bytes([int(m.group(1), 16)])
            else:
                out[idx] = (text.replace(metaspace, " ") if metaspace else text).encode("utf-8")
        for idx in getattr(tokenizer, "all_special_ids", []) or []:
            specials.add(int(idx))
        if eos_token_ids is None:
            eos = getattr(tokenizer, "eos_token_id", None)
            eos_token_ids = [] if eos is None else [int(eos)]
        width = max(n, len(tokenizer))
        return cls(
            out,
            eos_token_ids=eos_token_ids,
            special_token_ids=specials,
            size=size if size is not None else width,
            name=getattr(tokenizer, "name_or_path", "") or "",
        )


def _decoder_kinds(decoder: dict[str, Any]) -> set[str]:
    kinds: set[str] = set()
    if not decoder:
        return kinds
    kinds.add(str(decoder.get("type")))
    for sub in decoder.get("decoders", []) or []:
        kinds |= _decoder_kinds(sub)
    return kinds


def _metaspace_char(decoder: dict[str, Any]) -> str | None:
    """The character a SentencePiece-style decoder turns into a space, if any."""
    if not decoder:
        return None
    if decoder.get("type") == "Metaspace":
        return str(decoder.get("replacement", "▁"))
    if decoder.get("type") == "Replace":
        pattern = decoder.get("pattern", {})
        src = pattern.get("String") if isinstance(pattern, dict) else None
        if src and decoder.get("content") == " ":
            return str(src)
    for sub in decoder.get("decoders", []) or []:
        found = _metaspace_char(sub)
        if found:
            return found
    return None


class TokenByteArrays:
    """Token bytes concatenated in id order: ``flat[starts[i] : starts[i] + lens[i]]`` is token ``i``."""

    def __init__(self, flat: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> None:
        self.flat = flat
        self.starts = starts
        self.lens = lens

    @classmethod
    def build(cls, token_bytes: Sequence[bytes | None], size: int) -> "TokenByteArrays":
        lens = np.zeros(size, dtype=np.int64)
        lens[: len(token_bytes)] = [len(b) if b else 0 for b in token_bytes]
        starts = np.zeros(size, dtype=np.int64)
        starts[1:] = np.cumsum(lens)[:-1]
        flat = np.frombuffer(b"".join(b or b"" for b in token_bytes), dtype=np.uint8)
        return cls(flat, starts, lens)
