"""The Lark front end: every supported construct agrees with lark's Earley parser (dynamic_complete lexer)
on accepted and rejected texts; every refusal names the construct, line and column."""
import re
import textwrap

import lark
import pytest
from helpers import TextRecognizer

from constrain.errors import GrammarError
from constrain.grammar.earley import EarleyParser
from constrain.grammar.lark_frontend import load_lark, regex_refusal


def check(grammar: str, accepted: list[str], rejected: list[str], **lark_kwargs) -> None:
    """Both lark and our recognizer accept ``accepted`` and reject ``rejected``."""
    oracle = lark.Lark(grammar, parser="earley", lexer="dynamic_complete", **lark_kwargs)
    ours = TextRecognizer(EarleyParser(load_lark(grammar)))
    for text in accepted:
        oracle.parse(text)
        assert ours.accepts(text), text
    for text in rejected:
        with pytest.raises(lark.exceptions.LarkError):
            oracle.parse(text)
        assert not ours.accepts(text), text


CONSTRUCTS = {
    "strings and regexes": ('start: "a" /b+/ C\nC: "c" | "d"\n', ["abbc", "abd"], ["ac", "abbe", ""]),
    "case-insensitive string": ('start: "sel"i "x"\n', ["SeLx", "selx"], ["selX", "sel"]),
    "regex flags i s x": ('start: /a.b/s /c d/x /E/i\n', ["a\nbcde", "axbcdE"], ["a\nbc de"]),
    "ignore": ('start: "a" "b"\n%import common.WS\n%ignore WS\n', [" a  b ", "ab"], ["a b c"]),
    "import common": ('start: NUMBER ("," NUMBER)*\n%import common.NUMBER\n', ["1,2.5,3e4"], ["1,", ",1"]),
    "escaped string idiom": ('start: ESCAPED_STRING+\n%import common.ESCAPED_STRING\n',
                             ['"a\\"b"', '"x""y"'], ['"a', '"\\"']),
    "optional [] and ?": ('start: "a" ["b"] "c"? "d"\n', ["ad", "abd", "acd", "abcd"], ["abbd", "d"]),
    "star and plus": ('start: "a"* "b"+\n', ["b", "aabbb"], ["", "aa", "ba"]),
    "rule repetition ~": ('start: "a" ~ 2 "b" ~ 1..3\n', ["aab", "aabbb"], ["ab", "aabbbb"]),
    "terminal repetition ~": ('start: T\nT: "x" ~ 2..3\n', ["xx", "xxx"], ["x", "xxxx"]),
    "inline ?rule and _rule": ('start: x _y\n?x: "a" | "b" x\n_y: "c"\n', ["ac", "bbac"], ["a", "bc"]),
    "aliases": ('start: "a" -> one\n     | "b" "b" -> two\n', ["a", "bb"], ["ab"]),
    "templates": ('start: _sep{"a", ","} ";" _sep{"b", "|"}\n_sep{x, sep}: x (sep x)*\n',
                  ["a,a;b|b", "a;b"], ["a|a;b", "a;b,b"]),
    "priorities": ('start: A B | C\nA.2: "a"\nB: "b"\nC.-1: "ab"\nfoo.5: "x"\n', ["ab"], ["a", "abab"]),
    "terminal references": ('start: WORD\nWORD: LETTER (LETTER | DIGIT)*\n%import common.LETTER\n%import common.DIGIT\n',
                            ["a1b", "Z"], ["1a"]),
    "left recursion": ('start: start "+" "n" | "n"\n', ["n", "n+n+n"], ["n+", "+n"]),
    "epsilon rules": ('start: b b b\nb: | "x"\n', ["", "x", "xxx"], ["xxxx"]),
    "override and extend": ('start: a\na: "a"\n%override a: "b"\n%extend a: "c"\n', ["b", "c"], ["a"]),
    "dynamic split": ('start: A "a"\nA: /a+/\n', ["aa", "aaaa"], ["a"]),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_supported_construct(name):
    grammar, accepted, rejected = CONSTRUCTS[name]
    check(grammar, accepted, rejected)


def test_lexeme_conversion():
    g = load_lark('start: "if" A B\nA: /x+/is\nB: "k"i\n')
    assert g.lexemes["IF"].literal == b"if"
    assert g.lexemes["A"].flags == re.I | re.S and g.lexemes["A"].literal is None
    assert g.lexemes["B"].literal is None and re.fullmatch(g.lexemes["B"].pattern, "K", g.lexemes["B"].flags)


def test_start_option():
    g = load_lark('start: a\na: "x" b\nb: "y"\n', start="b")
    assert g.start == "b" and EarleyParser(g).accepts(["Y"])


def test_relative_import(tmp_path):
    (tmp_path / "lib.lark").write_text('item: "i" NUM\nNUM: /[0-9]/\n')
    main = tmp_path / "main.lark"
    main.write_text("start: item+\n%import .lib.item\n")
    g = load_lark(main)
    parser = EarleyParser(g)
    assert TextRecognizer(parser).accepts("i1i2") and not TextRecognizer(parser).accepts("i")


def test_grammar_file_imports_the_bundled_library(tmp_path):
    main = tmp_path / "main.lark"
    main.write_text("start: NUMBER\n%import common.NUMBER\n")
    assert TextRecognizer(EarleyParser(load_lark(main))).accepts("4.5")


def test_a_string_is_always_grammar_text(tmp_path):
    """A ``str`` naming an existing grammar file is text, never opened: it fails exactly like the name of a file
    that does not exist, and nothing of the file is in the error."""
    secret = tmp_path / "secret.lark"
    secret.write_text('start: "hunter2-secret"\n')
    existing = located(str(secret))
    missing = located(str(tmp_path / "missing.lark"))
    assert "hunter2" not in str(existing) and existing.source is None
    assert (existing.line, existing.column) == (missing.line, missing.column) == (1, 1)
    assert str(existing).replace(str(secret), "") == str(missing).replace(str(tmp_path / "missing.lark"), "")
    with pytest.raises(TypeError, match="os.PathLike"):
        load_lark(str(secret).encode())  # type: ignore[arg-type]


@pytest.mark.parametrize("text, module, line", [
    ('start: X\n%import .secret (X)\n', "relative import", 2),
    ('start: X\n\n  %import .secret.X\n', "relative import", 3),
    ('start: X\n%import secret.X\n', "'secret' is not in lark's bundled library", 2),
    ('start: X\n%import secret (X)\n', "'secret' is not in lark's bundled library", 2),
    ('start: X\n%import grammars.common.X\n', "'grammars.common' is not in lark's bundled library", 2),
])
def test_text_cannot_import_files(tmp_path, monkeypatch, text, module, line):
    """Grammar text may import only lark's bundled grammars: a file next to the current directory (or the running
    script) is never read, and the refusal names the import and its line."""
    (tmp_path / "secret.lark").write_text('X: "hunter2-secret"\n')
    monkeypatch.chdir(tmp_path)
    error = located(text)
    statement = text.splitlines()[line - 1].strip()
    assert statement in str(error) and module in str(error)
    assert "file imports are only allowed in grammar files" in str(error)
    assert error.line == line and "hunter2" not in str(error)


def test_text_may_import_the_bundled_library(tmp_path, monkeypatch):
    """``%import common.X`` from text reads lark's own ``common.lark``, even with a ``common.lark`` in the current
    directory."""
    (tmp_path / "common.lark").write_text('NUMBER: "hunter2"\n')
    monkeypatch.chdir(tmp_path)
    recognizer = TextRecognizer(EarleyParser(load_lark("start: NUMBER\n%import common.NUMBER\n")))
    assert recognizer.accepts("42") and not recognizer.accepts("hunter2")


def test_trailing_negative_lookahead_keeps_words_whole():
    """``KW(?![a-z])`` may not end before a letter: ``ifx`` is one NAME, never IF then NAME; checked against
    Python's ``re`` on the same lookahead, on every string over a small alphabet."""
    import itertools

    import constrain as c

    text = 'start: item+\nitem: KW ":" | NAME ";"\nKW: /if(?![a-z])/\nNAME: /[a-z]+(?![a-z])/\n'
    g = load_lark(text)
    assert g.lexemes["KW"].pattern == "if" and g.lexemes["KW"].not_followed_by == b"abcdefghijklmnopqrstuvwxyz"
    constraint = c.grammar(text)
    oracle = re.compile(r"(?:if(?![a-z]):|[a-z]+(?![a-z]);)+")
    for n in range(1, 6):
        for chars in itertools.product("if:;", repeat=n):
            s = "".join(chars)
            assert constraint.accepts(s) == bool(oracle.fullmatch(s)), s
            assert TextRecognizer(EarleyParser(g)).accepts(s) == bool(oracle.fullmatch(s)), s
    assert constraint.accepts("if:iff;") and not constraint.accepts("iff:")
    assert constraint.accepts_prefix("if") and constraint.accepts_prefix("iff") and not constraint.accepts_prefix("iff:")


def located(text: str):
    with pytest.raises(GrammarError) as info:
        load_lark(textwrap.dedent(text))
    return info.value


@pytest.mark.parametrize("text, fragment, line, column", [
    ('start: "a" FOO\n%declare FOO\n', "%declare FOO", 2, 1),
    ('start: A\nA: /a(?=b)/\n', "lookaround", 2, 4),
    ('start: A\nA: /a(?!b)c/\n', "negative lookaround", 2, 4),
    ('start: A\nA: /a(?!bc)/\n', "exactly one character", 2, 1),
    ('start: A\nA: /a(?![a-z])/i\n', "all non-ASCII characters or none", 2, 1),
    ('start: "x"\n  | /(?<=a)b/\n', "lookaround", 2, 5),
    ('start: A\nA: /(?<!a)b/\n', "negative lookaround", 2, 4),
    ('start: A\nA: /(a)\\1/\n', "backreference", 2, 4),
    ('start: A\nA: /(?P<n>a)(?P=n)/\n', "backreference", 2, 4),
    ('start: A\nA: /(a)?(?(1)b|c)/\n', "conditional group", 2, 4),
    ('start: A\nA: /^a/\n', "anchor", 2, 4),
    ('start: A\nA: /a\\b/\n', "word boundary", 2, 4),
    ('start: A\nA: /(?>a+)b/\n', "atomic group", 2, 4),
    ('start: "a" b\n', "rule 'b' is used", 1, 12),
    ('start: "a" B\n', "terminal 'B' is used", 1, 12),
    ('start: "a"\n    | b\nb: b "x"\n', "unproductive", 3, 1),
    ('start: start "x"\n', "language is empty", 1, 1),
    ('start: A\nA: /a*/\n', "empty string", 2, 1),
    ('start: "a" (\n', "lark rejected", 1, 13),
])
def test_refusals_name_line_and_column(text, fragment, line, column):
    error = located(text)
    assert fragment in str(error)
    assert (error.line, error.column) == (line, column), str(error)
    assert f"line {line}, column {column}" in str(error)


def test_undefined_start():
    with pytest.raises(GrammarError, match="start rule 'main' is not defined"):
        load_lark('start: "a"\n', start="main")


def test_regex_refusal_accepts_plain_regexes():
    for ok in [r"[a-z]+", r"(?:ab|c)*?", r"(?i:x)", r"\d{2,3}", r"(?P<n>a)"]:
        assert regex_refusal(ok) is None, ok
    assert "locale" in regex_refusal("a", re.LOCALE)
