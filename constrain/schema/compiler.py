"""JSON Schema to an exact regular language (regex tree), keyword by keyword.

How a schema is compiled:

1. *Flatten*: ``allOf`` and ``$ref`` are expanded into a list of conjunct schemas (a ``$ref`` whose
   target is already being expanded is recursion, which a regular language cannot hold).
2. *Distribute*: ``anyOf``, ``oneOf``, ``not``, ``if``/``then``/``else`` and the dependency keywords
   are pushed outwards into alternatives, each a conjunction without combinators. ``oneOf`` is kept
   only when its alternatives are pairwise disjoint languages (checked on automata); ``not`` is
   rewritten by :mod:`.negation` into positive keywords where that is exact.
3. *Per type*: each alternative is split by JSON type and the keywords of all conjuncts are merged
   (bounds intersected, object properties merged name by name, array positions merged index by
   index), so ``allOf`` is an exact intersection.

Canonical form: compact separators, object keys in *rank* order (the order in which names are first
met while compiling, which is the schema's declared order) with keys the schema does not name after
them in any order. :func:`dumps` writes exactly this form. Every keyword that is not enforced exactly
is refused through :meth:`Context.refuse` with its JSON pointer.
"""
from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from ..errors import LimitExceeded, RegexError, SchemaError, UnsupportedSchema
from ..regex.dfa import DEAD
from ..regex.ir import Chars, Empty, Node, Repeat
from ..regex.parse import parse_regex
from .context import Context
from .formats import format_body
from .json_syntax import (
    ANY_CHAR,
    INTEGER,
    NUMBER,
    alt,
    any_string,
    any_unit,
    cat,
    encode,
    lit,
    opt,
    string_of,
    whitespace,
)
from .numbers import float_cmp, fraction_language, int_bounds, integer_language
from .regular import NOTHING, NodeGraph, RuleRef, difference, disjoint, has_rule_ref, intersect, lazy_dfa, map_rule_refs
from .rules import VALUE, json_value_rules, to_grammar

ALL_TYPES = frozenset({"null", "boolean", "object", "array", "string", "integer", "fraction"})
_TYPE_NAMES = {
    "null": {"null"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
    "string": {"string"},
    "integer": {"integer"},
    "number": {"integer", "fraction"},
    "$fraction": {"fraction"},
}
ANNOTATIONS = frozenset({
    "title", "description", "examples", "default", "$comment", "$schema", "$id", "$anchor", "$defs",
    "definitions", "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
    "contentSchema", "$vocabulary", "$dynamicAnchor", "format_annotation",
})
COMBINATORS = ("anyOf", "oneOf", "not", "if", "dependentRequired", "dependentSchemas", "dependencies")
KNOWN = frozenset({
    "type", "enum", "const", "properties", "required", "additionalProperties", "patternProperties",
    "propertyNames", "minProperties", "maxProperties", "items", "prefixItems", "additionalItems",
    "minItems", "maxItems", "contains", "minContains", "maxContains", "uniqueItems", "minLength",
    "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref",
    "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties",
    "unevaluatedItems", "$dynamicRef", "$recursiveRef", "$recursiveAnchor",
    "$absent", "$exclude", "$notPattern", "$notFormat",
})
MAX_PATTERN_PROPERTIES = 4
MAX_ANY_ORDER = 10
MAX_UNIQUE_VALUES = 8


_NOT_CONSTRAINING = frozenset(COMBINATORS) | {"$ref", "allOf", "then", "else", "$rule"}
_VALUE_FIRST = ((0x22, 0x22), (0x2D, 0x2D), (0x30, 0x39), (0x5B, 0x5B), (0x66, 0x66), (0x6E, 0x6E), (0x74, 0x74), (0x7B, 0x7B))
"""First bytes of a JSON value: ``"`` ``-`` digits ``[`` ``f`` ``n`` ``t`` ``{``."""


class Unsatisfiable(Exception):
    """A conjunction that no value satisfies (the ``false`` schema, or contradictory keywords)."""


def value_type(v: Any) -> str:
    """The JSON type of a Python value, splitting numbers into integer and fraction."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "integer" if v.is_integer() else "fraction"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(v).__name__}")


def _depth(v: Any) -> int:
    """Nesting depth of a JSON value (scalars 0)."""
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    if isinstance(v, (list, tuple)):
        return 1 + max((_depth(x) for x in v), default=0)
    return 0


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema defines it (``1 == 1.0``, ``true != 1``)."""
    ta, tb = value_type(a), value_type(b)
    if {ta, tb} <= {"integer", "fraction"}:
        return a == b
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if ta == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b


def number_text(v: int | float) -> str:
    """Canonical JSON text of a number: integers without fraction, others without exponent."""
    if isinstance(v, bool):
        raise TypeError("bool is not a number")
    if isinstance(v, int):
        return str(v)
    if math.isnan(v) or math.isinf(v):
        raise ValueError("NaN and infinity are not JSON numbers")
    if v.is_integer():
        return str(int(v))
    from decimal import Decimal

    text = format(Decimal(repr(v)), "f")
    return text


def dumps(value: Any, ranks: dict[str, int]) -> str:
    """The canonical text of ``value``: compact, keys in rank order, unranked keys after in their order."""
    if isinstance(value, dict):
        keys = sorted(enumerate(value), key=lambda ik: (ranks.get(ik[1], math.inf), ik[0]))
        inner = ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(value[k], ranks) for _i, k in keys)
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v, ranks) for v in value) + "]"
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return number_text(value)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _types_of(spec: Any, schema: dict, ctx: Context) -> set[str]:
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list):
        raise SchemaError("type must be a string or an array", ctx.pointer(schema))
    out: set[str] = set()
    for n in names:
        if n not in _TYPE_NAMES:
            raise SchemaError(f"unknown type {n!r}", ctx.pointer(schema))
        out |= _TYPE_NAMES[n]
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_ECMA_SPACE = "\\t\\n\\v\\f\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_ECMA_OUTSIDE = {
    "d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]",
    "s": f"[{_ECMA_SPACE}]", "S": f"[^{_ECMA_SPACE}]",
}
_ECMA_INSIDE = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_SPACE}


def ecma_to_python(pattern: str) -> str:
    """Rewrite an ECMA-262 pattern (JSON Schema's dialect) so Python's ``re`` gives it the same meaning.

    ``\\d \\w \\s`` and their negations become ECMA's explicit sets (ASCII digits and word characters,
    ECMA whitespace), ``.`` excludes every ECMA line terminator, and ``$`` matches only at the very end.
    Negated shorthand classes inside brackets are refused.
    """
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if in_class and nxt in _ECMA_INSIDE:
                out.append(_ECMA_INSIDE[nxt])
            elif in_class and nxt in "DWS":
                raise RegexError(f"negated class \\{nxt} inside brackets is not supported", pattern, i)
            elif not in_class and nxt in _ECMA_OUTSIDE:
                out.append(_ECMA_OUTSIDE[nxt])
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):
                out.append("\\]")
                i += 1
        elif ch == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif ch == "$":
            out.append("\\Z")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def ecma_search(pattern: str, text: str) -> bool:
    """``pattern`` (ECMA-262 meaning) matches somewhere in ``text``."""
    return re.search(ecma_to_python(pattern), text) is not None


def _search_chars(pattern: str) -> Node:
    """Decoded strings in which ``pattern`` (ECMA-262 meaning) matches somewhere."""
    if not isinstance(pattern, str):
        raise RegexError("pattern must be a string")
    pattern = ecma_to_python(pattern)
    try:
        tree = sre_parse.parse(pattern, 0)
    except re.error as e:
        raise RegexError(f"invalid regex: {e.msg}", pattern, e.pos) from None
    if tree.state.flags & re.MULTILINE:
        raise RegexError("the MULTILINE flag changes anchors and is not supported in patterns", pattern)
    items = list(tree)
    starts = (C.AT_BEGINNING, C.AT_BEGINNING_STRING)
    ends = (C.AT_END, C.AT_END_STRING)
    lead = bool(items) and items[0][0] is C.AT and items[0][1] in starts
    tail_kind = items[-1][1] if items and items[-1][0] is C.AT and items[-1][1] in ends else None
    if len(items) == 1 and lead:
        tail_kind = None
    if _count_anchors(items) != int(lead) + int(tail_kind is not None):
        raise RegexError("anchors inside a pattern (not at its start or end) are not supported", pattern)
    body = parse_regex(pattern)
    anything = Repeat(Chars(ANY_CHAR), 0, None)
    head = Empty() if lead else anything
    if tail_kind is None:
        tail: Node = anything
    elif tail_kind is C.AT_END:
        tail = opt(lit("\n"))
    else:
        tail = Empty()
    return cat(head, body, tail)


def _count_anchors(items: Any) -> int:
    n = 0
    for op, av in items:
        if op is C.AT:
            n += 1
        elif op is C.BRANCH:
            n += sum(_count_anchors(list(b)) for b in av[1])
        elif op is C.SUBPATTERN:
            n += _count_anchors(list(av[3]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            n += _count_anchors(list(av[2]))
    return n


def pattern_body(pattern: str, canonical: bool) -> Node:
    """JSON string bodies (canonical units only if ``canonical``) whose decoded text contains a match of ``pattern`` (``re.search``)."""
    return encode(_search_chars(pattern), canonical)


class Compiler:
    """Compiles schemas of one document; see the module docstring for the method."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.flexible = ctx.options.whitespace == "flexible"
        self.canonical = ctx.options.escapes == "canonical"
        self.ws = whitespace(self.flexible, ctx.options.max_whitespace)
        self.sep = cat(self.ws, lit(","), self.ws)
        self.colon = cat(self.ws, lit(":"), self.ws)
        self.branches = 0
        self.max_states = ctx.options.max_states
        self.check_depth: int | None = None
        self.level = 0
        self.rule_defs: dict[str, Node] = {}
        self.rule_names: dict[int, str] = {}
        self._todo: list[tuple[str, dict]] = []
        self._defining: set[str] = set()

    def bounded_any(self, depth: int) -> Node:
        """JSON values nested at most ``depth`` levels (used only to test membership of finite values)."""
        scalars = [lit("null"), lit("true"), lit("false"), NUMBER, any_string(self.canonical)]
        if depth <= 0:
            return alt(scalars)
        inner = self.bounded_any(depth - 1)
        arr = cat(lit("["), self.ws, opt(cat(inner, Repeat(cat(self.sep, inner), 0, None))), self.ws, lit("]"))
        member = cat(any_string(self.canonical), self.colon, inner)
        obj = cat(lit("{"), self.ws, opt(cat(member, Repeat(cat(self.sep, member), 0, None))), self.ws, lit("}"))
        return alt(scalars + [arr, obj])

    # ----- entry points -------------------------------------------------------------------------
    def document(self) -> Node:
        """The language of the whole document (with outer whitespace when flexible)."""
        return cat(self.ws, self.compile(self.ctx.root), self.ws)

    def compile(self, schema: Any) -> Node:
        """The language of values valid under ``schema``."""
        return self.compile_many([schema])

    def compile_many(self, schemas: list[Any]) -> Node:
        """The language of values valid under every schema in ``schemas``."""
        pushed: list[int] = []
        saved_level, self.level = self.level, len(self.ctx.active)
        try:
            conj: list[dict] = []
            for s in schemas:
                self._flatten(s, conj, pushed)
            return self._expand(conj, self._pending(conj))
        except Unsatisfiable:
            return NOTHING
        finally:
            self.level = saved_level
            for _ in pushed:
                self.ctx.active.pop()

    # ----- rules (recursion and any value) -----------------------------------------------------------
    def finish(self) -> dict[str, Node]:
        """Compile the definitions of every rule referenced so far; the rule name -> tree mapping."""
        while self._todo:
            name, target = self._todo.pop()
            self._define(name, target)
        return self.rule_defs

    def _define(self, name: str, target: dict) -> None:
        if name in self.rule_defs or name in self._defining:
            return
        ctx = self.ctx
        saved = ctx.active, self.level, self.check_depth
        ctx.active, self.level, self.check_depth = [], 0, None
        self._defining.add(name)
        try:
            self.rule_defs[name] = self.compile(target)
        finally:
            ctx.active, self.level, self.check_depth = saved
            self._defining.discard(name)

    def _rule_marker(self, origin: dict, target: dict) -> dict:
        """A conjunct standing for 'valid under ``target``', a schema being expanded further out."""
        name = self.rule_names.get(id(target))
        if name is None:
            name = self.rule_names[id(target)] = f"schema{len(self.rule_names)}"
            self._todo.append((name, target))
        return self._synthetic(origin, {"$rule": name})

    def _rule_conjunction(self, conj: list[dict]) -> Node:
        """A conjunction holding recursive references: exact only when nothing else constrains the value."""
        ctx = self.ctx
        names = list(dict.fromkeys(s["$rule"] for s in conj if "$rule" in s))
        marker = next(s for s in conj if "$rule" in s)
        if len(names) > 1:
            ctx.refuse(marker, "$ref", "the intersection of two recursive schemas needs more than a grammar")
        for s in conj:
            if "$rule" in s:
                continue
            for kw in s:
                if kw in _NOT_CONSTRAINING or kw not in KNOWN or (kw == "format" and not ctx.options.format_assertion):
                    continue
                ctx.refuse(s, kw, "intersecting a recursive schema with other keywords needs an automaton of a grammar's language")
        return RuleRef(names[0])

    def value_rule(self) -> Node:
        """A reference to the rule for any JSON value (defined on first use)."""
        if VALUE not in self.rule_defs:
            self.rule_defs.update(json_value_rules(self.ws, self.sep, self.colon, self.canonical))
        return RuleRef(VALUE)

    def _rule_names_in(self, node: Node, out: set[str]) -> None:
        todo = [node]
        while todo:
            n = todo.pop()
            found: list[str] = []
            map_rule_refs(n, lambda r: found.append(r.name) or r)
            for name in found:
                if name not in out:
                    out.add(name)
                    if name in self.rule_defs:
                        todo.append(self.rule_defs[name])

    def checker(self, node: Node) -> Any:
        """A membership test (bytes -> bool) for ``node``, through a grammar when it holds rules."""
        if not has_rule_ref(node):
            dfa = lazy_dfa(node, self.max_states)

            def accepts(text: bytes) -> bool:
                state = dfa.run(dfa.start, text)
                return state != DEAD and dfa.is_accepting(state)

            return accepts
        self.finish()
        names: set[str] = set()
        self._rule_names_in(node, names)
        if any(n not in self.rule_defs for n in names):
            raise UnsupportedSchema("", "$ref", "a value is checked against a recursive schema that is still being compiled")
        grammar = to_grammar(node, {n: self.rule_defs[n] for n in names})
        if grammar is None:
            return lambda text: False
        from ..constraints import GrammarConstraint

        return GrammarConstraint(grammar, max_states=self.max_states).accepts

    def approximate(self, node: Node, depth: int = 2) -> Node:
        """A regular superset of ``node``'s language (rules replaced by their first bytes then anything)."""
        anything = Repeat(Chars(ANY_CHAR), 0, None)

        def sub(ref: RuleRef) -> Node:
            if ref.name == VALUE:
                return cat(Chars(_VALUE_FIRST), anything)
            if depth > 0 and ref.name in self.rule_defs:
                return self.approximate(self.rule_defs[ref.name], depth - 1)
            return anything

        return map_rule_refs(node, sub)

    # ----- flattening -----------------------------------------------------------------------------
    def _flatten(self, schema: Any, out: list[dict], pushed: list[int], have: frozenset[int] = frozenset()) -> None:
        """Append the conjuncts of ``schema`` to ``out`` (``have``: ids already in the conjunction)."""
        ctx = self.ctx
        if schema is True:
            return
        if schema is False:
            raise Unsatisfiable()
        if not isinstance(schema, dict):
            raise SchemaError(f"a schema must be an object or a boolean, not {type(schema).__name__}", "")
        if id(schema) in have or any(s is schema for s in out):
            return
        if id(schema) in ctx.active:
            out.append(self._recursion(schema, schema))
            return
        ctx.active.append(id(schema))
        pushed.append(id(schema))
        ref = schema.get("$ref")
        if ref is not None:
            target = ctx.resolve(schema, ref)
            if isinstance(target, dict) and id(target) in ctx.active and id(target) not in have and not any(s is target for s in out):
                out.append(self._recursion(schema, target))
            else:
                self._flatten(target, out, pushed, have)
            if ctx.draft == "7":
                return
        for kw in ("$dynamicRef", "$recursiveRef"):
            if kw in schema:
                raise UnsupportedSchema(ctx.pointer(schema), kw, "dynamic references are not supported")
        out.append(schema)
        subs = schema.get("allOf")
        if subs is not None:
            if not isinstance(subs, list) or not subs:
                raise SchemaError("allOf must be a non-empty array", ctx.pointer(schema))
            for sub in subs:
                self._flatten(sub, out, pushed, have)

    def _recursion(self, origin: dict, target: dict) -> dict:
        """The conjunct for a reference to ``target``, a schema already being expanded further out."""
        ctx = self.ctx
        if ctx.active.index(id(target)) >= self.level:
            # expanded for this very value: a reference loop that never reaches a sub-value
            raise UnsupportedSchema(ctx.pointer(origin), "$ref", "a reference loop that does not descend into a value")
        return self._rule_marker(origin, target)

    def _pending(self, conj: list[dict]) -> list[tuple[dict, str]]:
        return [(s, kw) for s in conj for kw in COMBINATORS if kw in s]

    # ----- distribution of combinators --------------------------------------------------------------
    def _count_branch(self, schema: dict, keyword: str) -> None:
        self.branches += 1
        if self.branches > self.ctx.options.max_branches:
            raise UnsupportedSchema(self.ctx.pointer(schema), keyword, "too many alternatives after distributing combinators")

    def _with(self, conj: list[dict], pending: list[tuple[dict, str]], extra: list[Any]) -> Node:
        """Compile ``conj`` plus the schemas ``extra`` (flattened), with the combinators still pending."""
        pushed: list[int] = []
        try:
            more: list[dict] = []
            have = frozenset(id(c) for c in conj)
            for s in extra:
                self._flatten(s, more, pushed, have)
            return self._expand(conj + more, pending + self._pending(more))
        except Unsatisfiable:
            return NOTHING
        finally:
            for _ in pushed:
                self.ctx.active.pop()

    def _expand(self, conj: list[dict], pending: list[tuple[dict, str]]) -> Node:
        if not pending:
            return self._flat(conj)
        (s, kw), rest = pending[0], pending[1:]
        ctx = self.ctx
        value = s[kw]
        if kw in ("anyOf", "oneOf"):
            if not isinstance(value, list) or not value:
                raise SchemaError(f"{kw} must be a non-empty array", ctx.pointer(s))
            nodes = []
            for branch in value:
                self._count_branch(s, kw)
                nodes.append(self._with(conj, rest, [branch]))
            if kw == "oneOf":
                self._check_disjoint(s, nodes)
            return alt(nodes)
        if kw == "not":
            from .negation import negate

            alternatives = negate(self, value, s)
            if alternatives is None:
                ctx.refuse(s, "not", "this negation cannot be expressed exactly")
                return self._expand(conj, rest)
            nodes = []
            for branch in alternatives:
                self._count_branch(s, kw)
                nodes.append(self._with(conj, rest, branch))
            return alt(nodes)
        if kw == "if":
            from .negation import negate

            then, other = s.get("then", True), s.get("else", True)
            neg = negate(self, value, s)
            if neg is None:
                ctx.refuse(s, "if", "the negation of this 'if' cannot be expressed exactly")
                return self._expand(conj, rest)
            nodes = [self._with(conj, rest, [value, then])]
            for branch in neg:
                self._count_branch(s, kw)
                nodes.append(self._with(conj, rest, branch + [other]))
            return alt(nodes)
        if kw in ("dependentRequired", "dependentSchemas", "dependencies"):
            if not isinstance(value, dict):
                raise SchemaError(f"{kw} must be an object", ctx.pointer(s))
            if kw == "dependentRequired" and ctx.draft == "7" or kw == "dependentSchemas" and ctx.draft == "7":
                return self._expand(conj, rest)
            return self._dependencies(conj, rest, s, kw, list(value.items()))
        raise AssertionError(kw)

    def _dependencies(self, conj: list[dict], rest: list[tuple[dict, str]], s: dict, kw: str, items: list[tuple[str, Any]]) -> Node:
        if not items:
            return self._expand(conj, rest)
        (name, dep), more = items[0], items[1:]
        self._count_branch(s, kw)
        absent = self._synthetic(s, {"$absent": [name]})
        if isinstance(dep, list):
            present: list[Any] = [self._synthetic(s, {"required": [name] + list(dep)})]
        else:
            present = [self._synthetic(s, {"required": [name]}), dep]
        a = self._dep_branch(conj, rest, s, kw, more, [absent])
        b = self._dep_branch(conj, rest, s, kw, more, present)
        return alt([a, b])

    def _dep_branch(self, conj: list[dict], rest: list[tuple[dict, str]], s: dict, kw: str, more: list[tuple[str, Any]], extra: list[Any]) -> Node:
        pushed: list[int] = []
        try:
            add: list[dict] = []
            have = frozenset(id(c) for c in conj)
            for e in extra:
                self._flatten(e, add, pushed, have)
            return self._dependencies(conj + add, rest + self._pending(add), s, kw, more)
        except Unsatisfiable:
            return NOTHING
        finally:
            for _ in pushed:
                self.ctx.active.pop()

    def _synthetic(self, origin: dict, schema: dict) -> dict:
        """A schema made by the compiler; errors about it point at ``origin``."""
        self.ctx.pointers[id(schema)] = self.ctx.pointer(origin)
        self.ctx.bases[id(schema)] = self.ctx.bases.get(id(origin), "")
        return schema

    def _check_disjoint(self, s: dict, nodes: list[Node]) -> None:
        live = [self.approximate(n) for n in nodes if n != NOTHING]
        for i in range(len(live)):
            for j in range(i + 1, len(live)):
                try:
                    ok = disjoint(live[i], live[j], self.max_states)
                except LimitExceeded:
                    ok = False
                if not ok:
                    self.ctx.refuse(s, "oneOf", "its branches overlap (a value may match more than one)")
                    return

    # ----- one conjunction without combinators ------------------------------------------------------
    def _check_keywords(self, s: dict) -> None:
        for kw in ("unevaluatedProperties", "unevaluatedItems"):
            if kw in s and s[kw] is not True:
                self.ctx.refuse(s, kw, "unevaluated* keywords are not supported")
        if self.ctx.draft == "7":
            for kw in ("contentMediaType", "contentEncoding"):
                if kw in s:
                    self.ctx.refuse(s, kw, "draft 7 content keywords may assert and are not enforced")

    def _flat(self, conj: list[dict]) -> Node:
        ctx = self.ctx
        if any("$rule" in s for s in conj):
            return self._rule_conjunction(conj)
        types = set(ALL_TYPES)
        values: list[Any] | None = None
        for s in conj:
            self._check_keywords(s)
            if "type" in s:
                types &= _types_of(s["type"], s, ctx)
            if "const" in s:
                values = self._meet_values(values, [s["const"]])
            if "enum" in s:
                if not isinstance(s["enum"], list):
                    raise SchemaError("enum must be an array", ctx.pointer(s))
                values = self._meet_values(values, s["enum"])
        if values is not None:
            return self._enumerated(conj, types, values)
        excluded = [v for s in conj for v in s.get("$exclude", [])]
        parts: list[tuple[set[str], Node]] = []
        numbers = types & {"integer", "fraction"}
        for t in sorted(types - {"integer", "fraction"}):
            parts.append(({t}, self._typed(t, conj)))
        if numbers:
            parts.append(({"integer", "fraction"}, self._number(conj, "integer" in numbers, "fraction" in numbers)))
        out = []
        for kinds, node in parts:
            mine = [v for v in excluded if value_type(v) in kinds]
            if mine and node != NOTHING:
                node = self._exclude(conj, node, mine)
            out.append(node)
        return alt(out)

    def _meet_values(self, values: list[Any] | None, new: list[Any]) -> list[Any]:
        if values is None:
            out: list[Any] = []
            for v in new:
                if not any(json_equal(v, w) for w in out):
                    out.append(v)
            return out
        return [v for v in values if any(json_equal(v, w) for w in new)]

    def _enumerated(self, conj: list[dict], types: set[str], values: list[Any]) -> Node:
        rest = [{k: v for k, v in s.items() if k not in ("enum", "const")} for s in conj]
        for r, s in zip(rest, conj):
            self._synthetic(s, r)
        excluded = [v for s in conj for v in s.get("$exclude", [])]
        checkers: dict[tuple[str, int], Any] = {}
        kept = []
        for v in values:
            t = value_type(v)
            if t not in types or any(json_equal(v, e) for e in excluded):
                continue
            node = self.literal(v)
            text = dumps(v, self.ctx.ranks)
            depth = _depth(v)
            if (t, depth) not in checkers:
                saved, self.check_depth = self.check_depth, depth
                try:
                    if t in ("integer", "fraction"):
                        rest_node = self._number(rest, t == "integer", t == "fraction")
                    else:
                        rest_node = self._typed(t, rest)
                finally:
                    self.check_depth = saved
                checkers[(t, depth)] = self.checker(rest_node)
            if checkers[(t, depth)](text.encode("utf-8")):
                kept.append(node)
        return alt(kept)

    def _exclude(self, conj: list[dict], node: Node, excluded: list[Any]) -> Node:
        parts = []
        for v in excluded:
            t = value_type(v)
            if t in ("object", "array") and not (v == {} or v == []):
                self.ctx.refuse(conj[0], "not", "excluding an object or array value is not supported")
                continue
            if t in ("integer", "fraction"):
                frac = intersect([float_cmp(">=", v), float_cmp("<=", v)], self.max_states)
                parts.append(alt([lit(number_text(v)), lit("-0") if v == 0 else NOTHING, frac]))
            elif t == "string":
                parts.append(string_of(encode(lit(v), self.canonical)))
            else:
                parts.append(self.literal(v))
        if not parts:
            return node
        if has_rule_ref(node):
            self.ctx.refuse(conj[0], "not", "excluding a value from values that need a grammar (any value or recursion)")
            return node
        return difference(node, alt(parts), self.max_states)

    # ----- literals -------------------------------------------------------------------------------
    def literal(self, v: Any) -> Node:
        """The texts of value ``v`` in canonical form (strings in the escape spellings the options allow)."""
        t = value_type(v)
        if t == "null":
            return lit("null")
        if t == "boolean":
            return lit("true" if v else "false")
        if t in ("integer", "fraction"):
            return lit(number_text(v))
        if t == "string":
            return string_of(encode(lit(v), self.canonical))
        if t == "array":
            if not v:
                return cat(lit("["), self.ws, lit("]"))
            items = [self.literal(x) for x in v]
            body = [items[0]]
            for it in items[1:]:
                body += [self.sep, it]
            return cat(lit("["), self.ws, *body, self.ws, lit("]"))
        for k in v:
            self.ctx.rank(k)
        members = [cat(string_of(encode(lit(k), self.canonical)), self.colon, self.literal(v[k])) for k in v]
        if self.ctx.options.property_order == "any" and len(v) > 1:
            return self._any_order_literal(members)
        keys = sorted(range(len(v)), key=lambda i: self.ctx.ranks[list(v)[i]])
        body: list[Node] = []
        for n, i in enumerate(keys):
            body += ([self.sep] if n else []) + [members[i]]
        return cat(lit("{"), self.ws, *body, self.ws, lit("}"))

    def _any_order_literal(self, members: list[Node]) -> Node:
        k = len(members)
        if k > MAX_ANY_ORDER:
            raise UnsupportedSchema("", "enum", f"objects with more than {MAX_ANY_ORDER} keys in any order")
        full = (1 << k) - 1
        edges = []
        for mask in range(1 << k):
            for j in range(k):
                if not mask & (1 << j):
                    label = cat(self.sep, members[j]) if mask else members[j]
                    edges.append((mask, label, mask | (1 << j)))
        graph = NodeGraph(1 << k, tuple(edges), frozenset({full}))
        return cat(lit("{"), self.ws, graph, self.ws, lit("}"))

    # ----- scalar types ---------------------------------------------------------------------------
    def _typed(self, t: str, conj: list[dict]) -> Node:
        if t == "null":
            return lit("null")
        if t == "boolean":
            return alt([lit("true"), lit("false")])
        if t == "string":
            return self._string(conj)
        if t == "array":
            from .structures import array_language

            return array_language(self, conj)
        if t == "object":
            from .structures import object_language

            return object_language(self, conj)
        raise AssertionError(t)

    def _int_kw(self, s: dict, kw: str) -> int:
        v = s[kw]
        if not _is_number(v) or v < 0 or int(v) != v:
            raise SchemaError(f"{kw} must be a non-negative integer", self.ctx.pointer(s))
        return int(v)

    def _string(self, conj: list[dict]) -> Node:
        ctx = self.ctx
        lo, hi = 0, None
        parts: list[Node] = []
        negatives: list[Node] = []
        owner = conj[0] if conj else {}
        for s in conj:
            if "minLength" in s:
                lo = max(lo, self._int_kw(s, "minLength"))
            if "maxLength" in s:
                v = self._int_kw(s, "maxLength")
                hi = v if hi is None else min(hi, v)
            if "pattern" in s:
                try:
                    parts.append(pattern_body(s["pattern"], self.canonical))
                except RegexError as e:
                    ctx.refuse(s, "pattern", str(e))
            for p in s.get("$notPattern", []):
                try:
                    negatives.append(pattern_body(p, self.canonical))
                except RegexError as e:
                    ctx.refuse(s, "not", str(e))
            if "format" in s and ctx.options.format_assertion:
                body = format_body(s["format"], self.canonical) if isinstance(s["format"], str) else None
                if body is None:
                    ctx.refuse(s, "format", f"format {s['format']!r} is not supported")
                else:
                    parts.append(body)
            for f in s.get("$notFormat", []):
                body = format_body(f, self.canonical)
                if body is None:
                    ctx.refuse(s, "not", f"format {f!r} is not supported")
                else:
                    negatives.append(body)
            owner = s if ("pattern" in s or "maxLength" in s or "format" in s) else owner
        if hi is not None and hi < lo:
            return NOTHING
        if lo or hi is not None or not parts:
            parts.insert(0, Repeat(any_unit(self.canonical), lo, hi))
        try:
            body = intersect(parts, self.max_states) if len(parts) > 1 else parts[0]
            for neg in negatives:
                body = difference(body, neg, self.max_states)
        except LimitExceeded as e:
            raise UnsupportedSchema(ctx.pointer(owner), "pattern" if len(parts) > 1 else "maxLength", str(e)) from None
        return string_of(body)

    def _number(self, conj: list[dict], want_int: bool, want_frac: bool) -> Node:
        ctx = self.ctx
        bounds: list[tuple[str, int | float]] = []
        minimum = maximum = ex_min = ex_max = None
        multiple: int | None = None
        has_multiple = False
        for s in conj:
            excl_min_bool = s.get("exclusiveMinimum") is True
            excl_max_bool = s.get("exclusiveMaximum") is True
            for kw, op in (("minimum", ">="), ("maximum", "<="), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
                if kw not in s or isinstance(s[kw], bool):
                    continue
                v = s[kw]
                if not _is_number(v):
                    raise SchemaError(f"{kw} must be a number", ctx.pointer(s))
                if kw == "minimum" and excl_min_bool:
                    op, kw = ">", "exclusiveMinimum"
                if kw == "maximum" and excl_max_bool:
                    op, kw = "<", "exclusiveMaximum"
                bounds.append((op, v))
                f = Fraction(v)
                if op == ">=":
                    minimum = f if minimum is None else max(minimum, f)
                elif op == "<=":
                    maximum = f if maximum is None else min(maximum, f)
                elif op == ">":
                    ex_min = f if ex_min is None else max(ex_min, f)
                else:
                    ex_max = f if ex_max is None else min(ex_max, f)
            if "multipleOf" in s:
                m = s["multipleOf"]
                if not _is_number(m) or m <= 0:
                    raise SchemaError("multipleOf must be a positive number", ctx.pointer(s))
                if isinstance(m, float) and not m.is_integer():
                    ctx.refuse(s, "multipleOf", "only integer multipleOf values are enforced exactly")
                    continue
                has_multiple = True
                m = int(m)
                multiple = m if multiple is None else multiple * m // math.gcd(multiple, m)
        parts: list[Node] = []
        if not bounds and not has_multiple:
            if want_int and want_frac:
                return NUMBER
            if want_int:
                return INTEGER
        if want_int:
            lo, hi = int_bounds(minimum, maximum, ex_min, ex_max)
            try:
                parts.append(integer_language(lo, hi, multiple, self.max_states))
            except LimitExceeded as e:
                raise UnsupportedSchema(ctx.pointer(conj[0]), "multipleOf", str(e)) from None
        if want_frac and not has_multiple:
            parts.append(fraction_language(bounds, self.max_states))
        return alt(parts)

    def any_value(self, schema: Any, keyword: str) -> Node:
        """Values with no constraint at all: any JSON value, which has unbounded nesting.

        A reference to the grammar rule for JSON values, except while checking a finite
        ``enum``/``const`` value, where values nested no deeper than that value are all that matter.
        """
        if self.check_depth is not None:
            return self.bounded_any(self.check_depth)
        return self.value_rule()


__all__ = ["Compiler", "dumps", "json_equal", "number_text", "pattern_body", "value_type", "Unsatisfiable"]
