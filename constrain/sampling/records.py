"""What a sampling run reports: every attempt it made and the one it chose.

Test-time sampling spends extra compute; these records make that spending visible: each
:class:`Attempt` keeps its text, parsed value, validity, errors, token count, time and
score, and :class:`SampleResult` says which attempt won and how much the candidates agreed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Attempt:
    """One candidate: what was generated, whether it is valid, and what it cost.

    ``mean_logprob`` is the mean log-probability of the generated tokens under the
    unconstrained model (``None`` where the backend gives no log-probabilities);
    ``score`` is what the strategy ranked by (``None`` when it did not rank);
    ``fixes`` lists the repairs applied to the text before validation.
    """

    index: int
    text: str
    value: Any = None
    valid: bool = False
    errors: list[str] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    mean_logprob: float | None = None
    score: float | None = None
    finish_reason: str = ""
    fixes: list[str] = field(default_factory=list)
    prompt_feedback: bool = False

    @property
    def repaired(self) -> bool:
        """True when the text needed a repair before it validated."""
        return bool(self.fixes)


@dataclass
class SampleResult:
    """The chosen value plus the record of every attempt.

    ``chosen_index`` is the index into ``attempts`` of the winner (``None`` when no attempt
    was valid, in which case ``value`` is ``None``). ``confidence`` is the share of all
    attempts whose value equals the chosen one (canonical JSON), so for ``vote`` it is the
    agreement ratio and for ``retry`` it falls with every failed try.
    """

    value: Any
    text: str
    attempts: list[Attempt]
    confidence: float
    chosen_index: int | None
    strategy: str
    seconds: float = 0.0
    forward_passes: int = 0

    @property
    def valid(self) -> bool:
        """Whether some attempt was valid (and so ``value`` holds its parsed value)."""
        return self.chosen_index is not None

    @property
    def chosen(self) -> Attempt | None:
        """The winning attempt, if any."""
        return None if self.chosen_index is None else self.attempts[self.chosen_index]

    @property
    def total_tokens(self) -> int:
        """Tokens generated over all attempts: the compute the strategy spent."""
        return sum(a.tokens for a in self.attempts)

    @property
    def num_valid(self) -> int:
        """How many attempts were valid."""
        return sum(a.valid for a in self.attempts)

    def summary(self) -> str:
        """One line per attempt: index, validity, tokens, seconds, score and the first error."""
        lines = []
        for a in self.attempts:
            mark = "*" if a.index == self.chosen_index else " "
            score = "" if a.score is None else f" score={a.score:.3f}"
            error = f" error={a.errors[0]}" if a.errors else ""
            lines.append(f"{mark}{a.index}: valid={a.valid} tokens={a.tokens} seconds={a.seconds:.2f}{score}{error}")
        return "\n".join(lines)


def canonical(value: Any) -> str:
    """A canonical JSON text for comparing parsed values (pydantic models are dumped first)."""
    if hasattr(value, "model_dump") and callable(value.model_dump):
        value = value.model_dump(mode="json")
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return repr(value)
