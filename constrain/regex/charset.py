"""Sets of Unicode code points as sorted ranges, and their exact UTF-8 byte-range encodings.

Membership of Python character classes (``\\d``, ``\\w``, ``\\s``, case-insensitive
classes, ...) is taken from Python's own ``re`` engine run over every code point, so a
class means exactly what it means to ``re.fullmatch``.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator

MAX_CODE_POINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)

Ranges = tuple[tuple[int, int], ...]
"""Inclusive code-point ranges, sorted, non-overlapping and non-adjacent."""


def normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort and merge overlapping or adjacent ranges."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def complement(ranges: Ranges) -> Ranges:
    """Code points in 0..U+10FFFF not in ``ranges``."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def without_surrogates(ranges: Ranges) -> Ranges:
    """Drop U+D800..U+DFFF, which UTF-8 cannot encode and so no output can contain."""
    lo_s, hi_s = SURROGATES
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if hi < lo_s or lo > hi_s:
            out.append((lo, hi))
            continue
        if lo < lo_s:
            out.append((lo, lo_s - 1))
        if hi > hi_s:
            out.append((hi_s + 1, hi))
    return tuple(out)


@functools.cache
def _all_code_points() -> str:
    """Every encodable code point once, in order (surrogates left out)."""
    import numpy as np

    cps = np.concatenate([np.arange(0, SURROGATES[0]), np.arange(SURROGATES[1] + 1, MAX_CODE_POINT + 1)])
    return cps.astype("<u4").tobytes().decode("utf-32-le")


def _runs_to_ranges(runs: Iterable[tuple[int, int]]) -> Ranges:
    """Map (start, end) offsets in ``_all_code_points()`` back to code-point ranges."""
    gap = SURROGATES[1] - SURROGATES[0] + 1
    out: list[tuple[int, int]] = []
    for start, end in runs:
        lo, hi = start, end - 1
        lo_cp = lo if lo < SURROGATES[0] else lo + gap
        hi_cp = hi if hi < SURROGATES[0] else hi + gap
        out.append((lo_cp, hi_cp))
    return normalize(out)


@functools.lru_cache(maxsize=4096)
def python_class_ranges(class_pattern: str, flags: int) -> Ranges:
    """Code points that the one-character pattern ``class_pattern`` matches under ``flags``.

    The answer comes from ``re`` itself, so it is exact for every flag combination.
    """
    rx = re.compile(f"(?:{class_pattern})+", flags & ~(re.MULTILINE | re.VERBOSE))
    return _runs_to_ranges((m.start(), m.end()) for m in rx.finditer(_all_code_points()))


def utf8_sequences(ranges: Ranges) -> Iterator[tuple[tuple[int, int], ...]]:
    """Split code-point ranges into sequences of byte ranges that encode exactly them in UTF-8.

    Each yielded sequence matches the cross product of its byte ranges, and the union of
    all sequences is exactly the UTF-8 encodings of the code points (surrogates excluded).
    """
    for lo, hi in without_surrogates(ranges):
        yield from _split(lo, hi)


def _split(lo: int, hi: int) -> Iterator[tuple[tuple[int, int], ...]]:
    if lo > hi:
        return
    for boundary in (0x7F, 0x7FF, 0xFFFF):
        if lo <= boundary < hi:
            yield from _split(lo, boundary)
            yield from _split(boundary + 1, hi)
            return
    if hi <= 0x7F:
        yield ((lo, hi),)
        return
    n = len(chr(lo).encode("utf-8"))
    for i in range(1, n):
        m = (1 << (6 * i)) - 1
        if lo & ~m != hi & ~m:
            if lo & m:
                yield from _split(lo, lo | m)
                yield from _split((lo | m) + 1, hi)
                return
            if hi & m != m:
                yield from _split(lo, (hi & ~m) - 1)
                yield from _split(hi & ~m, hi)
                return
    a = chr(lo).encode("utf-8")
    b = chr(hi).encode("utf-8")
    yield tuple(zip(a, b))


@functools.cache
def _ascii_fold_extras() -> tuple[int, ...]:
    """Non-ASCII code points that ``re.IGNORECASE`` equates with some ASCII character (the Kelvin sign, ``ſ``...)."""
    ranges = python_class_ranges("[\\x00-\\x7f]", re.IGNORECASE)
    return tuple(c for lo, hi in ranges for c in range(max(lo, 0x80), hi + 1))


@functools.lru_cache(maxsize=4096)
def ascii_class_ranges(body: str, negate: bool, flags: int) -> Ranges:
    """``python_class_ranges`` for ``[body]`` / ``[^body]`` when ``body`` holds only ASCII literals and ranges.

    Exact and fast: ``re`` is asked only about ASCII and the few non-ASCII characters that case folding
    ties to ASCII; no other code point can match ``[body]``, so each matches exactly when the class is negated.
    """
    rx = re.compile(f"[{'^' if negate else ''}{body}]", flags & (re.IGNORECASE | re.ASCII))
    candidates = list(range(0x80)) + list(_ascii_fold_extras())
    hits = normalize((c, c) for c in candidates if rx.fullmatch(chr(c)))
    if not negate:
        return hits
    others = complement(normalize((c, c) for c in candidates))
    return normalize(list(hits) + list(others))
