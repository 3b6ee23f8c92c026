"""The grammar IR: construction, helpers and validation errors."""
import re

import pytest

from constrain.errors import ConstrainError, GrammarError
from constrain.grammar.ir import Grammar, Lexeme, Origin, Rule

X = Lexeme.from_literal("X", "x")
Y = Lexeme("Y", "[0-9]+")


def test_lexeme_literal_and_hashable():
    assert X.literal == b"x" and X.pattern == re.escape("x") and X.flags == 0
    dot = Lexeme.from_literal("DOT", ".")
    assert dot.pattern == r"\." and dot.compiled().fullmatch(".")
    assert hash(Lexeme("A", "a")) == hash(Lexeme("A", "a"))


def test_grammar_helpers_and_hash():
    g = Grammar("s", (Rule("s", ("a", "Y")), Rule("a", ()), Rule("a", ("X",))), {"X": X, "Y": Y})
    assert g.nonterminals == {"s", "a"}
    assert g.terminals == {"X", "Y"}
    assert g.rules_for("a") == (Rule("a", ()), Rule("a", ("X",)))
    same = Grammar("s", g.rules, dict(g.lexemes))
    assert g == same and hash(g) == hash(same)
    assert {g: 1}[same] == 1


def test_validate_drops_unreachable_and_duplicates():
    g = Grammar("s", (Rule("s", ("X",)), Rule("s", ("X",)), Rule("dead", ("Y",))), {"X": X, "Y": Y})
    v = g.validate()
    assert v.rules == (Rule("s", ("X",)),)
    assert set(v.lexemes) == {"X"}


@pytest.mark.parametrize("rules, lexemes, fragment, symbol", [
    ((Rule("s", ("missing",)),), {}, "'missing'", "missing"),
    ((Rule("s", ("X",)), Rule("s", ("b",)), Rule("b", ("b", "X"))), {"X": X}, "unproductive", "b"),
    ((Rule("s", ("s", "X")),), {"X": X}, "empty", "s"),
    ((Rule("t", ("X",)),), {"X": X}, "start rule 's'", "s"),
    ((Rule("s", ("E",)),), {"E": Lexeme("E", "a*")}, "empty string", "E"),
    ((Rule("s", ("B",)),), {"B": Lexeme("B", "(")}, "invalid pattern", "B"),
    ((Rule("s", ("X",)), Rule("X", ("X",))), {"X": X}, "both", "X"),
])
def test_validate_errors(rules, lexemes, fragment, symbol):
    with pytest.raises(GrammarError) as info:
        Grammar("s", rules, lexemes).validate()
    assert fragment in str(info.value)
    assert info.value.symbol == symbol
    assert isinstance(info.value, ConstrainError) and isinstance(info.value, ValueError)


def test_validate_error_names_origin():
    g = Grammar("s", (Rule("s", ("X",)), Rule("s", ("b",)), Rule("b", ("b",))), {"X": X},
                origins={"b": Origin(7, 3, "g.lark")})
    with pytest.raises(GrammarError) as info:
        g.validate()
    assert (info.value.line, info.value.column) == (7, 3)
    assert "line 7, column 3 of g.lark" in str(info.value)


def test_undefined_ignore():
    with pytest.raises(GrammarError, match="ignored lexeme 'WS'"):
        Grammar("s", (Rule("s", ("X",)),), {"X": X}, ignore=("WS",)).validate()
