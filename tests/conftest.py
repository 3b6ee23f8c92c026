"""Shared pytest fixtures for the whole test suite.

Real tokenizers come from ``tests/fixtures`` (offline, cached on disk by
``python -m tests.fixtures prefetch``); each is loaded at most once per session.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

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


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny models run far faster on one thread (thread hand-offs dominate such small matrix products)."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny() -> tuple[Any, Any]:
    """``(model, tokenizer)``: a seeded tiny Llama over GPT-2's 50,257 tokens."""
    from tests.fixtures.models import tiny_llama

    tok = _tokenizers.gpt2()
    return tiny_llama(tok, seed=0), tok


@pytest.fixture(scope="session")
def tiny_folder(tiny: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``tiny`` model and its tokenizer saved to a folder, for code that loads models by path."""
    model, tok = tiny
    folder = tmp_path_factory.mktemp("tiny-model")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
