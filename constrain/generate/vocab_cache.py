"""One ``Vocabulary`` per tokenizer and logit width, built once per process."""
from __future__ import annotations

import weakref
from typing import Any

from ..vocab.vocabulary import Vocabulary

_CACHE: "weakref.WeakKeyDictionary[Any, dict[int, Vocabulary]]" = weakref.WeakKeyDictionary()


def vocabulary_for(tokenizer: Any, width: int | None = None) -> Vocabulary:
    """The vocabulary of ``tokenizer`` with at least ``width`` logits (padding rows masked)."""
    per_width = _CACHE.setdefault(tokenizer, {})
    key = width or 0
    found = per_width.get(key)
    if found is None:
        base = per_width.get(0) or Vocabulary.from_tokenizer(tokenizer)
        per_width[0] = base
        found = base if width is None or width <= base.size else Vocabulary(
            base.token_bytes, base.eos_token_ids, base.special_token_ids, size=width, name=base.name
        )
        per_width[key] = found
    return found
