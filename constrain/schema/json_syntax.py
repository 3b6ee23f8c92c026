"""JSON lexical syntax as regex trees: whitespace, strings (canonical or with every escape form), numbers, literals.

A JSON string is a sequence of *units*, each denoting one code point: a raw character (anything
but ``"``, ``\\`` and control characters), a short escape (``\\" \\\\ \\/ \\b \\f \\n \\r \\t``), a
``\\uXXXX`` escape (hex digits in either case) or a surrogate pair of them for characters beyond
U+FFFF. :func:`encode` maps a regex over *decoded* characters to the regex over encoded string
bodies, unit by unit, so lengths (which JSON Schema counts in code points) and patterns are exact
whatever escapes the text uses. Lone surrogate escapes are never produced.

With ``canonical=True`` every code point has exactly one unit, the one ``json.dumps(...,
ensure_ascii=False)`` writes: the raw character where JSON allows it, ``\\"`` and ``\\\\``, the short
forms ``\\b \\f \\n \\r \\t`` and ``\\u00xx`` (lower-case hex) for the other control characters. That is
the language generation uses: a model trained on real text never means ``\\u0073`` for ``s``.
"""
from __future__ import annotations

import functools

from ..regex.charset import Ranges, normalize
from ..regex.ir import Alt, Bytes, Chars, Concat, Empty, Node, Repeat

SHORT_ESCAPES = {0x22: '"', 0x5C: "\\", 0x2F: "/", 0x08: "b", 0x0C: "f", 0x0A: "n", 0x0D: "r", 0x09: "t"}
MUST_ESCAPE: Ranges = ((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C))
"""Code points JSON never allows raw in a string."""
RAW_OK: Ranges = ((0x20, 0x21), (0x23, 0x5B), (0x5D, 0xD7FF), (0xE000, 0x10FFFF))
ANY_CHAR: Ranges = ((0, 0xD7FF), (0xE000, 0x10FFFF))
HEX_DIGITS = "0123456789abcdef"


def cat(*items: Node) -> Node:
    """Concatenation that drops empty parts and flattens."""
    out: list[Node] = []
    for it in items:
        if isinstance(it, Chars) and not it.ranges:
            return it
        if isinstance(it, Empty):
            continue
        if isinstance(it, Concat):
            out.extend(it.items)
        else:
            out.append(it)
    if not out:
        return Empty()
    return out[0] if len(out) == 1 else Concat(tuple(out))


def alt(items: list[Node] | tuple[Node, ...]) -> Node:
    """Alternation that drops empty-language parts and duplicates, flattening nested ones."""
    out: list[Node] = []
    seen: set[Node] = set()
    for it in items:
        parts = it.items if isinstance(it, Alt) else (it,)
        for p in parts:
            if isinstance(p, Chars) and not p.ranges:
                continue
            if p not in seen:
                seen.add(p)
                out.append(p)
    if not out:
        return Chars(())
    return out[0] if len(out) == 1 else Alt(tuple(out))


def lit(text: str) -> Node:
    """Exactly ``text``."""
    return Bytes(text.encode("utf-8")) if text else Empty()


def opt(node: Node) -> Node:
    """Zero or one ``node``."""
    return Repeat(node, 0, 1)


def ranges_intersect(a: Ranges, b: Ranges) -> Ranges:
    """Code points in both range sets."""
    out = []
    for lo, hi in a:
        for lo2, hi2 in b:
            lo3, hi3 = max(lo, lo2), min(hi, hi2)
            if lo3 <= hi3:
                out.append((lo3, hi3))
    return normalize(out)


def _hex_digit(lo: int, hi: int) -> Node:
    """One hex digit with value in ``lo..hi``, either letter case."""
    chars = {HEX_DIGITS[d] for d in range(lo, hi + 1)}
    chars |= {c.upper() for c in chars}
    return Chars(normalize((ord(c), ord(c)) for c in chars))


def fixed_width_range(lo: int, hi: int, width: int, base: int, digit: "callable") -> Node:
    """Digit strings of exactly ``width`` digits (leading zeros kept) whose value lies in ``lo..hi``.

    ``digit(a, b)`` makes the node for one digit with value in ``a..b``.
    """
    if lo > hi:
        return Chars(())
    if width == 0:
        return Empty()
    unit = base ** (width - 1)
    lo_d, lo_r = divmod(lo, unit)
    hi_d, hi_r = divmod(hi, unit)
    if lo_d == hi_d:
        return cat(digit(lo_d, lo_d), fixed_width_range(lo_r, hi_r, width - 1, base, digit))
    parts: list[Node] = []
    first_full = lo_d if lo_r == 0 else lo_d + 1
    last_full = hi_d if hi_r == unit - 1 else hi_d - 1
    if lo_r != 0:
        parts.append(cat(digit(lo_d, lo_d), fixed_width_range(lo_r, unit - 1, width - 1, base, digit)))
    if first_full <= last_full:
        parts.append(cat(digit(first_full, last_full), Repeat(digit(0, base - 1), width - 1, width - 1)))
    if hi_r != unit - 1:
        parts.append(cat(digit(hi_d, hi_d), fixed_width_range(0, hi_r, width - 1, base, digit)))
    return alt(parts)


def _lower_hex_digit(lo: int, hi: int) -> Node:
    """One lower-case hex digit with value in ``lo..hi`` (the canonical spelling)."""
    return Chars(normalize((ord(HEX_DIGITS[d]), ord(HEX_DIGITS[d])) for d in range(lo, hi + 1)))


def _u_escape(lo: int, hi: int) -> Node:
    return cat(lit("\\u"), fixed_width_range(lo, hi, 4, 16, _hex_digit))


def _canonical_chars(ranges: Ranges) -> Node:
    """The one canonical unit of each code point in ``ranges``."""
    parts: list[Node] = []
    raw = ranges_intersect(ranges, RAW_OK)
    if raw:
        parts.append(Chars(raw))
    escaped = ranges_intersect(ranges, MUST_ESCAPE)
    short = [cp for cp in SHORT_ESCAPES if cp != 0x2F and ranges_intersect(escaped, ((cp, cp),))]
    if short:
        letters = normalize((ord(SHORT_ESCAPES[cp]), ord(SHORT_ESCAPES[cp])) for cp in short)
        parts.append(cat(lit("\\"), Chars(letters)))
    long_form = ranges_intersect(escaped, ((0x00, 0x07), (0x0B, 0x0B), (0x0E, 0x1F)))
    for lo, hi in long_form:
        parts.append(cat(lit("\\u"), fixed_width_range(lo, hi, 4, 16, _lower_hex_digit)))
    return alt(parts)


@functools.lru_cache(maxsize=4096)
def encode_chars(ranges: Ranges, canonical: bool) -> Node:
    """Every JSON string unit that denotes a code point in ``ranges`` (only the canonical one if ``canonical``)."""
    if canonical:
        return _canonical_chars(ranges)
    parts: list[Node] = []
    raw = ranges_intersect(ranges, RAW_OK)
    if raw:
        parts.append(Chars(raw))
    short = [cp for cp in SHORT_ESCAPES if ranges_intersect(ranges, ((cp, cp),))]
    if short:
        letters = normalize((ord(SHORT_ESCAPES[cp]), ord(SHORT_ESCAPES[cp])) for cp in short)
        parts.append(cat(lit("\\"), Chars(letters)))
    for lo, hi in ranges_intersect(ranges, ((0, 0xD7FF), (0xE000, 0xFFFF))):
        parts.append(_u_escape(lo, hi))
    for lo, hi in ranges_intersect(ranges, ((0x10000, 0x10FFFF),)):
        a, b = lo - 0x10000, hi - 0x10000
        hi_a, lo_a = divmod(a, 0x400)
        hi_b, lo_b = divmod(b, 0x400)
        pieces: list[tuple[int, int, int, int]] = []
        if hi_a == hi_b:
            pieces.append((hi_a, hi_a, lo_a, lo_b))
        else:
            pieces.append((hi_a, hi_a, lo_a, 0x3FF))
            if hi_a + 1 <= hi_b - 1:
                pieces.append((hi_a + 1, hi_b - 1, 0, 0x3FF))
            pieces.append((hi_b, hi_b, 0, lo_b))
        for h1, h2, l1, l2 in pieces:
            parts.append(cat(_u_escape(0xD800 + h1, 0xD800 + h2), _u_escape(0xDC00 + l1, 0xDC00 + l2)))
    return alt(parts)


ANY_UNIT = encode_chars(ANY_CHAR, False)
CANONICAL_UNIT = encode_chars(ANY_CHAR, True)


def any_unit(canonical: bool) -> Node:
    """One string unit denoting any code point: the canonical unit only, or every escape form."""
    return CANONICAL_UNIT if canonical else ANY_UNIT


def encode(node: Node, canonical: bool) -> Node:
    """Map a regex over decoded characters to the regex over JSON string bodies encoding them."""
    if isinstance(node, Chars):
        return encode_chars(node.ranges, canonical) if node.ranges else node
    if isinstance(node, Bytes):
        return cat(*(encode_chars(((ord(c), ord(c)),), canonical) for c in node.data.decode("utf-8")))
    if isinstance(node, Concat):
        return cat(*(encode(i, canonical) for i in node.items))
    if isinstance(node, Alt):
        return alt([encode(i, canonical) for i in node.items])
    if isinstance(node, Repeat):
        return Repeat(encode(node.item, canonical), node.min, node.max)
    if isinstance(node, Empty):
        return node
    raise TypeError(f"cannot encode {node!r}")


def string_of(body: Node) -> Node:
    """A JSON string whose encoded body is ``body``."""
    return cat(lit('"'), body, lit('"'))


def any_string(canonical: bool, min_len: int = 0, max_len: int | None = None) -> Node:
    """JSON strings of ``min_len..max_len`` code points."""
    return string_of(Repeat(any_unit(canonical), min_len, max_len))


DIGIT = Chars(((0x30, 0x39),))
NONZERO = Chars(((0x31, 0x39),))
INT_MAGNITUDE = alt([lit("0"), cat(NONZERO, Repeat(DIGIT, 0, None))])
INTEGER = cat(opt(lit("-")), INT_MAGNITUDE)
FRACTION = cat(lit("."), Repeat(DIGIT, 1, None))
EXPONENT = cat(Chars(((0x45, 0x45), (0x65, 0x65))), opt(Chars(((0x2B, 0x2B), (0x2D, 0x2D)))), Repeat(DIGIT, 1, None))
NUMBER = cat(INTEGER, opt(FRACTION), opt(EXPONENT))
"""Any JSON number."""
FRACTIONAL_NUMBER = cat(INTEGER, FRACTION)
"""Numbers written with a fraction and no exponent (they parse to floats)."""

WS_CHARS = Chars(((0x09, 0x0A), (0x0D, 0x0D), (0x20, 0x20)))


def whitespace(flexible: bool, max_run: int) -> Node:
    """The whitespace allowed between tokens: none, or a bounded run."""
    return Repeat(WS_CHARS, 0, max_run) if flexible else Empty()
