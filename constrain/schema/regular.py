"""Boolean operations on regular languages that plain regex trees cannot state.

JSON Schema keeps asking for intersections (``pattern`` together with ``maxLength``, two
``pattern`` s under ``allOf``, ``propertyNames`` on extra keys) and differences (keys that match
no ``patternProperties`` regex, ``not``). Regex trees have no such operators, so these are
computed on automata: the operands are determinized (bounded by a state budget), combined by a
product construction, and the result is kept as a :class:`ByteDFA` node. ``build_nfa`` turns a
tree that may contain such nodes into the NFA that :class:`~constrain.regex.LazyDFA` consumes.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._engine import native_module
from ..errors import LimitExceeded, UnsupportedSchema
from ..regex.dfa import DEAD, LazyDFA
from ..regex.ir import Alt, ByteDFA, Chars, Concat, Empty, Node, NodeGraph, Repeat, RuleRef
from ..regex.nfa import DEFAULT_MAX_NFA_STATES, NFA, _fragment
from ..regex.wire import encode as encode_ir

DEFAULT_OP_STATES = 20_000
"""Default bound on the states of one determinized operand or product."""


class NeedsGrammar(UnsupportedSchema):
    """An automaton operation (intersection, difference, determinization) met a :class:`RuleRef`."""

    def __init__(self, pointer: str = "", keyword: str = "schema", reason: str = "") -> None:
        super().__init__(pointer, keyword, reason or "an operation on automata met a value that needs a grammar (any value or recursion)")


NOTHING = Chars(())
"""The empty language."""


def has_rule_ref(node: Node) -> bool:
    """Whether ``node`` holds a :class:`RuleRef` anywhere (it is then not a regular language)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, RuleRef):
            return True
        if isinstance(n, (Concat, Alt)):
            stack.extend(n.items)
        elif isinstance(n, Repeat):
            stack.append(n.item)
        elif isinstance(n, NodeGraph):
            stack.extend(label for _a, label, _b in n.edges if label is not None)
    return False


def map_rule_refs(node: Node, fn: "Callable[[RuleRef], Node]") -> Node:
    """``node`` with every :class:`RuleRef` replaced by ``fn(ref)`` (shared subtrees rebuilt once)."""
    memo: dict[int, Node] = {}

    def go(n: Node) -> Node:
        got = memo.get(id(n))
        if got is not None:
            return got
        if isinstance(n, RuleRef):
            out = fn(n)
        elif isinstance(n, Concat):
            out = Concat(tuple(go(i) for i in n.items))
        elif isinstance(n, Alt):
            out = Alt(tuple(go(i) for i in n.items))
        elif isinstance(n, Repeat):
            out = Repeat(go(n.item), n.min, n.max)
        elif isinstance(n, NodeGraph):
            out = NodeGraph(n.num_states, tuple((a, None if l is None else go(l), b) for a, l, b in n.edges), n.accept)
        else:
            out = n
        memo[id(n)] = out
        return out

    return go(node) if has_rule_ref(node) else node


def _has_dfa(node: Node) -> bool:
    if isinstance(node, (ByteDFA, NodeGraph, RuleRef)):
        return True
    if isinstance(node, (Concat, Alt)):
        return any(_has_dfa(i) for i in node.items)
    if isinstance(node, Repeat):
        return _has_dfa(node.item)
    return False


def _frag(nfa: NFA, node: Node, s: int) -> int:
    """Like the core fragment builder, but also lowers :class:`ByteDFA` leaves."""
    if not _has_dfa(node):
        return _fragment(nfa, node, s)
    if isinstance(node, RuleRef):
        raise NeedsGrammar()
    if isinstance(node, ByteDFA):
        e = nfa.new_state()
        local = [nfa.new_state() for _ in range(node.num_states)]
        nfa.eps[s].append(local[0])
        for a, lo, hi, b in node.moves:
            nfa.edges[local[a]].append((lo, hi, local[b]))
        for q in node.accept:
            nfa.eps[local[q]].append(e)
        return e
    if isinstance(node, NodeGraph):
        e = nfa.new_state()
        local = [nfa.new_state() for _ in range(node.num_states)]
        nfa.eps[s].append(local[0])
        for a, label, b in node.edges:
            if label is None:
                nfa.eps[local[a]].append(local[b])
            else:
                mid = nfa.new_state()
                nfa.eps[local[a]].append(mid)
                nfa.eps[_frag(nfa, label, mid)].append(local[b])
        for q in node.accept:
            nfa.eps[local[q]].append(e)
        return e
    if isinstance(node, Concat):
        for item in node.items:
            s = _frag(nfa, item, s)
        return s
    if isinstance(node, Alt):
        e = nfa.new_state()
        for item in node.items:
            b = nfa.new_state()
            nfa.eps[s].append(b)
            nfa.eps[_frag(nfa, item, b)].append(e)
        return e
    assert isinstance(node, Repeat)
    for _ in range(node.min):
        s = _frag(nfa, node.item, s)
    e = nfa.new_state()
    if node.max is None:
        loop = nfa.new_state()
        nfa.eps[s].append(loop)
        nfa.eps[_frag(nfa, node.item, loop)].append(loop)
        nfa.eps[loop].append(e)
        return e
    for _ in range(node.max - node.min):
        nfa.eps[s].append(e)
        s = _frag(nfa, node.item, s)
    nfa.eps[s].append(e)
    return e


def build_nfa(node: Node) -> NFA:
    """An NFA for ``node`` (a regex tree that may contain :class:`ByteDFA` leaves)."""
    nfa = NFA()
    nfa.start = nfa.new_state()
    s = nfa.new_state()
    nfa.eps[nfa.start].append(s)
    nfa.accept[_frag(nfa, node, s)] = 0
    return nfa


def build_tagged_nfa(patterns: list[Node]) -> NFA:
    """One NFA for several trees (which may hold automaton leaves); pattern ``i`` ends in a state tagged ``i``."""
    nfa = NFA()
    nfa.start = nfa.new_state()
    for tag, node in enumerate(patterns):
        nfa._tag = tag
        s = nfa.new_state()
        nfa.eps[nfa.start].append(s)
        nfa.accept[_frag(nfa, node, s)] = tag
    return nfa


def lazy_dfa(node: Node, max_states: int) -> LazyDFA:
    """A lazy DFA for ``node``."""
    return LazyDFA(build_nfa(node), max_states=max_states)


def _explored(node: Node, max_states: int) -> tuple[LazyDFA, np.ndarray]:
    """A fully expanded DFA for ``node`` and its per-byte transition table (states x 256)."""
    dfa = lazy_dfa(node, max_states)
    dfa.explore()
    table = dfa.table[: dfa.num_states][:, dfa.byte_class]
    return dfa, table


def _product(nodes: list[Node], negate: list[bool], max_states: int) -> Node:
    """The language of strings accepted by every ``nodes[i]`` (rejected where ``negate[i]``)."""
    native = native_module()
    if native is not None:
        if any(has_rule_ref(n) for n in nodes):
            raise NeedsGrammar()
        found = native.product([encode_ir([n]) for n in nodes], negate, max_states, DEFAULT_MAX_NFA_STATES)
        if found is None:
            return NOTHING
        count, moves, accepting = found
        return ByteDFA(count, tuple(moves), frozenset(accepting))
    parts = [_explored(n, max_states) for n in nodes]
    start = tuple(d.start for d, _ in parts)
    index = {start: 0}
    order = [start]
    moves: list[tuple[int, int, int, int]] = []
    i = 0
    while i < len(order):
        tup = order[i]
        rows = [table[q] for q, (_d, table) in zip(tup, parts)]
        alive = np.ones(256, dtype=bool)
        for row, neg in zip(rows, negate):
            if not neg:
                alive &= row != DEAD
        targets: dict[tuple[int, ...], list[int]] = {}
        for b in np.flatnonzero(alive).tolist():
            targets.setdefault(tuple(int(r[b]) for r in rows), []).append(b)
        for tgt, bs in targets.items():
            j = index.get(tgt)
            if j is None:
                if len(order) >= max_states:
                    raise LimitExceeded("product automaton states", max_states)
                j = index[tgt] = len(order)
                order.append(tgt)
            lo = prev = bs[0]
            for b in bs[1:] + [-2]:
                if b != prev + 1:
                    moves.append((i, lo, prev, j))
                    lo = b
                prev = b
        i += 1
    accepting = {
        k
        for k, tup in enumerate(order)
        if all(bool(d.accepting[q]) != neg for q, (d, _t), neg in zip(tup, parts, negate))
    }
    return _trim(len(order), moves, accepting)


def _trim(n: int, moves: list[tuple[int, int, int, int]], accepting: set[int]) -> Node:
    """Drop states that cannot reach acceptance; renumber so the start stays 0."""
    rev: list[list[int]] = [[] for _ in range(n)]
    for a, _lo, _hi, b in moves:
        rev[b].append(a)
    live = set(accepting)
    stack = list(live)
    while stack:
        q = stack.pop()
        for p in rev[q]:
            if p not in live:
                live.add(p)
                stack.append(p)
    if 0 not in live:
        return NOTHING
    keep = sorted(live)
    new = {q: k for k, q in enumerate(keep)}
    kept = tuple((new[a], lo, hi, new[b]) for a, lo, hi, b in moves if a in live and b in live)
    return ByteDFA(len(keep), kept, frozenset(new[q] for q in accepting))


def intersect(nodes: list[Node], max_states: int = DEFAULT_OP_STATES) -> Node:
    """A node for the intersection of the languages of ``nodes``."""
    if len(nodes) == 1:
        return nodes[0]
    return _product(nodes, [False] * len(nodes), max_states)


def difference(left: Node, right: Node, max_states: int = DEFAULT_OP_STATES) -> Node:
    """A node for strings of ``left`` that are not strings of ``right``."""
    return _product([left, right], [False, True], max_states)


def is_empty(node: Node) -> bool:
    """Whether ``node`` denotes the empty language."""
    if isinstance(node, ByteDFA):
        return False
    # A rule's language is taken to be non-empty: pruning on it stays exact (an empty rule only leaves
    # edges nothing can cross), and the grammar conversion drops unproductive rules.
    node = map_rule_refs(node, lambda _ref: Empty())
    native = native_module()
    if native is not None:
        return bool(native.is_empty(encode_ir([node]), DEFAULT_MAX_NFA_STATES))
    dfa = lazy_dfa(node, 10)
    return dfa.start == DEAD


def disjoint(a: Node, b: Node, max_states: int = DEFAULT_OP_STATES) -> bool:
    """Whether no string belongs to both languages (raises ``LimitExceeded`` past the budget)."""
    return is_empty(intersect([a, b], max_states))


__all__ = ["ByteDFA", "NodeGraph", "RuleRef", "NeedsGrammar", "NOTHING", "build_nfa", "build_tagged_nfa", "has_rule_ref", "map_rule_refs", "lazy_dfa", "intersect", "difference", "disjoint", "is_empty"]
