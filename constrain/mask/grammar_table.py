"""Grammar masks on the native core: the tagged lexer and the hypothesis sets in Rust, the parser in Python.

The core interns each hypothesis set (parse state, lexer state) as a state of a table over byte classes,
filled on first use, so a grammar mask is the same trie walk as a regex mask. It asks back (through
:class:`ParserBridge`) only which lexemes a parse state allows and which parse state follows a lexeme,
each once per pair; the Earley parser of :mod:`constrain.grammar.earley` answers.
"""
from __future__ import annotations

import threading
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from ..regex.wire import encode as encode_ir
from ..vocab.vocabulary import Vocabulary
from .native import _words, native_vocabulary

if TYPE_CHECKING:
    from ..grammar.earley import ParseState
    from .grammar_matcher import GrammarEngine, Hypothesis

DEFAULT_MAX_SETS = 500_000


class ParserBridge:
    """Parse states interned as ints for the core: allowed lexemes and the state after a lexeme."""

    def __init__(self, engine: "GrammarEngine") -> None:
        self.engine = engine
        self.states: list[ParseState] = []
        self.index: dict[int, int] = {}

    def id_of(self, p: "ParseState") -> int:
        """The id of a parse state (states with the same interned Earley set share one)."""
        key = id(p._node)
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.states)
            self.states.append(p)
        return found

    def allowed(self, parse: int) -> list[int]:
        """The lexemes parse state ``parse`` allows next, as 64-bit words of lexer tags."""
        return [int(w) for w in self.engine.bits(self.states[parse])]

    def advance(self, parse: int, tag: int) -> int:
        """The parse state after lexeme ``tag`` (-1 when the parser rejects it)."""
        nxt = self.engine.after_lexeme(self.states[parse], tag)
        return -1 if nxt is None else self.id_of(nxt)


class GrammarTable:
    """One grammar's native hypothesis machine over one vocabulary."""

    def __init__(self, native: ModuleType, engine: "GrammarEngine", vocab: Vocabulary, max_sets: int = DEFAULT_MAX_SETS) -> None:
        lexer = engine.lexer
        words = max(1, (len(lexer.names) + 63) // 64)
        forbidden = []
        for tags in lexer.follow_sets:
            bits = [0] * words
            for tag in tags:
                bits[tag >> 6] |= 1 << (tag & 63)
            forbidden.append(bits)
        self.core = native.NativeGrammar(encode_ir(lexer.nodes), lexer.max_states,
                                         [int(c) for c in lexer.follow_class], forbidden, max_sets)
        self.parser = ParserBridge(engine)
        self.vocab = native_vocabulary(vocab)
        self._lock = threading.Lock()

    def initial(self) -> int:
        """The set of the parser's initial state with the lexer at its start."""
        with self._lock:
            return int(self.core.initial(self.parser.id_of(self.parser.engine.parser.initial())))

    def run(self, state: int, data: bytes) -> int:
        """The set after ``data`` (0 once nothing survives)."""
        with self._lock:
            return int(self.core.run(self.parser, state, data))

    def words(self, state: int) -> np.ndarray:
        """The allowed-token words of a set (end-of-sequence not included)."""
        with self._lock:
            return _words(self.core.mask(self.parser, self.vocab, state))
