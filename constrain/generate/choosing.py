"""Choosing the next token from scores: greedy, temperature, top-k and top-p, and ranked fallbacks."""
from __future__ import annotations

from typing import Any


def filter_scores(scores: Any, top_k: int | None, top_p: float | None) -> Any:
    """``scores`` (rows of logits) with everything outside the top-k / top-p nucleus set to ``-inf``."""
    import torch

    if top_k is not None and 0 < top_k < scores.shape[-1]:
        kth = torch.topk(scores, top_k, dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        ordered, order = torch.sort(scores, descending=True, dim=-1)
        probs = torch.softmax(ordered, -1)
        drop = probs.cumsum(-1) - probs > top_p
        ordered = ordered.masked_fill(drop, float("-inf"))
        scores = torch.full_like(scores, float("-inf")).scatter(-1, order, ordered)
    return scores


def ranked_choices(
    scores: Any, exclude: int, temperature: float, top_k: int | None, top_p: float | None, generator: Any, k: int = 64,
) -> list[int]:
    """Up to ``k`` tokens of one row of ``scores`` other than ``exclude``, in the order to try them.

    Greedy: by score. Sampling: the Gumbel-top-k trick, so the list is a draw without replacement:
    its first token is a sample given ``exclude`` was rejected, its second a sample given both were,
    and so on (top-k / top-p are applied once, to the tokens other than ``exclude``).
    """
    import torch

    scores = scores.clone()
    scores[exclude] = float("-inf")
    if temperature > 0:
        scores = filter_scores((scores / temperature).unsqueeze(0), top_k, top_p)[0]
        uniform = torch.rand(scores.shape, generator=generator, device=scores.device).clamp_(1e-20, 1.0)
        scores = scores - torch.log(-torch.log(uniform))
    top = torch.topk(scores, min(k, scores.shape[-1]))
    return [int(t) for t, v in zip(top.indices.tolist(), top.values.tolist()) if v != float("-inf")]
