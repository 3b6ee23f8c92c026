"""The regex IR as the versioned byte string the native core decodes (``crates/constrain-core/src/wire.rs``).

Nodes are written once each (shared subtrees by identity, equal character classes by value) in an
order where every node follows its children, so the core decodes a DAG in one checked pass.
"""
from __future__ import annotations

import struct
from typing import Sequence

from ..errors import ConstrainError
from .charset import without_surrogates
from .ir import Alt, ByteDFA, Bytes, Chars, Concat, Empty, Node, NodeGraph, Repeat, RuleRef

MAGIC = b"CNIR"
VERSION = 1
_NONE = 0xFFFFFFFF


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Concat, Alt)):
        return node.items
    if isinstance(node, Repeat):
        return (node.item,)
    if isinstance(node, NodeGraph):
        return tuple(label for _a, label, _b in node.edges if label is not None)
    return ()


def encode(roots: Sequence[Node]) -> bytes:
    """The IR of ``roots`` (pattern ``i`` is ``roots[i]``); raises for trees that are not regular."""
    ids: dict[int, int] = {}
    chars: dict[tuple[tuple[int, int], ...], int] = {}
    keep: list[Node] = []
    out = bytearray(MAGIC)
    body = bytearray()
    count = 0

    def emit(node: Node) -> int:
        nonlocal count, body
        if isinstance(node, Empty):
            body.append(0)
        elif isinstance(node, Bytes):
            body += struct.pack("<BI", 1, len(node.data)) + node.data
        elif isinstance(node, Chars):
            ranges = without_surrogates(node.ranges)
            found = chars.get(ranges)
            if found is not None:
                return found
            body += struct.pack("<BI", 2, len(ranges))
            for lo, hi in ranges:
                body += struct.pack("<II", lo, hi)
            chars[ranges] = count
        elif isinstance(node, (Concat, Alt)):
            body += struct.pack("<BI", 3 if isinstance(node, Concat) else 4, len(node.items))
            body += struct.pack(f"<{len(node.items)}I", *(ids[id(i)] for i in node.items))
        elif isinstance(node, Repeat):
            body += struct.pack("<BIII", 5, ids[id(node.item)], node.min, _NONE if node.max is None else node.max)
        elif isinstance(node, ByteDFA):
            body += struct.pack("<BII", 6, node.num_states, len(node.moves))
            for a, lo, hi, b in node.moves:
                body += struct.pack("<IBBI", a, lo, hi, b)
            body += struct.pack(f"<I{len(node.accept)}I", len(node.accept), *sorted(node.accept))
        elif isinstance(node, NodeGraph):
            body += struct.pack("<BII", 7, node.num_states, len(node.edges))
            for a, label, b in node.edges:
                body += struct.pack("<III", a, _NONE if label is None else ids[id(label)], b)
            body += struct.pack(f"<I{len(node.accept)}I", len(node.accept), *sorted(node.accept))
        elif isinstance(node, RuleRef):
            raise ConstrainError(f"rule reference {node.name!r} is not regular and has no automaton")
        else:
            raise TypeError(f"unknown regex node {node!r}")
        count += 1
        return count - 1

    for root in roots:
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in ids:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in _children(node) if id(child) not in ids)
                continue
            ids[id(node)] = emit(node)
            keep.append(node)
    out += struct.pack("<II", VERSION, count) + body
    out += struct.pack(f"<I{len(roots)}I", len(roots), *(ids[id(r)] for r in roots))
    return bytes(out)
