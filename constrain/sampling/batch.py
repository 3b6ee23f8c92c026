"""Decoding n candidates of one prompt in one batch: one forward pass per step for all rows.

The prompt is run once and its KV cache repeated n times; every later step feeds the n
last tokens together. Each row has its own matcher (its own token mask, budget-aware
closing where the constraint supports it), its own temperature (so a greedy row can sit
beside sampled ones) and its own mean log-probability under the unconstrained model.
Rows that finish are dropped from the batch, so finished candidates cost nothing more.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..constraints import Constraint
from ..generate.choosing import filter_scores, ranked_choices
from ..generate.kv_cache import forward_with_cache, new_cache
from ..generate.logits import apply_token_bitmask_
from ..generate.vocab_cache import vocabulary_for
from ..mask.batch import fill_masks
from ..mask.bitmask import num_words
from ..mask.budget import choose_within_budget
from ..mask.matcher import Matcher


@dataclass
class Row:
    """One decoded candidate."""

    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    text: str = ""
    finish_reason: str = ""
    seconds: float = 0.0

    @property
    def mean_logprob(self) -> float:
        """Mean log-probability of the row's tokens under the unconstrained model."""
        return float(np.mean(self.logprobs)) if self.logprobs else 0.0

    @property
    def valid_end(self) -> bool:
        """Whether the row ended by itself (not cut by length, a dead end or cancellation)."""
        return self.finish_reason in ("eos", "complete", "stop")


@dataclass
class BatchResult:
    """All rows of a batch and the forward passes they shared."""

    rows: list[Row]
    forward_passes: int
    seconds: float


def _eos_ids(model: Any, vocab: Any) -> set[int]:
    eos = set(vocab.eos_token_ids)
    if not eos and getattr(model.generation_config, "eos_token_id", None) is not None:
        found = model.generation_config.eos_token_id
        eos = set(found if isinstance(found, list) else [found])
    return eos


def choose_tokens(
    scores: Any, temperatures: Any, top_k: int | None, top_p: float | None, generator: Any
) -> list[int]:
    """One token per row: argmax where the row's temperature is 0, else a sample."""
    import torch

    greedy = torch.argmax(scores, -1)
    hot = temperatures > 0
    if not bool(hot.any()):
        return [int(t) for t in greedy]
    scaled = scores[hot] / temperatures[hot].unsqueeze(-1)
    probs = torch.softmax(filter_scores(scaled, top_k, top_p), -1)
    sampled = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    greedy[hot] = sampled
    return [int(t) for t in greedy]


class _Rows:
    """Per-row matchers, masks and finishing rules."""

    def __init__(self, constraint: Constraint | None, vocab: Any, n: int, eos: set[int], budget: bool) -> None:
        self.vocab = vocab
        self.eos = eos
        self.budget = budget and constraint is not None
        self.budget_in_mask = self.budget
        self.matchers: list[Matcher] | None = [constraint.matcher(vocab) for _ in range(n)] if constraint else None

    def masks(self, live: Sequence[int], remaining: int) -> np.ndarray | None:
        """The live rows' masks, filled in one batch call (budget masks while every row supports them)."""
        if self.matchers is None:
            return None
        rows = [self.matchers[r] for r in live]
        if self.budget_in_mask and not all(type(m).budget_mask is not Matcher.budget_mask for m in rows):
            self.budget_in_mask = False  # chosen tokens are checked instead (``within_budget``)
        out = np.empty((len(rows), num_words(self.vocab.size)), dtype=np.int32)
        fill_masks(rows, out, remaining=remaining if self.budget_in_mask else None)
        return out

    def within_budget(self, row: int, token: int, remaining: int, alternatives: Callable[[int], list[int]]) -> int:
        """``token``, or another choice when the row could not finish in ``remaining`` tokens after it."""
        if self.matchers is None or not self.budget or self.budget_in_mask or token in self.eos:
            return token
        return choose_within_budget(self.matchers[row], remaining, token, alternatives)

    def advance(self, row: int, token: int) -> None:
        if self.matchers is not None:
            self.matchers[row].advance(token)

    def complete(self, row: int) -> bool:
        """Whether the constraint is satisfied and allows nothing but end-of-sequence."""
        if self.matchers is None:
            return False
        m = self.matchers[row]
        return m.is_accepting() and all(int(t) in self.eos for t in m.allowed_token_ids())

    def accepting(self, row: int) -> bool:
        return self.matchers is None or self.matchers[row].is_accepting()


def decode_batch(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[int],
    n: int,
    constraint: Constraint | None = None,
    *,
    max_new_tokens: int = 256,
    temperatures: Sequence[float] | float = 0.7,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    stop: Sequence[str] | None = None,
    budget: bool = True,
    stop_when: Callable[[int, Row], bool] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BatchResult:
    """Decode ``n`` candidates of ``prompt_ids`` together, one forward pass per step for all rows.

    ``temperatures`` is one value for all rows or one per row (0 = greedy). ``stop_when``
    is called as each row finishes; returning True ends the whole batch at once (the
    unfinished rows get ``finish_reason="cancelled"``), which is how ``first_valid``
    returns as soon as one candidate is complete and valid. ``should_stop`` is asked before
    every step; True ends the batch the same way (how a server enforces deadlines and
    drops requests whose client has gone).
    """
    import torch

    if n < 1:
        raise ValueError("n must be at least 1")
    start = time.perf_counter()
    width = int(model.get_output_embeddings().weight.shape[0])
    vocab = vocabulary_for(tokenizer, width)
    eos = _eos_ids(model, vocab)
    rows_state = _Rows(constraint, vocab, n, eos, budget)
    temps = torch.tensor([temperatures] * n if isinstance(temperatures, (int, float)) else list(temperatures), dtype=torch.float32)
    if temps.shape[0] != n:
        raise ValueError(f"got {temps.shape[0]} temperatures for {n} rows")
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    device = next(model.parameters()).device
    stops = list(stop or [])
    rows = [Row() for _ in range(n)]
    live = list(range(n))
    past = new_cache(model)
    with torch.no_grad():
        out = forward_with_cache(model, torch.tensor([list(prompt_ids)], device=device), past)
    if n > 1:
        past.batch_repeat_interleave(n)
    logits = out.logits[:, -1].float().expand(n, -1).clone()
    forwards = 1
    ended = False
    while live and not ended:
        if should_stop is not None and should_stop():
            break
        step = len(rows[live[0]].token_ids)
        raw = torch.log_softmax(logits, -1)
        scores = logits.clone()
        masks = rows_state.masks(live, max_new_tokens - step)
        if masks is not None:
            apply_token_bitmask_(scores, masks)
        dead = ~torch.isfinite(scores).any(-1)
        scores[dead] = 0.0
        live_temps = temps[live]
        tokens = choose_tokens(scores, live_temps, top_k, top_p, generator)
        for pos, r in enumerate(live):
            if not bool(dead[pos]):
                tokens[pos] = rows_state.within_budget(
                    r, tokens[pos], max_new_tokens - step,
                    lambda t, pos=pos: ranked_choices(scores[pos], t, float(live_temps[pos]), top_k, top_p, generator))
        keep: list[int] = []
        for pos, (r, token) in enumerate(zip(live, tokens)):
            row = rows[r]
            reason = ""
            if bool(dead[pos]):
                reason = "dead_end"
            elif token in eos:
                reason = "eos" if rows_state.accepting(r) else "dead_end"
            else:
                rows_state.advance(r, token)
                row.token_ids.append(token)
                row.logprobs.append(float(raw[pos, token]))
                if stops:
                    text = vocab.decode(row.token_ids).decode("utf-8", errors="replace")
                    if any(s in text for s in stops):
                        reason = "stop"
                if not reason and rows_state.complete(r):
                    reason = "complete"
                if not reason and len(row.token_ids) >= max_new_tokens:
                    reason = "length"
            if reason:
                row.finish_reason = reason
                row.seconds = time.perf_counter() - start
                row.text = _text(vocab, row.token_ids, stops if reason == "stop" else ())
                if stop_when is not None and reason != "dead_end" and stop_when(r, row):
                    ended = True
            else:
                keep.append(pos)
        if ended or not keep:
            break
        if len(keep) < len(live):
            index = torch.tensor(keep, device=device)
            past.batch_select_indices(index)
            live = [live[p] for p in keep]
            next_tokens = [tokens[p] for p in keep]
        else:
            next_tokens = tokens
        with torch.no_grad():
            out = forward_with_cache(model, torch.tensor(next_tokens, device=device).view(-1, 1), past)
        logits = out.logits[:, -1].float()
        forwards += 1
    for row in rows:
        if not row.finish_reason:
            row.finish_reason = "cancelled"
            row.seconds = time.perf_counter() - start
            row.text = _text(vocab, row.token_ids, ())
    return BatchResult(rows, forwards, time.perf_counter() - start)


def _text(vocab: Any, ids: list[int], stops: Sequence[str]) -> str:
    text = vocab.decode(ids).decode("utf-8", errors="replace")
    hits = [text.find(s) for s in stops if s in text]
    return text[: min(hits)] if hits else text
