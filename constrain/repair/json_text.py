"""Repairing a whole JSON reply: fast path, locating the value(s) in fences and prose, combining several values.

Valid JSON goes through :func:`json.loads` and comes back untouched.  Otherwise the text is split into regions
(the JSON-tagged code fences when the reply does not start with a bracket, else the whole text), each region is
read by :mod:`.tolerant_json`, and the values found are combined: repeats of one value collapse to one, distinct
values become a list flagged as ambiguous (a schema can later pick the one it wants).
"""
from __future__ import annotations

import json
import re
from typing import Any

from ..errors import RepairError
from .extract import JSON_LANGS, Region, find_fences, first_content
from .limits import MAX_INT_DIGITS, exact_int
from .result import Fix
from .tolerant_json import MISSING, ParsedValue, TolerantParser, Unrecoverable, _RAW_DECODE, parse_value_at

_BRACKET = re.compile(r"[\[{]")
_SCALAR_START = re.compile(r"[\"'\u201c\-+.0-9]|(?:true|false|null|True|False|None|NaN|Infinity|undefined)\b")
_MAX_CANDIDATES = 64


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _parse_big_int(token: str) -> int:
    """Integer hook used only after Python's digit limit refused one: exact, or refused past MAX_INT_DIGITS."""
    value = exact_int(token)
    if value is None:
        raise ValueError(f"integer of more than {MAX_INT_DIGITS} digits")
    return value


_STRICT = json.JSONDecoder(parse_constant=_reject_constant)
_STRICT_BIG_INTS = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_big_int)


def fast_path(text: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is standard JSON (no NaN/Infinity), else ``(False, None)``.

    Integers longer than Python's ``int(str)`` digit limit make the C decoder fail with a plain ValueError; the
    text is then decoded again with an exact integer hook (slower, so only for those texts).
    """
    try:
        return True, _STRICT.decode(text)
    except json.JSONDecodeError:
        return False, None
    except RecursionError:
        return False, None
    except ValueError:
        pass
    try:
        return True, _STRICT_BIG_INTS.decode(text)
    except (ValueError, RecursionError):
        return False, None


def _regions(text: str) -> tuple[list[Region], list[Fix]]:
    start = first_content(text)
    if start < len(text) and text[start] in "{[":
        return [Region(0, len(text), True)], []
    fences = [r for r in find_fences(text) if r.lang in JSON_LANGS and first_content(text, r.start, r.end) < r.end]
    if not fences:
        return [Region(0, len(text), True)], []
    fixes = [Fix("code_fence", r.start, f"took the content of a {r.lang or 'plain'} code fence") for r in fences]
    return fences, fixes


def _parse_region(text: str, region: Region, partial_strings: bool) -> list[ParsedValue]:
    end = region.end
    i = first_content(text, region.start, end)
    if i >= end:
        return []
    values: list[ParsedValue] = []
    if text[i] not in "{[" and _SCALAR_START.match(text, i, end):
        try:
            parsed = parse_value_at(text, i, end, region.cut, partial_strings)
        except Unrecoverable:
            parsed = None
        if parsed is not None:
            rest = TolerantParser(text, end, region.cut, partial_strings)
            stop = rest.skip(parsed.end)
            if stop >= end:
                if parsed.value is MISSING:
                    return []
                parsed.fixes.extend(rest.fixes)
                return [parsed]
    pos = i
    prose_from = i
    attempts = 0
    last_error: Unrecoverable | None = None
    while pos < end and attempts < _MAX_CANDIDATES:
        m = _BRACKET.search(text, pos, end)
        if m is None:
            break
        k = m.start()
        attempts += 1
        try:
            value, stop = _RAW_DECODE(text, k)
            if stop > end:
                raise ValueError("past region")
            parsed = ParsedValue(value, [], k, stop)
        except (ValueError, RecursionError):
            try:
                parsed = parse_value_at(text, k, end, region.cut, partial_strings)
            except Unrecoverable as exc:
                if k == i:
                    raise RepairError(exc.reason, exc.position) from None
                last_error = exc
                pos = k + 1
                continue
        skipped = text[prose_from:k]
        if skipped.strip():
            parsed.fixes.insert(0, Fix("prose", prose_from, f"removed {len(skipped.strip())} characters of text "
                                                              "before the value"))
        values.append(parsed)
        pos = parsed.end
        prose_from = pos
    if len(values) > 1 and any(not v.ambiguous for v in values):
        kept = [v for v in values if not v.ambiguous]
        for v in values:
            if v.ambiguous:
                kept[0].fixes.append(Fix("prose", v.start, f"removed {v.end - v.start} characters of bracketed text "
                                                          "that is not clean JSON"))
        values = kept
    trailing = text[prose_from:end].strip()
    if values and trailing:
        doubtful = any(ch in trailing for ch in "\"}]") and not set(trailing) <= set("`~ \n,")
        values[-1].fixes.append(Fix("prose", prose_from, f"removed {len(trailing)} characters of text after the value",
                                    doubtful))
    if not values and last_error is not None:
        raise RepairError(last_error.reason, last_error.position)
    return values


def repair_json_values(text: str, partial_strings: bool = False) -> tuple[list[Any], list[Fix]]:
    """All values found in ``text`` (already deduplicated) and the fixes; raises :class:`RepairError`."""
    regions, fixes = _regions(text)
    found: list[ParsedValue] = []
    for region in regions:
        for parsed in _parse_region(text, region, partial_strings):
            if parsed.value is not MISSING:
                found.append(parsed)
            else:
                fixes.extend(parsed.fixes)
    if not found:
        raise RepairError("no JSON value found", first_content(text))
    values: list[Any] = []
    for parsed in found:
        fixes.extend(parsed.fixes)
        if any(_same(parsed.value, v) for v in values):
            fixes.append(Fix("repeated_value", parsed.start, "dropped a repeat of the same value"))
            continue
        values.append(parsed.value)
    return values, fixes


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def combine(values: list[Any], fixes: list[Fix]) -> Any:
    """One value stays itself; several distinct values become a list, flagged as ambiguous."""
    if len(values) == 1:
        return values[0]
    fixes.append(Fix("several_values", None, f"wrapped {len(values)} separate values in a list", True))
    return list(values)
