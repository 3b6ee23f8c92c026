"""Benchmark: text to regex on StReg with SmolLM2-135M-Instruct on CPU, constrained vs unconstrained.

Rows come from the StReg ``structured-regex-streg`` JSONL files (default ``teste.jsonl``): each has
a natural-language ``description``, ``pos_examples``, ``neg_examples`` and a gold ``regex_python``;
only rows whose gold regex is consistent with its examples
(``python_regex_consistent_with_examples``) are sampled, with a fixed seed. For every row,
:func:`constrain.regex_tool.generate_regex` draws ``n`` candidates (row 0 greedy, the others
sampled) from the description plus the examples, once with decoding held to Python regex syntax
(``grammars/regex.lark``) and once freely (the regex is then extracted from the answer).

Reported per condition, as a markdown table:

* valid regex %       -- candidates that compile with ``re.compile`` (constrained: the target is 100%);
* all-examples %      -- candidates that compile and pass every example (positives fully match,
  negatives do not);
* chosen all-examples % -- rows whose chosen regex (most examples passed, then mean log-probability)
  passes every example;
* chosen examples %   -- the share of all examples the chosen regex passes (0 for a row without one);
* tokens/row, s/row   -- generated tokens over all candidates, and wall-clock seconds.

Usage::

    python benchmarks/bench_text2regex.py [--limit 50] [-n 5] [--split teste] [--threads 1]
        [--model smollm2] [--max-new-tokens 64] [--conditions constrained,unconstrained] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from constrain.regex_tool import RegexResult, generate_regex  # noqa: E402

DATA = Path("/work/shared/data/regex/structured-regex-streg")


def load_rows(split: str, limit: int, seed: int, data: Path = DATA) -> list[dict[str, Any]]:
    """A seeded sample of ``limit`` rows with a gold regex consistent with their examples."""
    path = data / f"{split}.jsonl"
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("regex_python") and row.get("python_regex_consistent_with_examples") and row.get("description"):
                rows.append(row)
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def summarize(results: list[RegexResult]) -> dict[str, float]:
    """The table's numbers for one condition."""
    cands = [c for r in results for c in r.candidates]
    rows = len(results)

    def share_examples(r: RegexResult) -> float:
        total = len(r.positive) + len(r.negative)
        return r.chosen.passed / total if r.chosen is not None and total else 0.0

    return {
        "rows": rows,
        "candidates": len(cands),
        "valid_regex": 100.0 * sum(c.compiles for c in cands) / max(1, len(cands)),
        "all_examples": 100.0 * sum(c.all_passed for c in cands) / max(1, len(cands)),
        "chosen_all_examples": 100.0 * sum(r.all_examples_passed for r in results) / max(1, rows),
        "chosen_examples": 100.0 * sum(share_examples(r) for r in results) / max(1, rows),
        "completed": 100.0 * sum(c.completed for c in cands) / max(1, len(cands)),
        "tokens_per_row": sum(c.tokens for c in cands) / max(1, rows),
        "seconds_per_row": sum(r.seconds for r in results) / max(1, rows),
    }


def table(stats: dict[str, dict[str, float]]) -> str:
    """The markdown table."""
    lines = [
        "| condition | rows | candidates | valid regex % | all-examples % (candidates) | chosen all-examples % | chosen examples % | closed after cut % | tokens/row | s/row |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in stats.items():
        lines.append(
            f"| {name} | {s['rows']:.0f} | {s['candidates']:.0f} | {s['valid_regex']:.1f} | {s['all_examples']:.1f} | "
            f"{s['chosen_all_examples']:.1f} | {s['chosen_examples']:.1f} | {s['completed']:.1f} | "
            f"{s['tokens_per_row']:.1f} | {s['seconds_per_row']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=50, help="rows to sample (default 50)")
    parser.add_argument("-n", type=int, default=5, help="candidates per row (default 5)")
    parser.add_argument("--split", default="teste", help="StReg file: dev, teste, testi or train")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--conditions", default="constrained,unconstrained")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, default=None, help="also write every candidate record here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each row's chosen regexes")
    args = parser.parse_args(argv)

    import torch

    from constrain.generate import load_model

    torch.set_num_threads(args.threads)
    rows = load_rows(args.split, args.limit, args.seed, args.data)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    start = time.perf_counter()
    model, tokenizer = load_model(args.model)
    load_seconds = time.perf_counter() - start
    results: dict[str, list[RegexResult]] = {c: [] for c in conditions}
    for i, row in enumerate(rows):
        for cond in conditions:
            result = generate_regex(
                model,
                tokenizer,
                row["description"],
                row.get("pos_examples") or (),
                row.get("neg_examples") or (),
                n=args.n,
                max_new_tokens=args.max_new_tokens,
                temperature=args.temperature,
                seed=args.seed + i,
                constrained=cond == "constrained",
            )
            results[cond].append(result)
            if args.verbose:
                chosen = result.chosen
                passed = "-" if chosen is None else f"{chosen.passed}/{len(result.positive) + len(result.negative)}"
                print(f"[{i}] {cond}: {result.regex!r} passed={passed} gold={row['regex_python']!r}", file=sys.stderr)
    total = time.perf_counter() - start
    stats = {cond: summarize(res) for cond, res in results.items()}
    print(
        f"StReg {args.split}: {len(rows)} rows, n={args.n}, model={args.model}, max_new_tokens={args.max_new_tokens}, "
        f"temperature={args.temperature} (row 0 greedy), torch threads={args.threads}"
    )
    print()
    print(table(stats))
    print()
    print(f"model load {load_seconds:.1f} s, total {total:.1f} s")
    if args.json is not None:
        records = {
            cond: [
                {"description": r.description, "regex": r.regex, "candidates": [vars(c) for c in r.candidates]} for r in res
            ]
            for cond, res in results.items()
        }
        args.json.write_text(json.dumps({"stats": stats, "results": records}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
