"""Where candidates come from: a local transformers model, a remote OpenAI-compatible server, or a function.

Every backend answers one question: give me ``n`` candidate texts for this prompt under
these options. A local model decodes them in one batch (one forward pass per step for
all); a remote model gets parallel requests under the client's concurrency limit; a plain
function ``prompt -> text`` is called ``n`` times (handy for any other API, and for tests).
"""
from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from ..constraints import Constraint
from .batch import Row, decode_batch


@dataclass
class Candidate:
    """One generated text with what it cost."""

    text: str
    tokens: int = 0
    seconds: float = 0.0
    mean_logprob: float | None = None
    finish_reason: str = ""


@dataclass
class Request:
    """What to generate: the constraint (local models only) and the decoding options."""

    constraint: Constraint | None = None
    remote_fields: dict[str, Any] | None = None
    max_new_tokens: int = 256
    temperatures: list[float] = field(default_factory=lambda: [0.0])
    top_k: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: Sequence[str] | None = None
    budget: bool = True
    jump_forward: bool = True


class Backend(Protocol):
    """Produces candidates; ``accept`` (when given) ends the draw at the first accepted candidate."""

    forward_passes: int

    def draw(
        self, prompt: Any, n: int, request: Request, accept: Callable[[Candidate], bool] | None = None
    ) -> list[Candidate]: ...


class LocalBackend:
    """A transformers causal LM with its tokenizer."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.forward_passes = 0

    def _prompt_ids(self, prompt: Any) -> list[int]:
        from ..generate.api import _prompt_ids

        return _prompt_ids(self.tokenizer, prompt, None)

    def draw(
        self, prompt: Any, n: int, request: Request, accept: Callable[[Candidate], bool] | None = None
    ) -> list[Candidate]:
        if n == 1 and accept is None:
            return [self._single(prompt, request)]
        stop_when = None
        if accept is not None:
            stop_when = lambda _r, row: accept(_candidate(row))  # noqa: E731
        result = decode_batch(
            self.model,
            self.tokenizer,
            self._prompt_ids(prompt),
            n,
            request.constraint,
            max_new_tokens=request.max_new_tokens,
            temperatures=request.temperatures,
            top_k=request.top_k,
            top_p=request.top_p,
            seed=request.seed,
            stop=request.stop,
            budget=request.budget,
            stop_when=stop_when,
        )
        self.forward_passes += result.forward_passes
        return [_candidate(row) for row in result.rows]

    def _single(self, prompt: Any, request: Request) -> Candidate:
        from ..generate.api import generate

        g = generate(
            self.model,
            self.tokenizer,
            prompt,
            request.constraint,
            max_new_tokens=request.max_new_tokens,
            temperature=request.temperatures[0],
            top_k=request.top_k,
            top_p=request.top_p,
            seed=request.seed,
            stop=request.stop,
            jump_forward=request.jump_forward,
            budget=request.budget,
        )
        self.forward_passes += g.forward_passes
        return Candidate(g.text, g.num_tokens, g.seconds, g.mean_logprob, g.finish_reason)


def _candidate(row: Row) -> Candidate:
    return Candidate(row.text, len(row.token_ids), row.seconds, row.mean_logprob, row.finish_reason)


def _parallel(
    one: Callable[[int], Candidate], n: int, workers: int, accept: Callable[[Candidate], bool] | None
) -> list[Candidate]:
    """Run ``one(i)`` for i < n on a thread pool; with ``accept``, stop waiting at the first accepted one."""
    if n == 1 or workers <= 1:
        out: list[Candidate] = []
        for i in range(n):
            out.append(one(i))
            if accept is not None and accept(out[-1]):
                break
        return out + [Candidate("", finish_reason="cancelled") for _ in range(n - len(out))]
    pool = ThreadPoolExecutor(max_workers=min(workers, n))
    futures = {pool.submit(one, i): i for i in range(n)}
    done_list: dict[int, Candidate] = {}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            stop = False
            for f in done:
                cand = f.result()
                done_list[futures[f]] = cand
                stop = stop or (accept is not None and accept(cand))
            if stop:
                break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [done_list.get(i, Candidate("", finish_reason="cancelled")) for i in range(n)]


class ClientBackend:
    """A remote OpenAI-compatible chat model through :class:`constrain.openai_compat.Client`."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.forward_passes = 0

    def draw(
        self, prompt: Any, n: int, request: Request, accept: Callable[[Candidate], bool] | None = None
    ) -> list[Candidate]:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)

        def one(i: int) -> Candidate:
            start = time.perf_counter()
            temps = request.temperatures
            reply = self.client.chat(
                messages,
                max_tokens=request.max_new_tokens,
                temperature=temps[i % len(temps)],
                top_p=request.top_p,
                seed=None if request.seed is None else request.seed + i,
                stop=request.stop,
                constraint_fields=request.remote_fields,
            )
            return Candidate(reply.text, reply.completion_tokens, time.perf_counter() - start, reply.mean_logprob, reply.finish_reason)

        return _parallel(one, n, self.client.max_concurrency, accept)


class FunctionBackend:
    """Any function ``prompt -> text``: another API, a cache, or a scripted stand-in in tests."""

    def __init__(self, fn: Callable[[Any], str]) -> None:
        self.fn = fn
        self.forward_passes = 0

    def draw(
        self, prompt: Any, n: int, request: Request, accept: Callable[[Candidate], bool] | None = None
    ) -> list[Candidate]:
        def one(_i: int) -> Candidate:
            start = time.perf_counter()
            text = self.fn(prompt)
            return Candidate(text, 0, time.perf_counter() - start, None, "stop")

        return _parallel(one, n, 1, accept)


def backend_for(model: Any, tokenizer: Any) -> Backend:
    """Pick the backend for what the caller passed as ``model``."""
    if hasattr(model, "chat") and hasattr(model, "max_concurrency"):
        return ClientBackend(model)
    if hasattr(model, "get_output_embeddings"):
        if tokenizer is None:
            raise TypeError("a local model needs its tokenizer")
        return LocalBackend(model, tokenizer)
    if callable(model):
        return FunctionBackend(model)
    raise TypeError(f"cannot sample from {type(model).__name__}: pass a transformers model, a Client or a function")
