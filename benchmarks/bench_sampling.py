"""Benchmark: test-time sampling strategies for extraction with SmolLM2-135M-Instruct on CPU.

Each of the 40 texts in ``data/extraction.jsonl`` describes one person; the model must
return ``{"name", "age", "city", "job"}`` (all required, no other keys). For every
condition it reports:

* valid %     -- the returned value validates against the schema;
* field acc % -- fields equal to the gold object (strings compared case-insensitively,
  an invalid answer scores 0 on every field);
* tokens/ex   -- tokens generated per example, over all candidates (the compute spent);
* s/ex        -- wall-clock seconds per example.

Conditions: ``unconstrained`` (greedy, the text must be exact JSON), ``+ repair`` (the
same texts, repaired then validated), ``retry(5)``, ``best_of(5)`` and ``vote(5)`` over
unconstrained sampling with repair, ``constrained`` (greedy under the schema's token
mask), ``constrained + best_of(5)`` and ``constrained + vote(5)``. The same prompt (the
text plus a one-line description of the shape from ``describe``) is used everywhere, except in the two
``schema in prompt`` conditions, which paste the raw JSON Schema instead (the comparison ``describe`` exists for).

Usage: ``python benchmarks/bench_sampling.py [--limit N] [--conditions a,b] [--threads T] [--json PATH]``
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from constrain.sampling import Checker, SampleResult, best_of, retry, sample, vote  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "extraction.jsonl"
FIELDS = ("name", "age", "city", "job")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "city": {"type": "string", "maxLength": 40},
        "job": {"type": "string", "maxLength": 40},
    },
    "required": list(FIELDS),
    "additionalProperties": False,
}
SYSTEM = "You extract facts from text. Reply with one JSON object and nothing else."


def messages(text: str) -> list[dict[str, str]]:
    """The chat prompt for one example."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Text: {text}\n\nExtract the person's name, age, city and job."},
    ]


def field_accuracy(value: Any, gold: dict[str, Any]) -> float:
    """Share of the gold fields the value got right (0 for an invalid value)."""
    if not isinstance(value, dict):
        return 0.0
    right = 0
    for key in FIELDS:
        got, want = value.get(key), gold[key]
        if isinstance(want, str):
            right += isinstance(got, str) and got.strip().lower() == want.lower()
        else:
            right += got == want and not isinstance(got, bool)
    return right / len(FIELDS)


Condition = Callable[[Any, Any, list[dict[str, str]], int], SampleResult]


def conditions(max_new_tokens: int) -> dict[str, Condition]:
    """Every condition as ``(model, tokenizer, prompt, seed) -> SampleResult``."""
    common: dict[str, Any] = {"describe": True, "max_new_tokens": max_new_tokens}

    def run(strategy: Any, constrained: bool) -> Condition:
        return lambda m, t, p, seed: sample(m, t, p, SCHEMA, strategy, constrained=constrained, seed=seed, **common)

    def raw_schema(strategy: Any, constrained: bool) -> Condition:
        """The JSON Schema pasted into the prompt instead of ``describe``'s sketch."""
        def go(m: Any, t: Any, p: list[dict[str, str]], seed: int) -> SampleResult:
            pasted = [dict(x) for x in p]
            pasted[-1]["content"] += f"\nJSON Schema of the reply: {json.dumps(SCHEMA)}"
            return sample(m, t, pasted, SCHEMA, strategy, constrained=constrained, seed=seed, describe=False,
                          max_new_tokens=max_new_tokens)
        return go

    return {
        "unconstrained + repair (schema in prompt)": raw_schema(retry(1), False),
        "constrained (schema in prompt)": raw_schema(retry(1), True),
        "unconstrained + repair": run(retry(1), False),
        "retry(5)": run(retry(5), False),
        "best_of(5)": run(best_of(5), False),
        "vote(5)": run(vote(5), False),
        "constrained": run(retry(1), True),
        "constrained + best_of(5)": run(best_of(5), True),
        "constrained + vote(5)": run(vote(5), True),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N examples")
    parser.add_argument("--conditions", default=None, help="comma-separated subset of the condition names")
    parser.add_argument("--max-new-tokens", type=int, default=60)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", default=None, help="write per-example results here")
    args = parser.parse_args()

    import torch

    from constrain.generate import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    examples = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples = examples[: args.limit] if args.limit else examples
    all_conditions = conditions(args.max_new_tokens)
    chosen = args.conditions.split(",") if args.conditions else list(all_conditions)
    unknown = [c for c in chosen if c not in all_conditions]
    if unknown:
        parser.error(f"unknown conditions {unknown}; choose from {list(all_conditions)}")
    model, tokenizer = load_model(args.model)
    exact = Checker(SCHEMA, repair=False)
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in chosen:
        for i, ex in enumerate(examples):
            start = time.perf_counter()
            result = all_conditions[name](model, tokenizer, messages(ex["text"]), i)
            seconds = time.perf_counter() - start
            record = {"valid": result.valid, "acc": field_accuracy(result.value, ex["gold"]), "tokens": result.total_tokens, "seconds": seconds, "text": result.text}
            rows.setdefault(name, []).append(record)
            if name == "unconstrained + repair":
                first = result.attempts[0]
                strict = exact.check(first.text)
                rows.setdefault("unconstrained", []).append(
                    {"valid": strict.valid, "acc": field_accuracy(strict.value, ex["gold"]), "tokens": first.tokens, "seconds": seconds, "text": first.text}
                )
            print(f"{name} #{i}: valid={result.valid} acc={record['acc']:.2f} tokens={record['tokens']} {seconds:.1f}s {result.text[:90]!r}", file=sys.stderr, flush=True)
    order = ["unconstrained"] + chosen if "unconstrained" in rows else chosen
    print(f"\n{len(examples)} examples, model {args.model}, max_new_tokens {args.max_new_tokens}, torch threads {torch.get_num_threads()}\n")
    print("| condition | valid % | field acc % | tokens/ex | s/ex |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in order:
        rs = rows[name]
        n = len(rs)
        print(f"| {name} | {100 * sum(r['valid'] for r in rs) / n:.1f} | {100 * sum(r['acc'] for r in rs) / n:.1f} | {sum(r['tokens'] for r in rs) / n:.1f} | {sum(r['seconds'] for r in rs) / n:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"examples": len(examples), "rows": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
