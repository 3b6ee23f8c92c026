"""Generate under a context-free grammar written in Lark: arithmetic expressions.

``grammars/arithmetic.lark`` (numbers, names, calls, + - * / % **, parentheses) is loaded with
``c.grammar``; every token the model picks keeps the output a prefix of some expression, and
the end of the answer is only allowed where the expression is complete. Grammars have no
token budget, so a candidate can be cut short by ``max_new_tokens``; ``c.first_valid`` draws a
few in one batch and keeps the first complete one.

Run: ``python examples/lark_grammar.py`` (model from ``$CONSTRAIN_MODEL``, default the
built-in ``smollm2``). The last line printed is ``{"expression", "complete"}`` as JSON.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import constrain as c
from constrain.generate import load_model

GRAMMAR = Path(__file__).resolve().parents[1] / "grammars" / "arithmetic.lark"


def as_prompt(tokenizer: Any, text: str) -> Any:
    """Chat messages for chat models, the plain text otherwise."""
    return [{"role": "user", "content": text}] if getattr(tokenizer, "chat_template", None) else text


def main() -> int:
    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    arithmetic = c.grammar(GRAMMAR)
    prompt = as_prompt(tokenizer, "Write an arithmetic expression whose value is 12, using + and *. Only the expression.")
    result = c.sample(model, tokenizer, prompt, arithmetic, c.first_valid(4), max_new_tokens=24, seed=0)
    for attempt in result.attempts:
        print(f"candidate {attempt.index}: {attempt.text!r} complete={attempt.valid}")
    best = result.text if result.valid else result.attempts[0].text
    print(f"chosen: {best!r}")
    print(json.dumps({"expression": best, "complete": result.valid}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
