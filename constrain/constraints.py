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

from .errors import ConstrainError
from .mask.matcher import DFAMaskCache, DFAMatcher, Matcher
from .regex import DEAD, DEFAULT_MAX_STATES, LazyDFA, build_nfa, parse_regex
from .regex.ir import Alt, Bytes, Node
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
    """A regular language held as a lazy byte DFA (regexes, choices)."""

    def __init__(self, node: Node, max_states: int = DEFAULT_MAX_STATES, description: str = "") -> None:
        self.dfa = LazyDFA(build_nfa([node]), max_states=max_states)
        self.description = description
        self._caches: "weakref.WeakKeyDictionary[Vocabulary, DFAMaskCache]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"

    def accepts(self, text: str | bytes) -> bool:
        state = self.dfa.run(self.dfa.start, _to_bytes(text))
        return state != DEAD and self.dfa.is_accepting(state)

    def accepts_prefix(self, text: str | bytes) -> bool:
        return self.dfa.run(self.dfa.start, _to_bytes(text)) != DEAD

    def mask_cache(self, vocab: Vocabulary) -> DFAMaskCache:
        """The shared mask memo for ``vocab``."""
        with self._lock:
            cache = self._caches.get(vocab)
            if cache is None:
                cache = DFAMaskCache(self.dfa, vocab)
                self._caches[vocab] = cache
            return cache

    def matcher(self, vocab: Vocabulary) -> DFAMatcher:
        return DFAMatcher(self.mask_cache(vocab))


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
        self._caches: "weakref.WeakKeyDictionary[Vocabulary, Any]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<GrammarConstraint {self.description}>"

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
                cache = GrammarMaskCache(self.engine, vocab)
                self._caches[vocab] = cache
        return GrammarMatcher(cache)


def grammar(
    text_or_path: "str | os.PathLike[str]",
    start: str | None = None,
    *,
    syntax: Literal["lark", "ebnf"] = "lark",
    max_states: int = DEFAULT_MAX_STATES,
) -> GrammarConstraint:
    """A constraint to the sentences of a grammar (text or a path to a grammar file).

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

        return GrammarConstraint(load_ebnf(text_or_path, start=start or "root"), max_states=max_states)
    if syntax != "lark":
        raise ValueError(f"unknown grammar syntax {syntax!r}: expected 'lark' or 'ebnf'")
    try:
        from .grammar.lark_frontend import load_lark
    except ImportError as e:
        raise ConstrainError(f"constrain.grammar needs the lark package: pip install 'constrain[grammar]' ({e})") from None
    return GrammarConstraint(load_lark(text_or_path, start=start or "start"), max_states=max_states)


def regex(pattern: str, flags: int = 0, *, max_states: int = DEFAULT_MAX_STATES) -> Regex:
    """A constraint to strings fully matching ``pattern`` (Python syntax, ``re.fullmatch`` semantics).

    >>> import constrain as c
    >>> c.regex(r"\\d{3}-\\d{4}").accepts("555-0123")
    True
    """
    return Regex(pattern, flags, max_states=max_states)


def choice(options: Iterable[str]) -> Choice:
    """A constraint to exactly one of ``options``.

    >>> import constrain as c
    >>> c.choice(["yes", "no"]).accepts_prefix("ye")
    True
    """
    return Choice(options)


__all__ = ["Constraint", "RegularConstraint", "Regex", "Choice", "GrammarConstraint", "regex", "choice", "grammar"]
