"""Shared pytest fixtures for the whole test suite.

Real tokenizers come from ``tests/fixtures`` (offline, cached on disk by
``python -m tests.fixtures prefetch``); each is loaded at most once per session.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.fixtures import tokenizers as _tokenizers  # noqa: E402

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast


@pytest.fixture(scope="session")
def llama3_tok() -> PreTrainedTokenizerFast:
    """Llama-3 tokenizer (128,256 tokens)."""
    return _tokenizers.llama3()


@pytest.fixture(scope="session")
def gpt2_tok() -> PreTrainedTokenizerFast:
    """GPT-2 tokenizer (50,257 tokens)."""
    return _tokenizers.gpt2()


@pytest.fixture(scope="session")
def qwen2_tok() -> PreTrainedTokenizerFast:
    """Qwen2 tokenizer (151,665 tokens)."""
    return _tokenizers.qwen2()


@pytest.fixture(scope="session")
def phi3_tok() -> PreTrainedTokenizerFast:
    """Phi-3 SentencePiece tokenizer (32,064 tokens, byte fallback)."""
    return _tokenizers.phi3()


@pytest.fixture(scope="session")
def cl100k_tok() -> PreTrainedTokenizerFast:
    """cl100k_base tokenizer (ids 0..100276 with gaps)."""
    return _tokenizers.cl100k()


@pytest.fixture(scope="session")
def o200k_tok() -> PreTrainedTokenizerFast:
    """o200k_base tokenizer (ids 0..200018 with gaps)."""
    return _tokenizers.o200k()
