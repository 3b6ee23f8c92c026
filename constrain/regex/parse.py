"""Python regex syntax to our syntax tree, parsed by Python's own ``re`` parser.

Using ``re``'s parser means a pattern means here what it means to ``re.fullmatch``.
Constructs that no finite automaton can enforce exactly (backreferences, lookaround,
conditionals, word boundaries, atomic groups, possessive repeats, anchors inside the
pattern) are refused with their position.
"""
from __future__ import annotations

import re
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from ..errors import RegexError, UnsupportedRegex
from .charset import Ranges, ascii_class_ranges, complement, normalize, python_class_ranges
from .ir import Alt, Bytes, Chars, Concat, Empty, Node, Repeat

SUPPORTED_FLAGS = re.IGNORECASE | re.DOTALL | re.VERBOSE | re.ASCII | re.UNICODE | re.MULTILINE

_REFUSED: dict[Any, tuple[str, tuple[str, ...]]] = {
    C.GROUPREF: ("backreferences", ("(?P=", "\\1", "\\2", "\\3", "\\4", "\\5", "\\6", "\\7", "\\8", "\\9")),
    C.GROUPREF_EXISTS: ("conditional groups (?(...)...)", ("(?(",)),
}
if hasattr(C, "ATOMIC_GROUP"):
    _REFUSED[C.ATOMIC_GROUP] = ("atomic groups (?>...)", ("(?>",))
if hasattr(C, "POSSESSIVE_REPEAT"):
    _REFUSED[C.POSSESSIVE_REPEAT] = ("possessive quantifiers (*+, ++, ?+, {m,n}+)", ("*+", "++", "?+", "}+"))

_CATEGORY_TEXT = {
    C.CATEGORY_DIGIT: r"\d",
    C.CATEGORY_NOT_DIGIT: r"\D",
    C.CATEGORY_SPACE: r"\s",
    C.CATEGORY_NOT_SPACE: r"\S",
    C.CATEGORY_WORD: r"\w",
    C.CATEGORY_NOT_WORD: r"\W",
}


def parse_regex(pattern: str, flags: int = 0) -> Node:
    """Parse ``pattern`` (Python syntax, ``re.fullmatch`` semantics) into a syntax tree."""
    if not isinstance(pattern, str):
        raise RegexError(f"pattern must be str, not {type(pattern).__name__}")
    if flags & ~SUPPORTED_FLAGS:
        raise UnsupportedRegex(f"unsupported regex flags {re.RegexFlag(flags & ~SUPPORTED_FLAGS)!r}", pattern, None)
    try:
        tree = sre_parse.parse(pattern, flags)
    except re.error as e:
        raise RegexError(f"invalid regex: {e.msg}", pattern, e.pos) from None
    except (OverflowError, RecursionError) as e:
        raise RegexError(f"invalid regex: {e}", pattern, None) from None
    global_flags = tree.state.flags
    if global_flags & re.LOCALE:
        raise UnsupportedRegex("the LOCALE flag is not supported", pattern, _find(pattern, ("(?L",)))
    return _Converter(pattern).seq(list(tree), global_flags, at_start=True, at_end=True)


def _find(pattern: str, needles: tuple[str, ...], skip_start: bool = False, skip_end: bool = False) -> int | None:
    """Position of the first ``needle`` outside character classes, for error messages."""
    i, in_class, n = 0, False, len(pattern)
    while i < n:
        if not in_class:
            for needle in needles:
                if pattern.startswith(needle, i):
                    if (skip_start and i == 0) or (skip_end and i + len(needle) == n):
                        continue
                    return i
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            i = j
            continue
        i += 1
    return None


def _single_point(node: Node) -> bytes | None:
    """The UTF-8 bytes of a one-code-point class (a literal), so runs of literals become one ``Bytes`` node."""
    if isinstance(node, Chars) and len(node.ranges) == 1:
        lo, hi = node.ranges[0]
        if lo == hi and not 0xD800 <= lo <= 0xDFFF:
            return chr(lo).encode("utf-8")
    return None


class _Converter:
    """Walks ``re``'s parse tree, carrying scoped flags and anchor context."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def refuse(self, what: str, needles: tuple[str, ...], **kw: bool) -> UnsupportedRegex:
        return UnsupportedRegex(
            f"{what} cannot be enforced by a finite automaton and are not supported",
            self.pattern,
            _find(self.pattern, needles, **kw),
        )

    def seq(self, items: list[tuple[Any, Any]], flags: int, at_start: bool, at_end: bool) -> Node:
        out: list[Node] = []
        n = len(items)
        first_real = 0
        while first_real < n and items[first_real][0] is C.AT and items[first_real][1] in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
            first_real += 1
        last_real = n
        while last_real > 0 and items[last_real - 1][0] is C.AT and items[last_real - 1][1] in (C.AT_END, C.AT_END_STRING):
            last_real -= 1
        for idx, (op, av) in enumerate(items):
            node_start = at_start and idx <= first_real
            node_end = at_end and idx >= last_real - 1
            node = self.node(op, av, flags, node_start, node_end, idx < first_real, idx >= last_real)
            if isinstance(node, Empty):
                continue
            point = _single_point(node)
            if point is not None and out and isinstance(out[-1], Bytes):
                out[-1] = Bytes(out[-1].data + point)
            elif point is not None:
                out.append(Bytes(point))
            else:
                out.append(node)
        if not out:
            return Empty()
        return out[0] if len(out) == 1 else Concat(tuple(out))

    def node(self, op: Any, av: Any, flags: int, at_start: bool, at_end: bool, lead_anchor: bool, tail_anchor: bool) -> Node:
        if op is C.LITERAL:
            return Chars(self.literal_ranges(av, flags))
        if op is C.NOT_LITERAL:
            return Chars(complement(self.literal_ranges(av, flags)))
        if op is C.ANY:
            if flags & re.DOTALL:
                return Chars(((0, 0x10FFFF),))
            return Chars(((0, 9), (11, 0x10FFFF)))
        if op is C.IN:
            return Chars(self.class_ranges(av, flags))
        if op is C.BRANCH:
            return Alt(tuple(self.seq(list(b), flags, at_start, at_end) for b in av[1]))
        if op is C.SUBPATTERN:
            _group, add, delete, sub = av
            return self.seq(list(sub), (flags | add) & ~delete, at_start, at_end)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            item = self.seq(list(sub), flags, False, False)
            return Repeat(item, lo, None if hi is C.MAXREPEAT else hi)
        if op is C.AT:
            return self.anchor(av, at_start, at_end, lead_anchor, tail_anchor)
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction = av[0]
            if direction < 0:
                raise self.refuse("lookbehind assertions", ("(?<=", "(?<!"))
            raise self.refuse("lookahead assertions", ("(?=", "(?!"))
        if op in _REFUSED:
            what, needles = _REFUSED[op]
            raise self.refuse(what, needles)
        raise UnsupportedRegex(f"regex construct {op} is not supported", self.pattern, None)

    def anchor(self, kind: Any, at_start: bool, at_end: bool, lead: bool, tail: bool) -> Node:
        if kind in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
            raise self.refuse("word boundaries (\\b, \\B)", ("\\b", "\\B"))
        if kind in (C.AT_BEGINNING, C.AT_BEGINNING_STRING) and at_start and lead:
            return Empty()
        if kind in (C.AT_END, C.AT_END_STRING) and at_end and tail:
            return Empty()
        needles = ("^", "\\A") if kind in (C.AT_BEGINNING, C.AT_BEGINNING_STRING) else ("$", "\\Z")
        skip = {"skip_start": True} if needles[0] == "^" else {"skip_end": True}
        raise UnsupportedRegex(
            "anchors are supported only at the start or end of the pattern", self.pattern, _find(self.pattern, needles, **skip)
        )

    def literal_ranges(self, cp: int, flags: int) -> Ranges:
        if flags & re.IGNORECASE:
            ch = chr(cp)
            if ch.isascii() and ch.lower() != ch or ch.upper() != ch and ch.isascii():
                return ascii_class_ranges(_class_escape(cp), False, flags & (re.IGNORECASE | re.ASCII))
            if ch.lower() != ch or ch.upper() != ch or not ch.isascii():
                return python_class_ranges(re.escape(ch), flags & (re.IGNORECASE | re.ASCII))
        return ((cp, cp),)

    def class_ranges(self, items: list[tuple[Any, Any]], flags: int) -> Ranges:
        negate = False
        parts: list[tuple[int, int]] = []
        text: list[str] = []
        needs_oracle = bool(flags & re.IGNORECASE)
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                parts.append((av, av))
                text.append(_class_escape(av))
            elif op is C.RANGE:
                parts.append(av)
                text.append(f"{_class_escape(av[0])}-{_class_escape(av[1])}")
            elif op is C.CATEGORY:
                cat = _CATEGORY_TEXT.get(av)
                if cat is None:
                    raise UnsupportedRegex(f"character category {av} is not supported", self.pattern, None)
                parts.extend(python_class_ranges(cat, flags & (re.ASCII | re.UNICODE)))
                text.append(cat)
            else:
                raise UnsupportedRegex(f"character-class item {op} is not supported", self.pattern, None)
        if needs_oracle:
            body = "".join(text)
            if parts and all(hi < 0x80 for _lo, hi in parts) and not any(op is C.CATEGORY for op, _av in items):
                return ascii_class_ranges(body, negate, flags & (re.IGNORECASE | re.ASCII))
            return python_class_ranges(f"[{'^' if negate else ''}{body}]", flags & (re.IGNORECASE | re.ASCII))
        ranges = normalize(parts)
        return complement(ranges) if negate else ranges


def _class_escape(cp: int) -> str:
    return f"\\U{cp:08x}"
