"""Python regular expressions compiled to lazy byte-level DFAs."""
from __future__ import annotations

from .dfa import DEAD, DEFAULT_MAX_STATES, LazyDFA
from .ir import Alt, Bytes, Chars, Concat, Empty, Node, Repeat, literal
from .nfa import build_nfa
from .parse import parse_regex


def compile_dfa(pattern: str, flags: int = 0, max_states: int = DEFAULT_MAX_STATES) -> LazyDFA:
    """A lazy DFA for ``pattern`` with ``re.fullmatch`` semantics."""
    return LazyDFA(build_nfa([parse_regex(pattern, flags)]), max_states=max_states)


__all__ = [
    "DEAD", "DEFAULT_MAX_STATES", "LazyDFA", "Alt", "Bytes", "Chars", "Concat", "Empty", "Node", "Repeat",
    "literal", "build_nfa", "parse_regex", "compile_dfa",
]
