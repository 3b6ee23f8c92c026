"""Compiled constraints reused: building the same regex, choice, grammar text or schema twice costs a lookup.

A server sees the same formats over and over; :func:`compiled_once` keeps the last ``MAX_ENTRIES``
results of a constructor per argument list (least recently used dropped first). Arguments that have
no stable value (a grammar file path, whose file may change; objects without equality) are never
cached. The engine (``CONSTRAIN_ENGINE``) is part of the key. ``clear()`` empties every cache.
"""
from __future__ import annotations

import functools
import json
import os
import threading
from collections import OrderedDict
from typing import Any, Callable, TypeVar

from ._engine import engine_name

MAX_ENTRIES = 64
F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list["OrderedDict[Any, Any]"] = []
_LOCK = threading.Lock()


class _Uncacheable(Exception):
    """An argument with no stable, comparable value."""


def _freeze(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return (type(value).__name__, value)
    if isinstance(value, (dict, list)):
        try:
            return ("json", json.dumps(value, sort_keys=True, allow_nan=True))
        except (TypeError, ValueError):
            raise _Uncacheable from None
    if isinstance(value, tuple):
        return ("tuple", tuple(_freeze(v) for v in value))
    if isinstance(value, type):
        return ("type", value)
    if isinstance(value, os.PathLike):
        raise _Uncacheable
    raise _Uncacheable


def compiled_once(fn: F) -> F:
    """Memoize a constraint constructor by its arguments (bounded, thread-safe)."""
    cache: "OrderedDict[Any, Any]" = OrderedDict()
    _CACHES.append(cache)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (engine_name(), tuple(_freeze(a) for a in args), tuple(sorted((k, _freeze(v)) for k, v in kwargs.items())))
            hash(key)
        except (_Uncacheable, TypeError):
            return fn(*args, **kwargs)
        with _LOCK:
            found = cache.get(key)
            if found is not None:
                cache.move_to_end(key)
                return found
        built = fn(*args, **kwargs)
        with _LOCK:
            cache[key] = built
            while len(cache) > MAX_ENTRIES:
                cache.popitem(last=False)
        return built

    return wrapper  # type: ignore[return-value]


def clear() -> None:
    """Forget every cached constraint."""
    with _LOCK:
        for cache in _CACHES:
            cache.clear()
