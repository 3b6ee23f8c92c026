"""EBNF grammars in the GBNF / xgrammar dialect -> the grammar IR (``constrain.grammar.ir.Grammar``).

Syntax (as xgrammar's EBNF parser reads it)::

    root ::= "a" rule ("b" | [c-e]+)* "f"{2,3}   # a comment
    rule ::= [^"\\] | "\\" ["nt]

* A rule is ``name ::= body``; a body may span lines and ends where the next ``name ::=`` starts (a rule
  name must be the first token on its line). Names are made of letters, digits, ``_``, ``-`` and ``.``
  (not starting with a digit). Each name is defined once; ``start`` (default ``root``) must be defined.
* Alternation ``|``, sequences, parentheses, ``( )`` and ``""`` for the empty string, ``#`` comments.
* String literals ``"..."`` on one line, with the escapes ``\\' \\" \\? \\\\ \\/ \\a \\b \\f \\n \\r \\t \\v
  \\0 \\e``, ``\\x`` followed by any number of hex digits, ``\\uHHHH`` and ``\\UHHHHHHHH``.
* Character classes ``[...]`` and ``[^...]`` over code points, with ranges ``a-z``; a ``-`` that cannot
  form a range is a literal dash; inside a class ``\\^ \\$ \\. \\* \\+ \\( \\) \\[ \\] \\{ \\} \\| \\-``
  are literal characters too. A negated class also matches newlines.
* One quantifier per element: ``*``, ``+``, ``?``, ``{m}``, ``{m,}``, ``{m,n}`` (spaces allowed inside
  the braces; ``{m, -1}`` is xgrammar's printed form of ``{m,}``).

There is no ``.`` wildcard: ``.`` is a name character, so a lone ``.`` is a reference to a rule named ``.``.

Compilation: every maximal sub-expression that references no rule becomes ONE lexeme (a Python regex over
code points, matched with fullmatch semantics); consecutive rule-free elements of a sequence join into one
lexeme. A sub-expression that can match the empty string becomes an optional lexeme (a helper rule with an
empty alternative), and one that can only match the empty string becomes nothing. Repetitions of
expressions that reference rules become helper rules: ``{m,n}`` is expanded exactly (``m`` copies and
``n - m`` nested optional copies) and unbounded repetition uses a left-recursive rule. No whitespace is
implicitly allowed anywhere.

Refused, with a ``GrammarError`` that names the construct, line and column: lookahead assertions
``(= ...)`` (they restrict what may follow a rule, so dropping them can change the language), xgrammar's
macros (``TagDispatch``, ``Regex``, ``Substring``, ``Token``, ``ExcludeToken``, ``TokenTagDispatch``), rule
attributes such as ``name[max_tokens=...]`` or ``name[lazy]``, the class escapes ``\\d \\D \\s \\S \\w \\W``
(xgrammar refuses them in EBNF too), classes that match no character, code points above U+10FFFF or in the
surrogate range, undefined or duplicate rules, a missing start rule, and every syntax error.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Union

from constrain.errors import GrammarError
from constrain.grammar.ir import Grammar, Lexeme, Origin, Rule
from constrain.grammar.source import read_source

__all__ = ["load_ebnf"]

MACROS = frozenset({"TagDispatch", "Regex", "Substring", "Token", "ExcludeToken", "TokenTagDispatch"})
"""xgrammar's built-in macro names: an identifier with one of these names is a macro call, never a rule."""

_STRING_ESCAPES = {"'": "'", '"': '"', "?": "?", "\\": "\\", "/": "/", "a": "\a", "b": "\b", "f": "\f",
                   "n": "\n", "r": "\r", "t": "\t", "v": "\v", "0": "\0", "e": "\x1b"}
_CLASS_ESCAPES = {**_STRING_ESCAPES, **{c: c for c in "^$.*+()[]{}|-"}}
_CLASS_SHORTHANDS = frozenset("dDsSwW")
_NAME_START = re.compile(r"[A-Za-z_.\-]")
_NAME = re.compile(r"[A-Za-z_.\-][A-Za-z0-9_.\-]*")
_ATTRIBUTES = re.compile(r"\[[^\]\n]*\][ \t]*::=")
_MAX_INTEGER = 10 ** 15
_MAX_NESTING = 200
_MAX_CODEPOINT = 0x10FFFF


# ----------------------------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Token:
    """One lexical token: ``kind`` is a punctuation string (``"::="``, ``"|"``, ...) or one of ``name``,
    ``rule`` (a name followed by ``::=``), ``string``, ``class``, ``int``, ``eof``."""

    kind: str
    text: str
    line: int
    column: int
    value: object = None


@dataclass(frozen=True)
class _CharClass:
    """A character class: inclusive code point ranges, possibly negated."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool


class _Lexer:
    """Splits EBNF text into tokens, tracking 1-based line and column (in characters)."""

    def __init__(self, text: str, source: str | None) -> None:
        self.text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.source = source
        self.pos = 0
        self.line = 1
        self.column = 1

    def error(self, message: str, line: int | None = None, column: int | None = None,
              symbol: str | None = None) -> GrammarError:
        return GrammarError(message, symbol, line or self.line, column or self.column, self.source)

    def peek(self, delta: int = 0) -> str:
        i = self.pos + delta
        return self.text[i] if i < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.text[self.pos] == "\n":
                self.line += 1
                self.column = 1
            else:
                self.column += 1
            self.pos += 1

    def skip_space(self) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t\n":
                self.advance()
            elif c == "#":
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.advance()
            else:
                return

    def tokens(self) -> list[_Token]:
        """Every token, ending with ``eof``; a name followed by ``::=`` becomes a ``rule`` token."""
        out: list[_Token] = []
        while True:
            self.skip_space()
            token = self.next_token()
            out.append(token)
            if token.kind == "eof":
                break
        for i, token in enumerate(out):
            if token.kind != "::=":
                continue
            if i == 0 or out[i - 1].kind != "name":
                raise self.error("'::=' must follow a rule name", token.line, token.column)
            name = out[i - 1]
            if i >= 2 and out[i - 2].line == name.line:
                raise self.error(f"rule name '{name.text}' must be the first token on its line", name.line,
                                 name.column, name.text)
            out[i - 1] = _Token("rule", name.text, name.line, name.column)
        return out

    def next_token(self) -> _Token:
        line, column = self.line, self.column
        c = self.peek()
        if not c:
            return _Token("eof", "", line, column)
        if c == "(" and self.peek(1) == "=":
            self.advance(2)
            return _Token("(=", "(=", line, column)
        if c in "(){}|,*+?=":
            self.advance()
            return _Token(c, c, line, column)
        if c == ":":
            if self.text.startswith("::=", self.pos):
                self.advance(3)
                return _Token("::=", "::=", line, column)
            raise self.error("unexpected character ':' (a rule is written 'name ::= ...')")
        if c == '"':
            return self.string()
        if c == "[":
            return self.char_class()
        if _NAME_START.match(c):
            return self.name()
        if c.isdigit():
            return self.integer()
        raise self.error(f"unexpected character {c!r}")

    def name(self) -> _Token:
        line, column = self.line, self.column
        m = _NAME.match(self.text, self.pos)
        assert m is not None
        self.advance(len(m.group()))
        attributes = _ATTRIBUTES.match(self.text, self.pos)
        if attributes is not None:
            block = attributes.group().split("]")[0] + "]"
            raise self.error(f"rule attribute {block} on '{m.group()}' is not supported (it changes or "
                             "annotates the language in ways that cannot be enforced here)", line, column,
                             m.group())
        return _Token("name", m.group(), line, column)

    def integer(self) -> _Token:
        line, column = self.line, self.column
        m = re.compile(r"[0-9]+").match(self.text, self.pos)
        assert m is not None
        value = int(m.group())
        if value > _MAX_INTEGER:
            raise self.error(f"integer {m.group()} is too large (at most {_MAX_INTEGER})")
        self.advance(len(m.group()))
        return _Token("int", m.group(), line, column, value)

    def escape(self, escapes: dict[str, str]) -> str:
        """Read one escape sequence (at a backslash) and return the character it denotes."""
        line, column = self.line, self.column
        kind = self.peek(1)
        if kind in escapes:
            self.advance(2)
            return escapes[kind]
        if kind == "x":
            m = re.compile(r"[0-9A-Fa-f]+").match(self.text, self.pos + 2)
            if m is None:
                raise self.error("invalid escape sequence '\\x' (expected hex digits)")
            digits = m.group()
        elif kind in ("u", "U"):
            width = 4 if kind == "u" else 8
            digits = self.text[self.pos + 2:self.pos + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
                raise self.error(f"invalid escape sequence '\\{kind}' (expected {width} hex digits)")
        elif kind in _CLASS_SHORTHANDS and escapes is _CLASS_ESCAPES:
            raise self.error(f"character class escape '\\{kind}' is not supported in EBNF (write the "
                             "characters out, e.g. [0-9] for \\d)")
        else:
            shown = kind if kind and kind != "\n" else "end of line"
            raise self.error(f"invalid escape sequence '\\{shown}'")
        codepoint = int(digits, 16)
        if codepoint > _MAX_CODEPOINT or 0xD800 <= codepoint <= 0xDFFF:
            raise self.error(f"escape '\\{kind}{digits}' is not a valid code point", line, column)
        self.advance(2 + len(digits))
        return chr(codepoint)

    def string(self) -> _Token:
        line, column = self.line, self.column
        start = self.pos
        self.advance()
        chars: list[str] = []
        while True:
            c = self.peek()
            if not c or c == "\n":
                raise self.error("unterminated string literal (strings end on the same line)", line, column)
            if c == '"':
                self.advance()
                break
            if c == "\\":
                chars.append(self.escape(_STRING_ESCAPES))
            else:
                chars.append(c)
                self.advance()
        return _Token("string", self.text[start:self.pos], line, column, "".join(chars))

    def char_class(self) -> _Token:
        line, column = self.line, self.column
        start = self.pos
        self.advance()
        negated = self.peek() == "^"
        if negated:
            self.advance()
        items: list[tuple[str, str, int, int]] = []  # (kind 'char' | 'dash', char, line, column)
        while True:
            c = self.peek()
            if not c:
                raise self.error("unterminated character class", line, column)
            if c == "\n":
                raise self.error("character class must not contain a newline", line, column)
            if c == "]":
                self.advance()
                break
            where = (self.line, self.column)
            if c == "-":
                items.append(("dash", "-", *where))
                self.advance()
            elif c == "\\":
                items.append(("char", self.escape(_CLASS_ESCAPES), *where))
            else:
                items.append(("char", c, *where))
                self.advance()
        ranges = self.class_ranges(items)
        text = self.text[start:self.pos]
        if not ranges and not negated:
            raise self.error(f"character class {text} matches no character", line, column)
        cls = _CharClass(tuple(ranges), negated)
        if negated and _complement(cls.ranges) == []:
            raise self.error(f"character class {text} matches no character", line, column)
        return _Token("class", text, line, column, cls)

    def class_ranges(self, items: list[tuple[str, str, int, int]]) -> list[tuple[int, int]]:
        """Pair items into ranges: ``x-y`` when a dash is followed by another item, else single items."""
        ranges = []
        i = 0
        while i < len(items):
            low = items[i][1]
            if i + 2 < len(items) and items[i + 1][0] == "dash":
                high = items[i + 2][1]
                if ord(low) > ord(high):
                    raise self.error(f"character range {low!r}-{high!r} is reversed", items[i][2], items[i][3])
                ranges.append((ord(low), ord(high)))
                i += 3
            else:
                ranges.append((ord(low), ord(low)))
                i += 1
        return ranges


# ----------------------------------------------------------------------------------------------- syntax tree

@dataclass(frozen=True)
class _Lit:
    text: str
    origin: Origin = field(compare=False)


@dataclass(frozen=True)
class _Class:
    cls: _CharClass
    origin: Origin = field(compare=False)


@dataclass(frozen=True)
class _Ref:
    name: str
    origin: Origin = field(compare=False)


@dataclass(frozen=True)
class _Seq:
    items: tuple["_Node", ...]
    origin: Origin = field(compare=False)


@dataclass(frozen=True)
class _Alt:
    items: tuple["_Node", ...]
    origin: Origin = field(compare=False)


@dataclass(frozen=True)
class _Rep:
    item: "_Node"
    low: int
    high: int | None  # None: unbounded
    origin: Origin = field(compare=False)


_Node = Union[_Lit, _Class, _Ref, _Seq, _Alt, _Rep]


class _Parser:
    """Recursive descent over the tokens into one syntax tree per rule."""

    def __init__(self, tokens: list[_Token], source: str | None) -> None:
        self.tokens = tokens
        self.source = source
        self.i = 0
        self.depth = 0
        self.rule_names = {t.text for t in tokens if t.kind == "rule"}

    def origin(self, token: _Token) -> Origin:
        return Origin(token.line, token.column, self.source)

    def error(self, message: str, token: _Token | None = None, symbol: str | None = None) -> GrammarError:
        token = token or self.peek()
        return GrammarError(message, symbol, token.line, token.column, self.source)

    def peek(self, delta: int = 0) -> _Token:
        return self.tokens[min(self.i + delta, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.i += 1
        return token

    def expect(self, kind: str, what: str) -> _Token:
        if self.peek().kind != kind:
            raise self.error(f"expected {what}, got {_describe(self.peek())}")
        return self.take()

    def rules(self) -> list[tuple[_Token, _Node]]:
        out = []
        while self.peek().kind != "eof":
            name = self.expect("rule", "a rule definition 'name ::= ...'")
            self.expect("::=", "'::='")
            body = self.choices()
            if self.peek().kind == "(=":
                raise self.error(f"lookahead assertion '(= ...)' in rule '{name.text}' is not supported: it "
                                 "restricts what may follow the rule, so ignoring it could change the language",
                                 symbol=name.text)
            if self.peek().kind not in ("rule", "eof"):
                raise self.error(f"unexpected {_describe(self.peek())} in rule '{name.text}'")
            out.append((name, body))
        return out

    def choices(self) -> _Node:
        first = self.peek()
        items = [self.sequence()]
        while self.peek().kind == "|":
            self.take()
            items.append(self.sequence())
        return items[0] if len(items) == 1 else _Alt(tuple(items), self.origin(first))

    def sequence(self) -> _Node:
        first = self.peek()
        items = [self.quantified()]
        while self.peek().kind not in ("|", ")", "(=", "rule", "eof"):
            items.append(self.quantified())
        return items[0] if len(items) == 1 else _Seq(tuple(items), self.origin(first))

    def quantified(self) -> _Node:
        first = self.peek()
        node = self.element()
        kind = self.peek().kind
        if kind in ("*", "+", "?"):
            self.take()
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[kind]
            return _Rep(node, low, high, self.origin(first))
        if kind == "{":
            low, high = self.repetition_range()
            return _Rep(node, low, high, self.origin(first))
        return node

    def repetition_range(self) -> tuple[int, int | None]:
        self.take()
        low = self.expect("int", "a repetition count").value
        assert isinstance(low, int)
        if self.peek().kind == "}":
            self.take()
            return low, low
        self.expect(",", "',' or '}' in a repetition range")
        if self.peek().kind == "}":
            self.take()
            return low, None
        if self.peek().kind == "name" and self.peek().text == "-1":
            self.take()
            self.expect("}", "'}'")
            return low, None
        upper = self.expect("int", "an upper repetition bound")
        high = upper.value
        assert isinstance(high, int)
        if high < low:
            raise self.error(f"repetition range {{{low},{high}}} has its upper bound below its lower bound", upper)
        self.expect("}", "'}'")
        return low, high

    def element(self) -> _Node:
        token = self.peek()
        origin = self.origin(token)
        if token.kind == "(":
            self.take()
            if self.peek().kind == ")":
                self.take()
                return _Lit("", origin)
            self.depth += 1
            if self.depth > _MAX_NESTING:
                raise self.error(f"parentheses nested more than {_MAX_NESTING} deep", token)
            node = self.choices()
            self.depth -= 1
            self.expect(")", "')'")
            return node
        if token.kind == "string":
            self.take()
            return _Lit(str(token.value), origin)
        if token.kind == "class":
            self.take()
            assert isinstance(token.value, _CharClass)
            return _Class(token.value, origin)
        if token.kind == "name":
            if token.text in MACROS:
                raise self.error(f"macro {token.text}(...) is an xgrammar extension that is not supported",
                                 token, token.text)
            if token.text in ("true", "false"):
                raise self.error(f"expected an element, got the boolean {token.text}", token)
            if token.text not in self.rule_names:
                raise self.error(f"rule '{token.text}' is used but not defined", token, token.text)
            self.take()
            return _Ref(token.text, origin)
        if token.kind == "(=":
            raise self.error("lookahead assertion '(= ...)' is only allowed at the end of a rule, and is not "
                             "supported", token)
        raise self.error(f"expected an element, got {_describe(token)}", token)


def _describe(token: _Token) -> str:
    if token.kind == "eof":
        return "end of input"
    if token.kind == "rule":
        return f"the start of rule '{token.text}'"
    return repr(token.text)


# ----------------------------------------------------------------------------------------------- regexes

def _complement(ranges: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The code point ranges not covered by ``ranges``."""
    out = []
    nxt = 0
    for low, high in sorted(ranges):
        if low > nxt:
            out.append((nxt, low - 1))
        nxt = max(nxt, high + 1)
    if nxt <= _MAX_CODEPOINT:
        out.append((nxt, _MAX_CODEPOINT))
    return out


def _char(codepoint: int) -> str:
    """A regex atom for one code point, valid inside and outside a class."""
    c = chr(codepoint)
    if c.isascii() and (c.isalnum() or c == "_"):
        return c
    if codepoint <= 0xFF:
        return f"\\x{codepoint:02x}"
    if codepoint <= 0xFFFF:
        return f"\\u{codepoint:04x}"
    return f"\\U{codepoint:08x}"


def _class_regex(cls: _CharClass) -> str:
    ranges = _complement(cls.ranges) if cls.negated else sorted(cls.ranges)
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0])
    parts = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    return f"[{parts}]"


def _regex(node: _Node) -> str:
    """A Python regex for a rule-free node (fullmatch semantics)."""
    if isinstance(node, _Lit):
        return "".join(_char(ord(c)) for c in node.text)
    if isinstance(node, _Class):
        return _class_regex(node.cls)
    if isinstance(node, _Seq):
        return "".join(f"(?:{_regex(i)})" if isinstance(i, _Alt) else _regex(i) for i in node.items)
    if isinstance(node, _Alt):
        return "|".join(_regex(i) for i in node.items)
    if isinstance(node, _Rep):
        atom = _regex(node.item)
        if not (isinstance(node.item, _Class) or (isinstance(node.item, _Lit) and len(node.item.text) == 1)):
            atom = f"(?:{atom})"
        if (node.low, node.high) == (0, None):
            return atom + "*"
        if (node.low, node.high) == (1, None):
            return atom + "+"
        if (node.low, node.high) == (0, 1):
            return atom + "?"
        if node.high is None:
            return f"{atom}{{{node.low},}}"
        if node.low == node.high:
            return f"{atom}{{{node.low}}}"
        return f"{atom}{{{node.low},{node.high}}}"
    raise TypeError(f"not a rule-free node: {node!r}")


def _nullable(node: _Node) -> bool:
    """Whether a rule-free node matches the empty string."""
    if isinstance(node, _Lit):
        return node.text == ""
    if isinstance(node, _Class):
        return False
    if isinstance(node, _Seq):
        return all(_nullable(i) for i in node.items)
    if isinstance(node, _Alt):
        return any(_nullable(i) for i in node.items)
    if isinstance(node, _Rep):
        return node.low == 0 or _nullable(node.item)
    raise TypeError(f"not a rule-free node: {node!r}")


def _only_empty(node: _Node) -> bool:
    """Whether a rule-free node matches the empty string and nothing else."""
    if isinstance(node, _Lit):
        return node.text == ""
    if isinstance(node, _Class):
        return False
    if isinstance(node, (_Seq, _Alt)):
        return all(_only_empty(i) for i in node.items)
    if isinstance(node, _Rep):
        return node.high == 0 or _only_empty(node.item)
    raise TypeError(f"not a rule-free node: {node!r}")


def _non_empty(node: _Node) -> _Node | None:
    """A rule-free node for the language of ``node`` minus the empty string (``None`` if that is empty)."""
    if not _nullable(node):
        return node
    if isinstance(node, _Lit):
        return None
    if isinstance(node, _Alt):
        parts = [p for p in (_non_empty(i) for i in node.items) if p is not None]
        return _alt(parts, node.origin)
    if isinstance(node, _Rep):
        if node.high == 0:
            return None
        inner = node.item if not _nullable(node.item) else _non_empty(node.item)
        if inner is None or node.high == 1:
            return inner
        return _Rep(inner, 1, node.high, node.origin)
    assert isinstance(node, _Seq)
    # Every item is nullable: a non-empty word starts with a non-empty word of some item i, after which the
    # rest follows unchanged; the earlier items contributed nothing.
    tail: _Node | None = None
    items = node.items
    for i in range(len(items) - 1, -1, -1):
        head = _non_empty(items[i])
        part = None if head is None else _seq([head, *items[i + 1:]], node.origin)
        tail = _alt([p for p in (part, tail) if p is not None], node.origin)
    return tail


def _alt(parts: list[_Node], origin: Origin) -> _Node | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else _Alt(tuple(parts), origin)


def _seq(parts: list[_Node], origin: Origin) -> _Node:
    return parts[0] if len(parts) == 1 else _Seq(tuple(parts), origin)


def _literal_text(node: _Node) -> str | None:
    """The one string a node denotes when it is a literal or a sequence of literals."""
    if isinstance(node, _Lit):
        return node.text
    if isinstance(node, _Seq):
        parts = [_literal_text(i) for i in node.items]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    return None


# ----------------------------------------------------------------------------------------------- compiler

class _Compiler:
    """Turns syntax trees into IR rules and lexemes, naming helpers ``<rule>:<kind><n>`` (``:`` never
    occurs in an EBNF name, so helpers cannot clash with user rules)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.lexemes: dict[str, Lexeme] = {}
        self.by_pattern: dict[str, str] = {}
        self.origins: dict[str, Origin] = {}
        self.counter = 0
        self.current = ""
        self.free: dict[int, bool] = {}

    def fresh(self, kind: str, origin: Origin) -> str:
        self.counter += 1
        name = f"{self.current}:{kind}{self.counter}"
        self.origins[name] = origin
        return name

    def rule_free(self, node: _Node) -> bool:
        """Whether ``node`` references no rule (memoized by identity)."""
        key = id(node)
        if key not in self.free:
            if isinstance(node, _Ref):
                result = False
            elif isinstance(node, (_Lit, _Class)):
                result = True
            elif isinstance(node, _Rep):
                result = self.rule_free(node.item)
            else:
                result = all(self.rule_free(i) for i in node.items)
            self.free[key] = result
        return self.free[key]

    def define(self, name: str, body: _Node, origin: Origin) -> None:
        self.current = name
        self.origins[name] = origin
        for rhs in self.alternatives(body):
            self.rules.append(Rule(name, tuple(rhs)))

    def alternatives(self, node: _Node) -> list[list[str]]:
        """Right-hand sides whose union derives ``node``; rule-free alternatives merge into one lexeme (plus
        an empty right-hand side when they match the empty string)."""
        if self.rule_free(node):
            return self.free_alternatives(node)
        if not isinstance(node, _Alt):
            return [self.symbols(node)]
        merged = _alt([i for i in node.items if self.rule_free(i)], node.origin)
        out = self.free_alternatives(merged) if merged is not None else []
        return out + [self.symbols(i) for i in node.items if not self.rule_free(i)]

    def free_alternatives(self, node: _Node) -> list[list[str]]:
        """Right-hand sides for a rule-free node: empty and/or one lexeme."""
        if _only_empty(node):
            return [[]]
        if _nullable(node):
            inner = _non_empty(node)
            assert inner is not None
            return [[], [self.lexeme(inner)]]
        return [[self.lexeme(node)]]

    def symbols(self, node: _Node) -> list[str]:
        """A sequence of symbols deriving exactly the language of ``node``."""
        if self.rule_free(node):
            return self.lexeme_symbols(node)
        if isinstance(node, _Ref):
            return [node.name]
        if isinstance(node, _Seq):
            out: list[str] = []
            run: list[_Node] = []
            for item in (*node.items, None):
                if item is not None and self.rule_free(item):
                    run.append(item)
                    continue
                if run:
                    out += self.lexeme_symbols(_seq(run, run[0].origin))
                    run = []
                if item is not None:
                    out += self.symbols(item)
            return out
        if isinstance(node, _Alt):
            name = self.fresh("alt", node.origin)
            for rhs in self.alternatives(node):
                self.rules.append(Rule(name, tuple(rhs)))
            return [name]
        assert isinstance(node, _Rep)
        return self.repetition(node)

    def single(self, node: _Node) -> str | None:
        """One symbol deriving ``node`` (``None`` when ``node`` only derives the empty string)."""
        syms = self.symbols(node)
        if len(syms) == 1:
            return syms[0]
        if not syms:
            return None
        name = self.fresh("group", node.origin)
        self.rules.append(Rule(name, tuple(syms)))
        return name

    def repetition(self, node: _Rep) -> list[str]:
        """Exact expansion of a repetition of an expression that references rules."""
        item = self.single(node.item)
        if item is None or node.high == 0:
            return []
        out = [item] * node.low
        if node.high is None:
            star = self.fresh("star", node.origin)
            self.rules.append(Rule(star, ()))
            self.rules.append(Rule(star, (star, item)))
            return out + [star]
        previous: str | None = None
        for _ in range(node.high - node.low):
            opt = self.fresh("opt", node.origin)
            self.rules.append(Rule(opt, ()))
            self.rules.append(Rule(opt, (item,) if previous is None else (item, previous)))
            previous = opt
        return out + ([previous] if previous is not None else [])

    def lexeme_symbols(self, node: _Node) -> list[str]:
        """Symbols for a rule-free node: nothing, one lexeme, or an optional lexeme."""
        alternatives = self.free_alternatives(node)
        if len(alternatives) == 1:
            return alternatives[0]
        name = self.fresh("opt", node.origin)
        for rhs in alternatives:
            self.rules.append(Rule(name, tuple(rhs)))
        return [name]

    def lexeme(self, node: _Node) -> str:
        """The lexeme for a non-nullable rule-free node, shared between equal patterns."""
        text = _literal_text(node)
        pattern = re.escape(text) if text is not None else _regex(node)
        name = self.by_pattern.get(pattern)
        if name is None:
            name = self.fresh("lex", node.origin)
            self.lexemes[name] = Lexeme.from_literal(name, text) if text is not None else Lexeme(name, pattern)
            self.by_pattern[pattern] = name
        return name


# ----------------------------------------------------------------------------------------------- entry

def load_ebnf(source: str | os.PathLike[str], start: str = "root") -> Grammar:
    """Load an EBNF (GBNF / xgrammar dialect) grammar into a validated ``Grammar`` starting at ``start``.

    A ``str`` is grammar text and an ``os.PathLike`` such as ``pathlib.Path`` is a grammar file (never a
    string naming a file). Raises ``GrammarError`` with the construct, line and column for syntax errors and
    refused constructs (see the module documentation).
    """
    text, source_name = read_source(source)
    tokens = _Lexer(text, source_name).tokens()
    seen: dict[str, _Token] = {}
    for token in tokens:
        if token.kind == "rule":
            if token.text in seen:
                first = seen[token.text]
                raise GrammarError(f"rule '{token.text}' is defined more than once (first at line {first.line})",
                                   token.text, token.line, token.column, source_name)
            seen[token.text] = token
    if start not in seen:
        raise GrammarError(f"start rule '{start}' is not defined", start, source=source_name)
    parser = _Parser(tokens, source_name)
    compiler = _Compiler()
    for name, body in parser.rules():
        compiler.define(name.text, body, parser.origin(name))
    return Grammar(start, tuple(compiler.rules), compiler.lexemes, (), compiler.origins).validate()
