"""``fill_masks`` against serial masks: a batch of 64 mixed rows equals 64 single calls, word for word."""
from __future__ import annotations

import random

import numpy as np
import pytest

import constrain as c
from constrain.mask.batch import fill_masks
from constrain.mask.bitmask import num_words
from tests.vocabs import vocabulary

PATTERNS = [r"\d{4}-\d{2}-\d{2}", r"[a-z]{1,8}( [a-z]{1,8}){0,3}", r"(yes|no|maybe)", r"[\w.]+@[a-z]+\.(com|org)"]


def random_matchers(vocab: c.Vocabulary, n: int, seed: int) -> list[c.Matcher]:
    """``n`` matchers of several constraints (a grammar among them), each advanced a random number of tokens."""
    rng = random.Random(seed)
    constraints = [c.regex(p) for p in PATTERNS] + [c.grammar('start: "(" start ")" | "x"')]
    out = []
    for i in range(n):
        m = constraints[i % len(constraints)].matcher(vocab)
        for _ in range(rng.randrange(4)):
            ids = [t for t in m.allowed_token_ids().tolist() if t not in vocab.eos_token_ids]
            if not ids:
                break
            m.advance(rng.choice(ids))
        out.append(m)
    return out


@pytest.mark.parametrize("budget", [None, 3])
def test_batch_of_64_equals_serial(budget: int | None) -> None:
    vocab = vocabulary("gpt2")
    matchers = random_matchers(vocab, 64, seed=5 if budget is None else 6)
    rows = list(range(64))
    random.Random(1).shuffle(rows)
    out = np.full((64, num_words(vocab.size)), -1, dtype=np.int32)
    fill_masks(matchers, out, rows, remaining=budget)
    for m, row in zip(matchers, rows):
        expected = m.mask()
        if budget is not None and type(m).budget_mask is not c.Matcher.budget_mask:
            words = m.budget_mask(budget)
            expected = words if words.any() else expected
        assert np.array_equal(out[row], expected), row


def test_rows_and_budgets_are_checked() -> None:
    vocab = vocabulary("gpt2")
    matchers = random_matchers(vocab, 2, seed=0)
    out = np.zeros((2, num_words(vocab.size)), dtype=np.int32)
    with pytest.raises(ValueError, match="rows"):
        fill_masks(matchers, out, rows=[0])
    with pytest.raises(ValueError, match="budgets"):
        fill_masks(matchers, out, remaining=[1, 2, 3])
