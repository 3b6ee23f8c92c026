"""Exact numeric languages: integer ranges by brute force, float bounds against Python's own comparison."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from constrain.regex.dfa import DEAD
from constrain.schema.numbers import float_cmp, integer_language, integer_range
from constrain.schema.regular import lazy_dfa


def _accepts(node: object, text: str) -> bool:
    dfa = lazy_dfa(node, 100_000)
    state = dfa.run(dfa.start, text.encode())
    return state != DEAD and dfa.is_accepting(state)


@settings(max_examples=60, deadline=None)
@given(lo=st.one_of(st.none(), st.integers(-1200, 1200)), hi=st.one_of(st.none(), st.integers(-1200, 1200)))
def test_integer_range_brute_force(lo: int | None, hi: int | None) -> None:
    node = integer_range(lo, hi)
    dfa = lazy_dfa(node, 100_000)
    for v in range(-1500, 1501, 7):
        text = str(v)
        state = dfa.run(dfa.start, text.encode())
        ok = state != DEAD and dfa.is_accepting(state)
        assert ok == ((lo is None or v >= lo) and (hi is None or v <= hi)), (lo, hi, v)
    assert not _accepts(node, "01") and not _accepts(node, "+1")


def test_multiple_of_with_range() -> None:
    node = integer_language(-1000, 10**12, 13, 100_000)
    for v in (-988, 0, 13, 26 * 10**9, 10**12 - (10**12 % 13)):
        assert _accepts(node, str(v))
    for v in (-1001, 1, 14, 10**12 + 13):
        assert not _accepts(node, str(v))


def test_huge_bounds_are_exact() -> None:
    node = integer_range(int(1e300), None)
    assert not _accepts(node, "1" + "0" * 300)
    assert _accepts(node, "2" + "0" * 300)


@settings(max_examples=300, deadline=None)
@given(bound=st.floats(-1e6, 1e6, allow_nan=False), digits=st.integers(1, 30), value=st.floats(-2e6, 2e6, allow_nan=False),
       op=st.sampled_from([">", ">=", "<", "<="]))
def test_fraction_text_against_float_comparison(bound: float, digits: int, value: float, op: str) -> None:
    node = float_cmp(op, bound)
    text = f"{value:.{digits}f}"
    parsed = json.loads(text)
    expected = {">": parsed > bound, ">=": parsed >= bound, "<": parsed < bound, "<=": parsed <= bound}[op]
    assert _accepts(node, text) == expected, (op, bound, text)
    near = f"{bound:.{digits}f}"
    parsed = json.loads(near)
    if "." in near:
        expected = {">": parsed > bound, ">=": parsed >= bound, "<": parsed < bound, "<=": parsed <= bound}[op]
        assert _accepts(node, near) == expected, (op, bound, near)
