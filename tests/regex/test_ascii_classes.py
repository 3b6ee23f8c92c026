"""The fast path for ASCII-only classes under IGNORECASE agrees with asking ``re`` about every code point."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from constrain.regex.charset import ascii_class_ranges, python_class_ranges


def _escape(cp: int) -> str:
    return f"\\x{cp:02x}"


@settings(max_examples=25, deadline=None)
@given(
    items=st.lists(st.tuples(st.integers(0, 127), st.integers(0, 20)), min_size=1, max_size=4),
    negate=st.booleans(),
    flags=st.sampled_from([re.IGNORECASE, re.IGNORECASE | re.ASCII, 0]),
)
def test_ascii_classes_match_the_full_oracle(items, negate, flags):
    body = "".join(f"{_escape(lo)}-{_escape(min(lo + width, 127))}" for lo, width in items)
    expected = python_class_ranges(f"[{'^' if negate else ''}{body}]", flags)
    assert ascii_class_ranges(body, negate, flags) == expected


def test_letters_that_fold_outside_ascii():
    assert (0x212A, 0x212A) in ascii_class_ranges("k", False, re.IGNORECASE)  # Kelvin sign
    assert (0x17F, 0x17F) in ascii_class_ranges("s", False, re.IGNORECASE)  # long s
    assert ascii_class_ranges("k", False, re.IGNORECASE | re.ASCII) == ((75, 75), (107, 107))
