"""Exact numeric constraints as regular languages over JSON number text.

Integers (text without fraction or exponent) are parsed exactly, so an integer range becomes a
digit-range regex. Numbers written with a fraction are parsed to binary floats and compared as
floats by validators; since rounding is monotone, "the float nearest to the decimal text is >= c"
is the same as "the decimal text is >= a threshold" where the threshold is the midpoint between
``c`` and its neighbouring float (ties go to the even neighbour). Thresholds are exact decimals,
so the fraction-form languages are exact too. Exponent forms are left out whenever a bound or
``multipleOf`` applies (the canonical serializer never writes exponents).
"""
from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext
from fractions import Fraction

from ..regex.ir import Empty, Node, Repeat
from .json_syntax import DIGIT, FRACTION, INT_MAGNITUDE, NONZERO, alt, cat, fixed_width_range, lit
from .regular import ByteDFA, _trim, intersect

NOTHING_NODE = alt([])


def _dec_digit(a: int, b: int) -> Node:
    from ..regex.ir import Chars

    return Chars(((0x30 + a, 0x30 + b),))


def _wide_range(lo: int, hi: int, width: int) -> Node:
    """Like ``fixed_width_range`` for decimal digits, as a flat chain automaton (for very long bounds).

    A state is (position, still equal to ``lo``'s prefix, still equal to ``hi``'s prefix).
    """
    a, b = str(lo).zfill(width), str(hi).zfill(width)
    index: dict[tuple[int, bool, bool], int] = {(0, True, True): 0}
    order = [(0, True, True)]
    moves: list[tuple[int, int, int, int]] = []
    k = 0
    while k < len(order):
        i, tl, th = order[k]
        if i < width:
            dlo = int(a[i]) if tl else 0
            dhi = int(b[i]) if th else 9
            for d in range(dlo, dhi + 1):
                nxt = (i + 1, tl and d == dlo, th and d == dhi)
                if nxt not in index:
                    index[nxt] = len(order)
                    order.append(nxt)
                moves.append((k, 0x30 + d, 0x30 + d, index[nxt]))
        k += 1
    accepting = {j for j, (i, _a, _b) in enumerate(order) if i == width}
    return _trim(len(order), moves, accepting)


def magnitude_range(lo: int, hi: int | None) -> Node:
    """Canonical non-negative integer text (no leading zeros) with value in ``lo..hi`` (``None``: no top)."""
    lo = max(lo, 0)
    if hi is not None and hi < lo:
        return NOTHING_NODE
    parts: list[Node] = []
    width = len(str(lo))
    top_width = len(str(hi)) if hi is not None else width
    for w in range(width, top_width + 1):
        a = max(lo, 10 ** (w - 1) if w > 1 else 0)
        b = min(hi, 10**w - 1) if hi is not None else 10**w - 1
        if a <= b:
            parts.append(fixed_width_range(a, b, w, 10, _dec_digit) if w <= 20 else _wide_range(a, b, w))
    if hi is None:
        parts.append(cat(NONZERO, Repeat(DIGIT, top_width, None)))
    return alt(parts)


def integer_range(lo: int | None, hi: int | None) -> Node:
    """JSON integer text (``-?(0|[1-9][0-9]*)``) whose value lies in ``lo..hi`` (``None``: unbounded)."""
    if lo is not None and hi is not None and lo > hi:
        return NOTHING_NODE
    parts: list[Node] = []
    if hi is None or hi >= 0:
        parts.append(magnitude_range(max(lo, 0) if lo is not None else 0, hi))
    if lo is None or lo <= 0:
        neg_lo = -hi if hi is not None and hi <= 0 else 0
        neg_hi = -lo if lo is not None else None
        parts.append(cat(lit("-"), magnitude_range(neg_lo, neg_hi)))
    return alt(parts)


def _digits_cmp(f: str, op: str, allow_empty: bool) -> Node:
    """Digit strings ``R`` (empty only if ``allow_empty``) with ``0.R op 0.f`` (``f`` has no trailing zeros).

    Built as a chain automaton: "equal so far after i digits", "already greater", "already less",
    so thresholds with hundreds of digits (float midpoints) stay small and flat.
    """
    n = len(f)
    start, gt, lt = 0, n + 2, n + 3
    eq = list(range(1, n + 2))
    moves: list[tuple[int, int, int, int]] = []

    def from_eq(src: int, i: int) -> None:
        if i < n:
            c = int(f[i])
            moves.append((src, 0x30 + c, 0x30 + c, eq[i + 1]))
            if c < 9:
                moves.append((src, 0x31 + c, 0x39, gt))
            if c > 0:
                moves.append((src, 0x30, 0x2F + c, lt))
        else:
            moves.append((src, 0x30, 0x30, eq[n]))
            moves.append((src, 0x31, 0x39, gt))

    from_eq(start, 0)
    for i in range(n + 1):
        from_eq(eq[i], i)
    moves.append((gt, 0x30, 0x39, gt))
    moves.append((lt, 0x30, 0x39, lt))
    accepting: set[int] = set()
    if op in ("<", "<="):
        accepting |= {lt} | {eq[i] for i in range(n)}
    if op in ("<=", ">="):
        accepting.add(eq[n])
    if op in (">", ">="):
        accepting.add(gt)
    empty_ok = op in ("<", "<=") if n else op in ("<=", ">=")
    if allow_empty and empty_ok:
        accepting.add(start)
    return _trim(n + 4, moves, accepting)


def _split_decimal(m: Decimal) -> tuple[int, str]:
    """A non-negative decimal as (integer part, fraction digits without trailing zeros)."""
    text = format(m, "f")
    if "." in text:
        ip, fp = text.split(".")
    else:
        ip, fp = text, ""
    return int(ip), fp.rstrip("0")


def _magnitude_fraction_cmp(op: str, m: Decimal) -> Node:
    """Texts ``I.F`` (I canonical, F non-empty digits) whose exact value satisfies ``value op m``."""
    if m < 0:
        return alt([cat(INT_MAGNITUDE, FRACTION)]) if op in (">", ">=") else NOTHING_NODE
    ip, fp = _split_decimal(m)
    parts: list[Node] = []
    if op in (">", ">="):
        parts.append(cat(magnitude_range(ip + 1, None), FRACTION))
    else:
        parts.append(cat(magnitude_range(0, ip - 1), FRACTION))
    parts.append(cat(lit(str(ip)), lit("."), _digits_cmp(fp, op, False)))
    return alt(parts)


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


def fraction_cmp(op: str, m: Decimal) -> Node:
    """Fraction-form number texts ``-?I.F`` whose exact decimal value satisfies ``value op m``."""
    pos = _magnitude_fraction_cmp(op, m)
    neg = _magnitude_fraction_cmp(_FLIP[op], -m)
    return alt([pos, cat(lit("-"), neg)])


def _even(x: float) -> bool:
    return (struct.unpack("<Q", struct.pack("<d", abs(x)))[0] & 1) == 0


def _next(x: float) -> Decimal:
    """The float above ``x`` as an exact decimal (past the largest float: the next power-of-two step)."""
    up = math.nextafter(x, math.inf)
    if math.isinf(up):
        return Decimal(x) + Decimal(math.ulp(x))
    return Decimal(up)


def _prev(x: float) -> Decimal:
    down = math.nextafter(x, -math.inf)
    if math.isinf(down):
        return Decimal(x) - Decimal(math.ulp(x))
    return Decimal(down)


def float_cmp(op: str, bound: int | float) -> Node:
    """Fraction-form texts whose parsed float ``f`` satisfies ``f op bound`` (Python comparison semantics)."""
    exact = Fraction(bound)
    with localcontext() as ctx:
        ctx.prec = 2500
        if op in (">=", ">"):
            c = float(bound)
            if op == ">=" and Fraction(c) < exact or op == ">" and Fraction(c) <= exact:
                c = math.nextafter(c, math.inf)
            if math.isinf(c):
                return NOTHING_NODE
            mid = (_prev(c) + Decimal(c)) / 2
            return fraction_cmp(">=" if _even(c) else ">", mid)
        c = float(bound)
        if op == "<=" and Fraction(c) > exact or op == "<" and Fraction(c) >= exact:
            c = math.nextafter(c, -math.inf)
        if math.isinf(c):
            return NOTHING_NODE
        mid = (Decimal(c) + _next(c)) / 2
        return fraction_cmp("<=" if _even(c) else "<", mid)


def int_bounds(minimum: Fraction | None, maximum: Fraction | None, ex_min: Fraction | None, ex_max: Fraction | None) -> tuple[int | None, int | None]:
    """The integer interval selected by possibly fractional bounds."""
    lo: int | None = None
    hi: int | None = None
    if minimum is not None:
        lo = math.ceil(minimum)
    if ex_min is not None:
        v = math.floor(ex_min) + 1
        lo = v if lo is None else max(lo, v)
    if maximum is not None:
        hi = math.floor(maximum)
    if ex_max is not None:
        v = math.ceil(ex_max) - 1
        hi = v if hi is None else min(hi, v)
    return lo, hi


def multiple_of_dfa(k: int) -> Node:
    """JSON integer text (optionally negative) whose value is a multiple of ``k`` (a ``k``-state remainder automaton)."""
    moves: list[tuple[int, int, int, int]] = []
    start, minus, zero = 0, 1, 2
    off = 3
    moves.append((start, 0x2D, 0x2D, minus))
    for src in (start, minus):
        moves.append((src, 0x30, 0x30, zero))
        for d in range(1, 10):
            moves.append((src, 0x30 + d, 0x30 + d, off + d % k))
    for r in range(k):
        for d in range(10):
            moves.append((off + r, 0x30 + d, 0x30 + d, off + (r * 10 + d) % k))
    return ByteDFA(off + k, tuple(moves), frozenset({zero, off}))


def integer_language(lo: int | None, hi: int | None, multiple: int | None, max_states: int) -> Node:
    """Integer text in ``lo..hi`` that is a multiple of ``multiple`` (when given)."""
    rng = integer_range(lo, hi)
    if multiple is None or multiple == 1:
        return rng
    if lo is not None and hi is not None and (hi - lo) // multiple <= 256:
        first = -(-lo // multiple) * multiple
        return alt([lit(str(v)) for v in range(first, hi + 1, multiple)])
    return intersect([rng, multiple_of_dfa(multiple)], max_states)


def fraction_language(bounds: list[tuple[str, int | float]], max_states: int) -> Node:
    """Fraction-form number text whose float value meets every ``(op, bound)``."""
    parts = [float_cmp(op, b) for op, b in bounds]
    if not parts:
        return cat(alt([lit("-"), Empty()]), INT_MAGNITUDE, FRACTION)
    return intersect(parts, max_states)
