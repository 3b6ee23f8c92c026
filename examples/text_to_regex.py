"""Text to regex: describe a pattern (with examples), get a checked Python regular expression.

``constrain.regex_tool.generate_regex`` draws a few candidates with decoding held to Python
regex syntax, compiles each with ``re``, runs the examples (positives must fully match,
negatives must not) and keeps the one passing most, ties broken by log-probability. The
same runs from the shell: ``constrain regex "a US zip code" -p 12345 -x 1234``.

Run: ``python examples/text_to_regex.py`` (model from ``$CONSTRAIN_MODEL``, default the
built-in ``smollm2``). The last line printed is ``{"regex", "passed", "total"}`` as JSON.
"""
from __future__ import annotations

import json
import os
import sys

import constrain as c
from constrain.generate import load_model


def main() -> int:
    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    positive = ["12345", "12345-6789"]
    negative = ["1234", "12345-", "abcde"]
    result = c.regex_tool.generate_regex(
        model,
        tokenizer,
        "a US zip code: five digits, optionally a dash and four more digits",
        positive,
        negative,
        n=4,
        max_new_tokens=32,
    )
    print(result.summary())
    if result.regex is None:
        print("no candidate compiled", file=sys.stderr)
        return 1
    chosen = result.chosen
    assert chosen is not None
    print(json.dumps({"regex": result.regex, "passed": chosen.passed, "total": len(positive) + len(negative)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
