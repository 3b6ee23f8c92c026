"""Defensive YAML repair: line-level fixes for the mistakes models repeat, driven by PyYAML's own errors.

Two kinds of mistake matter.  Some make PyYAML fail (a tab in the indentation, a colon inside an unquoted
value, one mis-indented line, a stray ``---``/``...`` between lines, a line cut off mid-way); those are fixed
one at a time at the line the parser complains about, then the text is parsed again.  Others parse *silently
wrong* (a sentence of prose before the document becomes a key; ``key:value`` without the space becomes one
string), so those are fixed before the first parse.

Scalars are resolved by the YAML 1.2 core schema, not PyYAML's default YAML 1.1 one: ``12:30`` (sexagesimal),
``yes``/``no``/``on``/``off`` and dates stay strings, ``012`` is the decimal integer 12 (never octal 10) and is
reported as an ambiguous fix because a leading zero often means an identifier; ``0o17`` and ``0x1f`` are octal and
hex.  A recursive alias, nesting deeper than ``MAX_DEPTH`` and aliases expanding to more than ``MAX_ALIAS_NODES``
nodes are refused with :class:`~constrain.errors.RepairError` (see :mod:`.limits`).

PyYAML is an optional dependency (``pip install constrain[yaml]``) and is imported only here, only when needed.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from ..errors import ConstrainError, RepairError
from .extract import YAML_LANGS, find_fences
from .limits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_INT_DIGITS, MAX_YAML_BYTES, exact_int, input_too_large
from .result import Fix

_MAX_ROUNDS = 24
_KEY_LINE = re.compile(r"^(\s*(?:-\s+)?)((?:[\w.$-]+|\"[^\"]*\"|'[^']*')):(\s|$)")
_NO_SPACE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w.-]*):([^\s/:].*)$")
_COLON_VALUE = re.compile(r"^(\s*(?:-\s+)?)((?:[\w.$ -]+|\"[^\"]*\"|'[^']*')):\s+(.*)$")
_SENTENCE = re.compile(r"^[^\s#\-{\[\"'|>&*!%@`][^:#]*(?:[:.!?])?$")
_MARKER = re.compile(r"^(---|\.\.\.)\s*$")
_BLOCK_HEADER = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise ConstrainError("YAML repair needs PyYAML: pip install constrain[yaml]") from exc
    return yaml


class _Refused(Exception):
    """A document that is refused outright (no line fix can help); ``mark`` is PyYAML's position or None."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


_CORE_IMPLICIT = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
)


@lru_cache(maxsize=1)
def _loader_class(yaml: Any) -> Any:
    """A safe PyYAML loader with YAML 1.2 core scalars, bounded nesting and alias expansion, no recursive aliases."""
    from yaml.events import AliasEvent

    class CoreResolver(yaml.resolver.BaseResolver):
        """Implicit tags of the YAML 1.2 core schema (the int rule comes first so ``12`` is not a float)."""

    for tag, pattern, first in _CORE_IMPLICIT:
        CoreResolver.add_implicit_resolver(tag, re.compile(pattern), list(first))

    class BoundedComposer(yaml.composer.Composer):
        """Composer that refuses recursive aliases, deep nesting and alias expansion past the limits."""

        def compose_document(self) -> Any:
            self.open_anchors: set[str] = set()
            self.node_sizes: dict[int, int] = {}
            self.alias_nodes = 0
            self.depth = 0
            return super().compose_document()

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if self.check_event(AliasEvent):
                if event.anchor in self.open_anchors:
                    raise _Refused(f"recursive alias *{event.anchor} refers to a collection that contains it",
                                   event.start_mark)
                node = super().compose_node(parent, index)
                self.alias_nodes += self.size(node)
                if self.alias_nodes > MAX_ALIAS_NODES:
                    raise _Refused(f"aliases expand to more than {MAX_ALIAS_NODES} nodes", event.start_mark)
                return node
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
            anchor = event.anchor
            if anchor is not None:
                self.open_anchors.add(anchor)
            node = super().compose_node(parent, index)
            self.open_anchors.discard(anchor)
            self.depth -= 1
            return node

        def size(self, root: Any) -> int:
            """Nodes a walk of ``root`` visits, counting shared nodes each time (memoized, iterative)."""
            sizes = self.node_sizes
            stack = [(root, False)]
            while stack:
                node, done = stack.pop()
                if id(node) in sizes:
                    continue
                if isinstance(node, yaml.ScalarNode):
                    sizes[id(node)] = 1
                    continue
                children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) \
                    else list(node.value)
                if done:
                    sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
                    continue
                stack.append((node, True))
                stack.extend((c, False) for c in children if id(c) not in sizes)
            return sizes[id(root)]

    class CoreConstructor(yaml.constructor.SafeConstructor):
        """Safe constructor whose ints and floats follow the YAML 1.2 core schema; notes leading-zero ints."""

        def construct_core_int(self, node: Any) -> int:
            text = self.construct_scalar(node)
            if text[:2] in ("0o", "0x"):
                return int(text[2:], 8 if text[1] == "o" else 16)
            value = exact_int(text)
            if value is None:
                raise _Refused(f"integer of more than {MAX_INT_DIGITS} digits", node.start_mark)
            digits = text.lstrip("+-")
            if len(digits) > 1 and digits[0] == "0":
                self.notes.append((node.start_mark, f"read {text!r} as the decimal integer {value} (YAML 1.2); "
                                                    "its leading zero may mean it is an identifier"))
            return value

        def construct_core_float(self, node: Any) -> float:
            text = self.construct_scalar(node).lower()
            if text.lstrip("+-") == ".inf":
                return -float("inf") if text[0] == "-" else float("inf")
            if text == ".nan":
                return float("nan")
            return float(text)

    CoreConstructor.add_constructor("tag:yaml.org,2002:int", CoreConstructor.construct_core_int)
    CoreConstructor.add_constructor("tag:yaml.org,2002:float", CoreConstructor.construct_core_float)

    class CoreLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, BoundedComposer,
                     CoreConstructor, CoreResolver):
        """Reader, scanner and parser of PyYAML with the bounded composer and the core-schema constructor."""

        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            BoundedComposer.__init__(self)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)
            self.notes: list[tuple[Any, str]] = []

    return CoreLoader


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class _Lines:
    """The document as lines plus the original character offset of each, so fixes can name a position."""

    def __init__(self, text: str, base: int) -> None:
        self.lines = text.split("\n")
        self.offsets = []
        pos = base
        for line in self.lines:
            self.offsets.append(pos)
            pos += len(line) + 1

    def pos(self, n: int) -> int:
        return self.offsets[n] if 0 <= n < len(self.offsets) else (self.offsets[-1] if self.offsets else 0)

    def text(self) -> str:
        return "\n".join(self.lines)

    def delete(self, n: int) -> None:
        del self.lines[n]
        del self.offsets[n]


def _is_sentence(line: str) -> bool:
    s = line.strip()
    if not s or ": " in s or s.startswith("#") or not _SENTENCE.match(s):
        return False
    return len(s.split()) >= 3


def _in_block_scalar(lines: list[str]) -> list[bool]:
    """Which lines belong to a ``|``/``>`` block scalar (their content must not be touched)."""
    inside = [False] * len(lines)
    block_indent: int | None = None
    for n, line in enumerate(lines):
        if block_indent is not None:
            if not line.strip() or _indent(line) > block_indent:
                inside[n] = True
                continue
            block_indent = None
        if _BLOCK_HEADER.search(line):
            block_indent = _indent(line)
    return inside


def _preclean(doc: _Lines, fixes: list[Fix]) -> None:
    lines = doc.lines
    while lines and not lines[0].strip():
        doc.delete(0)
    while lines and not lines[-1].strip():
        lines.pop()
        doc.offsets.pop()
    while len(lines) > 1 and _indent(lines[0]) == 0 and _is_sentence(lines[0]) and not lines[0].strip().startswith("-"):
        fixes.append(Fix("prose", doc.pos(0), "removed a line of prose before the document"))
        doc.delete(0)
        while lines and not lines[0].strip():
            doc.delete(0)
    while len(lines) > 1 and _indent(lines[-1]) == 0 and _is_sentence(lines[-1]) and lines[-1].rstrip()[-1:] in ".!?":
        fixes.append(Fix("prose", doc.pos(len(lines) - 1), "removed a line of prose after the document"))
        doc.delete(len(lines) - 1)
        while lines and not lines[-1].strip():
            doc.delete(len(lines) - 1)
    if len(lines) == 1 and _indent(lines[0]) == 0 and _is_sentence(lines[0]) and lines[0].rstrip().endswith(":"):
        raise RepairError("no YAML content: a single line of prose ending with ':' is not a document", doc.pos(0))
    block = _in_block_scalar(lines)
    unit = min((_indent(l) for l in lines if _indent(l) > 0 and not l.startswith("\t")), default=2)
    for n, line in enumerate(lines):
        if block[n]:
            continue
        if line[:1] == "\t" or (line.startswith(" ") and "\t" in line[: _indent(line) + 1]):
            stripped = line.lstrip(" \t")
            lead = line[: len(line) - len(stripped)]
            width = sum(unit if ch == "\t" else 1 for ch in lead)
            lines[n] = " " * width + stripped
            fixes.append(Fix("tab_indent", doc.pos(n), f"replaced tab indentation with {width} spaces"))
    key_indents = {(_indent(l), bool(m.group(1).strip())) for l in lines if (m := _KEY_LINE.match(l))}
    for n, line in enumerate(lines):
        if block[n]:
            continue
        m = _NO_SPACE.match(line)
        if m and not _KEY_LINE.match(line) and (_indent(line), bool(m.group(1).strip())) in key_indents:
            lines[n] = f"{m.group(1)}{m.group(2)}: {m.group(3)}"
            fixes.append(Fix("colon_space", doc.pos(n) + len(m.group(1)) + len(m.group(2)),
                             "inserted missing space after ':'"))


def _drop_dangling_tail(doc: _Lines, fixes: list[Fix]) -> None:
    """After a cut: drop trailing keys whose value was lost, and empty list items."""
    lines = doc.lines
    while lines:
        last = lines[-1]
        s = last.strip()
        if not s:
            doc.delete(len(lines) - 1)
            continue
        if s in ("-",) or (s.endswith(":") and _KEY_LINE.match(last)):
            fixes.append(Fix("dropped_dangling_key", doc.pos(len(lines) - 1), "dropped a key whose value was cut off"))
            doc.delete(len(lines) - 1)
            continue
        break


def _drop_last_line(doc: _Lines, fixes: list[Fix]) -> None:
    n = len(doc.lines) - 1
    fixes.append(Fix("dropped_partial_line", doc.pos(n), "dropped the last line, cut off by the end of the text"))
    doc.delete(n)
    _drop_dangling_tail(doc, fixes)


def _try_load(yaml: Any, text: str) -> tuple[bool, Any, Any]:
    """``(True, value, notes)`` or ``(False, None, error)``; a refused document raises :class:`_Refused`."""
    loader = _loader_class(yaml)(text)
    try:
        return True, loader.get_single_data(), loader.notes
    except yaml.YAMLError as exc:
        return False, None, exc
    except (ValueError, TypeError, OverflowError) as exc:
        return False, None, yaml.MarkedYAMLError(problem=f"invalid value for its tag: {exc}")
    finally:
        loader.dispose()


def _note_fixes(notes: list[tuple[Any, str]], position: Any) -> list[Fix]:
    """Ambiguous fixes for the constructor's notes; ``position(mark)`` maps a mark to an offset in the input."""
    return [Fix("number", position(mark), message, True) for mark, message in notes]


def _error_line(exc: Any) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line if mark is not None else None


def _quote_colon_value(doc: _Lines, n: int, fixes: list[Fix]) -> bool:
    line = doc.lines[n]
    m = _COLON_VALUE.match(line)
    if not m:
        return False
    rest = m.group(3).rstrip()
    if not rest or rest[0] in "\"'[{|>&*!" or ": " not in rest + " " and not rest.endswith(":"):
        return False
    doc.lines[n] = f"{m.group(1)}{m.group(2)}: {json.dumps(rest, ensure_ascii=False)}"
    fixes.append(Fix("quoted_value", doc.pos(n) + len(m.group(1)) + len(m.group(2)) + 2,
                     "quoted a value containing ':'"))
    return True


def _reindent(yaml: Any, doc: _Lines, n: int, fixes: list[Fix]) -> bool:
    """Move line ``n`` to the indentation that makes the document parse; ambiguous when readings differ."""
    lines = doc.lines
    if not (0 <= n < len(lines)) or not lines[n].strip():
        return False
    prev = next((lines[k] for k in range(n - 1, -1, -1) if lines[k].strip()), None)
    nxt = next((lines[k] for k in range(n + 1, len(lines)) if lines[k].strip()), None)
    candidates: list[int] = []
    for ref in (prev, nxt):
        if ref is not None:
            candidates.append(_indent(ref))
            if ref.rstrip().endswith(":"):
                candidates.append(_indent(ref) + 2)
            if ref.lstrip().startswith("- "):
                candidates.append(_indent(ref) + 2)
    current = _indent(lines[n])
    seen: list[int] = []
    results: list[tuple[int, Any]] = []
    original = lines[n]
    for width in candidates:
        if width == current or width in seen:
            continue
        seen.append(width)
        lines[n] = " " * width + original.lstrip(" ")
        ok, value, _ = _try_load(yaml, doc.text())
        if ok:
            results.append((width, value))
    if not results:
        lines[n] = original
        return False
    width, value = results[0]
    agreed = all(v == value for _, v in results)
    sibling = prev is not None and nxt is not None and _indent(prev) == _indent(nxt) == width
    lines[n] = " " * width + original.lstrip(" ")
    fixes.append(Fix("indent", doc.pos(n), f"re-indented a line from {current} to {width} spaces",
                     not (agreed or sibling)))
    return True


def _split_documents(yaml: Any, doc: _Lines, fixes: list[Fix]) -> bool:
    """Remove ``---``/``...`` markers that split what is one document."""
    removed = False
    seen_content = False
    n = 0
    while n < len(doc.lines):
        line = doc.lines[n]
        if _MARKER.match(line):
            if seen_content or line.strip() == "...":
                fixes.append(Fix("document_marker", doc.pos(n), f"removed stray {line.strip()!r} marker"))
                doc.delete(n)
                removed = True
                continue
        elif line.strip() and not line.lstrip().startswith("#"):
            seen_content = True
        n += 1
    return removed


def _regions(text: str) -> tuple[str, int, list[Fix]]:
    fences = [r for r in find_fences(text) if r.lang in YAML_LANGS and text[r.start:r.end].strip()]
    if fences:
        r = fences[0]
        extra = [Fix("code_fence", r.start, f"took the content of a {r.lang or 'plain'} code fence")]
        if len(fences) > 1:
            extra.append(Fix("several_values", fences[1].start, "ignored later code fences", True))
        return text[r.start:r.end], r.start, extra
    return text, 0, []


def repair_yaml(text: str, truncated: bool | None = None) -> tuple[Any, list[Fix]]:
    """Parse ``text`` as YAML, repairing what is needed; returns ``(value, fixes)`` or raises RepairError.

    ``truncated=True`` says the text was cut off by a token limit, so its last line may be incomplete even
    when it parses (YAML cannot show this by itself); ``None`` drops the last line only when it fails to parse.
    """
    yaml = _yaml()
    size = input_too_large(text, MAX_YAML_BYTES)
    if size is not None:
        raise RepairError(f"YAML input of {size} bytes is larger than the YAML repair limit of {MAX_YAML_BYTES} bytes", 0)
    if truncated is not True and "```" not in text and "\t" not in text:
        try:
            ok, value, notes = _try_load(yaml, text)
        except _Refused as exc:
            raise RepairError(f"cannot read YAML: {exc.message}", exc.mark.index if exc.mark else None) from None
        if ok and not _needs_preclean(text):
            return value, _note_fixes(notes, lambda mark: mark.index)
    body, base, fixes = _regions(text)
    doc = _Lines(body, base)
    _preclean(doc, fixes)
    try:
        return _repair_lines(yaml, doc, body, base, fixes, truncated)
    except _Refused as exc:
        where = doc.pos(exc.mark.line) + exc.mark.column if exc.mark else None
        raise RepairError(f"cannot read YAML: {exc.message}", where) from None


def _repair_lines(yaml: Any, doc: _Lines, body: str, base: int, fixes: list[Fix],
                  truncated: bool | None) -> tuple[Any, list[Fix]]:
    """Parse the cleaned lines, fixing the line PyYAML complains about, round after round."""
    if truncated and not body.endswith("\n") and doc.lines:
        _drop_last_line(doc, fixes)
    elif truncated:
        _drop_dangling_tail(doc, fixes)
    first = next((l for l in body.split("\n") if l.strip()), "")
    last_error: Any = None
    for _ in range(_MAX_ROUNDS):
        if not doc.lines:
            if truncated and first.lstrip().startswith("-"):
                fixes.append(Fix("truncated", base, "kept an empty list: every item was cut off"))
                return [], fixes
            if truncated and _KEY_LINE.match(first):
                fixes.append(Fix("truncated", base, "kept an empty mapping: every entry was cut off"))
                return {}, fixes
            raise RepairError("no YAML content found", base)
        ok, value, exc = _try_load(yaml, doc.text())
        if ok:
            return value, fixes + _note_fixes(exc, lambda mark: doc.pos(mark.line) + mark.column)
        last_error = exc
        if isinstance(exc, yaml.composer.ComposerError) and "single document" in str(exc):
            if _split_documents(yaml, doc, fixes):
                continue
        n = _error_line(exc)
        if n is None:
            break
        near_end = n >= len(doc.lines) - 1 or "end of stream" in str(exc)
        if near_end and truncated is not False and len(doc.lines) > 1 and \
                ("end of stream" in str(exc) or "while scanning a quoted scalar" in str(exc)):
            _drop_last_line(doc, fixes)
            continue
        if "mapping values are not allowed" in str(exc) and _quote_colon_value(doc, n, fixes):
            continue
        if any(_MARKER.match(l) for l in doc.lines[1:]) and _split_documents(yaml, doc, fixes):
            continue
        if _reindent(yaml, doc, n, fixes) or _reindent(yaml, doc, n - 1, fixes):
            continue
        if near_end and truncated is not False and len(doc.lines) > 1:
            _drop_last_line(doc, fixes)
            continue
        break
    mark = getattr(last_error, "problem_mark", None)
    position = doc.pos(mark.line) + mark.column if mark is not None else None
    reason = getattr(last_error, "problem", None) or "invalid YAML"
    raise RepairError(f"cannot repair YAML: {reason}", position)


def _needs_preclean(text: str) -> bool:
    """Cheap test for the mistakes that parse silently wrong (prose line first, ``key:value`` without space)."""
    first = next((l for l in text.split("\n") if l.strip()), "")
    if _indent(first) == 0 and _is_sentence(first):
        return True
    return any(_NO_SPACE.match(l) and not _KEY_LINE.match(l) for l in text.split("\n"))
