"""The grammar intermediate representation shared by every front end (Lark, JSON Schema, ...).

A grammar is a context-free grammar whose terminals are *lexemes*: regular languages over text, each given
as a Python ``re`` pattern that must match a lexeme's whole text (fullmatch semantics, on the UTF-8 text).
Rules rewrite a nonterminal into a sequence of symbols; a symbol is either a rule name (nonterminal) or a
lexeme name (terminal); an empty right-hand side is epsilon. Ignored lexemes (whitespace, comments) may
occur between any two lexemes and at the start and end of a sentence.

Everything here is frozen and hashable so grammars can key caches. ``Grammar.validate`` checks that the
grammar denotes a non-empty language made of productive rules and returns the grammar trimmed to what is
reachable from the start symbol.
"""
from __future__ import annotations

import functools

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from constrain.errors import GrammarError

__all__ = ["Lexeme", "Rule", "Origin", "Grammar"]


@dataclass(frozen=True)
class Lexeme:
    """A terminal: ``pattern`` is a Python ``re`` pattern matched with fullmatch semantics, ``flags`` are
    ``re`` flags (``re.I``, ``re.S``, ...) applying to the whole pattern. ``literal`` is set (UTF-8 bytes)
    when the lexeme is one fixed string, and then ``pattern == re.escape(literal text)`` and ``flags == 0``.
    ``priority`` is kept for information; it never changes the language.

    ``not_followed_by`` (bytes) is a condition outside the lexeme's text: the lexeme may end only where the
    next byte is not one of these (or at the end of the text). It is what a trailing negative lookahead such
    as ``(?![A-Za-z0-9_])`` says, and it keeps ``selectx`` from being split into ``select`` and ``x``.

    ``node`` (optional) is the lexeme's language as a regex-IR tree (``constrain.regex.ir.Node``, possibly with
    the schema compiler's automaton leaves); when set it is what the lexer compiles and ``pattern`` is only a label.
    """

    name: str
    pattern: str
    flags: int = 0
    literal: bytes | None = None
    priority: int = 0
    not_followed_by: bytes = b""
    node: object | None = None

    @classmethod
    def from_literal(cls, name: str, text: str | bytes, priority: int = 0) -> "Lexeme":
        """A lexeme matching exactly ``text``."""
        raw = text.encode("utf-8") if isinstance(text, str) else text
        return cls(name, re.escape(raw.decode("utf-8")), 0, raw, priority)

    def compiled(self) -> "re.Pattern[str]":
        """The compiled ``re`` pattern (with ``flags``)."""
        return re.compile(self.pattern, self.flags)


@dataclass(frozen=True)
class Rule:
    """``lhs -> rhs``; each rhs symbol is a rule name or a lexeme name; ``rhs == ()`` is epsilon."""

    lhs: str
    rhs: tuple[str, ...]


@dataclass(frozen=True)
class Origin:
    """Where a symbol was defined in a grammar's source text (1-based line and column)."""

    line: int
    column: int
    source: str | None = None


def productive_nonterminals(rules: Iterable[Rule], lexemes: Mapping[str, object]) -> frozenset[str]:
    """Left-hand sides of ``rules`` that derive at least one string of ``lexemes`` (fixpoint)."""
    rules = list(rules)
    productive: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in rules:
            if rule.lhs not in productive and all(s in lexemes or s in productive for s in rule.rhs):
                productive.add(rule.lhs)
                changed = True
    return frozenset(productive)


def _freeze(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False)
class Grammar:
    """A context-free grammar over lexemes.

    ``start``: the start rule name; ``rules``: every production; ``lexemes``: name -> Lexeme for every
    terminal (including ignored ones); ``ignore``: names of lexemes that may appear anywhere between
    terminals; ``origins``: symbol name -> where it was written (for error messages; not part of equality).
    """

    start: str
    rules: tuple[Rule, ...]
    lexemes: Mapping[str, Lexeme]
    ignore: tuple[str, ...] = ()
    origins: Mapping[str, Origin] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "ignore", tuple(self.ignore))
        object.__setattr__(self, "lexemes", _freeze(self.lexemes))
        object.__setattr__(self, "origins", _freeze(self.origins))

    def _key(self) -> tuple:
        return (self.start, self.rules, tuple(sorted(self.lexemes.items())), self.ignore)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grammar) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @functools.cached_property
    def nonterminals(self) -> frozenset[str]:
        """Names that have at least one rule."""
        return frozenset(r.lhs for r in self.rules)

    @property
    def terminals(self) -> frozenset[str]:
        """Lexeme names used in some rule (ignored lexemes are not included unless used)."""
        return frozenset(s for r in self.rules for s in r.rhs if s in self.lexemes)

    def rules_for(self, lhs: str) -> tuple[Rule, ...]:
        """The productions of ``lhs`` in definition order."""
        return tuple(r for r in self.rules if r.lhs == lhs)

    def _error(self, message: str, symbol: str) -> GrammarError:
        origin = self.origins.get(symbol)
        if origin is None:
            return GrammarError(message, symbol)
        return GrammarError(message, symbol, origin.line, origin.column, origin.source)

    def _check_symbols(self) -> None:
        clash = self.nonterminals & set(self.lexemes)
        if clash:
            name = min(clash)
            raise self._error(f"'{name}' is defined both as a rule and as a lexeme", name)
        if self.start not in self.nonterminals:
            raise self._error(f"start rule '{self.start}' is not defined", self.start)
        for rule in self.rules:
            for sym in rule.rhs:
                if sym not in self.lexemes and sym not in self.nonterminals:
                    raise self._error(f"symbol '{sym}' used in rule '{rule.lhs}' is not defined", sym)
        for name in self.ignore:
            if name not in self.lexemes:
                raise self._error(f"ignored lexeme '{name}' is not defined", name)

    def _check_lexemes(self, names: set[str]) -> None:
        for name in sorted(names):
            lexeme = self.lexemes[name]
            try:
                compiled = lexeme.compiled()
            except re.error as exc:
                raise self._error(f"lexeme '{name}' has an invalid pattern {lexeme.pattern!r}: {exc}", name) from None
            if compiled.fullmatch("") is not None:
                raise self._error(f"lexeme '{name}' can match the empty string, which no lexer can emit", name)

    def _reachable(self) -> set[str]:
        by_lhs: dict[str, list[Rule]] = {}
        for rule in self.rules:
            by_lhs.setdefault(rule.lhs, []).append(rule)
        seen = {self.start}
        todo = [self.start]
        while todo:
            for rule in by_lhs.get(todo.pop(), ()):
                for sym in rule.rhs:
                    if sym not in seen:
                        seen.add(sym)
                        if sym in by_lhs:
                            todo.append(sym)
        return seen

    def productive(self) -> frozenset[str]:
        """Nonterminals that derive at least one string of lexemes (fixpoint)."""
        return productive_nonterminals(self.rules, self.lexemes)

    def validate(self) -> "Grammar":
        """Check the grammar and return it trimmed to the symbols reachable from ``start``.

        Raises ``GrammarError`` (naming the symbol, and its line and column when known) for an undefined
        start or symbol, a name defined both as rule and lexeme, a lexeme with an invalid pattern or one
        that matches the empty string, a reachable nonterminal that derives no string, or an empty language.
        """
        self._check_symbols()
        productive = self.productive()
        if self.start not in productive:
            raise self._error(f"the grammar's language is empty: start rule '{self.start}' derives no sentence", self.start)
        reachable = self._reachable()
        for rule in self.rules:
            if rule.lhs in reachable and rule.lhs not in productive:
                raise self._error(f"rule '{rule.lhs}' is unproductive: it derives no string of terminals", rule.lhs)
        used_lexemes = {s for s in reachable if s in self.lexemes} | set(self.ignore)
        self._check_lexemes(used_lexemes)
        rules = tuple(dict.fromkeys(r for r in self.rules if r.lhs in reachable))
        lexemes = {n: lx for n, lx in self.lexemes.items() if n in used_lexemes}
        origins = {n: o for n, o in self.origins.items() if n in reachable or n in used_lexemes}
        return Grammar(self.start, rules, lexemes, self.ignore, origins)
