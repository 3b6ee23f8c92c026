"""One lazy byte DFA over every lexeme of a grammar, tagged by lexeme.

The parser decides which lexemes may come next; the lexer DFA is shared by all parser
states. A DFA state stays useful under a parser state only while some lexeme it can
still complete is allowed there, which the per-state ``possible_bits`` answer with one
bitwise AND (no DFA per allowed set is ever built).
"""
from __future__ import annotations

import functools

import numpy as np

from ..regex.dfa import DEFAULT_MAX_STATES, LazyDFA
from ..regex.ir import Bytes, Node
from ..regex.nfa import build_nfa
from ..regex.parse import parse_regex
from .ir import Grammar


class Lexer:
    """Lexeme names <-> tags, the tagged DFA, and allowed-tag bitsets per terminal set."""

    def __init__(self, grammar: Grammar, max_states: int = DEFAULT_MAX_STATES) -> None:
        self.grammar = grammar
        self.names: list[str] = sorted(grammar.lexemes)
        self.tag_of = {name: i for i, name in enumerate(self.names)}
        nodes: list[Node] = []
        for name in self.names:
            lexeme = grammar.lexemes[name]
            if lexeme.node is not None:
                nodes.append(lexeme.node)
            elif lexeme.literal is not None:
                nodes.append(Bytes(lexeme.literal))
            else:
                nodes.append(parse_regex(lexeme.pattern, lexeme.flags))
        self.nodes = nodes
        build = build_nfa
        if any(grammar.lexemes[name].node is not None for name in self.names):
            from ..schema.regular import build_tagged_nfa as build  # lowers the schema compiler's automaton leaves
        self.max_states = max_states
        self.dfa = LazyDFA(build(nodes), max_states=max_states)
        self.ignore = frozenset(self.tag_of[n] for n in grammar.ignore if n in self.tag_of)
        self.follow_sets, self.follow_class = self._follow_classes()

    def _follow_classes(self) -> tuple[list[frozenset[int]], np.ndarray]:
        """Per next byte, the tags that may not end before it (``Lexeme.not_followed_by``), as classes.

        Class 0 forbids nothing; it is also the class of the end of the text.
        """
        sets: list[frozenset[int]] = [frozenset()]
        index = {frozenset(): 0}
        follow_class = np.zeros(256, dtype=np.int64)
        for b in range(256):
            forbidden = frozenset(
                tag for tag, name in enumerate(self.names) if b in self.grammar.lexemes[name].not_followed_by
            )
            k = index.get(forbidden)
            if k is None:
                k = index[forbidden] = len(sets)
                sets.append(forbidden)
            follow_class[b] = k
        return sets, follow_class

    @functools.lru_cache(maxsize=4096)
    def allowed_bits(self, terminals: frozenset[str]) -> np.ndarray:
        """Bitset (uint64 words) of the tags in ``terminals``."""
        bits = np.zeros(self.dfa.tag_words, dtype=np.uint64)
        for name in terminals:
            tag = self.tag_of.get(name)
            if tag is not None:
                bits[tag >> 6] |= np.uint64(1 << (tag & 63))
        return bits

    def alive(self, states: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """Which DFA states can still complete a lexeme whose tag is in ``bits``."""
        return (self.dfa.possible_bits[states] & bits).any(axis=-1)
