"""Classify texts into a fixed set of labels with ``c.choice``.

Decoding may only spell one of the labels, so every answer is a label, exactly; the mean
log-probability tells how sure the model was.

Run: ``python examples/classify_choice.py`` (model from ``$CONSTRAIN_MODEL``, default the
built-in ``smollm2``). The last line printed is a JSON list of ``{"text", "label"}``.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

import constrain as c
from constrain.generate import load_model

LABELS = ["positive", "negative", "neutral"]
REVIEWS = [
    "The battery lasts two days and the screen is gorgeous.",
    "It stopped working after a week and support never answered.",
    "It arrived on Tuesday in a cardboard box.",
]


def as_prompt(tokenizer: Any, text: str) -> Any:
    """Chat messages for chat models, the plain text otherwise."""
    return [{"role": "user", "content": text}] if getattr(tokenizer, "chat_template", None) else text


def main() -> int:
    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    labels = c.choice(LABELS)
    out = []
    for review in REVIEWS:
        prompt = as_prompt(tokenizer, f"Is this review positive, negative or neutral?\nReview: {review}\nAnswer with one word.")
        result = c.generate(model, tokenizer, prompt, labels, max_new_tokens=8)
        print(f"{result.value:>8}  (mean logprob {result.mean_logprob:.2f})  {review}")
        out.append({"text": review, "label": result.value})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
