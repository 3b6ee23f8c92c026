"""The decoding loops pass a ``DynamicCache`` under the name the model takes, so transformers warns about nothing."""
from __future__ import annotations

import inspect
import logging
import warnings
from typing import Any

import torch

import constrain as c
from constrain.generate.kv_cache import cache_keyword, new_cache
from constrain.sampling.batch import decode_batch


class _NewForward(torch.nn.Module):
    def forward(self, input_ids: Any = None, cache: Any = None, use_cache: bool = False) -> Any:
        return None


class _OldForward(torch.nn.Module):
    def forward(self, input_ids: Any = None, past_key_values: Any = None, use_cache: bool = False) -> Any:
        return None


def test_cache_keyword_follows_the_forward_signature(tiny: tuple[Any, Any]) -> None:
    assert cache_keyword(_NewForward()) == "cache"
    assert cache_keyword(_OldForward()) == "past_key_values"
    model, _tok = tiny
    forward_takes_cache = "cache" in inspect.signature(type(model).forward).parameters
    assert cache_keyword(model) == ("cache" if forward_takes_cache else "past_key_values")


def test_new_cache_is_an_empty_dynamic_cache(tiny: tuple[Any, Any]) -> None:
    from transformers import DynamicCache

    cache = new_cache(tiny[0])
    assert isinstance(cache, DynamicCache) and cache.get_seq_length() == 0


class _Records(logging.Handler):
    """Keeps every record logged to the ``transformers`` logger while attached."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_generation_reaches_the_user_without_warnings(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    once = getattr(logging.Logger, "warning_once", None)
    if hasattr(once, "cache_clear"):
        once.cache_clear()  # transformers logs each deprecation once per process; earlier tests may have used it up
    handler = _Records()
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            single = c.generate(model, tok, "Date:", c.regex(r"\d{4}-\d{2}-\d{2}"), max_new_tokens=12, temperature=1.0, seed=0)
            events = list(c.stream(model, tok, "Word:", c.regex(r"[a-z]{2,6}"), max_new_tokens=8, seed=1))
            batch = decode_batch(model, tok, tok.encode("Pick:"), 3, c.choice(["red", "green", "blue"]), max_new_tokens=6,
                                 temperatures=1.0, seed=2)
    finally:
        logger.removeHandler(handler)
    assert single.valid and single.forward_passes > 1
    assert events[-1].done and events[-1].result is not None and events[-1].result.valid
    assert all(r.text in {"red", "green", "blue"} for r in batch.rows), [r.text for r in batch.rows]
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in handler.records] == []


def test_cache_keyword_looks_inside_wrappers_that_pass_kwargs_on() -> None:
    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner(*args, **kwargs)

    assert cache_keyword(Wrapper(_NewForward())) == "cache"
    assert cache_keyword(Wrapper(_OldForward())) == "past_key_values"
    assert cache_keyword(Wrapper(torch.nn.Identity())) == "past_key_values"
