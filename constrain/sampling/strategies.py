"""Test-time sampling strategies: spend more compute for a valid, or a better, answer.

* :func:`retry` -- one candidate at a time until one is valid; with ``feedback=True`` the
  next try sees the failed answer and its validation errors (bounded by tries, tokens, seconds).
* :func:`best_of` -- n candidates in one batch; the valid one with the best score wins
  (mean token log-probability, or a verifier/reward function of the value).
* :func:`vote` -- n candidates; the most frequent parsed value wins (canonical JSON), ties
  by mean log-probability; the agreement ratio is the confidence.
* :func:`first_valid` -- n candidates in parallel; the first complete valid one wins.

Strategies that draw n candidates need them to differ: unless the caller sets a positive
temperature, they sample at the strategy's ``temperature``, with row 0 greedy when
``greedy_first`` is set (so the single greedy answer is always among the candidates).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

from .prompting import with_feedback
from .records import Attempt, SampleResult, canonical
from .run import Run

Score = Callable[[Any], float]


class Strategy(ABC):
    """How many candidates to draw, and which one to keep."""

    name: str = "strategy"

    @abstractmethod
    def run(self, run: Run) -> SampleResult:
        """Draw through ``run`` and return the chosen value with the record of attempts."""


def _logprob(a: Attempt) -> float:
    return a.mean_logprob if a.mean_logprob is not None else float("-inf")


@dataclass
class Retry(Strategy):
    """Generate until a candidate is valid, at most ``max_tries`` times (see :func:`retry`)."""

    max_tries: int = 3
    feedback: bool = False
    max_tokens: int | None = None
    max_seconds: float | None = None
    temperature: float = 0.7
    name: str = "retry"

    def run(self, run: Run) -> SampleResult:
        prompt = run.prompt
        base_seed = run.request.seed
        for i in range(self.max_tries):
            if i and self.max_tokens is not None and run.tokens >= self.max_tokens:
                break
            if i and self.max_seconds is not None and run.elapsed >= self.max_seconds:
                break
            first = i == 0 or (self.feedback and not run.temperature)
            temps = [run.temperature or 0.0] if first else run.temperatures(1, self.temperature, False)
            seed = None if base_seed is None else base_seed + i
            [attempt] = run.draw(1, temps, prompt=prompt, seed=seed, feedback=i > 0 and self.feedback)
            if attempt.valid:
                return run.result(attempt, self.name)
            if self.feedback:
                prompt = with_feedback(prompt, attempt.text, attempt.errors)
        return run.result(None, self.name)


@dataclass
class BestOf(Strategy):
    """n candidates in one batch; the valid one with the highest score wins (see :func:`best_of`)."""

    n: int = 5
    score: str | Score = "mean_logprob"
    temperature: float = 0.7
    greedy_first: bool = True
    name: str = "best_of"

    def run(self, run: Run) -> SampleResult:
        attempts = run.draw(self.n, run.temperatures(self.n, self.temperature, self.greedy_first), seed=run.request.seed)
        valid = [a for a in attempts if a.valid]
        for a in valid:
            if self.score == "mean_logprob":
                a.score = a.mean_logprob
            elif callable(self.score):
                a.score = float(self.score(a.value))
            else:
                raise ValueError(f"score must be 'mean_logprob' or a function of the value, not {self.score!r}")
        if not valid:
            return run.result(None, self.name)
        best = max(valid, key=lambda a: (a.score if a.score is not None else float("-inf"), _logprob(a), -a.index))
        return run.result(best, self.name)


@dataclass
class Vote(Strategy):
    """Majority over the parsed values of n candidates (see :func:`vote`)."""

    n: int = 5
    temperature: float = 0.7
    greedy_first: bool = True
    name: str = "vote"

    def run(self, run: Run) -> SampleResult:
        attempts = run.draw(self.n, run.temperatures(self.n, self.temperature, self.greedy_first), seed=run.request.seed)
        groups: dict[str, list[Attempt]] = defaultdict(list)
        for a in attempts:
            if a.valid:
                groups[canonical(a.value)].append(a)
        if not groups:
            return run.result(None, self.name)
        for members in groups.values():
            for a in members:
                a.score = len(members) / len(attempts)

        def strength(members: list[Attempt]) -> tuple[int, float]:
            return len(members), max(_logprob(a) for a in members)

        winners = max(groups.values(), key=strength)
        chosen = max(winners, key=lambda a: (_logprob(a), -a.index))
        return run.result(chosen, self.name)


@dataclass
class FirstValid(Strategy):
    """n candidates in parallel; the first complete valid one wins (see :func:`first_valid`)."""

    n: int = 4
    temperature: float = 0.7
    greedy_first: bool = True
    name: str = "first_valid"

    def run(self, run: Run) -> SampleResult:
        attempts = run.draw(
            self.n, run.temperatures(self.n, self.temperature, self.greedy_first), seed=run.request.seed, first_valid=True
        )
        valid = [a for a in attempts if a.valid]
        if not valid:
            return run.result(None, self.name)
        return run.result(min(valid, key=lambda a: (a.seconds, a.index)), self.name)


def retry(
    max_tries: int = 3,
    *,
    feedback: bool = False,
    max_tokens: int | None = None,
    max_seconds: float | None = None,
    temperature: float = 0.7,
) -> Retry:
    """Generate until a candidate parses, repairs and validates; at most ``max_tries`` candidates.

    The first try uses the caller's temperature (greedy by default); later tries sample at
    ``temperature`` so they can differ. With ``feedback=True`` each later try re-asks with
    the failed answer and its validation errors appended (for chat models; greedy is kept
    then, since the prompt changes). ``max_tokens`` and ``max_seconds`` bound the total spent:
    no new try starts once either is reached.
    """
    if max_tries < 1:
        raise ValueError("max_tries must be at least 1")
    return Retry(max_tries, feedback, max_tokens, max_seconds, temperature)


def best_of(n: int = 5, score: str | Score = "mean_logprob", *, temperature: float = 0.7, greedy_first: bool = True) -> BestOf:
    """Draw ``n`` candidates in one batch and keep the valid one with the highest score.

    ``score="mean_logprob"`` ranks by mean token log-probability under the unconstrained
    model; a function ``value -> float`` (a verifier or reward model) ranks by its result,
    ties broken by log-probability.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    return BestOf(n, score, temperature, greedy_first)


def vote(n: int = 5, *, temperature: float = 0.7, greedy_first: bool = True) -> Vote:
    """Draw ``n`` candidates and keep the most frequent parsed value (compared as canonical JSON).

    Ties go to the group holding the highest mean log-probability; the result's
    ``confidence`` is the agreement ratio (votes for the winner / n).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    return Vote(n, temperature, greedy_first)


def first_valid(n: int = 4, *, temperature: float = 0.7, greedy_first: bool = True) -> FirstValid:
    """Draw ``n`` candidates in parallel and return the first one that is complete and valid.

    On a local model the batch stops as soon as one row finishes valid; remote requests
    still running are no longer waited for. Optimizes latency, not quality.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    return FirstValid(n, temperature, greedy_first)
