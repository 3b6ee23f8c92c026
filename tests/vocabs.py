"""Vocabularies of the real tokenizers, built once per test session."""
from __future__ import annotations

import functools

import constrain as c
from tests.fixtures import tokenizers as fx


@functools.cache
def vocabulary(name: str) -> c.Vocabulary:
    """``constrain.Vocabulary`` for one of the fixture tokenizers (llama3, gpt2, qwen2, phi3, cl100k, o200k)."""
    return c.Vocabulary.from_tokenizer(fx.ALL_TOKENIZERS[name]())


@functools.cache
def tokenizer(name: str):  # type: ignore[no-untyped-def]
    """The fixture tokenizer itself."""
    return fx.ALL_TOKENIZERS[name]()
