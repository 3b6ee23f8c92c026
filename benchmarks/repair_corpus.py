"""Seeded generator of broken model outputs, labelled by failure mode, with the ground truth.

A valid document is built (nested objects and arrays, unicode strings, numbers, literals), rendered by a small
serializer that can make each mistake models repeat, and optionally wrapped (fences, prose) or cut off.  The
ground truth is the document itself, except for truncation, where it is the part of the document whose text
survived the cut (computed from the serializer's own record of where each value starts and ends, independently
of any parser):

* a container is kept when its opening bracket survived, with the members that survived;
* a string when its closing quote survived, a literal when its last letter did, a number when the character
  after it did (``12`` at the very end could be the start of ``123``);
* an object member when its value is kept.

Everything is deterministic for a given seed.  Used by ``tests/repair`` and ``benchmarks/bench_repair.py``.
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

WORDS = ("alpha beta gamma delta river stone cloud maple ember quartz harbor lantern meadow orbit pixel "
         "signal tundra velvet willow zenith amber copper falcon glacier island jasper kernel lotus").split()
UNICODE_WORDS = ["café", "naïve", "Zürich", "日本語", "Привет", "ñandú", "μέτρο", "한국어", "😀", "🚀", "✓ done", "€42"]
EMOJI = ["😀", "🚀", "🎉", "🧪", "👍🏽", "🐍"]
KEYS = ("id name title status count price tags items owner created score enabled notes meta data value "
        "level kind label region total ratio parent child summary").split()

JSON_SINGLE_MODES = (
    "fence", "prose", "several_fences", "in_sentence", "concatenated", "trailing_comma", "single_quotes",
    "unquoted_keys", "python_literals", "js_literals", "comments", "missing_commas", "unescaped_quotes",
    "raw_newlines", "smart_quotes", "escaped_surrogates", "truncation",
)
JSON_COMBOS = (
    ("fence", "trailing_comma", "single_quotes"),
    ("prose", "python_literals", "unquoted_keys"),
    ("comments", "missing_commas"),
    ("truncation", "single_quotes"),
    ("fence", "truncation"),
    ("smart_quotes", "trailing_comma"),
    ("unescaped_quotes", "raw_newlines"),
    ("escaped_surrogates", "comments", "trailing_comma"),
    ("prose", "truncation", "unquoted_keys"),
    ("missing_commas", "python_literals", "single_quotes"),
)
YAML_MODES = ("fence", "prose", "tabs", "misindent", "colon_in_value", "no_space_after_colon", "stray_markers",
              "truncation")

_MISSING: Any = object()


@dataclass
class Case:
    """One broken text with its failure mode(s) and the value a correct repair returns."""

    mode: str
    text: str
    truth: Any
    original: Any
    truncated: bool = False
    fmt: str = "json"


# -- documents ---------------------------------------------------------------------------------------------
def _string(rng: random.Random, unicode_rate: float = 0.25) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 5))]
    if rng.random() < unicode_rate:
        words.insert(rng.randrange(len(words) + 1), rng.choice(UNICODE_WORDS))
    return " ".join(words)


def _scalar(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.45:
        return _string(rng)
    if r < 0.65:
        return rng.randint(-1000, 100000)
    if r < 0.8:
        return round(rng.uniform(-500, 500), rng.choice((1, 2, 3)))
    if r < 0.93:
        return rng.random() < 0.5
    return None


def make_document(rng: random.Random, depth: int = 0) -> Any:
    """A JSON-able object: 2-6 members, nested up to three levels."""
    out: dict[str, Any] = {}
    for _ in range(rng.randint(2, 6)):
        key = rng.choice(KEYS)
        if key in out:
            key = f"{key}_{len(out)}"
        r = rng.random()
        if depth < 2 and r < 0.18:
            out[key] = make_document(rng, depth + 1)
        elif depth < 2 and r < 0.3:
            out[key] = [_scalar(rng) for _ in range(rng.randint(0, 4))]
        elif depth < 1 and r < 0.38:
            out[key] = [make_document(rng, depth + 2) for _ in range(rng.randint(1, 3))]
        else:
            out[key] = _scalar(rng)
    return out


# -- rendering with mistakes -------------------------------------------------------------------------------
@dataclass
class Style:
    indent: int | None = None
    quote: str = '"'
    bare_keys: bool = False
    literals: str = "json"
    ensure_ascii: bool = False
    trailing_comma: float = 0.0
    missing_comma: float = 0.0
    comments: float = 0.0
    raw_quotes: bool = False
    raw_newlines: bool = False


@dataclass
class _Node:
    kind: str
    start: int
    end: int = 0
    value: Any = None
    children: list[tuple[Any, int, _Node]] = field(default_factory=list)


_PY = {True: "True", False: "False", None: "None"}
_JS = {True: "true", False: "false", None: "undefined"}
_JSON = {True: "true", False: "false", None: "null"}


class Renderer:
    def __init__(self, style: Style, rng: random.Random) -> None:
        self.s = style
        self.rng = rng
        self.parts: list[str] = []
        self.pos = 0

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += len(text)

    def render(self, value: Any) -> tuple[str, _Node]:
        node = self.value(value, 0)
        return "".join(self.parts), node

    def quote_string(self, text: str) -> str:
        s = self.s
        body = json.dumps(text, ensure_ascii=s.ensure_ascii)[1:-1]
        if s.raw_quotes:
            body = body.replace('\\"', '"')
        if s.raw_newlines:
            body = body.replace("\\n", "\n")
        if s.quote == "'":
            body = body.replace('\\"', '"').replace("'", "\\'")
            return f"'{body}'"
        if s.quote == "smart":
            return f"\u201c{body}\u201d"
        return f'"{body}"'

    def newline(self, level: int) -> str:
        return "" if self.s.indent is None else "\n" + " " * (self.s.indent * level)

    def comment(self, level: int) -> None:
        if self.rng.random() < self.s.comments:
            kind = self.rng.choice(("//", "#", "/*"))
            if kind == "/*":
                self.emit(" /* note */ ")
            else:
                self.emit(f" {kind} note\n" + " " * ((self.s.indent or 0) * level))

    def separator(self, level: int) -> None:
        if self.rng.random() < self.s.missing_comma:
            self.emit(self.newline(level) or " ")
        else:
            self.emit("," + (self.newline(level) or " "))

    def value(self, value: Any, level: int) -> _Node:
        if isinstance(value, dict):
            node = _Node("obj", self.pos)
            self.emit("{")
            for n, (k, v) in enumerate(value.items()):
                if n:
                    self.separator(level + 1)
                else:
                    self.emit(self.newline(level + 1))
                self.comment(level + 1)
                self.emit(k if self.s.bare_keys else self.quote_string(k))
                key_end = self.pos
                self.emit(": ")
                child = self.value(v, level + 1)
                node.children.append((k, key_end, child))
            if value and self.rng.random() < self.s.trailing_comma:
                self.emit(",")
            self.emit(self.newline(level) + "}")
            node.end = self.pos
            return node
        if isinstance(value, list):
            node = _Node("arr", self.pos)
            self.emit("[")
            for n, v in enumerate(value):
                if n:
                    self.separator(level + 1)
                else:
                    self.emit(self.newline(level + 1))
                self.comment(level + 1)
                node.children.append((n, 0, self.value(v, level + 1)))
            if value and self.rng.random() < self.s.trailing_comma:
                self.emit(",")
            self.emit(self.newline(level) + "]")
            node.end = self.pos
            return node
        start = self.pos
        if isinstance(value, str):
            self.emit(self.quote_string(value))
            return _Node("str", start, self.pos, value)
        if isinstance(value, bool) or value is None:
            table = _PY if self.s.literals == "python" else _JS if self.s.literals == "js" else _JSON
            self.emit(table[value])
            return _Node("lit", start, self.pos, value)
        self.emit(json.dumps(value))
        return _Node("num", start, self.pos, value)


def prune(node: _Node, cut: int) -> Any:
    """The value whose text survives a cut at ``cut`` (see the module docstring); ``_MISSING`` if none."""
    if node.kind in ("obj", "arr"):
        if node.start >= cut:
            return _MISSING
        if node.kind == "obj":
            obj: dict[str, Any] = {}
            for key, key_end, child in node.children:
                if key_end > cut:
                    break
                v = prune(child, cut)
                if v is _MISSING:
                    break
                obj[key] = v
            return obj
        arr: list[Any] = []
        for _, _, child in node.children:
            v = prune(child, cut)
            if v is _MISSING:
                break
            arr.append(v)
        return arr
    if node.kind == "num":
        return node.value if node.end < cut else _MISSING
    return node.value if node.end <= cut else _MISSING


# -- failure modes ------------------------------------------------------------------------------------------
def _string_paths(doc: Any, path: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += [path + (k,)] if isinstance(v, str) else _string_paths(v, path + (k,))
    elif isinstance(doc, list):
        for n, v in enumerate(doc):
            out += [path + (n,)] if isinstance(v, str) else _string_paths(v, path + (n,))
    return out


def _set(doc: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


def _put_somewhere(rng: random.Random, doc: dict[str, Any], value: Any) -> None:
    paths = _string_paths(doc)
    if paths:
        _set(doc, rng.choice(paths), value)
    else:
        doc["notes"] = value


def _prepare(rng: random.Random, doc: dict[str, Any], modes: tuple[str, ...], style: Style) -> None:
    style.indent = rng.choice((None, 2, 2, 4))
    for mode in modes:
        if mode == "trailing_comma":
            style.trailing_comma = 0.5
        elif mode == "single_quotes":
            style.quote = "'"
        elif mode == "smart_quotes":
            style.quote = "smart"
        elif mode == "unquoted_keys":
            style.bare_keys = True
        elif mode in ("python_literals", "js_literals"):
            style.literals = "python" if mode == "python_literals" else "js"
            doc.setdefault("enabled", True)
            doc.setdefault("parent", None)
        elif mode == "comments":
            style.comments = 0.35
        elif mode == "missing_commas":
            style.missing_comma = 0.4
        elif mode == "unescaped_quotes":
            style.raw_quotes = True
            a, b, c = (rng.choice(WORDS) for _ in range(3))
            _put_somewhere(rng, doc, rng.choice((f'{a} "{b}" {c}', f'the "{b} {c}" {a}', f'{a} said "{b}."')))
        elif mode == "raw_newlines":
            style.raw_newlines = True
            _put_somewhere(rng, doc, f"{rng.choice(WORDS)} {rng.choice(WORDS)}\n{rng.choice(WORDS)}\n- {rng.choice(WORDS)}")
        elif mode == "escaped_surrogates":
            style.ensure_ascii = True
            style.trailing_comma = max(style.trailing_comma, 0.5)
            _put_somewhere(rng, doc, f"{rng.choice(WORDS)} {rng.choice(EMOJI)} {rng.choice(EMOJI)}")
    if "in_sentence" in modes:
        style.indent = None


_INTROS = ("Here is the JSON you asked for:", "Sure! Below is the result.", "Certainly. The output (as JSON):",
           "Based on the document, here is the extracted data:")
_OUTROS = ("Let me know if you need anything else.", "Note: values are approximate (see above).",
           "I hope this helps! {Feel free} to ask [more].")


def _wrap(rng: random.Random, text: str, modes: tuple[str, ...]) -> tuple[str, int]:
    offset = 0
    if "concatenated" in modes:
        text = text + "\n" + text
    if "fence" in modes:
        text = "```json\n" + text + "\n```"
        offset += 8
    if "several_fences" in modes:
        head = "Install the client first:\n```bash\npip install client\n```\nThen use this config:\n```json\n"
        text = head + text + "\n```\nAnd run `client --config cfg.json`."
        offset += len(head)
    if "prose" in modes:
        head = rng.choice(_INTROS) + "\n\n"
        text = head + text + "\n\n" + rng.choice(_OUTROS)
        offset += len(head)
    if "in_sentence" in modes:
        head = "The record is "
        text = head + text + " and nothing else changed."
        offset += len(head)
    return text, offset


def json_case(rng: random.Random, modes: tuple[str, ...]) -> Case:
    """One broken JSON text exhibiting all of ``modes`` (retries until the text is really invalid JSON)."""
    for _ in range(20):
        doc = make_document(rng)
        style = Style()
        _prepare(rng, doc, modes, style)
        body, tree = Renderer(style, rng).render(doc)
        text, offset = _wrap(rng, body, modes)
        truth: Any = doc
        truncated = "truncation" in modes
        if truncated:
            cut = rng.randint(1, len(body) - 1)
            text = text[: offset + cut]
            truth = prune(tree, cut)
        try:
            json.loads(text)
        except ValueError:
            return Case("+".join(modes), text, truth, doc, truncated)
    raise RuntimeError(f"could not break a document with {modes}")


def json_corpus(n_per_mode: int = 200, seed: int = 0, combos: bool = True) -> list[Case]:
    """``n_per_mode`` cases for every single mode (and every combination when ``combos``)."""
    rng = random.Random(seed)
    modes: list[tuple[str, ...]] = [(m,) for m in JSON_SINGLE_MODES]
    if combos:
        modes += list(JSON_COMBOS)
    return [json_case(rng, m) for m in modes for _ in range(n_per_mode)]


def valid_corpus(n: int = 200, seed: int = 0) -> list[Case]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        doc = make_document(rng)
        out.append(Case("valid", json.dumps(doc, ensure_ascii=False, indent=rng.choice((None, 2))), doc, doc))
    return out


# -- YAML -------------------------------------------------------------------------------------------------
def _yaml_doc(rng: random.Random) -> dict[str, Any]:
    doc = make_document(rng)
    return json.loads(json.dumps(doc))


def yaml_case(rng: random.Random, mode: str) -> Case:
    import yaml

    for _ in range(30):
        doc = _yaml_doc(rng)
        if mode == "colon_in_value":
            doc["summary"] = f"{rng.choice(WORDS).title()}: {rng.choice(WORDS)} {rng.choice(WORDS)}"
        body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False)
        lines = body.rstrip("\n").split("\n")
        truth: Any = doc
        truncated = False
        if mode == "fence":
            text = "```yaml\n" + body + "```\n"
        elif mode == "prose":
            text = "Here is the YAML you asked for:\n\n" + body + "\nLet me know if you need any changes."
        elif mode == "tabs":
            text = "\n".join("\t" * ((len(l) - len(l.lstrip(" "))) // 2) + l.lstrip(" ") for l in lines) + "\n"
        elif mode == "misindent":
            cands = [n for n, l in enumerate(lines) if l.startswith("  ") and ": " in l and not l.lstrip().startswith("-")
                     and n > 0 and lines[n - 1].startswith("  ")]
            if not cands:
                continue
            n = rng.choice(cands)
            lines[n] = " " + lines[n] if rng.random() < 0.5 else lines[n][1:]
            text = "\n".join(lines) + "\n"
        elif mode == "colon_in_value":
            text = "\n".join(l.replace(f"'{doc['summary']}'", doc["summary"]) for l in lines) + "\n"
            if doc["summary"] not in text or f"'{doc['summary']}'" in text:
                continue
        elif mode == "no_space_after_colon":
            cands = [n for n, l in enumerate(lines) if ": " in l and not l.rstrip().endswith(":")
                     and not l.lstrip().startswith("-") and l.split(": ", 1)[1][:1] not in "'\"&*!|>{[-"]
            if not cands:
                continue
            n = rng.choice(cands)
            lines[n] = lines[n].replace(": ", ":", 1)
            text = "\n".join(lines) + "\n"
        elif mode == "stray_markers":
            where = rng.choice(("start", "end", "middle"))
            if where == "middle":
                tops = [n for n, l in enumerate(lines) if n > 0 and l and not l[0].isspace() and not l.startswith("-")]
                if not tops:
                    continue
                n = rng.choice(tops)
                lines.insert(n, "---")
                text = "\n".join(lines) + "\n"
            elif where == "start":
                text = "---\n" + body + "...\n---\n"
            else:
                text = body + "...\n"
        elif mode == "truncation":
            cut = rng.randint(1, len(body) - 1)
            text = body[:cut]
            truncated = True
        else:
            raise ValueError(mode)
        if mode in ("fence", "prose", "stray_markers", "truncation", "no_space_after_colon") or _yaml_differs(text, doc):
            return Case(mode, text, truth, doc, truncated, "yaml")
    raise RuntimeError(f"could not break a YAML document with {mode}")


def _yaml_differs(text: str, doc: Any) -> bool:
    import yaml

    try:
        return not deep_equal(yaml.safe_load(text), doc)
    except yaml.YAMLError:
        return True


def yaml_corpus(n_per_mode: int = 100, seed: int = 0) -> list[Case]:
    rng = random.Random(seed)
    return [yaml_case(rng, m) for m in YAML_MODES for _ in range(n_per_mode)]


# -- judging ----------------------------------------------------------------------------------------------
def deep_equal(a: Any, b: Any) -> bool:
    """Equality that tells ``True`` from ``1`` and treats NaN as equal to NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def consistent_prefix(got: Any, full: Any) -> bool:
    """True when ``got`` is what a cut-off ``full`` may soundly become: complete members, the last one possibly
    itself cut (a container with fewer members, or a string prefix), nothing invented or altered."""
    if isinstance(full, dict):
        if not isinstance(got, dict) or list(got) != list(full)[: len(got)]:
            return False
        keys = list(got)
        return all(deep_equal(got[k], full[k]) for k in keys[:-1]) and (
            not keys or consistent_prefix(got[keys[-1]], full[keys[-1]]))
    if isinstance(full, list):
        if not isinstance(got, list) or len(got) > len(full):
            return False
        return all(deep_equal(x, y) for x, y in zip(got[:-1], full)) and (
            not got or consistent_prefix(got[-1], full[len(got) - 1]))
    if isinstance(full, str) and isinstance(got, str):
        return full.startswith(got)
    return deep_equal(got, full)
