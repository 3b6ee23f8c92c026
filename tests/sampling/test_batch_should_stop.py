"""``decode_batch(should_stop=...)`` ends a batch between steps, as a server's deadline or a gone client does."""
from __future__ import annotations

from typing import Any

import constrain as c
from constrain.sampling.batch import decode_batch


def test_should_stop_cancels_between_steps(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    asked = [0]

    def stop_after_three() -> bool:
        asked[0] += 1
        return asked[0] > 3

    result = decode_batch(model, tok, tok.encode("x"), 2, c.regex("[a-z]{50}"), max_new_tokens=50, seed=0,
                          should_stop=stop_after_three)
    assert [r.finish_reason for r in result.rows] == ["cancelled", "cancelled"]
    assert all(len(r.token_ids) == 3 for r in result.rows)
    full = decode_batch(model, tok, tok.encode("x"), 1, c.regex("[a-z]{5}"), max_new_tokens=5, seed=0, should_stop=lambda: False)
    assert full.rows[0].finish_reason != "cancelled" and len(full.rows[0].text) == 5
