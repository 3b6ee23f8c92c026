"""Lark grammars -> the grammar IR (``constrain.grammar.ir.Grammar``).

The ``lark`` package parses the grammar, resolves ``%import``, templates, ``%override``/``%extend``, and
expands EBNF (``[]``, ``?``, ``*``, ``+``, ``~ n..m``) into plain rules. Each terminal becomes one ``Lexeme``
holding lark's combined Python regex.

Imports follow where the grammar came from (``str`` is text, ``os.PathLike`` is a file, see
``constrain.grammar.source``). Grammar text may import only from lark's bundled grammar library
(``%import common.WS``), so text from an untrusted source can never make us read a file; any other import
in text is a ``GrammarError`` naming it and its line. A grammar file may also import grammar files next to it
(``%import .lib.item``) or in its folder.

Language semantics: *dynamic (scannerless) lexing*. A text is in the language when SOME split of it into
terminals (with ignored terminals allowed between any two terminals and at both ends) is a sentence of the
rules. This is what lark's Earley parser does with ``lexer="dynamic_complete"``; lark's plain
``lexer="dynamic"`` tries only the one match Python's ``re`` finds for a terminal at a position, so it
rejects some texts that have a valid split (``A: /a+/`` then ``"a"`` on ``"aaa"``). Under these semantics
rule and terminal priorities, aliases, ``?rule`` inlining and ``!`` keep-tokens only shape the parse tree,
never the language, so they are accepted and ignored (terminal priorities are kept on the lexeme for
information). A terminal denotes the regular language of its regex under fullmatch semantics, so a lazy
quantifier matches like a greedy one: ``/`.*?`/`` also accepts ``"`a`b`"`` as one terminal, where lark's
lexer, following Python's match preference, stops at the first backquote (write ``/`[^`]*`/`` to say that).
The two agree whenever Python's preferred match is the longest one. Keywords are not reserved: a literal such as ``"select"`` can also be lexed by a regex
terminal that matches it, exactly as the dynamic lexer does.

A terminal regex may end with a negative lookahead on one ASCII character class, ``(?![A-Za-z0-9_])``: the
terminal then cannot end right before such a character (``Lexeme.not_followed_by``). This is how keywords
and identifiers keep a word whole, so ``selectx`` is never ``select`` followed by ``x``.

Refused, with a ``GrammarError`` naming the construct, line and column: ``%declare`` (terminals supplied by
a postlexer), terminal regexes with other lookarounds, backreferences, conditional groups, anchors or word
boundaries (they depend on text outside the lexeme), atomic groups or possessive repeats, the locale flag,
and terminals that match the empty string; plus everything lark itself rejects.
"""
from __future__ import annotations

import functools
import importlib.resources
import os
import re
from dataclasses import dataclass, field

from lark.exceptions import LarkError
from lark.grammar import Rule as LarkRule
from lark.grammar import Symbol
from lark.lexer import PatternStr, TerminalDef, Token
from lark.load_grammar import GrammarBuilder, _parse_grammar
from lark.tree import Tree

from constrain.errors import GrammarError
from constrain.grammar.ir import Grammar, Lexeme, Origin, Rule
from constrain.grammar.source import read_source

try:  # Python >= 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["load_lark", "regex_refusal"]

_FLAG_BITS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": re.UNICODE}

_REFUSED_OPCODES = {
    "ASSERT": "a lookaround assertion",
    "ASSERT_NOT": "a negative lookaround assertion",
    "GROUPREF": "a backreference",
    "GROUPREF_EXISTS": "a conditional group",
    "AT": "an anchor or word boundary (it depends on text outside the terminal)",
    "ATOMIC_GROUP": "an atomic group",
    "POSSESSIVE_REPEAT": "a possessive repeat",
}

# Lark source tokens: comments, strings, regexps, names (used to locate symbol uses in the text).
_STRING_IDIOM = re.compile(r"""(["'])\.\*\?\(\?<!\\\\\)\(\\\\\\\\\)\*\?\1""")

_SOURCE_TOKENS = re.compile(
    r'//[^\n]*|"(?:\\.|[^"\\\n])*"i?|/(?!/)(?:\\.|[^/\\\n])+/[imslux]*|(?P<name>[A-Za-z_][A-Za-z_0-9]*)'
)


def regex_refusal(pattern: str, flags: int = 0) -> str | None:
    """Why a terminal regex cannot be used as a lexeme (a construct named in words), or ``None`` if it can."""
    if flags & re.LOCALE:
        return "the locale flag"
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except re.error as exc:
        return f"an invalid regular expression ({exc})"
    todo = [parsed]
    while todo:
        node = todo.pop()
        for op, arg in (node.data if hasattr(node, "data") else node):
            reason = _REFUSED_OPCODES.get(str(op))
            if reason is not None:
                return reason
            _push_children(arg, todo)
    return None


def split_lookahead(pattern: str, flags: int = 0) -> tuple[str, bytes] | None:
    """``(rest, excluded bytes)`` when ``pattern`` ends with a top-level negative lookahead on one character
    class, such as ``select(?![A-Za-z0-9_])`` or ``--[^\\n]*(?![^\\n])``; ``None`` when it does not end that way.

    A byte decides the next character exactly when the class holds either no non-ASCII character or all of
    them (then every byte >= 0x80, which starts a non-ASCII character, is excluded). Raises ``ValueError``
    (with the reason) for a trailing lookahead that cannot be kept exactly: one that is not a single
    character, or whose class holds some non-ASCII characters but not all (``[a-z]`` under the ``i`` flag
    also matches ``ſ`` and the Kelvin sign; write ``(?i:select)(?![A-Za-z0-9_])`` instead).
    """
    if not pattern.endswith(")"):
        return None
    if "(?!" not in pattern:
        return None
    try:
        tree = _sre_parse.parse(pattern, flags)
    except re.error:
        return None
    items = list(tree)
    if not items or str(items[-1][0]) != "ASSERT_NOT" or items[-1][1][0] != 1:
        return None
    start = pattern.rfind("(?!")
    while start >= 0:
        head, inner = pattern[:start], pattern[start + 3:-1]
        try:
            whole = list(_sre_parse.parse(head, flags)) if head else []
            body = _sre_parse.parse(inner, flags)
        except re.error:
            start = pattern.rfind("(?!", 0, start)
            continue
        if len(whole) + 1 == len(items):
            break
        start = pattern.rfind("(?!", 0, start)
    else:
        return None
    if body.getwidth() != (1, 1):
        raise ValueError("a trailing negative lookahead must test exactly one character")
    global_flags = tree.state.flags
    from ..regex.charset import normalize, python_class_ranges, without_surrogates

    ranges = python_class_ranges(inner, global_flags)
    ascii_bytes = bytes(b for lo, hi in ranges for b in range(lo, min(hi, 0x7F) + 1))
    wide = [(max(lo, 0x80), hi) for lo, hi in ranges if hi >= 0x80]
    if not wide:
        return head, ascii_bytes
    if without_surrogates(normalize(wide)) == without_surrogates([(0x80, 0x10FFFF)]):
        return head, ascii_bytes + bytes(range(0x80, 0x100))
    raise ValueError("a trailing negative lookahead's class must hold all non-ASCII characters or none (under the "
                     "i flag, [a-z] also matches non-ASCII letters; scope it: (?i:word)(?![A-Za-z0-9_]))")


def _push_children(arg: object, todo: list) -> None:
    """Queue every sub-pattern found in an sre opcode argument."""
    if isinstance(arg, _sre_parse.SubPattern):
        todo.append(arg)
    elif isinstance(arg, (list, tuple)):
        for item in arg:
            _push_children(item, todo)


@dataclass(frozen=True)
class _Import:
    """One ``%import`` statement: its module path, whether it is relative (``%import .x``), and where it is."""

    module: tuple[str, ...]
    relative: bool
    line: int
    column: int


@dataclass
class _Source:
    """The top-level grammar text and where its definitions and literals are."""

    text: str
    name: str | None
    definitions: dict[str, Origin]
    literals: dict[str, Origin]
    imports: list[_Import] = field(default_factory=list)

    def origin(self, line: int, column: int) -> Origin:
        return Origin(line, column, self.name)

    def error(self, message: str, symbol: str | None, origin: Origin | None) -> GrammarError:
        if origin is None:
            return GrammarError(message, symbol, source=self.name)
        return GrammarError(message, symbol, origin.line, origin.column, origin.source)

    def first_use(self, name: str) -> Origin | None:
        """Where ``name`` first occurs as a symbol (outside comments, strings and regexps)."""
        for m in _SOURCE_TOKENS.finditer(self.text):
            if m.group("name") == name:
                line = self.text.count("\n", 0, m.start()) + 1
                column = m.start() - (self.text.rfind("\n", 0, m.start()) + 1) + 1
                return self.origin(line, column)
        return None


def _lark_error(exc: Exception, source_name: str | None) -> GrammarError:
    """Translate an error raised by lark, keeping any line/column it reports."""
    message = str(exc).strip()
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if not isinstance(line, int) or line < 0:
        m = re.search(r"line (\d+),? col(?:umn)? (\d+)", message)
        line, column = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    first = message.splitlines()[0] if message else type(exc).__name__
    first = re.sub(r"\s*at line \d+,? col(?:umn)? \d+(?: in .*)?$", "", first).rstrip(": ") or first
    return GrammarError(f"lark rejected the grammar: {first}", None, line, column, source_name)


def _index_source(text: str, source_name: str | None) -> _Source:
    """Parse the top-level text with lark's grammar parser to learn definition and literal positions."""
    try:
        tree = _parse_grammar(text, source_name or "<string>")
    except LarkError as exc:
        raise _lark_error(exc, source_name) from None
    source = _Source(text, source_name, {}, {})
    for stmt in tree.children:
        if stmt.data == "rule":
            name = stmt.children[1]
        elif stmt.data == "term":
            name = stmt.children[0]
        elif stmt.data in ("override", "extend"):
            inner = stmt.children[0]
            name = inner.children[1] if inner.data == "rule" else inner.children[0]
        elif stmt.data == "import":
            for tok in stmt.scan_values(lambda v: isinstance(v, Token)):
                source.definitions.setdefault(str(tok), source.origin(tok.line, tok.column))
            source.imports.append(_import_of(stmt))
            continue
        else:
            continue
        if isinstance(name, Token):
            source.definitions.setdefault(str(name), source.origin(name.line, name.column))
    for tok in tree.scan_values(lambda v: isinstance(v, Token) and v.type in ("STRING", "REGEXP")):
        source.literals.setdefault(str(tok), source.origin(tok.line, tok.column))
    return source


def _import_of(stmt: Tree) -> _Import:
    """The module an ``import`` statement of lark's grammar tree reads, as lark itself splits it."""
    path = stmt.children[0]
    names = [str(tok) for tok in path.children]
    multi = len(stmt.children) > 1 and isinstance(stmt.children[1], Tree)
    module = tuple(names if multi else names[:-1])
    first = path.children[0]
    return _Import(module, path.data == "import_rel", first.line, first.column)


@functools.lru_cache(maxsize=1)
def _bundled_library() -> frozenset[str]:
    """The grammar modules lark ships in its package (``common``, ...): text may import from these only."""
    folder = importlib.resources.files("lark").joinpath("grammars")
    return frozenset(p.name[:-len(".lark")] for p in folder.iterdir() if p.name.endswith(".lark"))


def _refuse_text_imports(source: _Source) -> None:
    """Refuse any ``%import`` in grammar text that would read a file (anything but lark's bundled library)."""
    library = _bundled_library()
    for imp in source.imports:
        if not imp.module or (not imp.relative and len(imp.module) == 1 and imp.module[0] in library):
            continue
        line = source.text.splitlines()[imp.line - 1]
        column = line.find("%import") + 1 or imp.column
        statement = line.strip()
        if imp.relative:
            what = "a relative import reads a file"
        else:
            what = f"'{'.'.join(imp.module)}' is not in lark's bundled library ({', '.join(sorted(library))})"
        raise source.error(f"{statement!r}: {what}; file imports are only allowed in grammar files (load one "
                           "with a pathlib.Path)", statement, source.origin(imp.line, column))


def _refuse_declare(source: _Source) -> None:
    m = re.search(r"^[ \t]*%declare\b[ \t]*([^\n]*)", source.text, re.M)
    if m:
        line = source.text.count("\n", 0, m.start()) + 1
        column = m.start() - (source.text.rfind("\n", 0, m.start()) + 1) + 1 + (len(m.group(0)) - len(m.group(0).lstrip()))
        names = m.group(1).split("//")[0].strip()
        raise source.error(
            f"%declare {names} declares terminals without a definition (they would come from a postlexer); "
            "the language is unknown", names.split()[0] if names else None, source.origin(line, column))


def _refused_literal(source: _Source) -> tuple[str, Origin] | None:
    """The first regexp literal of the top-level text that uses a refused construct, with its position."""
    for raw, origin in source.literals.items():
        if not raw.startswith("/"):
            continue
        body = raw[1:raw.rfind("/")].replace("\\/", "/")
        flags = 0
        for f in raw[raw.rfind("/") + 1:]:
            flags |= re.LOCALE if f == "l" else _FLAG_BITS.get(f, 0)
        reason = regex_refusal(body, flags)
        if reason is not None and not reason.startswith("an invalid"):
            return raw, origin
    return None


def _rewrite_string_idiom(pattern: str) -> str:
    """Replace lark's quoted-string idiom (``common._STRING_ESC_INNER`` between two equal quotes) by its
    exact regular equivalent.

    ``Q.*?(?<!\\)(\\\\)*?Q`` matches, from an opening quote, up to the first quote not preceded by an
    odd number of backslashes; that is exactly ``Q(?:[^Q\\\n]|\\.)*Q`` (``.`` excludes newlines).
    """
    return _STRING_IDIOM.sub(lambda m: rf"{m.group(1)}(?:[^{m.group(1)}\\\n]|\\.)*{m.group(1)}", pattern)


def _symbol_uses(tree: Tree) -> list:
    """Symbols used in a definition tree, leaving out alias names (``-> name`` only labels the tree)."""
    found = []
    todo = [tree]
    while todo:
        node = todo.pop()
        children = node.children[:-1] if node.data == "alias" else node.children
        for child in children:
            if isinstance(child, Tree):
                todo.append(child)
            elif isinstance(child, Symbol):
                found.append(child)
    return found


def _check_symbols(builder: GrammarBuilder, source: _Source) -> None:
    """Report undefined symbols used in the top-level text with their position (lark reports none)."""
    defined = set(builder._definitions)
    for name, definition in builder._definitions.items():
        if definition.tree is None:
            continue
        params = set(definition.params)
        for sym in _symbol_uses(definition.tree):
            if sym.name not in defined and sym.name not in params:
                kind = "terminal" if sym.is_term else "rule"
                raise source.error(f"{kind} '{sym.name}' is used (in '{name}') but not defined", sym.name,
                                   source.first_use(sym.name))


def _origin_of(name: str, source: _Source, import_fallback: Origin | None) -> Origin | None:
    """Where an IR symbol came from: its definition, or the rule/template it was generated from."""
    if name in source.definitions:
        return source.definitions[name]
    base = name.split("{", 1)[0]
    if base in source.definitions:
        return source.definitions[base]
    if name.startswith("__"):
        best = max((d for d in source.definitions if name.startswith(f"__{d}_")), key=len, default=None)
        if best is not None:
            return source.definitions[best]
    return import_fallback


def _lexeme(term: TerminalDef, source: _Source, origin: Origin | None) -> Lexeme:
    """Convert one compiled lark terminal, refusing constructs that cannot be enforced exactly."""
    pattern = term.pattern
    flags = 0
    for f in pattern.flags:
        flags |= re.LOCALE if f == "l" else _FLAG_BITS.get(f, 0)
    if isinstance(pattern, PatternStr) and not flags:
        return Lexeme.from_literal(term.name, pattern.value, term.priority)
    text = re.escape(pattern.value) if isinstance(pattern, PatternStr) else _rewrite_string_idiom(pattern.value)
    excluded = b""
    try:
        split = split_lookahead(text, flags)
    except ValueError as exc:
        raise source.error(f"terminal {term.name} (/{pattern.value}/): {exc}", term.name, origin) from None
    if split is not None:
        text, excluded = split
    reason = regex_refusal(text, flags)
    if reason is not None:
        located = _refused_literal(source)
        if located is not None:
            raw, origin = located
            raise source.error(f"terminal regex {raw} uses {reason}, which cannot be enforced exactly", raw, origin)
        raise source.error(f"terminal {term.name} (/{pattern.value}/) uses {reason}, which cannot be enforced "
                           "exactly", term.name, origin)
    return Lexeme(term.name, text, flags, None, term.priority, excluded)


def load_lark(source: str | os.PathLike[str], start: str = "start") -> Grammar:
    """Load a Lark grammar into a validated ``Grammar`` starting at ``start``.

    A ``str`` is grammar text (it may import only from lark's bundled library, such as ``%import common.WS``);
    an ``os.PathLike`` such as ``pathlib.Path`` is a grammar file, whose relative ``%import``s resolve next to
    it. Raises ``GrammarError`` with the construct, line and column for anything refused (see module docs).
    """
    text, source_name = read_source(source)
    indexed = _index_source(text, source_name)
    _refuse_declare(indexed)
    if source_name is None:
        _refuse_text_imports(indexed)
        builder = GrammarBuilder(False, [])
        grammar_name = "<grammar text>"
    else:
        builder = GrammarBuilder(False, [os.path.dirname(source_name)])
        grammar_name = source_name
    try:
        builder.load_grammar(text, grammar_name)
    except (LarkError, OSError) as exc:
        raise _lark_error(exc, source_name) from None
    _check_symbols(builder, indexed)
    try:
        terminals, lark_rules, ignore = builder.build().compile([start], ())
    except LarkError as exc:
        raise _lark_error(exc, source_name) from None
    if start not in {r.origin.name for r in lark_rules} and start not in builder._definitions:
        raise indexed.error(f"start rule '{start}' is not defined", start, None)
    import_fallback = next((o for n, o in indexed.definitions.items() if n not in builder._definitions), None)
    origins: dict[str, Origin] = {}
    lexemes: dict[str, Lexeme] = {}
    for term in terminals:
        origin = _origin_of(term.name, indexed, None)
        if origin is None and term.pattern.raw is not None:
            origin = indexed.literals.get(term.pattern.raw)
        if origin is not None:
            origins[term.name] = origin
        lexemes[term.name] = _lexeme(term, indexed, origin)
    rules = tuple(_rule(r) for r in lark_rules)
    for rule in rules:
        origin = _origin_of(rule.lhs, indexed, import_fallback)
        if origin is not None:
            origins.setdefault(rule.lhs, origin)
    return Grammar(start, rules, lexemes, tuple(dict.fromkeys(ignore)), origins).validate()


def _rule(rule: LarkRule) -> Rule:
    return Rule(str(rule.origin.name), tuple(str(s.name) for s in rule.expansion))
