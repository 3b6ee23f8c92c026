"""The batched decoding loop: one forward pass per step for all rows, valid rows, same result as generate."""
from __future__ import annotations

import re

import constrain as c
from constrain.generate.api import _prompt_ids
from constrain.sampling import decode_batch

PATTERN = r'\{"id": [0-9]{1,4}, "tag": "(alpha|beta|gamma)", "ok": (true|false)\}'


def test_one_forward_per_step_for_all_rows(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    shapes: list[tuple[int, int]] = []
    hook = model.register_forward_hook(lambda _m, args, kwargs, _out: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True)
    try:
        result = decode_batch(model, tok, tok.encode("Output:"), 5, c.regex(PATTERN), max_new_tokens=40, temperatures=1.0, seed=0)
    finally:
        hook.remove()
    assert result.forward_passes == len(shapes)
    assert shapes[0][0] == 1, "the prompt runs once, its cache is shared by the rows"
    assert all(rows <= 5 and width == 1 for rows, width in shapes[1:])
    longest = max(len(r.token_ids) for r in result.rows)
    assert result.forward_passes <= longest + 1
    for row in result.rows:
        assert row.finish_reason in ("complete", "eos"), row
        assert re.fullmatch(PATTERN, row.text), row.text
        assert row.mean_logprob < 0
    assert len({r.text for r in result.rows}) > 1, "sampled rows should differ"


def test_greedy_row_matches_generate(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    constraint = c.regex(PATTERN)
    # the batched loop keeps each sampled token as it is (no jump-forward, no re-tokenization)
    single = c.generate(model, tok, "Output:", constraint, max_new_tokens=40, jump_forward=False, canonical_tokens=False)
    batch = decode_batch(model, tok, _prompt_ids(tok, "Output:", None), 3, constraint, max_new_tokens=40, temperatures=[0.0, 1.0, 1.0], seed=1)
    greedy = batch.rows[0]
    assert greedy.text == single.text
    assert greedy.token_ids == single.token_ids
    assert abs(greedy.mean_logprob - single.mean_logprob) < 1e-4


def test_budget_closes_rows_within_max_new_tokens(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    pattern = r"\[[a-z]+(, [a-z]+)*\]"
    result = decode_batch(model, tok, tok.encode("List:"), 4, c.regex(pattern), max_new_tokens=12, temperatures=1.3, seed=2)
    for row in result.rows:
        assert len(row.token_ids) <= 12
        assert re.fullmatch(pattern, row.text), row


def test_unconstrained_rows_stop_at_stop_strings(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    result = decode_batch(model, tok, tok.encode("Text:"), 3, None, max_new_tokens=30, temperatures=1.0, seed=3, stop=["e"])
    for row in result.rows:
        assert "e" not in row.text
        assert row.finish_reason in ("stop", "length", "eos")


def test_stop_when_ends_the_batch_early(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    seen: list[int] = []

    def first(index: int, row) -> bool:  # type: ignore[no-untyped-def]
        seen.append(index)
        return True

    result = decode_batch(model, tok, tok.encode("x"), 4, c.regex(r"[a-z]{1,6}"), max_new_tokens=10, temperatures=1.0, seed=4, stop_when=first)
    assert len(seen) >= 1
    finished = [r for r in result.rows if r.finish_reason != "cancelled"]
    assert result.rows[seen[0]] in finished
    assert len(finished) < 4 or len({len(r.token_ids) for r in finished}) == 1
