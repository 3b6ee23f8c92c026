"""Constraint objects: what users build with ``constrain.regex(...)`` and friends.

A constraint knows its language (``accepts``, ``accepts_prefix``) without any model,
and makes matchers for a vocabulary; mask caches are shared per vocabulary.
"""
from __future__ import annotations

import threading
import weakref
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Iterable, Literal

if TYPE_CHECKING:
    import os

    from .grammar.ir import Grammar

from ._engine import native_module
from .compile_cache import compiled_once
from .errors import ConstrainError
from .mask.matcher import DFAMaskCache, DFAMatcher, Matcher
from .mask.native import NativeDFA, NativeMaskCache
from .regex import DEAD, DEFAULT_MAX_STATES, LazyDFA, build_nfa, parse_regex
from .regex.ir import Alt, Bytes, Node
from .regex.nfa import DEFAULT_MAX_NFA_STATES, NFA
from .regex.wire import encode as encode_ir
from .vocab.vocabulary import Vocabulary


def _to_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


class Constraint(ABC):
    """A formal language that generation is held to."""

    @abstractmethod
    def accepts(self, text: str | bytes) -> bool:
        """Whether ``text`` is a complete string of the language."""

    @abstractmethod
    def accepts_prefix(self, text: str | bytes) -> bool:
        """Whether ``text`` can still be completed into a string of the language."""

    @abstractmethod
    def matcher(self, vocab: Vocabulary) -> Matcher:
        """A fresh per-sequence matcher over ``vocab``."""


class RegularConstraint(Constraint):
    """A regular language held as a lazy byte DFA (regexes, choices), native when the core is built."""

    def __init__(self, node: Node, max_states: int = DEFAULT_MAX_STATES, description: str = "") -> None:
        self._init_automaton(node, max_states)
        self.description = description

    def _init_automaton(self, node: Node, max_states: int) -> None:
        """Compile ``node`` on the selected engine (see :mod:`constrain._engine`)."""
        self._node = node
        self._max_states = max_states
        self._native_module = native_module()
        self._native: NativeDFA | None = None
        self._dfa: LazyDFA | None = None
        if self._native_module is not None:
            core = self._native_module.NativeRegular(encode_ir([node]), max_states, DEFAULT_MAX_NFA_STATES)
            self._native = NativeDFA(core)
        else:
            self._dfa = LazyDFA(self._build_nfa(node), max_states=max_states)
        self._caches: "weakref.WeakKeyDictionary[Vocabulary, Any]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _build_nfa(self, node: Node) -> NFA:
        """The Python engine's NFA for ``node``."""
        return build_nfa([node])

    @property
    def backend(self) -> str:
        """``"native"`` or ``"python"``: which engine computes this constraint's masks."""
        return "native" if self._native is not None else "python"

    @property
    def dfa(self) -> LazyDFA:
        """The Python reference automaton (on the native engine, built on first use, for white-box checks)."""
        if self._dfa is None:
            self._dfa = LazyDFA(self._build_nfa(self._node), max_states=self._max_states)
        return self._dfa

    @property
    def automaton(self) -> "LazyDFA | NativeDFA":
        """The automaton matchers run on: the native one when built, else the Python one."""
        return self._native if self._native is not None else self.dfa

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"

    def accepts(self, text: str | bytes) -> bool:
        auto = self.automaton
        state = auto.run(auto.start, _to_bytes(text))
        return state != DEAD and auto.is_accepting(state)

    def accepts_prefix(self, text: str | bytes) -> bool:
        auto = self.automaton
        return auto.run(auto.start, _to_bytes(text)) != DEAD

    def mask_cache(self, vocab: Vocabulary) -> "DFAMaskCache | NativeMaskCache":
        """The shared mask memo for ``vocab``."""
        with self._lock:
            cache = self._caches.get(vocab)
            if cache is None:
                if self._native is not None:
                    cache = NativeMaskCache(self._native_module, self._native, vocab)  # type: ignore[arg-type]
                else:
                    cache = DFAMaskCache(self.dfa, vocab)
                self._caches[vocab] = cache
            return cache

    def matcher(self, vocab: Vocabulary) -> DFAMatcher:
        return DFAMatcher(self.mask_cache(vocab))  # type: ignore[arg-type]


class Regex(RegularConstraint):
    """Strings that ``re.fullmatch(pattern, s, flags)`` matches."""

    def __init__(self, pattern: str, flags: int = 0, max_states: int = DEFAULT_MAX_STATES) -> None:
        self.pattern = pattern
        self.flags = flags
        super().__init__(parse_regex(pattern, flags), max_states=max_states, description=repr(pattern))


class Choice(RegularConstraint):
    """Exactly one of the given strings."""

    def __init__(self, options: Iterable[str]) -> None:
        self.options = tuple(options)
        if not self.options:
            raise ValueError("choice() needs at least one option")
        node = Alt(tuple(Bytes(_to_bytes(o)) for o in self.options))
        super().__init__(node, description=repr(list(self.options)))


class GrammarConstraint(Constraint):
    """Sentences of a context-free grammar (dynamic lexing: any split into lexemes the grammar allows)."""

    def __init__(self, grammar_ir: "Grammar", max_states: int = DEFAULT_MAX_STATES, description: str = "") -> None:
        from .grammar.earley import EarleyParser
        from .grammar.lexer import Lexer
        from .mask.grammar_matcher import GrammarEngine

        self.grammar = grammar_ir
        self.engine = GrammarEngine(EarleyParser(grammar_ir), Lexer(grammar_ir, max_states=max_states))
        self.description = description or f"grammar starting at {grammar_ir.start!r}"
        self._native_module = native_module()
        self._caches: "weakref.WeakKeyDictionary[Vocabulary, Any]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<GrammarConstraint {self.description}>"

    @property
    def backend(self) -> str:
        """``"native"`` (masks walked by the core over a table the Earley parser fills) or ``"python"``."""
        return "native" if self._native_module is not None else "python"

    def accepts(self, text: str | bytes) -> bool:
        hyps = self.engine.step(self.engine.initial(), _to_bytes(text))
        return bool(hyps) and self.engine.accepting(hyps)

    def accepts_prefix(self, text: str | bytes) -> bool:
        return bool(self.engine.step(self.engine.initial(), _to_bytes(text)))

    def matcher(self, vocab: Vocabulary) -> Matcher:
        from .mask.grammar_matcher import GrammarMaskCache, GrammarMatcher

        with self._lock:
            cache = self._caches.get(vocab)
            if cache is None:
                cache = GrammarMaskCache(self.engine, vocab, native=self._native_module)
                self._caches[vocab] = cache
        return GrammarMatcher(cache)


@compiled_once
def grammar(
    source: "str | os.PathLike[str]",
    start: str | None = None,
    *,
    syntax: Literal["lark", "ebnf"] = "lark",
    max_states: int = DEFAULT_MAX_STATES,
) -> GrammarConstraint:
    """A constraint to the sentences of a grammar: a ``str`` is grammar text, a ``pathlib.Path`` a grammar file.

    The type decides, never the content, so text from elsewhere cannot make this open a file: a ``str`` that
    names a file is read as (bad) grammar text. Grammar text may ``%import`` only from lark's bundled library
    (``%import common.WS``); a grammar file may also import files next to it.

    ``syntax="lark"`` (the default) reads a Lark grammar whose start rule defaults to ``start``;
    ``syntax="ebnf"`` reads GBNF / xgrammar-style EBNF (``root ::= ...``) whose start rule defaults to ``root``.

    >>> import constrain as c
    >>> g = c.grammar('start: "(" start ")" | "x"')
    >>> g.accepts("((x))"), g.accepts_prefix("(("), g.accepts("(x")
    (True, True, False)
    >>> c.grammar('root ::= "a"+ [0-9]', syntax="ebnf").accepts("aa7")
    True
    """
    if syntax == "ebnf":
        from .grammar.ebnf_frontend import load_ebnf

        return GrammarConstraint(load_ebnf(source, start=start or "root"), max_states=max_states)
    if syntax != "lark":
        raise ValueError(f"unknown grammar syntax {syntax!r}: expected 'lark' or 'ebnf'")
    try:
        from .grammar.lark_frontend import load_lark
    except ImportError as e:
        raise ConstrainError(f"constrain.grammar needs the lark package: pip install 'constrain[grammar]' ({e})") from None
    return GrammarConstraint(load_lark(source, start=start or "start"), max_states=max_states)


@compiled_once
def regex(pattern: str, flags: int = 0, *, max_states: int = DEFAULT_MAX_STATES) -> Regex:
    """A constraint to strings fully matching ``pattern`` (Python syntax, ``re.fullmatch`` semantics).

    >>> import constrain as c
    >>> c.regex(r"\\d{3}-\\d{4}").accepts("555-0123")
    True
    """
    return Regex(pattern, flags, max_states=max_states)


@compiled_once
def choice(options: Iterable[str]) -> Choice:
    """A constraint to exactly one of ``options``.

    >>> import constrain as c
    >>> c.choice(["yes", "no"]).accepts_prefix("ye")
    True
    """
    return Choice(options)


__all__ = ["Constraint", "RegularConstraint", "Regex", "Choice", "GrammarConstraint", "regex", "choice", "grammar"]
