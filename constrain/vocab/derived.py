"""Tables derived from a vocabulary, built once per vocabulary and dropped with it."""
from __future__ import annotations

import functools
import threading
import weakref
from typing import Callable, TypeVar

from .vocabulary import Vocabulary

T = TypeVar("T")


def per_vocabulary(build: Callable[[Vocabulary], T]) -> Callable[[Vocabulary], T]:
    """Memoize ``build(vocab)`` by vocabulary (weakly, so a dropped vocabulary frees its tables)."""
    built: "weakref.WeakKeyDictionary[Vocabulary, T]" = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    @functools.wraps(build)
    def get(vocab: Vocabulary) -> T:
        with lock:
            found = built.get(vocab)
        if found is None:
            found = build(vocab)
            with lock:
                found = built.setdefault(vocab, found)
        return found

    return get
