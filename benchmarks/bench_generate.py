"""Generation throughput: tokens/s unconstrained vs constrained, with and without jump-forward.

Runs on CPU with a tiny random Llama over the Llama-3 vocabulary (128k: mask cost is
visible against a cheap forward) and, unless ``--no-smollm2``, the real SmolLM2-135M-Instruct
(the forward dominates). Also ``model.generate`` with and without
``constrain.hf.LogitsProcessor``. Each row is the mean over ``--runs`` generations after
one warm-up (which builds the vocabulary tables and fills mask caches, as a server would).

Usage: python benchmarks/bench_generate.py [--runs 5] [--tokens 64] [--threads 1] [--no-smollm2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import constrain as c  # noqa: E402
from constrain.hf import LogitsProcessor  # noqa: E402

FIXED_KEYS = r'\{"first_name": "[A-Za-z]{1,12}", "last_name": "[A-Za-z]{1,12}", "city": "[A-Za-z ]{1,16}", "country": "[A-Za-z ]{1,16}", "age": [0-9]{1,3}\}'
FREE_TEXT = r"[A-Za-z ,.]{1,400}"


def measure(label: str, run: Callable[[], tuple[int, int]], runs: int) -> dict[str, Any]:
    """Mean tokens/s and forward passes per token over ``runs`` (after one warm-up)."""
    run()
    rates, forwards, tokens = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        n, f = run()
        elapsed = time.perf_counter() - start
        rates.append(n / elapsed if elapsed else 0.0)
        forwards.append(f)
        tokens.append(n)
    return {
        "label": label,
        "tokens_per_s": statistics.mean(rates),
        "tokens": statistics.mean(tokens),
        "forwards": statistics.mean(forwards),
    }


def our_loop(model: Any, tok: Any, prompt: Any, output: Any, max_new: int, jump: bool) -> Callable[[], tuple[int, int]]:
    def run() -> tuple[int, int]:
        result = c.generate(model, tok, prompt, output, max_new_tokens=max_new, temperature=1.0, seed=0, jump_forward=jump)
        return result.num_tokens, result.forward_passes

    return run


def hf_generate(model: Any, tok: Any, prompt: str, constraint: Any, max_new: int) -> Callable[[], tuple[int, int]]:
    import torch

    ids = torch.tensor([tok.encode(prompt)])

    def run() -> tuple[int, int]:
        processors = [LogitsProcessor(constraint, tok)] if constraint is not None else []
        torch.manual_seed(0)
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new,
            do_sample=True,
            logits_processor=processors,
            pad_token_id=tok.eos_token_id,
        )
        n = out.shape[1] - ids.shape[1]
        return n, n

    return run


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    base = rows[0]["tokens_per_s"]
    print(f"\n### {title}\n")
    print("| setting | tokens/s | vs unconstrained | tokens | forward passes |")
    print("|---|--:|--:|--:|--:|")
    for r in rows:
        ratio = r["tokens_per_s"] / base if base else 0.0
        print(f"| {r['label']} | {r['tokens_per_s']:.1f} | {ratio:.2f} | {r['tokens']:.0f} | {r['forwards']:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-smollm2", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from tests.fixtures.models import tiny_llama
    from tests.fixtures.tokenizers import llama3

    tok = llama3()
    model = tiny_llama(tok, seed=0)
    fixed, free = c.regex(FIXED_KEYS), c.regex(FREE_TEXT)
    n = args.tokens
    rows = [
        measure("unconstrained (our loop)", our_loop(model, tok, "Data:", None, n, False), args.runs),
        measure("regex, free text", our_loop(model, tok, "Data:", free, n, False), args.runs),
        measure("regex, fixed keys, no jump-forward", our_loop(model, tok, "Data:", fixed, n, False), args.runs),
        measure("regex, fixed keys, jump-forward", our_loop(model, tok, "Data:", fixed, n, True), args.runs),
    ]
    print(f"CPU, {args.threads} torch thread(s); tiny random Llama (hidden 64, 2 layers) over Llama-3 (128,256 tokens); "
          f"max_new_tokens={n}, temperature 1.0; mean of {args.runs} runs after a warm-up")
    print_table("tiny model, our decoding loop", rows)
    hf_rows = [
        measure("model.generate, unconstrained", hf_generate(model, tok, "Data:", None, n), args.runs),
        measure("model.generate + LogitsProcessor (free text)", hf_generate(model, tok, "Data:", free, n), args.runs),
    ]
    print_table("tiny model, transformers generate()", hf_rows)
    if not args.no_smollm2:
        from tests.fixtures.models import smollm2

        big, btok = smollm2()
        messages = [{"role": "user", "content": "Invent a person and describe them as JSON with first_name, last_name, city, country and age."}]
        s_rows = [
            measure("unconstrained", our_loop(big, btok, messages, None, n, False), args.runs),
            measure("regex, fixed keys, no jump-forward", our_loop(big, btok, messages, fixed, n, False), args.runs),
            measure("regex, fixed keys, jump-forward", our_loop(big, btok, messages, fixed, n, True), args.runs),
        ]
        print_table("SmolLM2-135M-Instruct, our decoding loop", s_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
