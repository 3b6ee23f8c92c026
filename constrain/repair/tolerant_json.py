"""A tolerant recursive-descent JSON parser that records every fix it makes.

It reads the mistakes language models repeat (trailing and missing commas, single and curly quotes, unquoted
keys, Python/JS literals, comments, unescaped quotes and raw newlines inside strings, text cut off by a token
limit) and refuses to guess where two readings are equally plausible: such fixes are marked ambiguous, and
input it cannot read at all raises :class:`_Unrecoverable` with a position and a reason.

Valid sub-containers are handed to the standard library's C decoder, so the cost of tolerance is paid only
around the broken parts.

Truncation rule: a container whose opening survived is closed with the members that are complete; a string
counts when its closing quote survived, a number when a character after it survived (``12`` at the very end
may be the start of ``123``), a literal when it is spelled out in full.  Keys without values are dropped.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .limits import MAX_DEPTH, MAX_INT_DIGITS, exact_int
from .result import Fix

MISSING: Any = object()

KEY, OBJ_VALUE, ARR_VALUE, TOP = range(4)


class Unrecoverable(Exception):
    """The text cannot be read as JSON at ``position`` for ``reason``."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"{reason} at {position}")
        self.position = position
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_RAW_DECODE = _DECODER.raw_decode
_SCANSTRING = json.decoder.scanstring

_WS = re.compile(r"[ \t\n\r\ufeff\u00a0\u200b]*")
_SKIP = re.compile(r"(?:[ \t\n\r\ufeff\u00a0\u200b]+|//[^\n]*|/\*.*?(?:\*/|\Z)|#[^\n]*)*", re.S)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)|#[^\n]*", re.S)
_STRICT_NUM = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LOOSE_NUM = re.compile(r"[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_UNQUOTED_KEY = re.compile(r"[\w$][^\s:,\[\]{}\"'\u201c\u201d/#`]*")
_BARE_OBJ_VALUE = re.compile(r"[^,}\]\n\"\u201c]+")
_BARE_ARR_VALUE = re.compile(r"[^,}\]\n\"\u201c]+")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")

_OPENERS = {'"': '"', "'": "'", "\u201c": "\u201d\"", "\u201d": "\u201d\"", "\u2018": "\u2019'"}
_SPECIAL = {
    '"': re.compile(r'["\\\x00-\x1f]'),
    "'": re.compile(r"['\\\x00-\x1f]"),
    "\u201c": re.compile('[\u201d"\\\\\x00-\x1f]'),
    "\u201d": re.compile('[\u201d"\\\\\x00-\x1f]'),
    "\u2018": re.compile("[\u2019'\\\\\x00-\x1f]"),
}
_QUOTE_NAMES = {"'": "single quotes", "\u201c": "curly quotes", "\u201d": "curly quotes", "\u2018": "curly quotes"}
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS: dict[str, Any] = {
    "true": True, "false": False, "null": None,
    "True": True, "False": False, "None": None,
    "TRUE": True, "FALSE": False, "NULL": None, "Null": None,
    "undefined": None, "NaN": math.nan, "Infinity": math.inf,
}
_DECODE_WINDOW = 2048
_NUMBER_END = frozenset(" \t\n\r,]}:#\u00a0")
_VALUE_START = frozenset("{[\"'\u201c\u201d-+.0123456789")


@dataclass
class ParsedValue:
    """One top-level value read from a region, with its fixes and the span it came from."""

    value: Any
    fixes: list[Fix] = field(default_factory=list)
    start: int = 0
    end: int = 0

    @property
    def ambiguous(self) -> bool:
        return any(f.ambiguous for f in self.fixes)


class TolerantParser:
    """Parses one value from ``text[start:end]``; ``cut`` says the region's end may be a token-limit cut-off."""

    def __init__(self, text: str, end: int, cut: bool, partial_strings: bool) -> None:
        self.text = text
        self.end = end
        self.cut = cut
        self.partial_strings = partial_strings
        self.fixes: list[Fix] = []
        self.closed_at_end = 0
        self.depth = 0
        self.decode_budget = 2 * len(text) + 4096

    def decode(self, start: int) -> tuple[bool, Any, int]:
        """Try the C decoder on the container at ``start``; ``(ok, value, end)``.

        A failed try scans up to the error, so nested containers around one error would be rescanned once per
        level; the characters scanned by failed tries are bounded by ``decode_budget`` (twice the text), after
        which only a window of ``_DECODE_WINDOW`` characters is decoded (short containers stay fast), keeping
        the whole parse linear in the text.
        """
        if self.decode_budget <= 0:
            window = self.text[start:min(self.end, start + _DECODE_WINDOW)]
            try:
                val, e = _RAW_DECODE(window)
            except (ValueError, RecursionError):
                return False, None, start
            return True, val, start + e
        try:
            val, e = _RAW_DECODE(self.text, start)
        except RecursionError:
            self.decode_budget = 0
            return False, None, start
        except ValueError as exc:
            self.decode_budget -= max(getattr(exc, "pos", len(self.text)) - start, 1)
            return False, None, start
        if e > self.end:
            self.decode_budget -= e - start
            return False, None, start
        return True, val, e

    def enter(self, start: int) -> None:
        """Count one more open container, refusing nesting deeper than ``MAX_DEPTH`` at its opening bracket."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unrecoverable(start, f"nesting deeper than {MAX_DEPTH} levels")

    # -- helpers -------------------------------------------------------------------------------------
    def fix(self, kind: str, position: int, detail: str, ambiguous: bool = False) -> None:
        self.fixes.append(Fix(kind, position, detail, ambiguous))

    def skip(self, i: int, record: bool = True) -> int:
        """Skip whitespace and comments (``//``, ``#``, ``/* */``), recording each comment removed."""
        j = _SKIP.match(self.text, i, self.end).end()
        if record and j > i:
            segment = self.text[i:j]
            if "/" in segment or "#" in segment:
                for m in _COMMENT.finditer(self.text, i, j):
                    self.fix("comment", m.start(), "removed comment")
        return j

    def at_fence(self, i: int) -> bool:
        return self.text[i] == "`" and self.text.startswith("```", i)

    def end_at_fence(self, i: int) -> None:
        """A closing code fence inside an open container: the region ends here, deliberately."""
        self.end = i
        self.cut = False

    def close_at_end(self, opened_at: int) -> None:
        self.closed_at_end += 1

    # -- values --------------------------------------------------------------------------------------
    def value(self, i: int, ctx: int) -> tuple[Any, int]:
        c = self.text[i]
        if c == "{":
            return self.obj(i)
        if c == "[":
            return self.arr(i)
        if c in _OPENERS:
            return self.string(i, ctx)
        if c in "-+.0123456789":
            for sign, val in (("-", -math.inf), ("+", math.inf)):
                if self.text.startswith(sign + "Infinity", i):
                    self.fix("literal", i, f"read non-standard literal {sign}Infinity as a float")
                    return val, i + 9
            return self.number(i, ctx)
        if c.isalpha() or c in "_$":
            return self.word(i, ctx)
        raise Unrecoverable(i, f"unexpected {c!r} where a value was expected")

    def obj(self, start: int) -> tuple[Any, int]:
        ok, val, e = self.decode(start)
        if ok:
            return val, e
        self.enter(start)
        val, e = self.obj_members(start)
        self.depth -= 1
        return val, e

    def obj_members(self, start: int) -> tuple[Any, int]:
        """Read the members after the opening bracket at ``start``, repairing as needed."""
        text = self.text
        result: dict[str, Any] = {}
        i = start + 1
        while True:
            i = self.skip(i)
            if i >= self.end:
                self.close_at_end(start)
                return result, i
            c = text[i]
            if c == "}":
                return result, i + 1
            if self.at_fence(i):
                self.end_at_fence(i)
                continue
            if c == "]":
                self.fix("mismatched_bracket", i, "read ']' as the '}' closing this object", True)
                return result, i + 1
            if c == ",":
                self.fix("extra_comma", i, "removed extra comma")
                i += 1
                continue
            # key
            if c in _OPENERS:
                key, i = self.string(i, KEY)
                if key is MISSING:
                    continue
            elif c in "{[":
                raise Unrecoverable(i, "expected an object key, found a container")
            else:
                m = _UNQUOTED_KEY.match(text, i, self.end)
                if m is None:
                    raise Unrecoverable(i, f"unexpected {c!r} where an object key was expected")
                key = m.group()
                if m.end() >= self.end and self.cut:
                    self.fix("dropped_partial_key", i, "dropped partial key cut off by the end of the text")
                    i = m.end()
                    continue
                self.fix("unquoted_key", i, f"quoted key {key!r}")
                i = m.end()
            key_at = i
            i = self.skip(i)
            if i >= self.end:
                if self.cut:
                    self.fix("dropped_dangling_key", key_at, f"dropped key {key!r} with no value")
                else:
                    self.fix("dropped_key", key_at, f"dropped key {key!r} with no value", True)
                continue
            c = text[i]
            if c == ":":
                i += 1
            elif c in ",}":
                self.fix("dropped_key", i, f"dropped key {key!r} with no value", True)
                if c == ",":
                    i += 1
                continue
            elif c in _VALUE_START or c.isalpha():
                self.fix("missing_colon", i, f"inserted missing ':' after key {key!r}", True)
            else:
                raise Unrecoverable(i, f"expected ':' after key {key!r}, found {c!r}")
            i = self.skip(i)
            if i >= self.end:
                if self.cut:
                    self.fix("dropped_dangling_key", key_at, f"dropped key {key!r} with no value")
                else:
                    self.fix("dropped_key", key_at, f"dropped key {key!r} with no value", True)
                continue
            c = text[i]
            if c in ",}":
                self.fix("dropped_key", i, f"dropped key {key!r} with a missing value", True)
                continue
            if self.at_fence(i):
                continue
            val, i = self.value(i, OBJ_VALUE)
            if val is not MISSING:
                result[key] = val
            i = self.skip(i)
            if i >= self.end:
                continue
            c = text[i]
            if c == ",":
                j = self.skip(i + 1, False)
                if j < self.end and text[j] == "}":
                    self.fix("trailing_comma", i, "removed trailing comma")
                i += 1
            elif c in "}]" or self.at_fence(i):
                continue
            elif c in _OPENERS or _UNQUOTED_KEY.match(text, i, self.end):
                self.fix("missing_comma", i, "inserted missing comma")
            else:
                raise Unrecoverable(i, f"unexpected {c!r} after an object member")

    def arr(self, start: int) -> tuple[Any, int]:
        ok, val, e = self.decode(start)
        if ok:
            return val, e
        self.enter(start)
        val, e = self.arr_members(start)
        self.depth -= 1
        return val, e

    def arr_members(self, start: int) -> tuple[Any, int]:
        """Read the members after the opening bracket at ``start``, repairing as needed."""
        text = self.text
        result: list[Any] = []
        i = start + 1
        while True:
            i = self.skip(i)
            if i >= self.end:
                self.close_at_end(start)
                return result, i
            c = text[i]
            if c == "]":
                return result, i + 1
            if self.at_fence(i):
                self.end_at_fence(i)
                continue
            if c == "}":
                self.fix("mismatched_bracket", i, "read '}' as the ']' closing this array", True)
                return result, i + 1
            if c == ",":
                self.fix("extra_comma", i, "removed extra comma (a missing item?)", True)
                i += 1
                continue
            val, i = self.value(i, ARR_VALUE)
            if val is not MISSING:
                result.append(val)
            i = self.skip(i)
            if i >= self.end:
                continue
            c = text[i]
            if c == ",":
                j = self.skip(i + 1, False)
                if j < self.end and text[j] == "]":
                    self.fix("trailing_comma", i, "removed trailing comma")
                i += 1
            elif c in "]}" or self.at_fence(i):
                continue
            elif c == ":":
                raise Unrecoverable(i, "':' inside an array")
            elif c in _VALUE_START or c.isalpha() or c in "_$":
                self.fix("missing_comma", i, "inserted missing comma")
            else:
                raise Unrecoverable(i, f"unexpected {c!r} after an array item")

    # -- strings -------------------------------------------------------------------------------------
    def string(self, start: int, ctx: int) -> tuple[Any, int]:
        text, end = self.text, self.end
        opener = text[start]
        if opener == '"':
            try:
                value, stop = _SCANSTRING(text, start + 1, True)
            except ValueError:
                pass
            else:
                if stop < end and self.ends_string(stop, ctx):
                    return value, stop
        closers = _OPENERS[opener]
        special = _SPECIAL[opener]
        if opener != '"':
            self.fix("quotes", start, f"replaced {_QUOTE_NAMES[opener]} with double quotes")
        chunks: list[str] = []
        inner = 0
        structural = False
        raw_control = False
        i = start + 1
        while True:
            m = special.search(text, i, end)
            if m is None:
                chunks.append(text[i:end])
                break
            j = m.start()
            chunks.append(text[i:j])
            c = text[j]
            if c in closers:
                if self.ends_string(j + 1, ctx):
                    value = "".join(chunks)
                    if inner:
                        self.fix("unescaped_quote", start, f"escaped {inner} quote(s) inside a string",
                                 inner % 2 == 1 or structural or (j + 1 >= end and self.cut))
                    elif j + 1 >= end and self.cut and value[-1:].isspace():
                        self.fix("string_end", j, "a quote at the cut-off point may not end the string", True)
                    return value, j + 1
                chunks.append(c)
                inner += 1
                if not structural:
                    after = _WS.match(text, j + 1, end).end()
                    structural = after < end and text[after] in ",:}]"
                i = j + 1
                continue
            if c == "\\":
                if j + 1 >= end:
                    break
                e = text[j + 1]
                if e in _SIMPLE_ESCAPES:
                    chunks.append(_SIMPLE_ESCAPES[e])
                    i = j + 2
                elif e == "u":
                    hexa = _HEX4.match(text, j + 2, end)
                    if hexa is None:
                        if j + 6 > end and self.cut:
                            break
                        self.fix("bad_escape", j, "kept invalid \\u escape as text", True)
                        chunks.append("\\u")
                        i = j + 2
                        continue
                    cp = int(hexa.group(), 16)
                    i = j + 6
                    if 0xD800 <= cp < 0xDC00:
                        low = _HEX4.match(text, i + 2, end) if text.startswith("\\u", i) else None
                        if low is not None and 0xDC00 <= int(low.group(), 16) < 0xE000:
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (int(low.group(), 16) - 0xDC00)
                            i += 6
                        elif i + 6 > end and self.cut:
                            break
                    chunks.append(chr(cp))
                elif e == "'":
                    self.fix("escape", j, "read \\' as '")
                    chunks.append("'")
                    i = j + 2
                elif e in "x0123456789 \t\n\r":
                    self.fix("bad_escape", j, f"kept invalid escape \\{e!r} as text", True)
                    chunks.append("\\" + e)
                    i = j + 2
                elif e > "\x7f":
                    self.fix("bad_escape", j, f"read invalid escape \\{e} as {e}")
                    chunks.append(e)
                    i = j + 2
                else:
                    self.fix("bad_escape", j, f"kept invalid escape \\{e} as text")
                    chunks.append("\\" + e)
                    i = j + 2
                continue
            if not raw_control:
                raw_control = True
                self.fix("raw_control", j, "escaped raw control character (newline/tab) inside a string")
            chunks.append(c)
            i = j + 1
        # reached the end of the region inside the string
        if ctx == KEY:
            self.fix("dropped_partial_key", start, "dropped key cut off by the end of the text",
                     inner > 0 or not self.cut)
            return MISSING, end
        if self.partial_strings and self.cut:
            value = "".join(chunks)
            if value and "\ud800" <= value[-1] <= "\udbff":
                value = value[:-1]
            self.fix("kept_partial_string", start, f"kept the first {len(value)} characters of a cut-off string",
                     inner > 0)
            return value, end
        tail = "".join(chunks).rstrip()[-1:]
        self.fix("dropped_partial_string", start, "dropped string cut off by the end of the text",
                 inner > 0 or not self.cut or tail in ("}", "]"))
        return MISSING, end

    def ends_string(self, k: int, ctx: int) -> bool:
        """Decide whether a quote just before ``k`` closes the string, by what follows it."""
        text, end = self.text, self.end
        start_next = k
        k = _WS.match(text, k, end).end()
        if k >= end:
            return True
        c = text[k]
        if ctx == TOP or text.startswith("```", k):
            return True
        if (c == "/" and k + 1 < end and text[k + 1] in "/*") or (c == "#" and ctx != KEY):
            return True
        if ctx == KEY:
            if c in ":,}":
                return True
            if c in _OPENERS:
                return self.quoted_then_colon(k) is False
            return k > start_next and (c in _VALUE_START or c.isalpha())
        if ctx == OBJ_VALUE:
            if c in "}]":
                return True
            if c == ",":
                return self.next_member_follows(k + 1)
            if c in _OPENERS:
                return bool(self.quoted_then_colon(k))
            if "\n" in text[start_next:k]:
                m = _UNQUOTED_KEY.match(text, k, end)
                if m is not None:
                    j = _WS.match(text, m.end(), end).end()
                    return j < end and text[j] == ":"
            return False
        # ARR_VALUE
        if c in "]}{[:":
            return True
        if c == ",":
            return self.next_item_follows(k + 1)
        if c in _OPENERS:
            return k > start_next
        if c in "-0123456789":
            return True
        if k > start_next:
            m = _WORD.match(text, k, end)
            return m is not None and m.group() in _LITERALS
        return False

    def quoted_then_colon(self, k: int) -> bool | None:
        """For a quote at ``k``: True when a quoted word then ':' follows (a key), None when undecidable."""
        text = self.text
        close = _OPENERS[text[k]]
        j = k + 1
        limit = min(self.end, k + 200)
        while j < limit and text[j] not in close and text[j] != "\n":
            j += 2 if text[j] == "\\" else 1
        if j >= limit or text[j] == "\n":
            return None
        j = _WS.match(text, j + 1, self.end).end()
        if j >= self.end:
            return None
        return text[j] == ":"

    def next_member_follows(self, k: int) -> bool:
        text, end = self.text, self.end
        k = self.skip(k, False)
        if k >= end:
            return True
        c = text[k]
        if c == "}" or text.startswith("```", k):
            return True
        if c in _OPENERS:
            return self.quoted_then_colon(k) is not False
        m = _UNQUOTED_KEY.match(text, k, end)
        if m is not None:
            j = _WS.match(text, m.end(), end).end()
            return j >= end or text[j] == ":"
        return False

    def next_item_follows(self, k: int) -> bool:
        text, end = self.text, self.end
        k = self.skip(k, False)
        if k >= end:
            return True
        c = text[k]
        if c in "{[]\"'\u201c-0123456789":
            return True
        m = _WORD.match(text, k, end)
        return m is not None and m.group() in _LITERALS

    # -- numbers and words ---------------------------------------------------------------------------
    def number(self, start: int, ctx: int) -> tuple[Any, int]:
        text, end = self.text, self.end
        strict = _STRICT_NUM.match(text, start, end)
        loose = _LOOSE_NUM.match(text, start, end)
        stop = max(strict.end() if strict else start, loose.end() if loose else start)
        if stop == start:
            if text[start] in "-+" and start + 1 >= end and self.cut:
                self.fix("dropped_partial_number", start, "dropped number cut off by the end of the text")
                return MISSING, end
            return self.bare(start, ctx)
        if stop >= end:
            if self.cut:
                self.fix("dropped_partial_number", start, "dropped number cut off by the end of the text")
                return MISSING, end
        else:
            nxt = text[stop]
            if nxt not in _NUMBER_END and not (nxt == "/" and stop + 1 < end and text[stop + 1] in "/*") \
                    and not text.startswith("```", stop):
                return self.bare(start, ctx)
        token = text[start:stop]
        if strict is not None and strict.end() == stop:
            if "." in token or "e" in token or "E" in token:
                return float(token), stop
            return self.integer(token, start), stop
        cleaned = token.replace("_", "")
        if cleaned.startswith("+"):
            cleaned = cleaned[1:]
        self.fix("number", start, f"normalised number {token!r}")
        try:
            if any(ch in cleaned for ch in ".eE"):
                return float(cleaned), stop
            if len(cleaned) > 1 and cleaned.lstrip("-").startswith("0"):
                self.fix("number", start, f"number {token!r} has leading zeros", True)
            return self.integer(cleaned, start), stop
        except ValueError:
            return self.bare(start, ctx)

    def integer(self, token: str, start: int) -> int:
        """The exact integer ``token`` spells; one longer than ``MAX_INT_DIGITS`` digits is refused."""
        value = exact_int(token)
        if value is None:
            raise Unrecoverable(start, f"integer of more than {MAX_INT_DIGITS} digits")
        return value

    def word(self, start: int, ctx: int) -> tuple[Any, int]:
        text, end = self.text, self.end
        m = _WORD.match(text, start, end)
        word = m.group() if m else ""
        stop = m.end() if m else start
        at_end = stop >= end
        if word in _LITERALS and (at_end or text[stop] in _NUMBER_END or text[stop] == "/"
                                  or text.startswith("```", stop)):
            if word not in ("true", "false", "null"):
                self.fix("literal", start, f"read non-standard literal {word} as {_spell(_LITERALS[word])}")
            return _LITERALS[word], stop
        if at_end and self.cut:
            self.fix("dropped_partial_literal", start, f"dropped word {word!r} cut off by the end of the text")
            return MISSING, end
        return self.bare(start, ctx)

    def bare(self, start: int, ctx: int) -> tuple[Any, int]:
        """An unquoted run of text where a value belongs: read as a string, flagged as a guess."""
        pattern = _BARE_OBJ_VALUE if ctx == OBJ_VALUE else _BARE_ARR_VALUE
        m = pattern.match(self.text, start, self.end)
        if m is None or not m.group().strip():
            raise Unrecoverable(start, f"unexpected {self.text[start]!r} where a value was expected")
        if m.end() >= self.end and self.cut:
            self.fix("dropped_partial_literal", start, "dropped unquoted text cut off by the end of the text")
            return MISSING, self.end
        value = m.group().rstrip()
        self.fix("bare_value", start, f"read unquoted text {value[:40]!r} as a string", True)
        return value, start + len(value)

    def finish(self) -> None:
        """Record one fix for all containers closed at the end of the region."""
        if self.closed_at_end:
            n = self.closed_at_end
            noun = "bracket" if n == 1 else "brackets"
            if self.cut:
                self.fix("truncated", self.end, f"closed {n} {noun} (text was cut off)")
            else:
                self.fix("closed_brackets", self.end, f"closed {n} {noun}")
            self.closed_at_end = 0


def _spell(value: Any) -> str:
    if isinstance(value, float):
        return "a float"
    return json.dumps(value)


def parse_value_at(text: str, start: int, end: int, cut: bool, partial_strings: bool,
                   ctx: int = TOP) -> ParsedValue:
    """Parse one value starting exactly at ``start``; raises :class:`Unrecoverable`."""
    parser = TolerantParser(text, end, cut, partial_strings)
    value, stop = parser.value(start, ctx)
    parser.finish()
    return ParsedValue(value, parser.fixes, start, stop)
