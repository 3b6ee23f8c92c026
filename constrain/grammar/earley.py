"""An incremental Earley recognizer over terminal names, with persistent states for rollback and branching.

The recognizer handles every context-free grammar: ambiguous, left- and right-recursive, with epsilon rules
(nullable nonterminals are handled the Aycock–Horspool way: predicting a nullable nonterminal also moves the
predicting item past it, so completions of empty derivations never need to look back into the set being
built). It consumes terminal *names*; turning text into terminals is the lexer's job.

Representation. An Earley set is an immutable, interned node. Each item is ``(dotted_rule, origin)`` where
``origin`` is the node where the item started (not a position number). Items predicted in the node itself
("local" items) depend only on which nonterminals were predicted there, so they are computed once per
distinct prediction set and shared by every node with that set. A node's future depends only on its own
items and on the nodes its items point back to, which are themselves immutable. Hence nodes with the same
content (items with a symbol after the dot, origins compared by identity, the accept flag) are
interchangeable, are interned, and their transitions are cached: re-entering an identical situation (for
example the next element of a left-recursive list, whose items point back to the same node as the previous
element did) costs one dictionary lookup. Every node is viable: the grammar is trimmed and every symbol is
productive, so each item can still be completed into a sentence.

``ParseState`` wraps a node with its predecessor and depth; states are never mutated, so keeping an old
state is a rollback and advancing one state twice gives two independent branches.
"""
from __future__ import annotations

from collections.abc import Iterable

from constrain.errors import LimitExceeded
from constrain.grammar.ir import Grammar

__all__ = ["EarleyParser", "ParseState"]

_AUGMENTED_START = "<start>"


class _Local:
    """The items predicted in a node, as a function of the set of predicted nonterminals."""

    __slots__ = ("items", "waiting", "terminals", "accepting")

    def __init__(self, items: frozenset[int], waiting: dict[int, tuple[int, ...]], terminals: frozenset[int],
                 accepting: bool) -> None:
        self.items = items
        self.waiting = waiting
        self.terminals = terminals
        self.accepting = accepting


class _Node:
    """One Earley set. ``pairs`` maps a symbol to the non-local items waiting on it (item, origin node)."""

    __slots__ = ("local", "pairs", "accepting", "size", "_advanced", "_allowed", "__weakref__")

    def __init__(self, local: _Local, pairs: dict[int, list[tuple[int, "_Node"]]], accepting: bool,
                 size: int) -> None:
        self.local = local
        self.pairs = pairs
        self.accepting = accepting
        self.size = size
        self._advanced: dict[int, tuple[tuple[int, "_Node"], ...]] = {}
        self._allowed: frozenset[str] | None = None

    def advanced(self, sym: int) -> tuple[tuple[int, "_Node"], ...]:
        """The items of this node waiting on ``sym``, with the dot moved past it (cached)."""
        got = self._advanced.get(sym)
        if got is None:
            got = tuple((it + 1, org) for it, org in self.pairs.get(sym, ()))
            got += tuple((it + 1, self) for it in self.local.waiting.get(sym, ()))
            self._advanced[sym] = got
        return got


class EarleyParser:
    """Precomputed tables for one grammar; ``initial()`` gives the state before any terminal.

    ``max_items_per_set`` bounds the items of one Earley set and ``max_total_items`` the items of all sets
    along one parse (from the initial state to a state); exceeding either raises ``LimitExceeded``.
    ``cache_items`` bounds the items kept in the shared set/transition cache, which is emptied when full.
    """

    def __init__(self, grammar: Grammar, *, max_items_per_set: int = 100_000, max_total_items: int = 20_000_000,
                 cache_items: int = 2_000_000) -> None:
        self.grammar = grammar.validate()
        self.max_items_per_set = max_items_per_set
        self.max_total_items = max_total_items
        self.cache_items = cache_items
        self._build_tables()
        self._locals: dict[frozenset[int], _Local] = {}
        self._intern: dict[tuple, _Node] = {}
        self._transitions: dict[tuple[_Node, int], _Node | None] = {}
        self._cached_items = 0
        self._root = self._make_root()
        self._initial = ParseState(self, self._root, 0, None, self._root.size)

    # ---------------------------------------------------------------- tables
    def _build_tables(self) -> None:
        g = self.grammar
        nonterminals = [g.start] + sorted(g.nonterminals - {g.start}) + [_AUGMENTED_START]
        used = g.terminals
        terminals = sorted(used | set(g.ignore))
        self._n_nt = len(nonterminals)
        self._names = nonterminals + terminals
        self._ids = {name: i for i, name in enumerate(self._names)}
        self._terminal_ids = {t: self._ids[t] for t in terminals}
        self.ignore = frozenset(g.ignore)
        self._pure_ignore = frozenset(t for t in g.ignore if t not in used)
        self._ignore_in_rules = frozenset(self._ids[t] for t in g.ignore if t in used)
        rules = [(_AUGMENTED_START, (g.start,))] + [(r.lhs, r.rhs) for r in g.rules]
        next_sym: list[int] = []
        lhs_of: list[int] = []
        starts: dict[int, list[int]] = {}
        for lhs, rhs in rules:
            lhs_id = self._ids[lhs]
            starts.setdefault(lhs_id, []).append(len(next_sym))
            for sym in rhs:
                next_sym.append(self._ids[sym])
                lhs_of.append(lhs_id)
            next_sym.append(-1)
            lhs_of.append(lhs_id)
        self._next_sym = next_sym
        self._lhs = lhs_of
        self._starts = starts
        self._final_item = 1  # <start> -> start .
        self._start_id = self._ids[_AUGMENTED_START]
        self._nullable = self._compute_nullable(rules)
        self._predicts = {nt: self._compute_predicts(nt) for nt in range(self._n_nt)}

    def _compute_nullable(self, rules: list[tuple[str, tuple[str, ...]]]) -> list[bool]:
        nullable = [False] * len(self._names)
        changed = True
        while changed:
            changed = False
            for lhs, rhs in rules:
                i = self._ids[lhs]
                if not nullable[i] and all(nullable[self._ids[s]] for s in rhs):
                    nullable[i] = changed = True
        return nullable

    def _local_items(self, predicted: Iterable[int]) -> set[int]:
        """Start items of the predicted nonterminals, closed under moving the dot past nullable symbols."""
        items: set[int] = set()
        todo = [it for nt in predicted for it in self._starts[nt]]
        while todo:
            it = todo.pop()
            if it in items:
                continue
            items.add(it)
            s = self._next_sym[it]
            if s >= 0 and self._nullable[s]:
                todo.append(it + 1)
        return items

    def _compute_predicts(self, nt: int) -> frozenset[int]:
        predicted = {nt}
        todo = [nt]
        while todo:
            for it in self._local_items([todo.pop()]):
                s = self._next_sym[it]
                if 0 <= s < self._n_nt and s not in predicted:
                    predicted.add(s)
                    todo.append(s)
        return frozenset(predicted)

    def _local(self, predicted: frozenset[int]) -> _Local:
        local = self._locals.get(predicted)
        if local is None:
            items = self._local_items(predicted)
            waiting: dict[int, list[int]] = {}
            for it in items:
                s = self._next_sym[it]
                if s >= 0:
                    waiting.setdefault(s, []).append(it)
            terminals = frozenset(s for s in waiting if s >= self._n_nt)
            local = _Local(frozenset(items), {s: tuple(v) for s, v in waiting.items()}, terminals,
                           self._final_item in items)
            self._locals[predicted] = local
        return local

    def _make_root(self) -> _Node:
        local = self._local(self._predicts[self._start_id])
        return _Node(local, {}, local.accepting, len(local.items))

    # ---------------------------------------------------------------- stepping
    def _closure(self, start_pairs: Iterable[tuple[int, _Node]], accepting: bool) -> _Node:
        """Build the Earley set seeded by ``start_pairs`` (predict and complete to a fixpoint)."""
        next_sym = self._next_sym
        lhs = self._lhs
        nullable = self._nullable
        n_nt = self._n_nt
        predicts = self._predicts
        final_item = self._final_item
        limit = self.max_items_per_set
        seen: set[tuple[int, _Node]] = set()
        pairs: dict[int, list[tuple[int, _Node]]] = {}
        predicted: frozenset[int] = frozenset()
        stack = list(start_pairs)
        while stack:
            pair = stack.pop()
            if pair in seen:
                continue
            seen.add(pair)
            it, org = pair
            s = next_sym[it]
            if s < 0:
                if it == final_item:
                    accepting = True
                else:
                    stack.extend(org.advanced(lhs[it]))
            else:
                bucket = pairs.get(s)
                if bucket is None:
                    pairs[s] = [pair]
                else:
                    bucket.append(pair)
                if s < n_nt:
                    if s not in predicted:
                        predicted = predicted | predicts[s]
                    if nullable[s]:
                        stack.append((it + 1, org))
            if len(seen) > limit:
                raise LimitExceeded("Earley items per set", limit,
                                    "the grammar is highly ambiguous here; raise max_items_per_set or simplify it")
        local = self._local(predicted)
        size = len(seen) + len(local.items)
        if size > limit:
            raise LimitExceeded("Earley items per set", limit,
                                "the grammar is highly ambiguous here; raise max_items_per_set or simplify it")
        key = (id(local), frozenset(p for bucket in pairs.values() for p in bucket), accepting)
        node = self._intern.get(key)
        if node is None:
            if self._cached_items + size > self.cache_items:
                self._intern.clear()
                self._transitions.clear()
                self._cached_items = 0
            node = _Node(local, pairs, accepting, size)
            self._intern[key] = node
            self._cached_items += size
        return node

    def _step(self, node: _Node, tid: int) -> _Node | None:
        key = (node, tid)
        if key in self._transitions:
            return self._transitions[key]
        seeds = node.advanced(tid)
        accepting = False
        if tid in self._ignore_in_rules:
            seeds = seeds + tuple(p for bucket in node.pairs.values() for p in bucket)
            seeds = seeds + tuple((it, node) for it in node.local.items if self._next_sym[it] >= 0)
            accepting = node.accepting
        result = self._closure(seeds, accepting) if seeds or accepting else None
        self._transitions[key] = result
        return result

    # ---------------------------------------------------------------- public
    def initial(self) -> "ParseState":
        """The state before any terminal has been consumed."""
        return self._initial

    def terminal_names(self) -> frozenset[str]:
        """Every terminal the parser knows (grammar terminals and ignored lexemes)."""
        return frozenset(self._terminal_ids)

    def accepts(self, terminals: Iterable[str]) -> bool:
        """Whether the sequence of terminal names is a sentence of the grammar."""
        state: ParseState | None = self._initial
        for t in terminals:
            state = state.advance(t)
            if state is None:
                return False
        return state.is_accepting()

    def _allowed(self, node: _Node) -> frozenset[str]:
        got = node._allowed
        if got is None:
            names = self._names
            ids = set(node.local.terminals)
            ids.update(s for s in node.pairs if s >= self._n_nt)
            got = frozenset(names[s] for s in ids) | self.ignore
            node._allowed = got
        return got


class ParseState:
    """An immutable parser state: the terminals consumed so far, as an Earley set plus its predecessor.

    ``depth`` counts the grammar terminals consumed (ignored lexemes that the rules never use do not count).
    ``previous`` is the state before the last terminal (``None`` for the initial state).
    """

    __slots__ = ("parser", "_node", "depth", "previous", "total_items")

    def __init__(self, parser: EarleyParser, node: _Node, depth: int, previous: "ParseState | None",
                 total_items: int) -> None:
        self.parser = parser
        self._node = node
        self.depth = depth
        self.previous = previous
        self.total_items = total_items

    def allowed_terminals(self) -> frozenset[str]:
        """Terminal names that can come next (including ignored lexemes, allowed everywhere); cached."""
        return self.parser._allowed(self._node)

    def advance(self, terminal: str) -> "ParseState | None":
        """The state after ``terminal``, or ``None`` when no sentence continues this way.

        An ignored lexeme that no rule uses returns this same state. Raises ``KeyError`` for a name the
        grammar does not define and ``LimitExceeded`` when a limit is reached.
        """
        parser = self.parser
        tid = parser._terminal_ids.get(terminal)
        if tid is None:
            raise KeyError(f"unknown terminal {terminal!r}")
        if terminal in parser._pure_ignore:
            return self
        node = parser._step(self._node, tid)
        if node is None:
            return None
        total = self.total_items + node.size
        if total > parser.max_total_items:
            raise LimitExceeded("Earley items in one parse", parser.max_total_items,
                                "the input is too long or too ambiguous; raise max_total_items")
        return ParseState(parser, node, self.depth + 1, self, total)

    def is_accepting(self) -> bool:
        """Whether the terminals consumed so far form a complete sentence."""
        return self._node.accepting

    def same_future(self, other: "ParseState") -> bool:
        """Whether both states accept exactly the same continuations (a sound, cheap test: same interned set)."""
        return self._node is other._node
