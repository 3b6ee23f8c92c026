"""Fill fields whose format is a regular expression: a date, a phone number, an order code.

Each field is generated under its own ``c.regex``, so the values match their patterns with
``re.fullmatch`` semantics, whatever the model would have written on its own.

Run: ``python examples/regex_fields.py`` (model from ``$CONSTRAIN_MODEL``, default the
built-in ``smollm2``). The last line printed is the fields as a JSON object.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

import constrain as c
from constrain.generate import load_model

TEXT = "Order AB-1234 was placed on 3 March 2024; call +1 555 010 7788 with questions."
FIELDS = {
    "date": (r"\d{4}-\d{2}-\d{2}", "the order date as YYYY-MM-DD"),
    "phone": (r"\+\d{1,3}( \d{2,4}){2,4}", "the phone number, in international format"),
    "order": (r"[A-Z]{2}-\d{4}", "the order code"),
}


def as_prompt(tokenizer: Any, text: str) -> Any:
    """Chat messages for chat models, the plain text otherwise."""
    return [{"role": "user", "content": text}] if getattr(tokenizer, "chat_template", None) else text


def main() -> int:
    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    values = {}
    for name, (pattern, what) in FIELDS.items():
        prompt = as_prompt(tokenizer, f"Text: {TEXT}\nWrite {what}, nothing else.")
        result = c.generate(model, tokenizer, prompt, c.regex(pattern), max_new_tokens=20)
        print(f"{name:>6} = {result.text!r}  (pattern {pattern}, valid={result.valid})")
        values[name] = result.text
    print(json.dumps(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
