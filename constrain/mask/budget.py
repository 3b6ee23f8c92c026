"""Budget-aware closing for DFA constraints: never allow a token after which the output cannot finish in time.

For a state, the shortest accepted continuation (a lazy breadth-first search over the
DFA, memoized) tokenized greedily by longest match gives a number of tokens that always
suffices to finish: each greedy token extends a viable prefix, so the exact mask allows
it. A token is allowed with ``r`` tokens left (itself included) iff the state it leads
to can finish within ``r - 1`` tokens by that bound. This is sound (generation always
finishes validly); it may rarely forbid a token that a cleverer tokenization could fit.
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from ..regex.dfa import DEAD, LazyDFA
from ..vocab.vocabulary import Vocabulary
from .bitmask import allowed_ids as allowed_token_ids

if TYPE_CHECKING:
    from .matcher import Matcher

UNREACHABLE = 1 << 40


def path_to(parent: dict[int, tuple[int, int]], state: int) -> bytes:
    """The bytes of a breadth-first search path to ``state`` (``parent``: state -> (previous, byte); root -> (-1, -1))."""
    out = bytearray()
    while parent[state][0] != -1:
        state, byte = parent[state]
        out.append(byte)
    return bytes(reversed(out))


class GreedyTokenizer:
    """Longest-match tokenization over a vocabulary's byte strings (special tokens excluded)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self._ids: dict[bytes, int] = {}
        for i, b in enumerate(vocab.token_bytes):
            if b and i not in vocab.special_token_ids:
                self._ids.setdefault(b, i)
        self._max_len = max(map(len, self._ids), default=1)

    def tokens(self, data: bytes) -> list[int] | None:
        """Token ids of the longest-match tokenization of ``data`` (``None`` if some byte has no token)."""
        i, out = 0, []
        while i < len(data):
            for n in range(min(self._max_len, len(data) - i), 0, -1):
                found = self._ids.get(data[i : i + n])
                if found is not None:
                    out.append(found)
                    i += n
                    break
            else:
                return None
        return out

    def count(self, data: bytes) -> int:
        """How many tokens ``tokens(data)`` has (``UNREACHABLE`` if it has none)."""
        found = self.tokens(data)
        return UNREACHABLE if found is None else len(found)


class DistanceTable:
    """Tokens needed to reach acceptance, per DFA state, computed on demand."""

    def __init__(self, dfa: LazyDFA, vocab: Vocabulary, max_explored: int = 100_000) -> None:
        self.dfa = dfa
        self.max_explored = max_explored
        self._dist: dict[int, int] = {}
        self.tokenizer = GreedyTokenizer(vocab)

    def shortest_completion(self, state: int) -> bytes | None:
        """The shortest byte string that takes ``state`` to acceptance (``None`` if none is found)."""
        dfa = self.dfa
        parent: dict[int, tuple[int, int]] = {state: (-1, -1)}
        queue = deque([state])
        while queue and len(parent) <= self.max_explored:
            s = queue.popleft()
            if dfa.is_accepting(s):
                return path_to(parent, s)
            dfa.expand(s)
            row = dfa.table[s]
            for cls in range(dfa.num_classes):
                t = int(row[cls])
                if t != DEAD and t not in parent:
                    parent[t] = (s, dfa.class_bytes[cls][0])
                    queue.append(t)
        return None

    def distance(self, state: int) -> int:
        found = self._dist.get(state)
        if found is None:
            completion = self.shortest_completion(state)
            found = UNREACHABLE if completion is None else self.tokenizer.count(completion)
            self._dist[state] = found
        return found


def next_states(dfa: LazyDFA, vocab: Vocabulary, state: int, token_ids: np.ndarray) -> np.ndarray:
    """The DFA state after each token (``DEAD`` where it dies), read all at once."""
    arrays = vocab.byte_arrays
    lens = arrays.lens[token_ids]
    starts = arrays.starts[token_ids]
    states = np.full(token_ids.size, state, dtype=np.int32)
    active = np.flatnonzero(lens > 0)
    pos = 0
    while active.size:
        dfa.expand_all(states[active])
        b = arrays.flat[starts[active] + pos]
        states[active] = dfa.table[states[active], dfa.byte_class[b]]
        pos += 1
        active = active[(lens[active] > pos) & (states[active] != DEAD)]
    return states


class BudgetTable:
    """For each DFA state: its allowed tokens with the distance their next state has to acceptance."""

    def __init__(self, dfa: LazyDFA, vocab: Vocabulary) -> None:
        self.dfa = dfa
        self.vocab = vocab
        self.distances = DistanceTable(dfa, vocab)
        self._per_state: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def entry(self, state: int, mask_words: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """(token ids, their next-state distances, the largest of those), memoized per state."""
        found = self._per_state.get(state)
        if found is None:
            allowed_ids = allowed_token_ids(mask_words, self.vocab.size)
            ids = np.array([i for i in allowed_ids.tolist() if i not in self.vocab.eos_token_ids], dtype=np.int64)
            states = next_states(self.dfa, self.vocab, state, ids)
            dist_of = {s: self.distances.distance(s) for s in set(states.tolist())}
            dists = np.array([dist_of[s] for s in states.tolist()], dtype=np.int64)
            found = (ids, dists, int(dists.max()) if dists.size else 0)
            self._per_state[state] = found
        return found


def choose_within_budget(
    matcher: "Matcher", remaining: int, token: int, alternatives: Callable[[int], Iterable[int]], max_rejections: int = 64,
) -> int:
    """``token`` if the output can still finish in time after it; else the next choice that can.

    ``alternatives(token)`` gives the other tokens in the order the decoder would choose them once
    ``token`` is rejected (for sampling, a draw without replacement), so rejecting and going down
    the list picks what masking the unfit tokens beforehand would have, at the cost of one check per
    rejection. When no candidate fits, the first token of the matcher's certified completion is taken.
    """
    if matcher.fits_budget(token, remaining):
        return token
    for tried, candidate in enumerate(alternatives(token)):
        if tried >= max_rejections:
            break
        if matcher.fits_budget(candidate, remaining):
            return candidate
    closing = matcher.closing_tokens()
    return closing[0] if closing else token
