"""Extract a typed record from text into a pydantic model.

The model's output is held to the JSON Schema of ``Employee`` while it is generated, so the
answer always parses and validates: ``result.value`` is an ``Employee`` instance.

Run: ``python examples/extract_pydantic.py`` (model from ``$CONSTRAIN_MODEL``, default the
built-in ``smollm2``; any local transformers folder works). The last line printed is the
record as JSON.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Literal

from pydantic import BaseModel

import constrain as c
from constrain.generate import load_model


class Employee(BaseModel):
    name: str
    age: int
    city: str
    seniority: Literal["junior", "mid", "senior"]


def as_prompt(tokenizer: Any, text: str) -> Any:
    """Chat messages for chat models, the plain text otherwise."""
    return [{"role": "user", "content": text}] if getattr(tokenizer, "chat_template", None) else text


def main() -> int:
    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    text = "Maria Lopez, 34, has been a senior engineer in Madrid for six years."
    prompt = as_prompt(tokenizer, f"Extract the employee from this text: {text}")
    result = c.generate(model, tokenizer, prompt, Employee, max_new_tokens=60, describe=True)
    print(f"valid={result.valid} tokens={result.num_tokens} seconds={result.seconds:.2f}", file=sys.stderr)
    if not result.valid:
        print(f"not complete: {result.text!r}", file=sys.stderr)
        return 1
    employee: Employee = result.value
    print(f"{employee.name} ({employee.age}), {employee.seniority}, {employee.city}")
    print(employee.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
