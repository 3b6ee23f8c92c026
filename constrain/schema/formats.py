"""``format`` values as exact regular languages over the decoded string.

Each supported format is a Python regex (fullmatch semantics) that accepts only strings valid for
the format's RFC; where the full RFC language is awkward, a documented *subset* is used, so an
accepted string is always valid, while a few rarely written valid forms are not produced:

* ``date``, ``date-time``: RFC 3339 ``full-date`` with exact month lengths and leap years.
* ``time``, ``date-time``: RFC 3339 ``full-time``; the leap second ``60`` exactly where the time is
  ``23:59:60`` in UTC (the local time and the offset together), written in plain spelling (no ``\\u``
  escapes inside a leap-second time; the canonical text never has them).
* ``duration``: RFC 3339 appendix A (ISO 8601) grammar.
* ``email``: dot-atom local part ``@`` a hostname (no quoted local parts, no address literals).
* ``hostname``: RFC 1123 labels (letters, digits, inner hyphens), no trailing dot, no ``--`` in the
  third and fourth positions (so no IDNA ``xn--`` labels: exact IDNA validity is not a practical
  regular language); to stay within 253 characters without counting, either 1-4 labels of at most 62
  characters or 5-8 labels of at most 30. Hostnames (also in ``email``) are accepted in their plain
  spelling only, never with ``\\u`` escapes.
* ``idn-email`` and ``idn-hostname`` are not supported (refused when asserted).
* ``ipv4``: dotted quad without leading zeros; ``ipv6``: RFC 4291 text forms (no zone id).
* ``uuid``: 8-4-4-4-12 hex digits; ``uri``, ``uri-reference``: RFC 3986 (ASCII only).
* ``json-pointer``, ``relative-json-pointer``: RFC 6901 and its relative draft.
"""
from __future__ import annotations

import functools

from ..regex.ir import Chars, Node, Repeat
from ..regex.parse import parse_regex
from .json_syntax import alt, cat, encode, lit
from .regular import difference

_D2 = r"[0-9]{2}"
_YEAR = r"[0-9]{4}"
_LEAP = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
DATE = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP}-02-29)"
)
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"


_TIME_REGULAR = rf"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?{_OFFSET}"


@functools.lru_cache(maxsize=None)
def _leap_seconds() -> Node:
    """``hh:mm:60`` with the offsets that make it 23:59:60 UTC (local minute ``t`` needs ``+(t+1)`` or ``-(1439-t)``)."""
    frac = Repeat(cat(lit("."), Repeat(Chars(((0x30, 0x39),)), 1, None)), 0, 1)
    hours = []
    for h in range(24):
        minutes = []
        for m in range(60):
            t = h * 60 + m
            plus, minus = (t + 1) % 1440, 1439 - t
            offsets = [lit(f"+{plus // 60:02d}:{plus % 60:02d}"), lit(f"-{minus // 60:02d}:{minus % 60:02d}")]
            if t == 1439:
                offsets.append(Chars(((0x5A, 0x5A), (0x7A, 0x7A))))
            minutes.append(cat(lit(f"{m:02d}:60"), frac, alt(offsets)))
        hours.append(cat(lit(f"{h:02d}:"), alt(minutes)))
    return alt(hours)


def _time_body(canonical: bool) -> Node:
    """Encoded time bodies: the regular times in the given escape spellings, leap seconds in plain spelling."""
    return alt([encode(parse_regex(_TIME_REGULAR), canonical), _leap_seconds()])


DATE_TIME = rf"{DATE}[Tt]"
_DT_TIME = r"T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S)"
DURATION = (
    rf"P(?:(?:[0-9]+Y(?:[0-9]+M(?:[0-9]+D)?)?|[0-9]+M(?:[0-9]+D)?|[0-9]+D)(?:{_DT_TIME})?|{_DT_TIME}|[0-9]+W)"
)
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H16 = r"[0-9a-fA-F]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{IPV4})"


def _ipv6() -> str:
    forms = [rf"(?:{_H16}:){{6}}{_LS32}", rf"::(?:{_H16}:){{5}}{_LS32}"]
    for before, after in ((0, 4), (1, 3), (2, 2), (3, 1), (4, 0)):
        head = rf"(?:(?:{_H16}:){{0,{before}}}{_H16})?" if before else rf"(?:{_H16})?"
        tail = rf"(?:{_H16}:){{{after}}}" if after else ""
        forms.append(rf"{head}::{tail}{_LS32}")
    forms.append(rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}")
    forms.append(rf"(?:(?:{_H16}:){{0,6}}{_H16})?::")
    return "(?:" + "|".join(forms) + ")"


IPV6 = _ipv6()
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_UNRESERVED = r"[A-Za-z0-9._~-]"
_PCT = r"%[0-9A-Fa-f]{2}"
_SUB_DELIMS = r"[!$&'()*+,;=]"
_PCHAR = rf"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS}|[:@])"
_USERINFO = rf"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS}|:)*"
_IPVFUTURE = rf"[vV][0-9A-Fa-f]+\.(?:{_UNRESERVED}|{_SUB_DELIMS}|:)+"
_HOST = rf"(?:\[(?:{IPV6}|{_IPVFUTURE})\]|{IPV4}|(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS})*)"
_AUTHORITY = rf"(?:{_USERINFO}@)?{_HOST}(?::[0-9]*)?"
_SEGMENT = rf"{_PCHAR}*"
_SEGMENT_NZ = rf"{_PCHAR}+"
_SEGMENT_NZ_NC = rf"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS}|@)+"
_PATH_ABEMPTY = rf"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = rf"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
_PATH_ROOTLESS = rf"{_SEGMENT_NZ}(?:/{_SEGMENT})*"
_PATH_NOSCHEME = rf"{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*"
_QUERY = rf"(?:{_PCHAR}|[/?])*"
_HIER = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS}|)"
URI = rf"[A-Za-z][A-Za-z0-9+.-]*:{_HIER}(?:\?{_QUERY})?(?:#{_QUERY})?"
_RELATIVE = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|)(?:\?{_QUERY})?(?:#{_QUERY})?"
URI_REFERENCE = rf"(?:{URI}|{_RELATIVE})"
JSON_POINTER = r"(?:/(?:[^~/]|~[01])*)*"
RELATIVE_JSON_POINTER = rf"(?:0|[1-9][0-9]*)(?:#|{JSON_POINTER})"

_SIMPLE = {
    "date": DATE,
    "duration": DURATION,
    "uuid": UUID,
    "ipv4": IPV4,
    "ipv6": IPV6,
    "uri": URI,
    "uri-reference": URI_REFERENCE,
    "json-pointer": JSON_POINTER,
    "relative-json-pointer": RELATIVE_JSON_POINTER,
}

SUPPORTED_FORMATS = frozenset(_SIMPLE) | {"time", "date-time", "hostname", "email"}


def _label(max_len: int) -> str:
    return rf"[A-Za-z0-9](?:(?:[A-Za-z0-9-]{{0,{max_len - 2}}}[A-Za-z0-9])?)"


_HOST_SUBSET = rf"(?:{_label(62)}(?:\.{_label(62)}){{0,3}}|{_label(30)}(?:\.{_label(30)}){{4,7}})"
"""Hostnames that are at most 253 characters by construction: up to 4 labels of up to 62 characters, or
5 to 8 labels of up to 30 (a regex, so no automaton product is needed)."""


@functools.lru_cache(maxsize=None)
def _hostname() -> Node:
    """Hostnames in their plain spelling (all characters are ASCII that JSON never needs to escape)."""
    return difference(parse_regex(_HOST_SUBSET), parse_regex(r"(?:[!-~]*\.)?[!-~]{2}--[!-~]*"))


@functools.lru_cache(maxsize=None)
def format_body(name: str, canonical: bool) -> Node | None:
    """The JSON string-body language (encoded units; canonical ones only if ``canonical``) for format ``name``, or ``None`` if unsupported."""
    if name in _SIMPLE:
        return encode(parse_regex(_SIMPLE[name]), canonical)
    if name == "time":
        return _time_body(canonical)
    if name == "date-time":
        return cat(encode(parse_regex(DATE_TIME), canonical), _time_body(canonical))
    if name == "hostname":
        return _hostname()
    if name == "email":
        return cat(encode(parse_regex(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@"), canonical), _hostname())
    return None
