"""Ranked fallback choices: greedy order by score, and sampling without replacement that matches the
renormalized distribution once the first choice is rejected."""
from __future__ import annotations

from collections import Counter

import torch

from constrain.generate.choosing import filter_scores, ranked_choices


def test_greedy_ranking_is_by_score_without_the_rejected_token() -> None:
    scores = torch.tensor([0.5, 3.0, -1.0, 2.0, float("-inf")])
    assert ranked_choices(scores, 1, 0.0, None, None, None) == [3, 0, 2]
    assert scores[1] == 3.0, "the caller's scores are not modified"


def test_sampled_first_choice_follows_the_distribution_without_the_rejected_token() -> None:
    logits = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1]))
    gen = torch.Generator().manual_seed(0)
    n = 6000
    firsts = Counter(ranked_choices(logits, 0, 1.0, None, None, gen)[0] for _ in range(n))
    expected = {1: 0.5, 2: 1 / 3, 3: 1 / 6}
    for token, p in expected.items():
        assert abs(firsts[token] / n - p) < 0.03, (token, firsts)
    assert 0 not in firsts
    seconds = Counter(tuple(ranked_choices(logits, 0, 1.0, None, None, gen)[:2]) for _ in range(n))
    # P(second = 3 | first = 1) = 0.1 / (0.2 + 0.1)
    given_one = sum(v for k, v in seconds.items() if k[0] == 1)
    assert abs(seconds[(1, 3)] / given_one - 1 / 3) < 0.04


def test_top_k_applies_to_the_tokens_left() -> None:
    logits = torch.tensor([4.0, 3.0, 2.0, 1.0, 0.0])
    gen = torch.Generator().manual_seed(1)
    for _ in range(200):
        ranked = ranked_choices(logits, 0, 1.0, 2, None, gen)
        assert sorted(ranked) == [1, 2]
    assert torch.isinf(filter_scores(logits.unsqueeze(0), 2, None)[0, 2:]).all()
