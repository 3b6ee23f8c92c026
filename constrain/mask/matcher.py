"""Matchers: per-sequence constraint state that yields token masks and advances with chosen tokens.

Every matcher has the same interface (``mask``, ``allowed_token_ids``, ``advance``,
``rollback``, ``is_accepting``, ``forced_bytes``, ``copy``) whatever the constraint
behind it. Masks are memoized by automaton state and shared by every matcher of the
same constraint and vocabulary, so a repeated state costs one dictionary lookup.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict

import numpy as np

from ..errors import LimitExceeded, TokenRejected
from ..regex.dfa import DEAD, LazyDFA
from ..vocab.derived import per_vocabulary
from ..vocab.vocabulary import Vocabulary
from .budget import BudgetTable
from .bitmask import allowed_ids, is_allowed, num_words, pack
from .slices import VocabularySlices, best_slice, looks_permissive, walk_outside
from .walk import TrieWalker

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024


class Matcher(ABC):
    """Constraint state for one sequence being generated."""

    vocab: Vocabulary

    @abstractmethod
    def mask(self) -> np.ndarray:
        """The allowed tokens as int32 words (``ceil(vocab.size / 32)``); treat it as read-only."""

    @abstractmethod
    def advance(self, token_id: int) -> None:
        """Consume one token; raises ``TokenRejected`` if the mask does not allow it."""

    @abstractmethod
    def rollback(self, num_tokens: int = 1) -> None:
        """Undo the last ``num_tokens`` advances."""

    @abstractmethod
    def is_accepting(self) -> bool:
        """Whether the output so far is a complete string of the language."""

    @abstractmethod
    def is_finished(self) -> bool:
        """Whether an end-of-sequence token has been consumed."""

    @abstractmethod
    def forced_bytes(self) -> bytes:
        """Bytes every valid continuation must start with (empty when there is a choice)."""

    @abstractmethod
    def copy(self) -> "Matcher":
        """An independent matcher in the same state (cheap; caches are shared)."""

    def budget_mask(self, remaining: int) -> np.ndarray:
        """The mask restricted to tokens after which the output can still finish within ``remaining`` tokens.

        ``remaining`` counts the token about to be chosen. Matchers that cannot bound their
        distance to acceptance raise ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support budget-aware closing")

    def tokens_to_accept(self) -> int:
        """A number of tokens that always suffices to reach an accepting state from here."""
        raise NotImplementedError(f"{type(self).__name__} does not support budget-aware closing")

    def fits_budget(self, token_id: int, remaining: int) -> bool:
        """Whether the output can still finish within ``remaining - 1`` tokens after ``token_id``.

        Decoders ask this of the token they chose when ``budget_mask`` is not implemented (a grammar's
        budget check per token is too costly to run over a whole vocabulary); ``True`` when unknown.
        """
        return True

    def closing_tokens(self) -> list[int] | None:
        """Tokens that finish the output from here (a certified completion), or ``None`` if unknown."""
        return None

    def fill_mask(self, out: np.ndarray) -> None:
        """Write the mask into ``out`` (one row of a ``(batch, words)`` int32 array)."""
        out[...] = self.mask()

    def allowed_token_ids(self) -> np.ndarray:
        """Ids of the allowed tokens, ascending."""
        return allowed_ids(self.mask(), self.vocab.size)

    def only_eos_allowed(self) -> bool:
        """Whether the output is complete and nothing but end-of-sequence may follow (cheap: one array compare)."""
        return bool(np.array_equal(self.mask(), self.vocab.eos_words))

    def is_allowed(self, token_id: int) -> bool:
        """Whether one token is allowed now."""
        return 0 <= token_id < self.vocab.size and is_allowed(self.mask(), token_id)


@per_vocabulary
def vocabulary_slices(vocab: Vocabulary) -> VocabularySlices:
    """The slice tables of ``vocab``, built once and shared by every constraint."""
    return VocabularySlices(vocab)


class MaskMemo:
    """Masks memoized by automaton state: least recently used dropped first, bounded in bytes."""

    def __init__(self, vocab: Vocabulary, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.vocab = vocab
        self.max_bytes = max_bytes
        self._masks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0
        self.eos_words = vocab.eos_words
        self.empty_words = np.zeros(num_words(vocab.size), dtype=np.int32)

    def _lookup(self, state: int) -> np.ndarray | None:
        words = self._masks.get(state)
        if words is not None:
            self._masks.move_to_end(state)
        return words

    def _store(self, state: int, words: np.ndarray) -> None:
        if words.nbytes > self.max_bytes:
            raise LimitExceeded("mask cache bytes", self.max_bytes, "one mask is larger than the whole cache")
        self._masks[state] = words
        self._bytes += words.nbytes
        while self._bytes > self.max_bytes:
            _old, dropped = self._masks.popitem(last=False)
            self._bytes -= dropped.nbytes


class DFAMaskCache(MaskMemo):
    """Token masks of one DFA over one vocabulary, memoized by DFA state (LRU, bounded in bytes)."""

    def __init__(
        self, dfa: LazyDFA, vocab: Vocabulary, max_bytes: int = DEFAULT_CACHE_BYTES, use_slices: bool = True
    ) -> None:
        super().__init__(vocab, max_bytes)
        self.dfa = dfa
        self.use_slices = use_slices
        self.walker = TrieWalker(dfa, vocab.trie)
        self._budget: BudgetTable | None = None
        self._budget_masks: dict[tuple[int, int], np.ndarray] = {}

    def budget_mask(self, state: int, remaining: int) -> np.ndarray:
        """Mask of tokens after which acceptance is at most ``remaining - 1`` bytes away (EOS if accepting)."""
        full = self.mask(state)
        if self._budget is None:
            self._budget = BudgetTable(self.dfa, self.vocab)
        ids, dists, worst = self._budget.entry(state, full)
        if worst <= remaining - 1:
            return full
        key = (state, remaining)
        words = self._budget_masks.get(key)
        if words is None:
            allowed = np.zeros(self.vocab.size, dtype=bool)
            allowed[ids[dists <= remaining - 1]] = True
            words = pack(allowed)
            if self.dfa.is_accepting(state):
                words = words | self.eos_words
            words.flags.writeable = False
            if len(self._budget_masks) > 4096:
                self._budget_masks.clear()
            self._budget_masks[key] = words
        return words

    def distance(self, state: int) -> int:
        """Tokens that always suffice to take ``state`` to acceptance."""
        if self._budget is None:
            self._budget = BudgetTable(self.dfa, self.vocab)
        return self._budget.distances.distance(state)

    def mask(self, state: int) -> np.ndarray:
        words = self._lookup(state)
        if words is not None:
            return words
        words = pack(self.allowed(state))
        if self.dfa.is_accepting(state):
            words = words | self.eos_words
        words.flags.writeable = False
        self._store(state, words)
        return words

    def allowed(self, state: int) -> np.ndarray:
        """Boolean array over the vocabulary (EOS excluded): a slice for permissive states, else a trie walk."""
        if state != DEAD and self.use_slices and looks_permissive(self.dfa, state):
            piece = best_slice(self.dfa, state, vocabulary_slices(self.vocab))
            if piece is not None:
                return walk_outside(self.dfa, state, piece)
        allowed = np.zeros(self.vocab.size, dtype=bool)
        allowed[self.walker.allowed_tokens(state)] = True
        return allowed


class DFAMatcher(Matcher):
    """Matcher for a regular language: the state is one DFA state, with a history for rollback."""

    def __init__(self, cache: DFAMaskCache) -> None:
        self.cache = cache
        self.dfa = cache.dfa
        self.vocab = cache.vocab
        self._states: list[int] = [self.dfa.start]
        self._finished_at: int | None = None

    @property
    def state(self) -> int:
        return self._states[-1]

    def mask(self) -> np.ndarray:
        if self._finished_at is not None:
            return self.cache.eos_words
        return self.cache.mask(self.state)

    def tokens_to_accept(self) -> int:
        return 0 if self.is_accepting() else self.cache.distance(self.state)

    def budget_mask(self, remaining: int) -> np.ndarray:
        if self._finished_at is not None:
            return self.cache.eos_words
        return self.cache.budget_mask(self.state, remaining)

    def advance(self, token_id: int) -> None:
        if self._finished_at is not None:
            if token_id in self.vocab.eos_token_ids:
                self._states.append(self.state)
                return
            raise TokenRejected(f"token {token_id} after end of sequence")
        if token_id in self.vocab.eos_token_ids:
            if not self.dfa.is_accepting(self.state):
                raise TokenRejected(f"end-of-sequence token {token_id} before the output is complete")
            self._finished_at = len(self._states)
            self._states.append(self.state)
            return
        data = self.vocab.token_to_bytes(token_id)
        if data is None:
            raise TokenRejected(f"token {token_id} has no bytes (special or out of range) and is never allowed")
        nxt = self.dfa.run(self.state, data)
        if nxt == DEAD:
            raise TokenRejected(f"token {token_id} ({data!r}) cannot continue the output")
        self._states.append(nxt)

    def advance_bytes(self, data: bytes) -> None:
        """Consume raw bytes (e.g. forced bytes) as one step; raises ``TokenRejected`` if they lead nowhere."""
        nxt = self.dfa.run(self.state, data)
        if nxt == DEAD:
            raise TokenRejected(f"bytes {data!r} cannot continue the output")
        self._states.append(nxt)

    def rollback(self, num_tokens: int = 1) -> None:
        if num_tokens < 0 or num_tokens > len(self._states) - 1:
            raise ValueError(f"cannot roll back {num_tokens} tokens; {len(self._states) - 1} consumed")
        if num_tokens:
            del self._states[-num_tokens:]
        if self._finished_at is not None and len(self._states) <= self._finished_at:
            self._finished_at = None

    def is_accepting(self) -> bool:
        return self._finished_at is not None or self.dfa.is_accepting(self.state)

    def is_finished(self) -> bool:
        return self._finished_at is not None

    def forced_bytes(self) -> bytes:
        if self._finished_at is not None:
            return b""
        return self.dfa.forced_bytes(self.state)

    def copy(self) -> "DFAMatcher":
        other = DFAMatcher.__new__(DFAMatcher)
        other.cache = self.cache
        other.dfa = self.dfa
        other.vocab = self.vocab
        other._states = list(self._states)
        other._finished_at = self._finished_at
        return other
