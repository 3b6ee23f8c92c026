"""Masks for a whole batch in one call: ``fill_masks(matchers, out, rows, remaining)``.

Every word of every listed row of ``out`` is written. Rows whose constraint runs on the native core
and whose mask is not memoized yet are computed together in one native call, with the GIL released
and rows of different constraints on parallel threads; memo hits and Python-engine rows are filled
directly. ``remaining`` asks for budget masks (tokens after which the output can still finish in time).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .matcher import DFAMatcher, Matcher
from .native import NativeMaskCache, _words


def _plain_or_budget(matcher: Matcher, remaining: int | None) -> np.ndarray:
    """The budget mask when asked and supported and not empty, else the plain mask."""
    if remaining is not None:
        try:
            words = matcher.budget_mask(remaining)
            if words.any():
                return words
        except NotImplementedError:
            pass
    return matcher.mask()


def fill_masks(
    matchers: Sequence[Matcher],
    out: np.ndarray,
    rows: Sequence[int] | None = None,
    remaining: Sequence[int | None] | int | None = None,
) -> None:
    """Write matcher ``i``'s mask into ``out[rows[i]]`` (``out``: int32 ``(batch, words)``).

    ``rows`` defaults to ``0..len(matchers)-1``; ``remaining`` (one value or one per matcher) gives the
    token budget left, as for ``Matcher.budget_mask``; a budget mask that allows nothing falls back to the
    plain mask, so a row is empty only when the constraint allows nothing at all.
    """
    rows = list(range(len(matchers))) if rows is None else list(rows)
    if len(rows) != len(matchers):
        raise ValueError(f"{len(matchers)} matchers but {len(rows)} rows")
    budgets = list(remaining) if isinstance(remaining, (list, tuple)) else [remaining] * len(matchers)
    if len(budgets) != len(matchers):
        raise ValueError(f"{len(matchers)} matchers but {len(budgets)} budgets")
    pending: list[tuple[int, Any, int, int | None]] = []
    for matcher, row, left in zip(matchers, rows, budgets):
        cache = getattr(matcher, "cache", None)
        if isinstance(matcher, DFAMatcher) and isinstance(cache, NativeMaskCache) and not matcher.is_finished():
            words = cache.cached(matcher.state, left)
            if words is None:
                pending.append((row, cache, matcher.state, left))
                continue
            if left is not None and not words.any():
                words = matcher.mask()
            out[row] = words
        else:
            out[row] = _plain_or_budget(matcher, left)
    if not pending:
        return
    native = pending[0][1].native
    computed = native.compute_masks([(cache.core, state, left) for _row, cache, state, left in pending])
    for (row, cache, state, left), raw in zip(pending, computed):
        words = _words(raw)
        cache.remember(state, left, words)
        if left is not None and not words.any():
            words = cache.mask(state)
        out[row] = words
