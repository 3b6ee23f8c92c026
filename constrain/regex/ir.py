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


def literal(text: str) -> Node:
    """A node matching exactly ``text``."""
    return Bytes(text.encode("utf-8"))
