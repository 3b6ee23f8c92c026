"""Regular-expression syntax trees over Unicode code points, independent of any parser."""
from __future__ import annotations

from dataclasses import dataclass

from .charset import Ranges


class Node:
    """Base of regex syntax-tree nodes (immutable, hashable)."""


@dataclass(frozen=True)
class Empty(Node):
    """The empty string."""


@dataclass(frozen=True)
class Chars(Node):
    """One code point from ``ranges`` (an empty set matches nothing)."""

    ranges: Ranges


@dataclass(frozen=True)
class Bytes(Node):
    """A fixed byte string (used for literals given as bytes, e.g. grammar literals)."""

    data: bytes


@dataclass(frozen=True)
class Concat(Node):
    """The items one after another."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt(Node):
    """Any one of the items."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Repeat(Node):
    """``item`` repeated ``min`` to ``max`` times (``max=None``: unbounded)."""

    item: Node
    min: int
    max: int | None


@dataclass(frozen=True)
class ByteDFA(Node):
    """A deterministic automaton over bytes, kept as a regex-tree leaf.

    States are ``0..num_states-1``, ``start`` is 0; ``moves`` holds ``(src, lo, hi, dst)`` byte-range
    transitions and ``accept`` the accepting states. Every state can reach an accepting one.
    """

    num_states: int
    moves: tuple[tuple[int, int, int, int], ...]
    accept: frozenset[int]


@dataclass(frozen=True)
class NodeGraph(Node):
    """An automaton whose edges are labelled by regex trees (``None``: an empty move).

    States are ``0..num_states-1`` with start 0; ``edges`` holds ``(src, label, dst)``. This states
    counting and bookkeeping structures (which optional members were written, how many items
    matched) without the exponential tree a plain regex would need.
    """

    num_states: int
    edges: tuple[tuple[int, Node | None, int], ...]
    accept: frozenset[int]


@dataclass(frozen=True)
class RuleRef(Node):
    """A nonterminal inside a regex tree: the language of grammar rule ``name``.

    The JSON Schema compiler emits it where a value needs a grammar (any JSON value, a recursive
    ``$ref``). A tree holding one is not regular: automaton builders refuse it.
    """

    name: str


def literal(text: str) -> Node:
    """A node matching exactly ``text``."""
    return Bytes(text.encode("utf-8"))
