"""Lazy byte-level DFA by subset construction: a state is created when first reached.

Bytes are grouped into equivalence classes (bytes no NFA edge tells apart), so the
transition table is ``states x classes``. State 0 is the dead state; every other state
can still reach acceptance (non-co-reachable NFA states are pruned), so "not dead" means
"viable prefix". The table is a numpy array so whole vocabularies advance in one lookup.
"""
from __future__ import annotations

import numpy as np

from ..errors import LimitExceeded
from .nfa import NFA

DEAD = 0
UNEXPANDED = -1
DEFAULT_MAX_STATES = 50_000


class LazyDFA:
    """Deterministic automaton over bytes, expanded state by state on demand."""

    def __init__(self, nfa: NFA, max_states: int = DEFAULT_MAX_STATES) -> None:
        self.max_states = max_states
        live = nfa.live_states()
        self._eps = [[t for t in ts if t in live] for ts in nfa.eps]
        moves = [[(lo, hi, t) for lo, hi, t in ms if t in live] for ms in nfa.edges]
        self._accept = {q: tag for q, tag in nfa.accept.items() if q in live}
        self._owner = nfa.owner
        self.num_tags = max(nfa.accept.values(), default=-1) + 1
        self.tag_words = max(1, (self.num_tags + 63) // 64)
        cuts = {0, 256}
        for ms in moves:
            for lo, hi, _t in ms:
                cuts.add(lo)
                cuts.add(hi + 1)
        bounds = sorted(cuts)
        self.num_classes = len(bounds) - 1
        self.byte_class = np.zeros(256, dtype=np.int32)
        self.class_bytes: list[bytes] = []
        for c, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            self.byte_class[lo:hi] = c
            self.class_bytes.append(bytes(range(lo, hi)))
        index_of = {b: i for i, b in enumerate(bounds)}
        self._moves = [[(index_of[lo], index_of[hi + 1] - 1, t) for lo, hi, t in ms] for ms in moves]
        self._closure_cache: dict[int, frozenset[int]] = {}
        self._unions: dict[tuple[int, int], int] = {}
        self.sets: list[frozenset[int]] = []
        self._index: dict[frozenset[int], int] = {}
        self.tags: list[frozenset[int]] = []
        self.tag_sets: list[frozenset[int]] = [frozenset()]
        self._tag_set_index: dict[frozenset[int], int] = {frozenset(): 0}
        self.tag_set_id = np.zeros(64, dtype=np.int64)
        self.table = np.full((64, self.num_classes), UNEXPANDED, dtype=np.int32)
        self.accepting = np.zeros(64, dtype=bool)
        self.possible_bits = np.zeros((64, self.tag_words), dtype=np.uint64)
        self._intern(frozenset())
        self.table[DEAD, :] = DEAD
        start_set = self._closure([nfa.start]) if nfa.start in live else frozenset()
        self.start = self._intern(start_set)

    @property
    def num_states(self) -> int:
        return len(self.sets)

    def _closure(self, states: list[int] | set[int]) -> frozenset[int]:
        out: set[int] = set()
        for q in states:
            c = self._closure_cache.get(q)
            if c is None:
                seen = {q}
                stack = [q]
                while stack:
                    p = stack.pop()
                    for t in self._eps[p]:
                        if t not in seen:
                            seen.add(t)
                            stack.append(t)
                c = frozenset(seen)
                self._closure_cache[q] = c
            out |= c
        return frozenset(out)

    def _intern(self, s: frozenset[int]) -> int:
        idx = self._index.get(s)
        if idx is not None:
            return idx
        idx = len(self.sets)
        if idx >= self.max_states:
            raise LimitExceeded(
                "DFA states",
                self.max_states,
                "the pattern needs too many automaton states (e.g. a counted repeat after an unbounded one); "
                "simplify it or raise max_states",
            )
        if idx >= self.table.shape[0]:
            grow = max(64, self.table.shape[0])
            self.table = np.concatenate([self.table, np.full((grow, self.num_classes), UNEXPANDED, dtype=np.int32)])
            self.accepting = np.concatenate([self.accepting, np.zeros(grow, dtype=bool)])
            self.tag_set_id = np.concatenate([self.tag_set_id, np.zeros(grow, dtype=np.int64)])
            self.possible_bits = np.concatenate([self.possible_bits, np.zeros((grow, self.tag_words), dtype=np.uint64)])
        self.sets.append(s)
        self._index[s] = idx
        tags = frozenset(self._accept[q] for q in s if q in self._accept)
        self.tags.append(tags)
        self.accepting[idx] = bool(tags)
        tag_set = self._tag_set_index.get(tags)
        if tag_set is None:
            tag_set = self._tag_set_index[tags] = len(self.tag_sets)
            self.tag_sets.append(tags)
        self.tag_set_id[idx] = tag_set
        for tag in {self._owner[q] for q in s if self._owner[q] >= 0}:
            self.possible_bits[idx, tag >> 6] |= np.uint64(1 << (tag & 63))
        return idx

    def union(self, a: int, b: int) -> int:
        """The state running ``a`` and ``b`` together (the union of their NFA sets), memoized."""
        if a == b or b == DEAD:
            return a
        if a == DEAD:
            return b
        key = (a, b) if a < b else (b, a)
        found = self._unions.get(key)
        if found is None:
            found = self._intern(self.sets[a] | self.sets[b])
            self._unions[key] = found
        return found

    def expand(self, state: int) -> None:
        """Compute the transitions of ``state`` for every byte class."""
        if self.table[state, 0] != UNEXPANDED:
            return
        targets: list[set[int]] = [set() for _ in range(self.num_classes)]
        for q in self.sets[state]:
            for clo, chi, t in self._moves[q]:
                for c in range(clo, chi + 1):
                    targets[c].add(t)
        cache: dict[frozenset[int], int] = {}
        row = np.empty(self.num_classes, dtype=np.int32)
        for c, tset in enumerate(targets):
            key = frozenset(tset)
            nxt = cache.get(key)
            if nxt is None:
                nxt = self._intern(self._closure(tset)) if tset else DEAD
                cache[key] = nxt
            row[c] = nxt
        self.table[state] = row

    def expand_all(self, states: np.ndarray) -> None:
        """Make sure every state in ``states`` has its transitions computed."""
        if states.size == 0:
            return
        pending = states[self.table[states, 0] == UNEXPANDED]
        if pending.size:
            for s in np.unique(pending).tolist():
                self.expand(s)

    def step(self, state: int, byte: int) -> int:
        """The state after one byte."""
        if self.table[state, 0] == UNEXPANDED:
            self.expand(state)
        return int(self.table[state, self.byte_class[byte]])

    def run(self, state: int, data: bytes) -> int:
        """The state after ``data`` (``DEAD`` as soon as it dies)."""
        for b in data:
            state = self.step(state, b)
            if state == DEAD:
                return DEAD
        return state

    def is_accepting(self, state: int) -> bool:
        return bool(self.accepting[state])

    def explore(self) -> int:
        """Build every reachable state (raises ``LimitExceeded`` past ``max_states``); returns the count."""
        i = 0
        while i < len(self.sets):
            self.expand(i)
            i += 1
        return len(self.sets)

    def forced_bytes(self, state: int, limit: int = 4096) -> bytes:
        """Bytes every continuation from ``state`` must start with (stops at an accepting state)."""
        out = bytearray()
        while len(out) < limit and state != DEAD and not self.accepting[state]:
            if self.table[state, 0] == UNEXPANDED:
                self.expand(state)
            row = self.table[state]
            live = np.flatnonzero(row != DEAD)
            if live.size != 1 or len(self.class_bytes[live[0]]) != 1:
                break
            out += self.class_bytes[live[0]]
            state = int(row[live[0]])
        return bytes(out)
