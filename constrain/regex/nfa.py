"""Thompson NFA over bytes, built from regex syntax trees; several tagged patterns may share one NFA.

Tags let one automaton recognise several lexemes at once (a grammar's lexer): each
accepting NFA state carries the tag of the pattern it ends.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from ..errors import LimitExceeded
from .charset import Ranges, utf8_sequences
from .ir import Alt, Bytes, Chars, Concat, Empty, Node, Repeat

DEFAULT_MAX_NFA_STATES = 500_000


@dataclass
class NFA:
    """States are ints; ``edges[q]`` holds ``(lo, hi, target)`` byte-range moves; ``eps[q]`` empty moves.

    ``owner[q]`` is the tag of the pattern whose fragment holds ``q`` (-1 for the shared start).
    """

    eps: list[list[int]] = field(default_factory=list)
    edges: list[list[tuple[int, int, int]]] = field(default_factory=list)
    start: int = 0
    accept: dict[int, int] = field(default_factory=dict)
    owner: list[int] = field(default_factory=list)
    max_states: int = DEFAULT_MAX_NFA_STATES
    _tag: int = -1

    def new_state(self) -> int:
        if len(self.eps) >= self.max_states:
            raise LimitExceeded(
                "NFA states", self.max_states, "the pattern is too large (large counted repetitions multiply its size)"
            )
        self.eps.append([])
        self.edges.append([])
        self.owner.append(self._tag)
        return len(self.eps) - 1

    def live_states(self) -> set[int]:
        """States from which some accepting state can be reached."""
        rev: list[list[int]] = [[] for _ in self.eps]
        for q, targets in enumerate(self.eps):
            for t in targets:
                rev[t].append(q)
        for q, moves in enumerate(self.edges):
            for _lo, _hi, t in moves:
                rev[t].append(q)
        live = set(self.accept)
        stack = list(live)
        while stack:
            q = stack.pop()
            for p in rev[q]:
                if p not in live:
                    live.add(p)
                    stack.append(p)
        return live


def build_nfa(patterns: list[Node], max_states: int = DEFAULT_MAX_NFA_STATES) -> NFA:
    """One NFA recognising every pattern; pattern ``i`` ends in a state tagged ``i``."""
    nfa = NFA(max_states=max_states)
    nfa.start = nfa.new_state()
    for tag, node in enumerate(patterns):
        nfa._tag = tag
        s = nfa.new_state()
        nfa.eps[nfa.start].append(s)
        e = _fragment(nfa, node, s)
        nfa.accept[e] = tag
    return nfa


@functools.lru_cache(maxsize=1024)
def char_class_automaton(ranges: Ranges) -> tuple[int, tuple[tuple[int, int, int, int], ...]]:
    """The minimal acyclic byte automaton for the UTF-8 encodings of a code-point set.

    Returns ``(num_states, moves)`` with local states 0 (start) and 1 (end) and moves
    ``(src, lo, hi, dst)``. Equal suffixes are shared, so ``\\w`` costs a few hundred
    states instead of thousands; the result is cached per set.
    """
    root: dict[tuple[int, int], Any] = {}
    for seq in utf8_sequences(ranges):
        trie = root
        for i, rng in enumerate(seq):
            if i == len(seq) - 1:
                trie[rng] = None
            else:
                trie = trie.setdefault(rng, {})
    ids: dict[tuple[tuple[int, int, int], ...], int] = {}
    moves: list[tuple[int, int, int, int]] = []

    def intern(trie: dict[tuple[int, int], Any], is_root: bool = False) -> int:
        sig = tuple(sorted((lo, hi, 1 if child is None else intern(child)) for (lo, hi), child in trie.items()))
        if is_root:
            moves.extend((0, lo, hi, dst) for lo, hi, dst in sig)
            return 0
        found = ids.get(sig)
        if found is None:
            found = len(ids) + 2
            ids[sig] = found
            moves.extend((found, lo, hi, dst) for lo, hi, dst in sig)
        return found

    intern(root, is_root=True)
    return len(ids) + 2, tuple(moves)


def _fragment(nfa: NFA, node: Node, s: int) -> int:
    """Add states for ``node`` starting at ``s``; return the state reached at its end."""
    if isinstance(node, Empty):
        return s
    if isinstance(node, Bytes):
        for b in node.data:
            t = nfa.new_state()
            nfa.edges[s].append((b, b, t))
            s = t
        return s
    if isinstance(node, Chars):
        count, moves = char_class_automaton(node.ranges)
        e = nfa.new_state()
        local = [s, e] + [nfa.new_state() for _ in range(count - 2)]
        for a, lo, hi, b in moves:
            nfa.edges[local[a]].append((lo, hi, local[b]))
        return e
    if isinstance(node, Concat):
        for item in node.items:
            s = _fragment(nfa, item, s)
        return s
    if isinstance(node, Alt):
        e = nfa.new_state()
        for item in node.items:
            b = nfa.new_state()
            nfa.eps[s].append(b)
            nfa.eps[_fragment(nfa, item, b)].append(e)
        return e
    if isinstance(node, Repeat):
        for _ in range(node.min):
            s = _fragment(nfa, node.item, s)
        if node.max is None:
            loop = nfa.new_state()
            nfa.eps[s].append(loop)
            body_end = _fragment(nfa, node.item, loop)
            nfa.eps[body_end].append(loop)
            e = nfa.new_state()
            nfa.eps[loop].append(e)
            return e
        e = nfa.new_state()
        for _ in range(node.max - node.min):
            nfa.eps[s].append(e)
            s = _fragment(nfa, node.item, s)
        nfa.eps[s].append(e)
        return e
    raise TypeError(f"unknown regex node {node!r}")
