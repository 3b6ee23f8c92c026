"""Structured output from a remote OpenAI-compatible server: repair, validation and retry.

``constrain.openai_compat.Client`` talks to any OpenAI-compatible chat server. This script
starts one in-process (``constrain serve``'s ``Server``, on a free port, over the local model)
unless ``$CONSTRAIN_BASE_URL`` points at a running server (then ``$CONSTRAIN_REMOTE_MODEL``
names the model there). It then asks for a JSON object twice:

1. free text (``constrained=False``): each answer is repaired (code fences, trailing commas,
   single quotes...) and validated against the schema; a failed answer is re-asked with its
   validation errors, up to three tries (``retry(3, feedback=True)``);
2. with the schema sent as ``response_format``: the server holds decoding to it, so the first
   answer validates.

Run: ``python examples/remote_repair_retry.py`` (model from ``$CONSTRAIN_MODEL``, default the
built-in ``smollm2``). The last line printed is the validated object as JSON.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any, Iterator

import constrain as c
from constrain.openai_compat import Client, Server

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 30},
        "country": {"type": "string", "maxLength": 30},
        "population_millions": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "required": ["city", "country", "population_millions"],
    "additionalProperties": False,
}
QUESTION = "Give the largest city of Japan as a JSON object with city, country and population_millions."


@contextlib.contextmanager
def server_url() -> Iterator[tuple[str, str]]:
    """``(base_url, model name)``: ``$CONSTRAIN_BASE_URL`` if set, else a local server started here."""
    if os.environ.get("CONSTRAIN_BASE_URL"):
        yield os.environ["CONSTRAIN_BASE_URL"], os.environ.get("CONSTRAIN_REMOTE_MODEL", "constrain")
        return
    from constrain.generate import load_model

    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    with Server(model, tokenizer, name="local", port=0) as server:
        yield server.url, "local"


def main() -> int:
    with server_url() as (url, name), Client(url, name, logprobs=True, max_retries=2) as client:
        free = c.sample(
            client,
            None,
            QUESTION,
            SCHEMA,
            c.retry(3, feedback=True),
            constrained=False,
            max_new_tokens=60,
            seed=0,
        )
        print("free text, repaired and validated, re-asked on failure:")
        print(free.summary())
        for attempt in free.attempts:
            if attempt.fixes:
                print(f"  attempt {attempt.index} repairs: {'; '.join(attempt.fixes)}")
        held = client.parse(QUESTION, SCHEMA, max_tries=3, max_new_tokens=60, seed=0)
        print("schema sent as response_format (the server constrains decoding):")
        print(held.summary())
        result = free if free.valid else held
        if not result.valid:
            print("no valid answer", file=sys.stderr)
            return 1
        print(json.dumps(result.value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
