"""Regex trees with :class:`~.regular.RuleRef` leaves turned into a context-free grammar.

The compiler's output stays a regex tree; where a value needs a nonterminal (any JSON value, a
recursive ``$ref``) the tree holds a ``RuleRef`` whose definition is another such tree. The
conversion is language-exact:

* every maximal subtree without a ``RuleRef`` becomes one lexeme holding the tree itself (its
  automaton leaves included), so punctuation, keys and whole regular sub-values lex as one unit;
  a subtree that also matches the empty string becomes an optional lexeme of its non-empty part;
* concatenations become sequences, alternations and optional parts helper rules, unbounded
  repetitions left-recursive rules (which the Earley parser handles in constant space), bounded
  ones chains of optional copies;
* a :class:`~.regular.NodeGraph` becomes a left-linear rule per state.

Rules that derive nothing and lexemes with an empty language are removed, so every parser state
can still be completed (the grammar masks rely on it).
"""
from __future__ import annotations

from typing import Any

from ..grammar.ir import Grammar, Lexeme, Rule, productive_nonterminals
from ..regex.ir import Alt, Bytes, Chars, Concat, Empty, Node, Repeat
from .json_syntax import NUMBER, alt, any_string, cat, lit, opt
from .regular import NOTHING, ByteDFA, NodeGraph, RuleRef, has_rule_ref, is_empty

VALUE = "json_value"
"""The rule name of 'any JSON value'."""


def json_value_rules(ws: Node, sep: Node, colon: Node, canonical: bool) -> dict[str, Node]:
    """The definition of any JSON value (unbounded nesting) with the given separators and string spellings."""
    value = RuleRef(VALUE)
    scalars = alt([lit("null"), lit("true"), lit("false"), NUMBER, any_string(canonical)])
    items = opt(cat(value, Repeat(cat(sep, value), 0, None)))
    member = cat(any_string(canonical), colon, value)
    members = opt(cat(member, Repeat(cat(sep, member), 0, None)))
    array = cat(lit("["), ws, items, ws, lit("]"))
    obj = cat(lit("{"), ws, members, ws, lit("}"))
    return {VALUE: alt([scalars, array, obj])}


# ----- nullability and the non-empty part of rule-free trees -------------------------------------
def nullable(node: Node, memo: dict[int, Any] | None = None) -> bool:
    """Whether a rule-free tree matches the empty string (``memo`` keeps the nodes it keys by id alive)."""
    memo = {} if memo is None else memo
    got = memo.get(id(node))
    if got is not None:
        return got[1]
    if isinstance(node, Empty):
        out = True
    elif isinstance(node, Bytes):
        out = not node.data
    elif isinstance(node, (Chars, RuleRef)):
        out = False
    elif isinstance(node, Concat):
        out = all(nullable(i, memo) for i in node.items)
    elif isinstance(node, Alt):
        out = any(nullable(i, memo) for i in node.items)
    elif isinstance(node, Repeat):
        out = node.min == 0 or nullable(node.item, memo)
    elif isinstance(node, ByteDFA):
        out = 0 in node.accept
    elif isinstance(node, NodeGraph):
        out = bool(_eps_closure(node, memo) & node.accept)
    else:
        raise TypeError(f"unknown node {node!r}")
    memo[id(node)] = (node, out)
    return out


def _eps_closure(g: NodeGraph, memo: dict[int, Any]) -> set[int]:
    seen = {0}
    stack = [0]
    while stack:
        q = stack.pop()
        for a, label, b in g.edges:
            if a == q and b not in seen and (label is None or nullable(label, memo)):
                seen.add(b)
                stack.append(b)
    return seen


def nonempty(node: Node, memo: dict[int, Any] | None = None) -> Node:
    """The language of a rule-free tree without the empty string."""
    memo = {} if memo is None else memo
    if not nullable(node, memo):
        return node
    if isinstance(node, (Empty, Bytes)):
        return NOTHING
    if isinstance(node, Concat):
        items = node.items
        return alt([cat(nonempty(items[i], memo), *items[i + 1 :]) for i in range(len(items))])
    if isinstance(node, Alt):
        return alt([nonempty(i, memo) for i in node.items])
    if isinstance(node, Repeat):
        if node.max == 0:
            return NOTHING
        return Repeat(nonempty(node.item, memo), 1, node.max)
    if isinstance(node, ByteDFA):
        n = node.num_states
        moves = [(a + 1, lo, hi, b + 1) for a, lo, hi, b in node.moves]
        moves += [(0, lo, hi, b + 1) for a, lo, hi, b in node.moves if a == 0]
        if not any(m[0] == 0 for m in moves):
            return NOTHING
        return ByteDFA(n + 1, tuple(moves), frozenset(q + 1 for q in node.accept))
    if isinstance(node, NodeGraph):
        n = node.num_states
        edges: list[tuple[int, Node | None, int]] = []
        for a, label, b in node.edges:
            if label is None:
                edges += [(a, None, b), (a + n, None, b + n)]
                continue
            edges.append((a + n, label, b + n))
            ne = nonempty(label, memo)
            if ne != NOTHING:
                edges.append((a, ne, b + n))
            if nullable(label, memo):
                edges.append((a, None, b))
        return NodeGraph(2 * n, tuple(edges), frozenset(q + n for q in node.accept))
    raise TypeError(f"unknown node {node!r}")


# ----- the conversion ----------------------------------------------------------------------------
class GrammarBuilder:
    """Collects rules and lexemes while converting trees; see the module docstring."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.lexemes: dict[str, Lexeme] = {}
        self._lexeme_of: dict[Node, str | None] = {}
        self._memo: dict[int, tuple[Node, tuple[str, ...] | None]] = {}
        self._nullable: dict[int, Any] = {}
        self._optional: dict[str, str] = {}
        self._count = 0

    def _fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _rule(self, lhs: str, rhs: tuple[str, ...]) -> None:
        self.rules.append(Rule(lhs, rhs))

    def _lexeme(self, node: Node) -> str | None:
        """The lexeme for a non-nullable rule-free tree (``None`` when its language is empty)."""
        if node in self._lexeme_of:
            return self._lexeme_of[node]
        name: str | None = None
        if node != NOTHING and not is_empty(node):
            if isinstance(node, Bytes):
                name = self._fresh("lit")
                self.lexemes[name] = Lexeme.from_literal(name, node.data)
            else:
                name = self._fresh("lex")
                self.lexemes[name] = Lexeme(name, "(?!)", node=node)
        self._lexeme_of[node] = name
        return name

    def _free(self, node: Node) -> tuple[str, ...] | None:
        """Symbols for a rule-free tree: a lexeme, an optional lexeme, or nothing."""
        if not nullable(node, self._nullable):
            name = self._lexeme(node)
            return None if name is None else (name,)
        name = self._lexeme(nonempty(node, self._nullable))
        if name is None:
            return ()
        helper = self._optional.get(name)
        if helper is None:
            helper = self._optional[name] = self._fresh("opt")
            self._rule(helper, ())
            self._rule(helper, (name,))
        return (helper,)

    def symbols(self, node: Node) -> tuple[str, ...] | None:
        """A symbol sequence deriving exactly the language of ``node`` (``None``: the empty language)."""
        got = self._memo.get(id(node))
        if got is not None:
            return got[1]
        out = self._convert(node)
        self._memo[id(node)] = (node, out)
        return out

    def _convert(self, node: Node) -> tuple[str, ...] | None:
        if isinstance(node, RuleRef):
            return (node.name,)
        if not has_rule_ref(node):
            return self._free(node)
        if isinstance(node, Concat):
            out: list[str] = []
            run: list[Node] = []
            for item in list(node.items) + [None]:
                if item is not None and not has_rule_ref(item):
                    run.append(item)
                    continue
                if run:
                    part = self._free(cat(*run))
                    if part is None:
                        return None
                    out.extend(part)
                    run = []
                if item is not None:
                    part = self.symbols(item)
                    if part is None:
                        return None
                    out.extend(part)
            return tuple(out)
        if isinstance(node, Alt):
            free = [i for i in node.items if not has_rule_ref(i)]
            branches = ([self._free(alt(free))] if free else []) + [self.symbols(i) for i in node.items if has_rule_ref(i)]
            live = [b for b in branches if b is not None]
            if not live:
                return None
            if len(live) == 1:
                return live[0]
            helper = self._fresh("alt")
            for b in live:
                self._rule(helper, b)
            return (helper,)
        if isinstance(node, Repeat):
            return self._repeat(node)
        if isinstance(node, NodeGraph):
            return self._graph(node)
        raise TypeError(f"cannot convert {node!r}")

    def _repeat(self, node: Repeat) -> tuple[str, ...] | None:
        item = self.symbols(node.item)
        if item is None:
            return () if node.min == 0 else None
        head = item * node.min
        if node.max is None:
            helper = self._fresh("rep")
            self._rule(helper, ())
            self._rule(helper, (helper,) + item)
            return head + (helper,)
        if node.max == node.min:
            return head
        prev: str | None = None
        for _ in range(node.max - node.min):
            helper = self._fresh("rep")
            self._rule(helper, ())
            self._rule(helper, item + ((prev,) if prev else ()))
            prev = helper
        return head + (prev,)

    def _graph(self, g: NodeGraph) -> tuple[str, ...] | None:
        base = self._fresh("g")
        name = lambda q: f"{base}_{q}"  # noqa: E731
        self._rule(name(0), ())
        for a, label, b in g.edges:
            if label is None:
                self._rule(name(b), (name(a),))
                continue
            syms = self.symbols(label)
            if syms is not None:
                self._rule(name(b), (name(a),) + syms)
        accept = sorted(g.accept)
        if len(accept) == 1:
            return (name(accept[0]),)
        helper = self._fresh("acc")
        for q in accept:
            self._rule(helper, (name(q),))
        return (helper,)

    def grammar(self, start: Node, defs: dict[str, Node]) -> Grammar | None:
        """The grammar of ``start`` with the rule definitions ``defs`` (``None`` when the language is empty)."""
        top = self.symbols(start)
        if top is None:
            return None
        self._rule("start", top)
        for name, node in defs.items():
            syms = self.symbols(node)
            if syms is not None:
                self._rule(name, syms)
        productive = productive_nonterminals(self.rules, self.lexemes)
        if "start" not in productive:
            return None
        rules = [r for r in self.rules if r.lhs in productive and all(s in self.lexemes or s in productive for s in r.rhs)]
        return Grammar("start", tuple(rules), dict(self.lexemes)).validate()


def to_grammar(node: Node, defs: dict[str, Any]) -> Grammar | None:
    """The grammar for a tree with rule references (``defs``: rule name -> definition tree)."""
    return GrammarBuilder().grammar(node, defs)


__all__ = ["VALUE", "GrammarBuilder", "json_value_rules", "nonempty", "nullable", "to_grammar"]
