"""The regex engine against Python's ``re`` on public regex corpora and generated patterns."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import constrain as c
from tests.data import read_jsonl


pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def agree(pattern: str, flags: int, text: str) -> None:
    """Whole-string acceptance equals ``re.fullmatch``; accepted strings have viable prefixes."""
    constraint = c.regex(pattern, flags)
    expected = re.fullmatch(pattern, text, flags) is not None
    assert constraint.accepts(text) == expected, (pattern, text, expected)
    if expected:
        data = text.encode("utf-8")
        for i in range(len(data) + 1):
            assert constraint.accepts_prefix(data[:i]), (pattern, text, i)


def test_xgrammar_regex_cases() -> None:
    rows = list(read_jsonl("regex", "xgrammar-regex-cases", "xgrammar_regex_accept_reject.jsonl"))
    checked = refused = 0
    for row in rows:
        try:
            re.compile(row["regex"])
        except re.error:
            with pytest.raises(c.RegexError):
                c.regex(row["regex"])
            continue
        try:
            c.regex(row["regex"])
        except c.UnsupportedRegex:
            refused += 1
            continue
        for text in row["accept"] + row["reject"]:
            agree(row["regex"], 0, text)
            checked += 1
    assert checked >= 120 and refused <= 3, (checked, refused)


def test_streg_examples() -> None:
    rows = [r for r in read_jsonl("regex", "structured-regex-streg", "dev.jsonl") if r.get("regex_python")]
    checked = refused = 0
    for row in rows:
        pattern = row["regex_python"]
        try:
            constraint = c.regex(pattern, re.S)
        except c.UnsupportedRegex as e:
            assert "(?=" in pattern or "(?!" in pattern, (pattern, e)
            refused += 1
            continue
        for text in row["pos_examples"] + row["neg_examples"]:
            assert constraint.accepts(text) == (re.fullmatch(pattern, text, re.S) is not None), (pattern, text)
            checked += 1
    assert checked > 1500, checked


def _rust_cases() -> list[tuple[str, int, list[str]]]:
    out = []
    for row in read_jsonl("regex", "rust-regex-testdata", "all_tests.jsonl"):
        if row.get("utf8") is False or row.get("unescape") or row.get("compiles") is False:
            continue
        patterns = row["regex"] if isinstance(row["regex"], list) else [row["regex"]]
        flags = re.IGNORECASE if row.get("case-insensitive") else 0
        hay = row["haystack"]
        texts = {hay, hay[:1], hay[: len(hay) // 2]}
        for m in row["matches"]:
            if isinstance(m, dict):
                span = m.get("span") or (m.get("spans") or [None])[0]
            else:
                span = m[0] if m and isinstance(m[0], list) else m
            if span and isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span):
                sub = hay.encode("utf-8")[span[0] : span[1]]
                try:
                    texts.add(sub.decode("utf-8"))
                except UnicodeDecodeError:
                    pass
        for p in patterns:
            out.append((p, flags, sorted(texts)))
    return out


def test_rust_regex_cases() -> None:
    checked = refused = invalid = 0
    for pattern, flags, texts in _rust_cases():
        try:
            re.compile(pattern, flags)
        except (re.error, OverflowError, RecursionError):
            invalid += 1
            with pytest.raises(c.RegexError):
                c.regex(pattern, flags)
            continue
        try:
            constraint = c.regex(pattern, flags, max_states=20_000)
            for text in texts:
                assert constraint.accepts(text) == (re.fullmatch(pattern, text, flags) is not None), (pattern, text)
                checked += 1
        except c.UnsupportedRegex:
            refused += 1
        except c.LimitExceeded:
            refused += 1
    assert checked > 1000, (checked, refused, invalid)


ALPHABET = ["a", "b", "é", "日", "😀", "-", ".", "\n", "Z", "0"]
ATOMS = ["a", "b", "é", "日", "😀", r"\d", r"\w", r"\s", ".", "[ab]", "[^a]", "[a-zé]", r"[^\W\d]", r"\.", "0", "(?i:z)"]


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 5 if depth < 3 else 0))
    if kind == 0:
        return draw(st.sampled_from(ATOMS))
    if kind == 1:
        return "".join(draw(st.lists(patterns(depth + 1), min_size=1, max_size=3)))
    if kind == 2:
        return "(?:" + "|".join(draw(st.lists(patterns(depth + 1), min_size=2, max_size=3))) + ")"
    if kind == 3:
        q = draw(st.sampled_from(["*", "+", "?", "*?", "{2}", "{1,3}", "{0,2}?", "{2,}"]))
        return "(?:" + draw(patterns(depth + 1)) + ")" + q
    if kind == 4:
        return "(" + draw(patterns(depth + 1)) + ")"
    return "(?P<g>" + draw(patterns(depth + 1)) + ")" if depth == 0 else draw(patterns(depth + 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns(), st.lists(st.text(alphabet=st.sampled_from(ALPHABET), max_size=6), max_size=8), st.sampled_from([0, re.I, re.S, re.A]))
def test_generated_patterns_random_strings(pattern: str, texts: list[str], flags: int) -> None:
    for text in texts:
        agree(pattern, flags, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data(), patterns())
def test_generated_patterns_matching_strings(data: st.DataObject, pattern: str) -> None:
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    agree(pattern, 0, text)
