"""Advance every token of a vocabulary through a lazy byte DFA at once, level by level of the trie.

Shared prefixes are walked once and dead prefixes are pruned as the walk goes down;
each level is a handful of numpy gathers, never a Python loop over tokens.
"""
from __future__ import annotations

import numpy as np

from ..regex.dfa import DEAD, LazyDFA
from ..vocab.trie import TokenTrie


def expand_ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, e)`` for every pair, vectorized."""
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, counts)


DENSE_CODES = 1 << 22
"""Largest code range ``unique_codes`` handles with a lookup table instead of a sort."""


def unique_codes(codes: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)`` for non-negative codes below ``bound``.

    A table over the code range replaces the sort when the range is small next to a sort's cost;
    the result is the same (sorted distinct codes, and each code's index among them).
    """
    if codes.size == 0 or bound > max(DENSE_CODES, 8 * codes.size):
        uniq, inverse = np.unique(codes, return_inverse=True)
        return uniq, inverse.reshape(-1)
    present = np.zeros(bound, dtype=bool)
    present[codes] = True
    uniq = np.flatnonzero(present)
    rank = np.empty(bound, dtype=np.int64)
    rank[uniq] = np.arange(uniq.size, dtype=np.int64)
    return uniq, rank[codes]


class TrieWalker:
    """Walks one vocabulary trie through one DFA; byte classes per trie level are computed once."""

    def __init__(self, dfa: LazyDFA, trie: TokenTrie) -> None:
        self.dfa = dfa
        self.trie = trie
        self.level_classes = [dfa.byte_class[b] for b in trie.byte]

    def allowed_tokens(self, state: int) -> np.ndarray:
        """Ids of the tokens whose bytes, read from ``state``, do not reach the dead state."""
        dfa, trie = self.dfa, self.trie
        if state == DEAD or trie.depth == 0:
            return np.zeros(0, dtype=np.int64)
        dfa.expand(state)
        states = dfa.table[state, self.level_classes[0]]
        nodes: np.ndarray | None = None
        found: list[np.ndarray] = []
        for d in range(trie.depth):
            alive = states != DEAD
            if nodes is None:
                nodes = np.flatnonzero(alive)
            else:
                nodes = nodes[alive]
            states = states[alive]
            if nodes.size == 0:
                break
            ep = trie.end_ptr[d]
            s, e = ep[nodes], ep[nodes + 1]
            has = e > s
            if has.any():
                found.append(trie.end_ids[d][expand_ranges(s[has], e[has])])
            if d + 1 == trie.depth:
                break
            cp = trie.child_ptr[d]
            cs, ce = cp[nodes], cp[nodes + 1]
            counts = ce - cs
            total = int(counts.sum())
            if total == 0:
                break
            parents = counts > 0
            dfa.expand_all(states[parents])
            table = dfa.table
            next_size = len(trie.byte[d + 1])
            if total * 2 > next_size:
                full = np.zeros(len(trie.byte[d]), dtype=np.int32)
                full[nodes] = states
                states = table[full[trie.parent[d + 1]], self.level_classes[d + 1]]
                nodes = None
            else:
                child = expand_ranges(cs, ce)
                states = table[np.repeat(states, counts), self.level_classes[d + 1][child]]
                nodes = child
        if not found:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(found)
