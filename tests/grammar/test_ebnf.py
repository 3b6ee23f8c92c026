"""The EBNF (GBNF / xgrammar dialect) front end: every syntax element and escape, the compilation into
lexemes and rules, every refusal (with line and column), xgrammar's own accept/reject cases and the
xgrammar EBNF strings in the shared data (which load, which are refused, and why)."""
import itertools
import json
import os
import re
from pathlib import Path

import pytest

import constrain
from constrain.constraints import GrammarConstraint
from constrain.errors import GrammarError
from constrain.grammar.ebnf_frontend import MACROS, load_ebnf
from tests.data import SHARED as SHARED_DATA

XGRAMMAR = str(SHARED_DATA / "grammars" / "xgrammar")


def constraint(text: str | Path, start: str = "root") -> GrammarConstraint:
    return GrammarConstraint(load_ebnf(text, start=start))


def check(text: str, accepted: list[str], rejected: list[str], start: str = "root") -> None:
    """``accepted`` are sentences (and all their byte prefixes are prefixes), ``rejected`` are not."""
    g = constraint(text, start)
    for s in accepted:
        assert g.accepts(s), s
        assert_prefixes(g, s)
    for s in rejected:
        assert not g.accepts(s), s


def assert_prefixes(g: GrammarConstraint, s: str) -> None:
    """Every byte prefix of ``s`` can be continued (stepping the engine one byte at a time is what
    ``accepts_prefix`` does on the whole prefix at once)."""
    engine = g.engine
    hyps = engine.initial()
    for i, b in enumerate(s.encode("utf-8")):
        hyps = engine.step(hyps, bytes([b]))
        assert hyps, f"prefix of {len(s.encode()[:i + 1])} bytes of {s[:80]!r} rejected"
    assert engine.accepting(hyps)
    assert g.accepts_prefix(s) and g.accepts_prefix(s[: len(s) // 2])


def refusal(text: str | Path, start: str = "root") -> GrammarError:
    with pytest.raises(GrammarError) as info:
        load_ebnf(text, start=start)
    return info.value


# ------------------------------------------------------------------------------------------ syntax elements

SYNTAX = {
    "string and sequence": ('root ::= "ab" "c"', ["abc"], ["ab", "abcc", ""]),
    "alternation": ('root ::= "a" | "b" "c" | "d"', ["a", "bc", "d"], ["b", "ad", ""]),
    "parentheses": ('root ::= "a" ("b" | "c") "d"', ["abd", "acd"], ["ad", "abcd"]),
    "nested parentheses": ('root ::= ("a" ("b" ("c" | "d")))+', ["abc", "abdabc"], ["ab", "abca"]),
    "empty string": ('root ::= "" | "a"', ["", "a"], ["aa"]),
    "empty parentheses": ('root ::= "a" ( ) "b"', ["ab"], ["a", "b"]),
    "empty-only rule": ('root ::= "a" e "b"\ne ::= ""', ["ab"], ["aeb"]),
    "rule references and recursion": ('root ::= "(" root ")" | x\nx ::= "x"', ["x", "((x))"], ["(x", "()"]),
    "multi-line rule": ('root ::= "a"\n  "b"\n  | "c"\nnext ::= "z"', ["ab", "c"], ["a", "z"]),
    "comments": ('# top\nroot ::= a # inline "x"\n# between\na ::= "a" # end', ["a"], ["ax", ""]),
    "names with - and .": ('root ::= my-rule.x\nmy-rule.x ::= "q"', ["q"], [""]),
    "no spaces needed": ('root::="a""b"("c""d"\n"e")|"f"', ["abcde", "f"], ["ab"]),
    "char class": ('root ::= [a-cx]', ["a", "b", "c", "x"], ["d", "ab", ""]),
    "negated class matches newline": ('root ::= [^a]+', ["bbb", "\n", "©"], ["bba", ""]),
    "negated empty class matches everything": ('root ::= [^]*', ["", "any\nthing 好"], []),
    "leading and trailing dash": ('root ::= [-a] [b-]', ["ab", "-b", "a-", "--"], ["bb"]),
    "dash dash": ('root ::= [--]+', ["-", "--"], ["a"]),
    "range ending at escaped bracket": ('root ::= [\\--\\]]', ["-", "A", "]"], ["^", ","]),
    "escapes in class": ('root ::= [\\]\\-\\\\\\^\\[]+', ["]", "-", "\\", "^", "["], ["a"]),
    "hex escapes in class": ('root ::= [\\x41-\\x43\\u00e9\\U0001F600]', ["A", "C", "é", "😀"], ["D"]),
    "unicode ranges": ('root ::= [а-яё]+ [一-龥]', ["привет中"], ["hello中", "привет"]),
    "star": ('root ::= "ab"*', ["", "ab", "abab"], ["a", "aba"]),
    "plus": ('root ::= [0-9]+', ["0", "123"], [""]),
    "question": ('root ::= "-"? [1-9]', ["1", "-1"], ["--1", "-"]),
    "exact count": ('root ::= "ab"{3}', ["ababab"], ["abab", "abababab"]),
    "at least": ('root ::= [x]{2,}', ["xx", "xxxxx"], ["x"]),
    "range with spaces": ('root ::= "a" { 2 , 3 }', ["aa", "aaa"], ["a", "aaaa"]),
    "printed unbounded form": ('root ::= "a"{1, -1}', ["a", "aaa"], [""]),
    "zero count": ('root ::= "x" "a"{0}', ["x"], ["xa"]),
    "repetition of rules, bounded": ('root ::= item{2,3}\nitem ::= "a" | "bc"',
                                     ["aa", "abc", "bcbcbc"], ["a", "aaaa", "b"]),
    "repetition of rules, unbounded": ('root ::= (x ",")* x\nx ::= [0-9]+', ["1", "1,22,3"], ["1,", ",1"]),
    "repetition of rules, plus": ('root ::= (x "-")+\nx ::= "a"', ["a-", "a-a-"], ["", "a"]),
    "repetition of rules, optional": ('root ::= "<" x? ">"\nx ::= "a"', ["<>", "<a>"], ["<aa>"]),
    "nullable rule-free run": ('root ::= "a"? [b]* x\nx ::= "c"', ["c", "ac", "abbc", "bc"], ["a", "ab"]),
    "nullable rule-free repetition of nullable": ('root ::= ("a"? "b"?){2} x\nx ::= "."',
                                                   [".", "ab.", "abab.", "ba.", "b."], ["aaa.", "ababa."]),
    "nullable alternative": ('root ::= ("" | "a" | x)\nx ::= "b"', ["", "a", "b"], ["ab"]),
    "nested nullable rule": ('root ::= a a a b\na ::= [0-9]*\nb ::= [a-z]', ["x", "1x", "123x"], ["1"]),
}


@pytest.mark.parametrize("name", list(SYNTAX))
def test_syntax_element(name: str) -> None:
    text, accepted, rejected = SYNTAX[name]
    check(text, accepted, rejected)


STRING_ESCAPES = {
    "\\n": "\n", "\\t": "\t", "\\r": "\r", "\\\\": "\\", '\\"': '"', "\\'": "'", "\\?": "?", "\\/": "/",
    "\\a": "\a", "\\b": "\b", "\\f": "\f", "\\v": "\v", "\\0": "\0", "\\e": "\x1b",
    "\\x41": "A", "\\xe9": "é", "\\x41BC": "\u41bc", "\\u0041": "A", "\\u2603": "☃",
    "\\U0001F600": "😀", "\\U00000345": "\u0345",
}


@pytest.mark.parametrize("escape", list(STRING_ESCAPES))
def test_string_escape(escape: str) -> None:
    char = STRING_ESCAPES[escape]
    check(f'root ::= "<{escape}>"', [f"<{char}>"], ["<>", f"<{char}{char}>"])


def test_special_characters_are_literal() -> None:
    check('root ::= "a.b*c+(d)[e]{f}|^$"', ["a.b*c+(d)[e]{f}|^$"], ["aXb*c+(d)[e]{f}|^$"])
    check('root ::= [.*+?()|{}$]+', [".*+?()|{}$"], ["a"])


def test_one_lexeme_per_rule_free_expression() -> None:
    g = load_ebnf('root ::= "-"? [1-9] [0-9]* x ("." [0-9]+)? x ("a" | "b")\nx ::= "x" | y\ny ::= "y"')
    patterns = sorted(lx.pattern for lx in g.lexemes.values())
    assert len(patterns) == 5  # the number, the fraction, "x", "y" and a|b
    for lexeme in g.lexemes.values():
        assert re.compile(lexeme.pattern, lexeme.flags).fullmatch("") is None
    assert load_ebnf('root ::= "abc"').lexemes[next(iter(load_ebnf('root ::= "abc"').lexemes))].literal == b"abc"


def test_equal_lexemes_are_shared() -> None:
    g = load_ebnf('root ::= "a" x "a" x\nx ::= "a" | "b"')
    assert len(g.lexemes) == 2


def test_repetition_is_expanded_exactly() -> None:
    """A repetition of an expression with rule references accepts exactly what the same repetition of
    the equivalent rule-free expression accepts (every string over the alphabet up to length 7)."""
    pairs = [
        ('root ::= x{2,4}\nx ::= "a" | "bc"', 'root ::= ("a" | "bc"){2,4}'),
        ('root ::= (x "c"?){1,3}\nx ::= "a" | ""', 'root ::= ("a"? "c"?){1,3}'),
        ('root ::= x{3,} "b"\nx ::= "a"', 'root ::= "a"{3,} "b"'),
        ('root ::= ("a" x)* | x+\nx ::= "b" | "c"', 'root ::= ("a" [bc])* | [bc]+'),
    ]
    words = ["".join(w) for n in range(8) for w in itertools.product("abc", repeat=n)]
    for with_rules, rule_free in pairs:
        g1, g2 = constraint(with_rules), constraint(rule_free)
        for w in words:
            assert g1.accepts(w) == g2.accepts(w), (with_rules, w)


def test_custom_start_and_file_path(tmp_path) -> None:
    path = tmp_path / "g.ebnf"
    path.write_text('root ::= "r"\nother ::= "o"\n', encoding="utf-8")
    assert constraint(path).accepts("r")
    assert constraint(path, start="other").accepts("o")
    bad = tmp_path / "bad.ebnf"
    bad.write_text('root ::= "a"\n  | missing\n', encoding="utf-8")
    err = refusal(bad)
    assert (err.line, err.column, err.source) == (2, 5, str(bad)) and str(bad) in str(err)
    assert refusal('root ::= "a" | missing').source is None


def test_a_string_is_always_grammar_text(tmp_path) -> None:
    """A ``str`` naming an existing file is read as grammar text, never opened: the same syntax error as for a
    name that does not exist, and nothing of the file's contents in it."""
    path = tmp_path / "g.ebnf"
    path.write_text('root ::= "secret-contents"\n', encoding="utf-8")
    existing = refusal(str(path))
    missing = refusal(str(tmp_path / "missing.ebnf"))
    assert "secret-contents" not in str(existing) and existing.source is None
    assert (existing.line, existing.column) == (missing.line, missing.column) == (1, 1)
    assert str(existing).replace(str(path), "") == str(missing).replace(str(tmp_path / "missing.ebnf"), "")
    with pytest.raises(TypeError, match="os.PathLike"):
        load_ebnf(str(path).encode())  # type: ignore[arg-type]


def test_public_entry_point() -> None:
    g = constrain.grammar('root ::= "a"+ [0-9]', syntax="ebnf")
    assert g.accepts("aa7") and not g.accepts("7")
    assert constrain.grammar('r2 ::= "x"', "r2", syntax="ebnf").accepts("x")
    assert constrain.grammar('start: "x"').accepts("x")
    with pytest.raises(ValueError):
        constrain.grammar('root ::= "x"', syntax="gbnf")  # type: ignore[arg-type]


def test_windows_line_endings() -> None:
    check('root ::= a\r\na ::= "a" # c\r\n  | "b"\r\n', ["a", "b"], ["ab"])


# ------------------------------------------------------------------------------------------ refusals

REFUSALS = {
    "lookahead": ('root ::= a "b"\na ::= "a" (= "b")', "lookahead assertion", 2, 11),
    "lookahead inside a body": ('root ::= "a" ((= "b"))', "lookahead assertion", 1, 15),
    "attribute lazy": ('root ::= r\nr[lazy] ::= "a"', "rule attribute [lazy]", 2, 1),
    "attribute max_tokens": ('root[max_tokens=3] ::= "a"', "rule attribute [max_tokens=3]", 1, 1),
    "class shorthand": ('root ::= [\\d]', "character class escape '\\d'", 1, 11),
    "undefined rule": ('root ::= "a"\n  missing', "rule 'missing' is used but not defined", 2, 3),
    "duplicate rule": ('root ::= "a"\nroot ::= "b"', "rule 'root' is defined more than once", 2, 1),
    "unterminated string": ('root ::= "abc\n', "unterminated string literal", 1, 10),
    "unterminated class": ('root ::= [abc', "unterminated character class", 1, 10),
    "newline in class": ('root ::= [ab\n]', "must not contain a newline", 1, 10),
    "invalid escape": ('root ::= "a\\qb"', "invalid escape sequence '\\q'", 1, 12),
    "short \\u escape": ('root ::= "\\u12"', "expected 4 hex digits", 1, 11),
    "empty \\x escape": ('root ::= "\\xg"', "expected hex digits", 1, 11),
    "code point too large": ('root ::= "\\U00110000"', "not a valid code point", 1, 11),
    "surrogate": ('root ::= [\\ud800]', "not a valid code point", 1, 11),
    "reversed range": ('root ::= [z-a]', "character range 'z'-'a' is reversed", 1, 11),
    "empty class": ('root ::= "a" []', "matches no character", 1, 14),
    "class of nothing": ('root ::= [^\\x00-\\U0010FFFF]', "matches no character", 1, 10),
    "reversed repetition": ('root ::= "a"{3,2}', "upper bound below its lower bound", 1, 16),
    "bad repetition": ('root ::= "a"{2;}', "unexpected character ';'", 1, 15),
    "missing paren": ('root ::= ("a" | "b"\nx ::= "c"', "expected ')'", 2, 1),
    "stray paren": ('root ::= "a")', "unexpected ')'", 1, 13),
    "empty body": ('root ::= \nx ::= "a"', "expected an element, got the start of rule 'x'", 2, 1),
    "empty alternative": ('root ::= "a" |', "expected an element, got end of input", 1, 15),
    "rule not at line start": ('root ::= "a" x ::= "b"', "must be the first token on its line", 1, 14),
    "assign without name": ('::= "a"', "'::=' must follow a rule name", 1, 1),
    "single colon": ('root : "a"', "unexpected character ':'", 1, 6),
    "single quotes": ("root ::= 'a'", "unexpected character \"'\"", 1, 10),
    "dot is a name": ('root ::= "a" .', "rule '.' is used but not defined", 1, 14),
    "double quantifier": ('root ::= "a"*?', "expected an element, got '?'", 1, 14),
    "boolean element": ('root ::= true', "got the boolean true", 1, 10),
    "negative count": ('root ::= "a"{-2}', "expected a repetition count", 1, 14),
    "text before the first rule": ('"a"\nroot ::= "b"', "expected a rule definition", 1, 1),
    "empty language": ('root ::= "a" root', "language is empty", 1, 1),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusal(name: str) -> None:
    text, fragment, line, column = REFUSALS[name]
    err = refusal(text)
    assert fragment in str(err)
    assert (err.line, err.column) == (line, column), str(err)
    assert f"line {line}, column {column}" in str(err)


@pytest.mark.parametrize("macro", sorted(MACROS))
def test_macros_are_refused(macro: str) -> None:
    err = refusal(f'root ::= "x"\n  "y" {macro}("a")')
    assert f"macro {macro}(...)" in str(err) and (err.line, err.column) == (2, 7)


def test_missing_start_rule() -> None:
    err = refusal('rule ::= "a"')
    assert "start rule 'root' is not defined" in str(err)
    assert "start rule 'x'" in str(refusal('root ::= "a"', start="x"))


def test_nesting_limit() -> None:
    assert "nested more than" in str(refusal("root ::= " + "(" * 300 + '"a"' + ")" * 300))
    check("root ::= " + "(" * 150 + '"a"' + ")" * 150, ["a"], [""])


# ------------------------------------------------------------------------------------------ xgrammar's cases

def _cases() -> list[dict]:
    path = os.path.join(XGRAMMAR, "xgrammar_accept_reject_cases.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


CASES = _cases()
EBNF_CASES = [i for i, row in enumerate(CASES) if row["kind"] == "ebnf"]

# Row index -> start rule, where xgrammar's test names a root other than "root".
START = {5: "basic_string"}

# Row index -> a fragment of the refusal message; every other "ebnf" row must load and agree with xgrammar.
REFUSED_CASES = {
    **dict.fromkeys([42, 43, 44, 45, 46, 47, 48, 64, 65, 66], "macro TagDispatch(...)"),
    **dict.fromkeys(range(67, 131), "macro Regex(...)"),
    **dict.fromkeys(range(131, 139), "macro Substring(...)"),
    139: "rule attribute [lazy]",
    140: "rule attribute [max_chars=2]",
}


def test_case_file_summary() -> None:
    if not CASES:
        pytest.skip("shared xgrammar data not present")
    kinds = {kind: sum(row["kind"] == kind for row in CASES) for kind in ("ebnf", "regex", "json_schema")}
    assert kinds == {"ebnf": 125, "regex": 53, "json_schema": 9}
    assert set(REFUSED_CASES) <= set(EBNF_CASES)
    loaded = [i for i in EBNF_CASES if i not in REFUSED_CASES]
    assert len(loaded) == 41
    assert sum(len(CASES[i]["accept"]) for i in loaded) == 139
    assert sum(len(CASES[i]["reject"]) for i in loaded) == 95


@pytest.mark.parametrize("index", EBNF_CASES)
def test_xgrammar_case(index: int) -> None:
    row = CASES[index]
    start = START.get(index, "root")
    if index in REFUSED_CASES:
        err = refusal(row["grammar"], start=start)
        assert REFUSED_CASES[index] in str(err) and err.line is not None and err.column is not None
        return
    g = constraint(row["grammar"], start=start)
    for s in row["accept"]:
        assert g.accepts(s), s[:80]
        assert_prefixes(g, s)
    for s in row["reject"]:
        assert not g.accepts(s), s[:80]


# ------------------------------------------------------------------------------------------ xgrammar's EBNF strings

# File -> a fragment of the refusal message, for refusals other than the macros, rule attributes and
# lookahead assertions the file visibly contains (those are found by scanning the text: the first one is
# the one reported). Every file not listed here that contains none of them must load.
REFUSED_FILES = {
    "test_grammar_parser_L509": "language is empty",
    "test_grammar_parser_L516": "language is empty",
    "test_grammar_parser_L915": "unterminated string literal",
    "test_grammar_parser_L917": "must not contain a newline",
    "test_grammar_parser_L920": "invalid escape sequence '\\@'",
    "test_grammar_parser_L921": "expected 4 hex digits",
    "test_grammar_parser_L923": "rule 'a' is used but not defined",
    "test_grammar_parser_L926": "character range 'Z'-'A' is reversed",
    "test_grammar_parser_L931": "rule 'root' is defined more than once",
    "test_grammar_parser_L964": "expected an element, got '{'",
    "test_serialization_L394": "unexpected character \"'\"",
    "test_serialization_L19": "start rule 'root' is not defined",
    "test_json_schema_converter_L3211": "start rule 'root' is not defined",
    "test_pressure_L85": "rule 'rule_00000' is used but not defined",
    "test_grammar_fsm_builder_L150": "expected an element, got end of input",
    **{f"test_json_schema_converter_L{n}": "is used but not defined" for n in (
        109, 150, 178, 191, 400, 432, 455, 511, 751, 923, 1030, 1041, 1111, 1137, 1168, 1222, 1232, 1242,
        1258, 1279, 2443, 2454, 2471, 2487, 2503)},
    "test_grammar_parser_L924": "expected an element, got end of input",
    "test_grammar_parser_L971": "expected an element, got '+'",
    "test_grammar_parser_L978": "expected an element, got '?'",
}

_MACRO_CALL = re.compile(r"(?<![\w.-])(" + "|".join(sorted(MACROS)) + r")\s*\(")


_ATTRIBUTE = re.compile(r"^[\w.-]+\[[^\]\n]*\][ \t]*::=", re.M)
_LOOKAHEAD = re.compile(r"\(=")


def _ebnf_files() -> list[str]:
    index = os.path.join(XGRAMMAR, "ebnf_index.jsonl")
    if not os.path.exists(index):
        return []
    with open(index, encoding="utf-8") as f:
        return [json.loads(line)["file"] for line in f]


def _expected_refusal(stem: str, text: str) -> str | None:
    if stem in REFUSED_FILES:
        return REFUSED_FILES[stem]
    if _ATTRIBUTE.search(text):  # found while splitting the text into tokens, before any parsing
        return "rule attribute ["
    found = []
    for fragment, pattern in (("macro ", _MACRO_CALL), ("lookahead", _LOOKAHEAD)):
        m = pattern.search(text)
        if m is not None:
            found.append((m.start(), fragment))
    return min(found)[1] if found else None


def test_xgrammar_ebnf_files() -> None:
    files = _ebnf_files()
    if not files:
        pytest.skip("shared xgrammar data not present")
    assert len(files) == 629
    outcomes: dict[str, int] = {}
    mismatches = []
    for rel in files:
        path = os.path.join(XGRAMMAR, rel)
        stem = os.path.basename(rel)[: -len(".ebnf")]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        expected = _expected_refusal(stem, text)
        try:
            grammar = load_ebnf(Path(path))
        except GrammarError as exc:
            key = expected or "unexpected refusal"
            if expected is None or expected not in str(exc) or exc.line is None and "start rule" not in str(exc):
                mismatches.append((stem, str(exc)))
        else:
            key = "loaded"
            if expected is not None:
                mismatches.append((stem, f"loaded, expected a refusal containing {expected!r}"))
            assert all(re.compile(lx.pattern).fullmatch("") is None for lx in grammar.lexemes.values())
        outcomes[key] = outcomes.get(key, 0) + 1
    assert not mismatches, mismatches[:10]
    assert outcomes["loaded"] == 283
    assert outcomes["macro "] == 224
    assert outcomes["lookahead"] == 60
    assert outcomes["rule attribute ["] == 19
    assert sum(outcomes.values()) == 629, outcomes


# ------------------------------------------------------------------------------------------ random expressions

def _expressions():
    """Random EBNF expressions over the letters a, b, c, each as (EBNF text, equivalent Python regex)."""
    from hypothesis import strategies as st

    lit = st.text("abc", max_size=2).map(lambda s: (f'"{s}"', re.escape(s)))
    cls = st.sampled_from([("[a-b]", "[a-b]"), ("[^a]", "[^a]"), ("[c]", "c"), ("[-a]", "[-a]")])

    def extend(children):
        seq = st.lists(children, min_size=2, max_size=3).map(
            lambda xs: ("(" + " ".join(x[0] for x in xs) + ")", "".join(f"(?:{x[1]})" for x in xs)))
        alt = st.lists(children, min_size=2, max_size=3).map(
            lambda xs: ("(" + " | ".join(x[0] for x in xs) + ")", "|".join(f"(?:{x[1]})" for x in xs)))
        rep = st.tuples(children, st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "{1,}", "{0}"])).map(
            lambda t: (f"({t[0][0]}){t[1]}", f"(?:{t[0][1]}){t[1]}"))
        return st.one_of(seq, alt, rep)

    return st.recursive(st.one_of(lit, cls), extend, max_leaves=6)


def _with_rules(text: str) -> str:
    """The same language with every parenthesized group moved into its own rule (so that repetitions and
    alternations of rule references are exercised)."""
    rules: list[str] = []
    while "(" in text:
        m = re.search(r'\(((?:"[^"]*"|\[[^\]]*\]|[^()"\[])*)\)', text)
        assert m is not None
        name = f"g{len(rules)}"
        rules.append(f"{name} ::= {m.group(1)}")
        text = text[:m.start()] + name + text[m.end():]
    return "\n".join([f"root ::= {text}", *rules])


def test_random_expressions_agree_with_python_re() -> None:
    from hypothesis import given, settings

    words = ["".join(w) for n in range(5) for w in itertools.product("abc-", repeat=n)]

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(_expressions())
    def run(expression: tuple[str, str]) -> None:
        text, pattern = expression
        oracle = re.compile(pattern)
        for grammar in (f"root ::= {text}", _with_rules(text)):
            g = constraint(grammar)
            for w in words:
                assert g.accepts(w) == (oracle.fullmatch(w) is not None), (grammar, pattern, w)

    run()
