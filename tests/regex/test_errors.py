"""Refusals name the construct and where it is; limits stop runaway automata with a clear error."""
from __future__ import annotations

import random

import pytest

import constrain as c


@pytest.mark.parametrize(
    "pattern, position, words",
    [
        (r"(a)\1", 3, "backreferences"),
        (r"(?P<x>a)(?P=x)", 8, "backreferences"),
        (r"x(?<=a)b", 1, "lookbehind"),
        (r"ab(?<!a)b", 2, "lookbehind"),
        (r"a(?=b)b", 1, "lookahead"),
        (r"a(?!c)b", 1, "lookahead"),
        (r"(a)(?(1)b|c)", 3, "conditional"),
        (r"[\b]a\bb", 5, "word boundaries"),
        (r"a\Bb", 1, "word boundaries"),
        (r"a^b", 1, "anchors"),
        (r"a$b", 1, "anchors"),
        (r"(?>ab)c", 0, "atomic"),
        (r"a*+b", 1, "possessive"),
    ],
)
def test_refused_with_position(pattern: str, position: int, words: str) -> None:
    with pytest.raises(c.UnsupportedRegex) as info:
        c.regex(pattern)
    assert info.value.position == position
    assert words in str(info.value)
    assert pattern in str(info.value)


@pytest.mark.parametrize("pattern, position", [("a(b", 1), ("a)", 1), ("[a-", 0), ("x{3,2}", 2), ("*a", 0)])
def test_invalid_regex_position(pattern: str, position: int) -> None:
    with pytest.raises(c.RegexError) as info:
        c.regex(pattern)
    assert info.value.position == position
    assert "invalid regex" in str(info.value)


@pytest.mark.parametrize("pattern", [r"^abc$", r"\Aabc\Z", r"(^abc$)", r"^(?:abc|^abd)$", r"^$"])
def test_anchors_at_the_ends_are_accepted(pattern: str) -> None:
    import re

    constraint = c.regex(pattern)
    for text in ["abc", "abd", "", "abc\n"]:
        assert constraint.accepts(text) == (re.fullmatch(pattern, text) is not None)


def test_state_limit_is_a_clear_error() -> None:
    constraint = c.regex("(a|b)*a(a|b){30}", max_states=2_000)
    rng = random.Random(0)
    text = "".join(rng.choice("ab") for _ in range(5_000))
    with pytest.raises(c.LimitExceeded, match="DFA states limit of 2000"):
        constraint.accepts(text)


def test_nfa_size_limit() -> None:
    with pytest.raises(c.LimitExceeded, match="NFA states"):
        c.regex(r"(?:\w{1000}){1000}")


def test_non_string_pattern() -> None:
    with pytest.raises(c.RegexError, match="must be str"):
        c.regex(b"abc")  # type: ignore[arg-type]


def test_choice() -> None:
    yes_no = c.choice(["yes", "no", "yesterday"])
    assert yes_no.accepts("yes") and yes_no.accepts("yesterday") and not yes_no.accepts("ye")
    assert yes_no.accepts_prefix("yest") and not yes_no.accepts_prefix("nope")
