"""Fixtures for the OpenAI-compatible server and client tests: a tiny random Llama over GPT-2, on one CPU thread.

A two-layer model with hidden size 64 runs far faster on one thread than on several
(thread hand-offs dominate such small matrix products), so the thread count is lowered
for these tests and restored afterwards.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="package")
def tiny() -> tuple[Any, Any]:
    """``(model, tokenizer)``: a seeded tiny Llama over GPT-2's 50,257 tokens."""
    from tests.fixtures.models import tiny_llama
    from tests.fixtures.tokenizers import gpt2

    tok = gpt2()
    return tiny_llama(tok, seed=0), tok
