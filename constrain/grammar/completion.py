"""Cheapest completions of a parse: the terminal sequence that finishes a sentence at the least cost.

Each terminal has a cost (the matcher uses the byte length of its shortest lexeme) and a nonterminal
costs its cheapest derivation. For an Earley node, ``after[A]`` is the cheapest way to finish the
sentence once a nonterminal ``A`` has been completed from that node: an item waiting on ``A`` moves
past it, pays for the rest of its rule, and continues at its own origin. Items with older origins
read the origin's table; items predicted in the node itself form a small graph over nonterminals,
solved by one shortest-path pass. Nodes are immutable and point only to older nodes, so each node's
table is computed once (kept while the node lives) and the cost of a whole parse grows with the
nodes it visits, never with the length of the text.
"""
from __future__ import annotations

import heapq
import weakref
from collections.abc import Mapping

from .earley import EarleyParser, ParseState, _Local, _Node

__all__ = ["Completions", "INFINITE"]

INFINITE = 1 << 60

_Entry = tuple[int, int, "_Node | None"]
"""(cost, item whose dot moves past the nonterminal, that item's origin)."""


class Completions:
    """Cheapest sentence completions of one parser, for fixed terminal costs (``INFINITE``: unusable)."""

    def __init__(self, parser: EarleyParser, terminal_cost: Mapping[str, int]) -> None:
        self.parser = parser
        p = parser
        self._n_nt = p._n_nt
        self._next_sym = p._next_sym
        self._lhs = p._lhs
        self._start = p._start_id
        cost = [INFINITE] * len(p._names)
        for name, tid in p._terminal_ids.items():
            cost[tid] = terminal_cost.get(name, INFINITE)
        self._rule_of: dict[int, int] = {}
        self._solve_nonterminals(cost)
        self._cost = cost
        self._rest = self._rest_costs()
        self._yields: dict[int, tuple[int, ...]] = {}
        self._edges: dict[int, tuple[_Local, dict[int, list[tuple[int, int]]]]] = {}
        self._tables: "weakref.WeakKeyDictionary[_Node, dict[int, _Entry]]" = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------------ grammar-level costs
    def _solve_nonterminals(self, cost: list[int]) -> None:
        """Cheapest derivation cost of every nonterminal (Bellman-Ford; a rule is kept only if strictly better)."""
        starts = self.parser._starts
        nxt = self._next_sym
        changed = True
        while changed:
            changed = False
            for nt, items in starts.items():
                for first in items:
                    total, it = 0, first
                    while nxt[it] >= 0 and total < INFINITE:
                        total += cost[nxt[it]]
                        it += 1
                    if total < cost[nt]:
                        cost[nt] = total
                        self._rule_of[nt] = first
                        changed = True

    def _rest_costs(self) -> list[int]:
        """For every item, the cost of the symbols from its dot to the end of its rule."""
        nxt = self._next_sym
        rest = [0] * len(nxt)
        for it in range(len(nxt) - 1, -1, -1):
            s = nxt[it]
            rest[it] = 0 if s < 0 else min(INFINITE, self._cost[s] + rest[it + 1])
        return rest

    def nonterminal_cost(self, name: str) -> int:
        """The cost of the cheapest derivation of ``name`` (``INFINITE`` if none uses only usable terminals)."""
        return self._cost[self.parser._ids[name]]

    def _yield(self, sym: int) -> tuple[int, ...]:
        """The terminal ids of the cheapest derivation of ``sym``."""
        if sym >= self._n_nt:
            return (sym,)
        found = self._yields.get(sym)
        if found is None:
            out: list[int] = []
            stack = [sym]
            while stack:
                s = stack.pop()
                if s >= self._n_nt:
                    out.append(s)
                    continue
                known = self._yields.get(s)
                if known is not None:
                    out.extend(known)
                    continue
                it = self._rule_of[s]
                rhs = []
                while self._next_sym[it] >= 0:
                    rhs.append(self._next_sym[it])
                    it += 1
                stack.extend(reversed(rhs))
            found = self._yields[sym] = tuple(out)
        return found

    def _rule_rest(self, it: int) -> list[int]:
        """Terminals of the cheapest way to derive the symbols from item ``it``'s dot to the end of its rule."""
        out: list[int] = []
        while self._next_sym[it] >= 0:
            out.extend(self._yield(self._next_sym[it]))
            it += 1
        return out

    # ------------------------------------------------------------------ per-node tables
    def _local_edges(self, local: _Local) -> dict[int, list[tuple[int, int]]]:
        """For a node's local items: completing ``lhs`` moves items waiting on ``B``; by lhs, ``(item, B)``."""
        got = self._edges.get(id(local))
        if got is None:
            edges: dict[int, list[tuple[int, int]]] = {}
            for b, items in local.waiting.items():
                if b < self._n_nt:
                    for it in items:
                        edges.setdefault(self._lhs[it], []).append((it, b))
            got = (local, edges)
            self._edges[id(local)] = got
        return got[1]

    def _after(self, org: "_Node | None", lhs: int) -> int:
        """Cost to finish the sentence once ``lhs`` is completed from ``org``."""
        if lhs == self._start:
            return 0
        entry = self._tables[org].get(lhs) if org is not None else None
        return INFINITE if entry is None else entry[0]

    def table(self, node: _Node) -> dict[int, _Entry]:
        """``after`` for ``node``: nonterminal -> (cost, item, origin); computed for older nodes first."""
        found = self._tables.get(node)
        if found is not None:
            return found
        stack: list[tuple[_Node, bool]] = [(node, False)]
        while stack:
            n, ready = stack.pop()
            if n in self._tables:
                continue
            if ready:
                self._tables[n] = self._compute(n)
                continue
            stack.append((n, True))
            for bucket in n.pairs.values():
                for _it, org in bucket:
                    if org not in self._tables:
                        stack.append((org, False))
        return self._tables[node]

    def _compute(self, node: _Node) -> dict[int, _Entry]:
        rest, lhs_of, n_nt = self._rest, self._lhs, self._n_nt
        best: dict[int, _Entry] = {}

        def offer(sym: int, cost: int, it: int, org: "_Node | None") -> bool:
            old = best.get(sym)
            if cost < INFINITE and (old is None or cost < old[0]):
                best[sym] = (cost, it, org)
                return True
            return False

        for sym, bucket in node.pairs.items():
            if sym < n_nt:
                for it, org in bucket:
                    offer(sym, min(INFINITE, rest[it + 1] + self._after(org, lhs_of[it])), it, org)
        edges = self._local_edges(node.local)
        for it, b in edges.get(self._start, ()):
            offer(b, rest[it + 1], it, node)
        heap = [(entry[0], sym) for sym, entry in best.items()]
        heapq.heapify(heap)
        done: set[int] = set()
        while heap:
            cost, sym = heapq.heappop(heap)
            if sym in done or cost != best[sym][0]:
                continue
            done.add(sym)
            for it, b in edges.get(sym, ()):
                if b not in done and offer(b, min(INFINITE, rest[it + 1] + cost), it, node):
                    heapq.heappush(heap, (best[b][0], b))
        return best

    # ------------------------------------------------------------------ public
    def cost(self, state: ParseState) -> int:
        """The cost of the cheapest completion of ``state`` (0 if it is already a sentence)."""
        return self._best_item(state._node)[0]

    def _best_item(self, node: _Node) -> tuple[int, int, "_Node | None"]:
        if node.accepting:
            return 0, -1, None
        table = self.table(node)
        rest, lhs_of = self._rest, self._lhs
        best: tuple[int, int, _Node | None] = (INFINITE, -1, None)
        for bucket in node.pairs.values():
            for it, org in bucket:
                c = rest[it] + self._after(org, lhs_of[it])
                if c < best[0]:
                    best = (c, it, org)
        for items in node.local.waiting.values():
            for it in items:
                lhs = lhs_of[it]
                c = rest[it] + (0 if lhs == self._start else (table[lhs][0] if lhs in table else INFINITE))
                if c < best[0]:
                    best = (c, it, node)
        return best

    def terminals(self, state: ParseState) -> list[str] | None:
        """The terminal names of the cheapest completion of ``state`` (``None`` if it has none)."""
        cost, it, org = self._best_item(state._node)
        if cost >= INFINITE:
            return None
        out: list[int] = []
        while it >= 0:
            out.extend(self._rule_rest(it))
            lhs = self._lhs[it]
            if lhs == self._start or org is None:
                break
            _c, it, org = self._tables[org][lhs]
            it += 1
        names = self.parser._names
        return [names[t] for t in out]
