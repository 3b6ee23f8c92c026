"""One sampling run: draws candidates from a backend, checks each, and keeps the record.

Strategies decide how many candidates to draw, with which prompts and temperatures, and
which to keep; the run does the drawing and checking and numbers every attempt, so the
final record lists all the compute spent, in order.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Sequence

from .backends import Backend, Candidate, Request
from .check import Checker
from .records import Attempt, SampleResult, canonical


class Run:
    """The state shared by a strategy's draws: backend, checker, base options and attempts so far."""

    def __init__(
        self,
        backend: Backend,
        checker: Checker,
        prompt: Any,
        request: Request,
        constrained: bool,
        temperature: float | None,
    ) -> None:
        self.backend = backend
        self.checker = checker
        self.prompt = prompt
        self.request = request
        self.constrained = constrained
        self.temperature = temperature
        self.attempts: list[Attempt] = []
        self.started = time.perf_counter()
        self._passes_before = backend.forward_passes

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.started

    @property
    def tokens(self) -> int:
        """Tokens generated so far, over all attempts."""
        return sum(a.tokens for a in self.attempts)

    def temperatures(self, n: int, default: float, greedy_first: bool) -> list[float]:
        """Row temperatures: the caller's if it set a positive one, else ``default``; row 0 greedy if asked."""
        hot = self.temperature if self.temperature else default
        return [0.0 if greedy_first and i == 0 else hot for i in range(n)]

    def check(self, candidate: Candidate, feedback: bool = False) -> Attempt:
        """An attempt (not yet recorded) for one candidate: parsed, validated, with its errors."""
        attempt = Attempt(
            index=-1,
            text=candidate.text,
            tokens=candidate.tokens,
            seconds=candidate.seconds,
            mean_logprob=candidate.mean_logprob,
            finish_reason=candidate.finish_reason,
            prompt_feedback=feedback,
        )
        if candidate.finish_reason == "cancelled":
            attempt.errors = ["cancelled: another candidate was valid first"]
            return attempt
        if candidate.finish_reason == "dead_end":
            attempt.errors = ["decoding reached a dead end of the constraint"]
            return attempt
        result = self.checker.check(candidate.text, constrained=self.constrained)
        attempt.value, attempt.errors, attempt.fixes = result.value, list(result.errors), list(result.fixes)
        attempt.valid = result.valid
        return attempt

    def draw(
        self,
        n: int,
        temperatures: Sequence[float],
        *,
        prompt: Any = None,
        seed: int | None = None,
        first_valid: bool = False,
        feedback: bool = False,
    ) -> list[Attempt]:
        """Draw ``n`` candidates (one batch where the backend can), check and record them."""
        request = replace(self.request, temperatures=list(temperatures), seed=seed)
        accept = (lambda c: self.check(c).valid) if first_valid else None
        candidates = self.backend.draw(self.prompt if prompt is None else prompt, n, request, accept)
        out = []
        for cand in candidates:
            attempt = self.check(cand, feedback)
            attempt.index = len(self.attempts)
            self.attempts.append(attempt)
            out.append(attempt)
        return out

    def result(self, chosen: Attempt | None, strategy: str) -> SampleResult:
        """The final record; confidence is the share of attempts agreeing with the chosen value."""
        confidence = 0.0
        if chosen is not None and self.attempts:
            key = canonical(chosen.value)
            agree = sum(1 for a in self.attempts if a.valid and canonical(a.value) == key)
            confidence = agree / len(self.attempts)
        return SampleResult(
            value=None if chosen is None else chosen.value,
            text="" if chosen is None else chosen.text,
            attempts=self.attempts,
            confidence=confidence,
            chosen_index=None if chosen is None else chosen.index,
            strategy=strategy,
            seconds=self.elapsed,
            forward_passes=self.backend.forward_passes - self._passes_before,
        )
