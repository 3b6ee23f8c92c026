"""Array helpers of the trie walks against numpy's own answers."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from constrain.mask.walk import expand_ranges, unique_codes


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=300), st.integers(0, 3))
def test_unique_codes_equals_numpy_unique(values: list[int], spread: int) -> None:
    codes = np.array(values, dtype=np.int64) * (1 + spread * 997)
    bound = int(codes.max()) + 1 if codes.size else 1
    uniq, inverse = unique_codes(codes, bound)
    ref_uniq, ref_inverse = np.unique(codes, return_inverse=True)
    assert np.array_equal(uniq, ref_uniq)
    assert np.array_equal(inverse, ref_inverse.reshape(-1))
    assert np.array_equal(uniq[inverse], codes)


def test_expand_ranges_concatenates_aranges() -> None:
    starts, ends = np.array([3, 0, 7, 7]), np.array([5, 0, 10, 8])
    assert expand_ranges(starts, ends).tolist() == [3, 4, 7, 8, 9, 7]
