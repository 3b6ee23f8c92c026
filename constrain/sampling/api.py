"""``sample``: test-time sampling over a local model, a remote OpenAI-compatible model or a function.

The strategy decides how candidates are drawn and which is kept; this module wires the
pieces: it picks the backend, compiles the output to a constraint where decoding can be
held to one (local models), or describes the format in the prompt and repairs and
validates the text where it cannot (remote models, plain functions, or ``constrained=False``).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConstrainError
from ..generate.describe import describe as describe_output
from .backends import ClientBackend, LocalBackend, Request, backend_for
from .check import Checker, constraint_for
from .prompting import with_instruction
from .records import SampleResult
from .run import Run
from .strategies import Strategy, retry


def _local_constraint(output: Any, constrained: bool | None) -> Any:
    if constrained is False or output is None or output is str:
        return None
    try:
        return constraint_for(output)
    except ConstrainError:
        if constrained:
            raise
        return None


def sample(
    model: Any,
    tokenizer: Any,
    prompt: str | Sequence[dict[str, str]],
    output: Any = None,
    strategy: Strategy | None = None,
    *,
    constrained: bool | None = None,
    repair: bool = True,
    describe: bool | None = None,
    max_new_tokens: int = 256,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    stop: Sequence[str] | None = None,
    budget: bool = True,
    jump_forward: bool = True,
) -> SampleResult:
    """Run ``strategy`` (default ``retry(3)``) and return the chosen value with every attempt.

    ``model`` is a transformers causal LM (with ``tokenizer``), a
    :class:`constrain.openai_compat.Client` (``tokenizer=None``) or a function
    ``prompt -> text``. ``output`` is what generation accepts: a constraint, a Python type,
    a ``Literal``, a pydantic model or a JSON Schema dict.

    ``constrained``: ``None`` (default) holds local decoding to the output's constraint when
    it compiles to one and asks remote servers for it (``response_format`` or the regex /
    grammar extension fields); ``False`` samples freely and relies on repair and validation;
    ``True`` fails if no constraint can be built. ``describe`` (default: when not
    constrained) appends a short description of the format to the prompt. ``repair=False``
    refuses any unconstrained text that is not already exact.
    """
    strategy = strategy or retry(3)
    checker = Checker(output, repair=repair)
    backend = backend_for(model, tokenizer)
    request = Request(
        max_new_tokens=max_new_tokens, top_k=top_k, top_p=top_p, seed=seed, stop=stop, budget=budget, jump_forward=jump_forward
    )
    is_constrained = False
    if isinstance(backend, LocalBackend):
        request.constraint = _local_constraint(output, constrained)
        is_constrained = request.constraint is not None
    elif isinstance(backend, ClientBackend) and constrained is not False and checker.kind != "text":
        from ..openai_compat.protocol import request_fields

        request.remote_fields = request_fields(output)
    elif constrained:
        raise ConstrainError("constrained decoding needs a local model or a Client; pass constrained=False")
    if describe is None:
        describe = not is_constrained and checker.kind != "text"
    if describe and checker.kind != "text":
        prompt = with_instruction(prompt, describe_output(output))
    run = Run(backend, checker, prompt, request, is_constrained, temperature)
    return strategy.run(run)
