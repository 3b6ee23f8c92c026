"""Regular-constraint masks computed by the native core, behind the same cache interface as the Python walk.

The vocabulary crosses the boundary once (one byte buffer plus lengths); a mask comes back as the
int32 words of one row, memoized here by automaton state like :class:`~constrain.mask.matcher.DFAMaskCache`.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..vocab.derived import per_vocabulary
from ..vocab.vocabulary import Vocabulary
from .matcher import DEFAULT_CACHE_BYTES, MaskMemo

@per_vocabulary
def native_vocabulary(vocab: Vocabulary) -> Any:
    """The core's copy of ``vocab``: every id's bytes in one buffer plus lengths (built once per vocabulary)."""
    from .. import _native

    tokens = vocab.token_bytes
    data = b"".join(b for b in tokens if b)
    lengths = [len(b) if b else -1 for b in tokens]
    return _native.NativeVocab(data, lengths, vocab.size, sorted(vocab.eos_token_ids))


class NativeDFA:
    """The automaton methods a :class:`~constrain.mask.matcher.DFAMatcher` uses, answered by the core."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.start: int = core.start

    @property
    def num_states(self) -> int:
        return int(self.core.num_states)

    def run(self, state: int, data: bytes) -> int:
        """The state after ``data`` (0, the dead state, as soon as it dies)."""
        return int(self.core.run(state, data))

    def step(self, state: int, byte: int) -> int:
        """The state after one byte."""
        return int(self.core.run(state, bytes((byte,))))

    def is_accepting(self, state: int) -> bool:
        return bool(self.core.is_accepting(state))

    def forced_bytes(self, state: int, limit: int = 4096) -> bytes:
        """Bytes every continuation from ``state`` must start with (stops at an accepting state)."""
        return bytes(self.core.forced_bytes(state, limit))

    def explore(self) -> int:
        """Build every reachable state (raises ``LimitExceeded`` past the state limit); returns the count."""
        return int(self.core.explore())


def _words(raw: bytes) -> np.ndarray:
    words = np.frombuffer(raw, dtype="<i4")
    return words if words.dtype == np.int32 else words.astype(np.int32)


class NativeMaskCache(MaskMemo):
    """Masks and budget masks of one native automaton over one vocabulary, memoized by state."""

    def __init__(self, native: ModuleType, dfa: NativeDFA, vocab: Vocabulary, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        super().__init__(vocab, max_bytes)
        self.native = native
        self.dfa = dfa
        self.core = native.NativeMasks(dfa.core, native_vocabulary(vocab))
        self._budget_masks: dict[tuple[int, int], np.ndarray] = {}

    def cached(self, state: int, remaining: int | None = None) -> np.ndarray | None:
        """The memoized mask (budget mask when ``remaining`` is given) of ``state``, or ``None``."""
        return self._lookup(state) if remaining is None else self._budget_masks.get((state, remaining))

    def remember(self, state: int, remaining: int | None, words: np.ndarray) -> None:
        """Memoize a mask computed elsewhere (a batch call)."""
        if remaining is None:
            self._store(state, words)
        else:
            self._remember_budget(state, remaining, words)

    def mask(self, state: int) -> np.ndarray:
        """The allowed tokens of ``state`` as int32 words (EOS included when accepting); read-only."""
        words = self._lookup(state)
        if words is None:
            words = _words(self.core.mask(state))
            self._store(state, words)
        return words

    def budget_mask(self, state: int, remaining: int) -> np.ndarray:
        """Mask of tokens after which acceptance is at most ``remaining - 1`` tokens away (EOS if accepting)."""
        key = (state, remaining)
        words = self._budget_masks.get(key)
        if words is None:
            words = _words(self.core.budget_mask(state, remaining))
            self._remember_budget(state, remaining, words)
        return words

    def _remember_budget(self, state: int, remaining: int, words: np.ndarray) -> None:
        """Memoize a budget mask (the memo is cleared past 4,096 entries)."""
        if len(self._budget_masks) > 4096:
            self._budget_masks.clear()
        self._budget_masks[(state, remaining)] = words

    def distance(self, state: int) -> int:
        """Tokens that always suffice to take ``state`` to acceptance."""
        return int(self.core.distance(state))
