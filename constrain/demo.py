"""The built-in demo: extract a typed record from a short text with a real small model on CPU."""
from __future__ import annotations

import time
from typing import Any, Literal

SAMPLE_TEXT = (
    "Maria Lopez, 34, joined the Madrid office of Northwind Logistics in March as a senior data engineer. "
    "She works mostly in Python and SQL and leads the routing team."
)


def demo_output() -> Any:
    """The record the demo extracts: a pydantic model's schema when the compiler is available, else a regex.

    The JSON may carry the whitespace the model writes (bounded): a small model copies ages and fills
    lists far more reliably in the spacing it was trained on than in compact JSON, and keeps a list
    going until something stops it, hence the bound on ``skills``
    (``benchmarks/bench_extraction.py`` measures both).
    """
    try:
        from pydantic import BaseModel, Field

        from .schema import json_schema

        class Employee(BaseModel):
            name: str
            age: int
            city: str
            seniority: Literal["junior", "mid", "senior"]
            skills: list[str] = Field(max_length=3)

        return json_schema(Employee, whitespace="flexible")
    except ImportError:
        from .constraints import regex

        return regex(r'\{"name": "[A-Za-z ]{1,40}", "age": [0-9]{1,3}, "city": "[A-Za-z ]{1,30}"\}')


def run_demo(model_name: str = "smollm2", text: str = SAMPLE_TEXT, max_new_tokens: int = 96) -> int:
    """Load the model, extract the record, print it with timings; returns a process exit code."""
    from .generate import generate, load_model

    started = time.perf_counter()
    model, tokenizer = load_model(model_name)
    loaded = time.perf_counter() - started
    output = demo_output()
    messages = [
        {"role": "system", "content": "You extract facts from text as JSON."},
        {"role": "user", "content": f"Extract the person described in this text.\n\nText: {text}"},
    ]
    result = generate(model, tokenizer, messages, output, max_new_tokens=max_new_tokens)
    rate = result.num_tokens / result.seconds if result.seconds else 0.0
    print(f"model: {model_name} (loaded in {loaded:.1f} s)")
    print(f"text: {text}")
    print(f"output: {result.text}")
    print(f"value: {result.value!r}")
    print(
        f"valid: {result.valid}; {result.num_tokens} tokens in {result.seconds:.2f} s ({rate:.1f} tokens/s); "
        f"{result.forward_passes} forward passes ({result.jump_forward_tokens} tokens jumped forward); "
        f"mean log-probability {result.mean_logprob:.3f}"
    )
    return 0 if result.valid else 1
