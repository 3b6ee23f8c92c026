"""Arrays and objects: keywords of every conjunct merged position by position and name by name.

Both are built as :class:`~.regular.NodeGraph` automata whose states count what has been written
(items, ``contains`` matches, members), so count keywords cost states proportional to the counts
instead of a blow-up of alternatives.

Objects: the known names (declared in this object, or ranked anywhere earlier in the compilation
when this object admits other keys) are written in rank order, each optional unless required;
other keys follow in any order. Their key language excludes every known name in every escape
spelling, so a declared key never appears twice. Extra keys cannot be made pairwise distinct by a
finite automaton; a repeated extra key is harmless for validity (a parser keeps one value, which is
valid) except for ``minProperties``, so the minimum counts at most one extra key.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import LimitExceeded, RegexError, SchemaError, UnsupportedSchema
from ..regex.ir import Node, Repeat
from .json_syntax import alt, any_unit, cat, encode, lit, string_of
from .regular import NOTHING, NodeGraph, difference, intersect, is_empty

if TYPE_CHECKING:
    from .compiler import Compiler


def _schema_list(c: "Compiler", s: dict, kw: str) -> list[Any]:
    v = s[kw]
    if not isinstance(v, list):
        raise SchemaError(f"{kw} must be an array", c.ctx.pointer(s))
    return v


def _empty(node: Node) -> bool:
    return node == NOTHING or is_empty(node)


def _unique_values(c: "Compiler", schemas: list[Any]) -> list[Any] | None:
    """The finite list of values an item schema allows, when it is a small enumeration."""
    from .compiler import json_equal

    values: list[Any] | None = None
    for s in schemas:
        if isinstance(s, dict):
            if "const" in s:
                cand = [s["const"]]
            elif "enum" in s and isinstance(s["enum"], list):
                cand = s["enum"]
            elif s.get("type") == "boolean":
                cand = [True, False]
            elif s.get("type") == "null":
                cand = [None]
            else:
                continue
            if values is None:
                values = []
                for v in cand:
                    if not any(json_equal(v, w) for w in values):
                        values.append(v)
            else:
                values = [v for v in values if any(json_equal(v, w) for w in cand)]
    return values


def array_language(c: "Compiler", conj: list[dict]) -> Node:
    """``[...]`` texts meeting every array keyword of ``conj``."""
    ctx = c.ctx
    draft7 = ctx.draft == "7"
    prefixes: list[list[Any]] = []
    tails: list[Any] = []
    min_items, max_items = 0, None
    contains: list[tuple[dict, Any]] = []
    unique = False
    for s in conj:
        prefix: list[Any] = []
        tail: Any = True
        items = s.get("items", True)
        if "prefixItems" in s and not draft7:
            prefix = _schema_list(c, s, "prefixItems")
            tail = items
        elif isinstance(items, list):
            prefix = items
            tail = s.get("additionalItems", True)
        else:
            tail = items
        prefixes.append(prefix)
        tails.append(tail)
        if "minItems" in s:
            min_items = max(min_items, c._int_kw(s, "minItems"))
        if "maxItems" in s:
            v = c._int_kw(s, "maxItems")
            max_items = v if max_items is None else min(max_items, v)
        if "contains" in s:
            contains.append((s, s["contains"]))
        if s.get("uniqueItems") is True:
            unique = True
    if max_items is not None and max_items < min_items:
        return NOTHING
    width = max((len(p) for p in prefixes), default=0)
    owner = next((s for s in conj if "items" in s or "prefixItems" in s), conj[0] if conj else {})

    def position(i: int) -> list[Any]:
        return [p[i] if i < len(p) else t for p, t in zip(prefixes, tails)]

    def item_node(schemas: list[Any], extra: list[Any] | None = None) -> Node:
        real = [x for x in schemas + (extra or []) if x is not True]
        if not real:
            return c.any_value(owner, "items")
        return c.compile_many(real)

    reachable = max_items if max_items is not None else None
    pos_schemas = [position(i) for i in range(width)]
    tail_schemas = list(tails)
    if unique:
        return _unique_array(c, conj, owner, width, pos_schemas, tail_schemas, min_items, max_items, contains)
    limit = width if reachable is None else min(width, reachable)
    nodes: list[Node] = []
    for i in range(limit):
        node = item_node(pos_schemas[i])
        if _empty(node):
            max_items = i if max_items is None else min(max_items, i)
            break
        nodes.append(node)
    if max_items is None or max_items > len(nodes):
        if len(nodes) == width:
            tail_node = item_node(tail_schemas) if not any(t is False for t in tail_schemas) else NOTHING
            if _empty(tail_node):
                max_items = len(nodes) if max_items is None else min(max_items, len(nodes))
        else:
            tail_node = NOTHING
    else:
        tail_node = NOTHING
    if max_items is not None and max_items < min_items:
        return NOTHING
    if contains and ctx.draft != "7" or contains:
        return _contains_array(c, conj, owner, nodes, tail_node, pos_schemas, tail_schemas, min_items, max_items, contains)
    return _sequence(c, [(n, None) for n in nodes], (tail_node, None), min_items, max_items, None)


def _sequence(
    c: "Compiler",
    positional: list[tuple[Node, Node | None]],
    tail: tuple[Node, Node | None],
    min_items: int,
    max_items: int | None,
    counts: tuple[int, int | None] | None,
) -> Node:
    """The array automaton; each position offers (item not matching ``contains``, item matching it)."""
    width = len(positional)
    bound = max_items if max_items is not None else max(width, min_items, 1)
    kmin, kmax = counts if counts is not None else (0, None)
    kcap = (kmax + 1) if kmax is not None else max(kmin, 0)
    states: dict[tuple[int, int], int] = {}

    def sid(n: int, k: int) -> int:
        key = (n, k)
        if key not in states:
            states[key] = len(states)
        return states[key]

    sid(0, 0)
    edges: list[tuple[int, Node | None, int]] = []
    frontier = [(0, 0)]
    seen = {(0, 0)}
    while frontier:
        n, k = frontier.pop()
        if n < bound or (max_items is None and n == bound):
            plain, matching = positional[n] if n < width else tail
            nxt = n + 1 if n < bound else n
            for label, dk in ((plain, 0), (matching, 1)):
                if label is None or label == NOTHING:
                    continue
                k2 = k + dk
                if counts is not None:
                    if kmax is not None and k2 > kmax:
                        continue
                    if kmax is None:
                        k2 = min(k2, kcap)
                full = cat(c.sep, label) if n > 0 else label
                edges.append((sid(n, k), full, sid(nxt, k2)))
                if (nxt, k2) not in seen:
                    seen.add((nxt, k2))
                    frontier.append((nxt, k2))
    accept = frozenset(
        i for (n, k), i in states.items() if n >= min_items and (counts is None or k >= kmin)
    )
    if not accept:
        return NOTHING
    graph = NodeGraph(len(states), tuple(edges), accept)
    return cat(lit("["), c.ws, graph, c.ws, lit("]"))


def _contains_array(c, conj, owner, nodes, tail_node, pos_schemas, tail_schemas, min_items, max_items, contains) -> Node:
    from .negation import negate

    ctx = c.ctx
    if len(contains) > 1:
        ctx.refuse(contains[1][0], "contains", "only one contains keyword per array is supported")
    s, cschema = contains[0]
    if ctx.draft == "7":
        kmin, kmax = 1, None
    else:
        kmin = c._int_kw(s, "minContains") if "minContains" in s else 1
        kmax = c._int_kw(s, "maxContains") if "maxContains" in s else None
    neg = negate(c, cschema, s)
    if neg is None:
        ctx.refuse(s, "contains", "the items not matching 'contains' cannot be described exactly")
        return _sequence(c, [(n, None) for n in nodes], (tail_node, None), min_items, max_items, None)

    def split(schemas: list[Any]) -> tuple[Node, Node]:
        real = [x for x in schemas if x is not True]
        yes = c.compile_many(real + [cschema])
        no = alt([c.compile_many(real + branch) for branch in neg])
        return no, yes

    positional = [split(pos_schemas[i]) for i in range(len(nodes))]
    tail = split(tail_schemas) if tail_node != NOTHING else (NOTHING, NOTHING)
    return _sequence(c, positional, tail, min_items, max_items, (kmin, kmax))


def _unique_array(c, conj, owner, width, pos_schemas, tail_schemas, min_items, max_items, contains) -> Node:
    ctx = c.ctx
    s = next(x for x in conj if x.get("uniqueItems") is True)
    if max_items is not None and max_items <= 1:
        return _plain_after_unique(c, conj, width, pos_schemas, tail_schemas, min_items, max_items, contains, owner)
    values = _unique_values(c, [x for x in tail_schemas if isinstance(x, dict)])
    if width or contains or values is None or len(values) > 8:
        ctx.refuse(s, "uniqueItems", "uniqueItems is enforced only for small enumerated item sets")
        return _plain_after_unique(c, conj, width, pos_schemas, tail_schemas, min_items, max_items, contains, owner)
    item_lang = c.compile_many([x for x in tail_schemas if x is not True])
    check = c.checker(item_lang)
    from .compiler import dumps

    kept = []
    for v in values:
        if check(dumps(v, ctx.ranks).encode("utf-8")):
            kept.append(c.literal(v))
    k = len(kept)
    top = k if max_items is None else min(k, max_items)
    edges = []
    for mask in range(1 << k):
        if bin(mask).count("1") >= top:
            continue
        for j in range(k):
            if not mask & (1 << j):
                edges.append((mask, cat(c.sep, kept[j]) if mask else kept[j], mask | (1 << j)))
    accept = frozenset(m for m in range(1 << k) if min_items <= bin(m).count("1") <= top)
    if not accept:
        return NOTHING
    return cat(lit("["), c.ws, NodeGraph(1 << k, tuple(edges), accept), c.ws, lit("]"))


def _plain_after_unique(c, conj, width, pos_schemas, tail_schemas, min_items, max_items, contains, owner) -> Node:
    stripped = []
    for s in conj:
        if s.get("uniqueItems") is True:
            s2 = {k: v for k, v in s.items() if k != "uniqueItems"}
            c._synthetic(s, s2)
            stripped.append(s2)
        else:
            stripped.append(s)
    return array_language(c, stripped)


def _name_ok(c: "Compiler", name: str, name_checks: list[Any]) -> bool:
    from .compiler import dumps

    text = dumps(name, {}).encode("utf-8")
    return all(check(text) for check in name_checks)


def _matches(c: "Compiler", s: dict, pattern: str, name: str) -> bool:
    from .compiler import ecma_search

    try:
        return ecma_search(pattern, name)
    except (re.error, RegexError) as e:
        raise SchemaError(f"invalid patternProperties regex {pattern!r}: {e}", c.ctx.pointer(s)) from None


def object_language(c: "Compiler", conj: list[dict]) -> Node:
    """``{...}`` texts meeting every object keyword of ``conj``."""
    ctx = c.ctx
    closed_default = ctx.options.additional_properties is False
    required: list[str] = []
    absent: set[str] = set()
    declared: list[str] = []
    min_p, max_p = 0, None
    name_schemas: list[Any] = []
    patterns: list[str] = []
    owner = conj[0] if conj else {}
    for s in conj:
        props = s.get("properties", {})
        if not isinstance(props, dict):
            raise SchemaError("properties must be an object", ctx.pointer(s))
        for name in props:
            if name not in declared:
                declared.append(name)
        req = s.get("required", [])
        if not isinstance(req, list):
            raise SchemaError("required must be an array", ctx.pointer(s))
        for name in req:
            if name not in required:
                required.append(name)
            if name not in declared:
                declared.append(name)
        absent.update(s.get("$absent", []))
        if "minProperties" in s:
            min_p = max(min_p, c._int_kw(s, "minProperties"))
        if "maxProperties" in s:
            v = c._int_kw(s, "maxProperties")
            max_p = v if max_p is None else min(max_p, v)
        if "propertyNames" in s:
            name_schemas.append(s["propertyNames"])
        pp = s.get("patternProperties", {})
        if not isinstance(pp, dict):
            raise SchemaError("patternProperties must be an object", ctx.pointer(s))
        for p in pp:
            if p not in patterns:
                patterns.append(p)
        if "properties" in s or "additionalProperties" in s:
            owner = s
    if max_p is not None and max_p < min_p:
        return NOTHING
    for name in declared:
        ctx.rank(name)

    def additional(s: dict) -> Any:
        if "additionalProperties" in s:
            return s["additionalProperties"]
        return False if closed_default else None

    extras_possible = all(additional(s) is not False or s.get("patternProperties") for s in conj)
    name_checks = []
    if name_schemas:
        try:
            name_lang = c.compile_many(name_schemas + [{"type": "string"}])
            name_checks.append(c.checker(name_lang))
        except UnsupportedSchema:
            raise
    known = sorted(set(declared) | (set(ctx.ranks) if extras_possible else set()), key=lambda n: ctx.ranks[n])

    def schemas_for(name: str) -> list[Any]:
        """The schemas a member named ``name`` must satisfy (``[False]``: forbidden; ``[]``: any value)."""
        out: list[Any] = []
        for s in conj:
            props = s.get("properties", {})
            hit = False
            if name in props:
                out.append(props[name])
                hit = True
            for p, sub in s.get("patternProperties", {}).items():
                if _matches(c, s, p, name):
                    out.append(sub)
                    hit = True
            if not hit and additional(s) is not None:
                out.append(additional(s))
        if any(x is False for x in out):
            return [False]
        return [x for x in out if x is not True]

    members: list[tuple[str, Node, bool]] = []
    for name in known:
        req = name in required
        if name in absent or (name_checks and not _name_ok(c, name, name_checks)):
            if req:
                return NOTHING
            continue
        schemas = schemas_for(name)
        if schemas == [False]:
            if req:
                return NOTHING
            continue
        if schemas:
            value = c.compile_many(schemas)
        else:
            value = c.any_value(owner, "properties" if name in declared else "additionalProperties")
        if _empty(value):
            if req:
                return NOTHING
            continue
        key = string_of(encode(lit(name), c.canonical))
        members.append((name, cat(key, c.colon, value), req))

    extra = _extra_members(c, conj, owner, known, patterns, additional, name_schemas, absent) if extras_possible else []
    extra_node = alt(extra) if extra else NOTHING
    if extra_node != NOTHING and min_p > sum(1 for _n, _v, req in members if req) + 1:
        # the automaton counts at most one extra key (it cannot tell repeated keys apart)
        ctx.refuse(next((s for s in conj if "minProperties" in s), owner), "minProperties",
                   "a minimum that extra keys must help reach needs distinct keys counted")
    if ctx.options.property_order == "any":
        return _any_order_object(c, owner, members, extra_node, min_p, max_p)
    return _ordered_object(c, members, extra_node, min_p, max_p)


def _extra_members(c, conj, owner, known, patterns, additional, name_schemas, absent) -> list[Node]:
    """Members whose key is none of ``known``, grouped by which patterns the key matches."""
    from .compiler import pattern_body

    ctx = c.ctx
    if len(patterns) > 4:
        ctx.refuse(owner, "patternProperties", "more than 4 distinct patternProperties regexes")
        return []
    try:
        bodies = {p: pattern_body(p, c.canonical) for p in patterns}
    except RegexError as e:
        ctx.refuse(owner, "patternProperties", str(e))
        return []
    names_node = alt([encode(lit(n), c.canonical) for n in list(known) + sorted(absent)])
    out: list[Node] = []
    try:
        for mask in range(1 << len(patterns)):
            inside = [bodies[p] for i, p in enumerate(patterns) if mask & (1 << i)]
            outside = [bodies[p] for i, p in enumerate(patterns) if not mask & (1 << i)]
            schemas: list[Any] = []
            for s in conj:
                pp = s.get("patternProperties", {})
                hits = [sub for p, sub in pp.items() if p in patterns and mask & (1 << patterns.index(p))]
                if hits:
                    schemas.extend(hits)
                else:
                    a = additional(s)
                    if a is not None:
                        schemas.append(a)
            if any(x is False for x in schemas):
                continue
            real = [x for x in schemas if x is not True]
            body = intersect(inside, c.max_states) if inside else Repeat(any_unit(c.canonical), 0, None)
            for o in outside:
                body = difference(body, o, c.max_states)
            if known or absent:
                body = difference(body, names_node, c.max_states)
            if _empty(body):
                continue
            key = string_of(body)
            if name_schemas:
                key = intersect([key, c.compile_many(name_schemas + [{"type": "string"}])], c.max_states)
                if _empty(key):
                    continue
            value = c.compile_many(real) if real else c.any_value(owner, "additionalProperties")
            if _empty(value):
                continue
            out.append(cat(key, c.colon, value))
    except LimitExceeded as e:
        raise UnsupportedSchema(ctx.pointer(owner), "patternProperties" if patterns else "additionalProperties", str(e)) from None
    return out


def _ordered_object(c: "Compiler", members: list[tuple[str, Node, bool]], extra: Node, min_p: int, max_p: int | None) -> Node:
    """Known members in order (optional ones may be skipped), then extra members in any order."""
    k = len(members)
    has_extra = extra != NOTHING
    cap = (max_p + 1) if max_p is not None else max(min_p, 1)
    states: dict[tuple, int] = {}

    def sid(key: tuple) -> int:
        if key not in states:
            states[key] = len(states)
        return states[key]

    sid((0, 0, 0))
    edges: list[tuple[int, Node | None, int]] = []
    frontier = [(0, 0, 0)]
    seen = {(0, 0, 0)}

    def push(src: tuple, label: Node | None, dst: tuple) -> None:
        edges.append((sid(src), label, sid(dst)))
        if dst not in seen:
            seen.add(dst)
            frontier.append(dst)

    while frontier:
        j, ck, ne = frontier.pop()
        total = ck + ne
        if j < k:
            _name, node, req = members[j]
            if not req:
                push((j, ck, ne), None, (j + 1, ck, ne))
            if max_p is None or total + 1 <= max_p:
                ck2 = min(ck + 1, cap)
                push((j, ck, ne), cat(c.sep, node) if total else node, (j + 1, ck2, ne))
        elif has_extra and (max_p is None or total + 1 <= max_p):
            ne2 = ne + 1 if max_p is not None else min(ne + 1, 1)
            push((j, ck, ne), cat(c.sep, extra) if total else extra, (j, ck, ne2))
    accept = frozenset(
        i for (j, ck, ne), i in states.items() if j == k and ck + min(ne, 1) >= min_p and (max_p is None or ck + ne <= max_p)
    )
    if not accept:
        return NOTHING
    return cat(lit("{"), c.ws, NodeGraph(len(states), tuple(edges), accept), c.ws, lit("}"))


def _any_order_object(c: "Compiler", owner: dict, members: list[tuple[str, Node, bool]], extra: Node, min_p: int, max_p: int | None) -> Node:
    """Members in any order, each known key at most once, extra members anywhere."""
    k = len(members)
    if k > 10:
        raise UnsupportedSchema(c.ctx.pointer(owner), "properties", "property_order='any' supports at most 10 known properties")
    has_extra = extra != NOTHING
    req_mask = sum(1 << j for j, (_n, _v, r) in enumerate(members) if r)
    states: dict[tuple, int] = {}

    def sid(key: tuple) -> int:
        if key not in states:
            states[key] = len(states)
        return states[key]

    sid((0, 0))
    edges: list[tuple[int, Node | None, int]] = []
    frontier = [(0, 0)]
    seen = {(0, 0)}
    while frontier:
        mask, ne = frontier.pop()
        total = bin(mask).count("1") + ne
        if max_p is not None and total >= max_p:
            continue
        for j, (_n, node, _r) in enumerate(members):
            if not mask & (1 << j):
                dst = (mask | (1 << j), ne)
                edges.append((sid((mask, ne)), cat(c.sep, node) if total else node, sid(dst)))
                if dst not in seen:
                    seen.add(dst)
                    frontier.append(dst)
        if has_extra:
            dst = (mask, ne + 1 if max_p is not None else min(ne + 1, 1))
            edges.append((sid((mask, ne)), cat(c.sep, extra) if total else extra, sid(dst)))
            if dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    accept = frozenset(
        i
        for (mask, ne), i in states.items()
        if mask & req_mask == req_mask and bin(mask).count("1") + min(ne, 1) >= min_p
        and (max_p is None or bin(mask).count("1") + ne <= max_p)
    )
    if not accept:
        return NOTHING
    return cat(lit("{"), c.ws, NodeGraph(len(states), tuple(edges), accept), c.ws, lit("}"))
