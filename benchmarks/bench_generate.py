"""Generation throughput: tokens/s unconstrained vs constrained, with and without jump-forward.

The tiny-model table also runs ``grammars/json.lark`` with budget-aware closing on and off
(``budget=False``), which shows what the grammar budget check costs per token.

Runs on CPU with a tiny random Llama over the Llama-3 vocabulary (128k: mask cost is
visible against a cheap forward) and, unless ``--no-smollm2``, the real SmolLM2-135M-Instruct
(the forward dominates). Also ``model.generate`` with and without
``constrain.hf.LogitsProcessor``. Each row is the mean over ``--runs`` generations after
one warm-up (which builds the vocabulary tables and fills mask caches, as a server would).

``--gpu-model`` instead builds a randomly initialised Llama-3-8B-shaped model (hidden 4096,
32 layers, 32 heads, 8 KV heads, intermediate 14336, the Llama-3 vocabulary, bf16) on
CUDA and measures ``model.generate`` with and without the LogitsProcessor at batch 1, 16
and 64 (``--batches``), plus our own loop at batch 1; ``--layers`` (and ``--hidden``,
``--heads``, ``--kv-heads``, ``--intermediate``) shrink it. Rows are medians over
``--runs`` after a warm-up, timed between ``torch.cuda.synchronize()`` calls. It refuses to
run without a CUDA device unless ``--device cpu`` is given (a smoke run of the code path
with a tiny shape; its timings mean nothing).

Usage: python benchmarks/bench_generate.py [--runs 5] [--tokens 64] [--threads 1] [--no-smollm2]
       python benchmarks/bench_generate.py --gpu-model [--layers 32] [--batches 1,16,64]
           [--constraint regex|schema] [--tokens 128] [--runs 3]
       python benchmarks/bench_generate.py --gpu-model --device cpu --layers 1 --hidden 64 \\
           --heads 4 --kv-heads 2 --intermediate 128 --dtype float32 --runs 1 --tokens 16
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
_RECORD = r'\{"id": [0-9]{1,8}, "name": "[A-Za-z ]{1,32}", "city": "[A-Za-z ]{1,24}", "score": [0-9]{1,3}\.[0-9]{1,2}\}'
RECORDS = r'\{"records": \[(' + _RECORD + r", )*" + _RECORD + r"\]\}"
"""JSON-like records, long enough that a random model rarely finishes before ``--tokens``."""
RECORDS_SCHEMA = {
    "type": "object",
    "properties": {
        "records": {
            "type": "array",
            "minItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "maxLength": 32},
                    "city": {"type": "string", "maxLength": 24},
                    "score": {"type": "number"},
                },
                "required": ["id", "name", "city", "score"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["records"],
    "additionalProperties": False,
}


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


def our_loop(
    model: Any, tok: Any, prompt: Any, output: Any, max_new: int, jump: bool, budget: bool = True,
) -> Callable[[], tuple[int, int]]:
    def run() -> tuple[int, int]:
        result = c.generate(model, tok, prompt, output, max_new_tokens=max_new, temperature=1.0, seed=0, jump_forward=jump,
                            budget=budget)
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


def gpu_model_bench(args: argparse.Namespace) -> int:
    """Constrained vs unconstrained ``model.generate`` on a random Llama-3-8B-shaped model."""
    import torch

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            f"error: --gpu-model needs a CUDA device, and torch {torch.__version__} sees none "
            "(torch.cuda.is_available() is False). For a CPU smoke run of the code path pass --device cpu "
            "with a tiny shape: --layers 1 --hidden 64 --heads 4 --kv-heads 2 --intermediate 128 --dtype float32",
            file=sys.stderr,
        )
        return 2
    if device.type != "cuda":
        print(f"warning: --gpu-model on {device}: a smoke run, the timings mean nothing\n", file=sys.stderr)
    torch.set_num_threads(args.threads)
    from transformers import LlamaConfig, LlamaForCausalLM

    from constrain.generate.vocab_cache import vocabulary_for
    from tests.fixtures.tokenizers import llama3, vocab_width

    tok = llama3()
    width = vocab_width(tok)
    eos = sorted(vocabulary_for(tok, width).eos_token_ids) or [tok.eos_token_id]
    config = LlamaConfig(
        vocab_size=width,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        intermediate_size=args.intermediate,
        max_position_embeddings=8192,
        bos_token_id=tok.bos_token_id,
        eos_token_id=eos,
        pad_token_id=eos[0],
        tie_word_embeddings=False,
    )
    dtype = getattr(torch, args.dtype)
    default_dtype = torch.get_default_dtype()
    torch.manual_seed(0)
    try:
        torch.set_default_dtype(dtype)  # initialise in place on the device: no fp32 copy of 8B parameters
        with torch.device(device):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(default_dtype)
    model = model.to(device=device, dtype=dtype).eval()
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = eos[0]
    params = sum(p.numel() for p in model.parameters())
    if args.constraint == "schema":
        constraint: Any = c.json_schema(RECORDS_SCHEMA)
    else:
        constraint = c.regex(RECORDS)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    prompt = tok.encode("Invent records as JSON:")
    n = args.tokens

    def timed(run: Callable[[], int]) -> tuple[float, float]:
        """Median (seconds per run, decoding steps per run) over ``--runs`` after a warm-up."""
        run()
        seconds, steps = [], []
        for _ in range(args.runs):
            sync()
            start = time.perf_counter()
            k = run()
            sync()
            seconds.append(time.perf_counter() - start)
            steps.append(k)
        return statistics.median(seconds), statistics.median(steps)

    def hf_run(batch: int, constrained: bool) -> Callable[[], int]:
        ids = torch.tensor([prompt] * batch, device=device)
        mask = torch.ones_like(ids)

        def run() -> int:
            processors = [LogitsProcessor(constraint, tok)] if constrained else []
            torch.manual_seed(0)
            with torch.no_grad():
                out = model.generate(
                    ids,
                    attention_mask=mask,
                    max_new_tokens=n,
                    do_sample=True,
                    logits_processor=processors,
                    eos_token_id=eos,
                    pad_token_id=eos[0],
                )
            return int(out.shape[1] - ids.shape[1])

        return run

    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        base_s, base_steps = timed(hf_run(batch, False))
        con_s, con_steps = timed(hf_run(batch, True))
        rows.append((f"model.generate, batch {batch}", batch, base_s, base_steps, con_s, con_steps))

    def loop_run(constrained: bool) -> Callable[[], int]:
        def run() -> int:
            result = c.generate(model, tok, "Invent records as JSON:", constraint if constrained else None,
                                max_new_tokens=n, temperature=1.0, seed=0, jump_forward=False)
            return result.forward_passes

        return run

    base_s, base_steps = timed(loop_run(False))
    con_s, con_steps = timed(loop_run(True))
    rows.append(("our loop (c.generate, no jump-forward), batch 1", 1, base_s, base_steps, con_s, con_steps))

    where = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    fused = ""
    if device.type == "cuda":
        from constrain.generate import kernels

        fused = f"; fused mask applies by backend: {kernels.USED or 'none (torch path)'}"
        if kernels.FAILED:
            fused += f", failed: {kernels.FAILED}"
    print(f"{where}; torch {torch.__version__}; random Llama, {args.layers} layers, hidden {args.hidden}, "
          f"{args.heads} heads / {args.kv_heads} KV, intermediate {args.intermediate}, vocab {width:,} "
          f"({params / 1e9:.2f}B parameters, {args.dtype}); constraint: {args.constraint}; "
          f"max_new_tokens={n}, sampling; median of {args.runs} runs after a warm-up{fused}")
    print("\nTokens/s counts batch x decoding steps (rows that finish early still occupy the batch); "
          "overhead compares the time per decoding step.\n")
    print("| setting | unconstrained tokens/s | constrained tokens/s | steps (unc. / con.) | ms/step (unc. / con.) | overhead |")
    print("|---|--:|--:|--:|--:|--:|")
    for label, batch, b_s, b_k, c_s, c_k in rows:
        b_step, c_step = b_s / max(b_k, 1), c_s / max(c_k, 1)
        overhead = (c_step / b_step - 1) * 100 if b_step else 0.0
        print(f"| {label} | {batch * b_k / b_s:,.1f} | {batch * c_k / c_s:,.1f} | {b_k:.0f} / {c_k:.0f} | "
              f"{b_step * 1e3:.2f} / {c_step * 1e3:.2f} | {overhead:+.1f}% |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="runs per row (default 5; 3 with --gpu-model)")
    parser.add_argument("--tokens", type=int, default=None, help="max_new_tokens (default 64; 128 with --gpu-model)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-smollm2", action="store_true")
    gpu = parser.add_argument_group("--gpu-model", "a random Llama-3-8B-shaped model through model.generate")
    gpu.add_argument("--gpu-model", action="store_true")
    gpu.add_argument("--device", default="cuda", help="cuda (default), or cpu for a smoke run with a tiny shape")
    gpu.add_argument("--layers", type=int, default=32)
    gpu.add_argument("--hidden", type=int, default=4096)
    gpu.add_argument("--heads", type=int, default=32)
    gpu.add_argument("--kv-heads", type=int, default=8)
    gpu.add_argument("--intermediate", type=int, default=14336)
    gpu.add_argument("--dtype", choices=["bfloat16", "float16", "float32"], default="bfloat16")
    gpu.add_argument("--batches", default="1,16,64")
    gpu.add_argument("--constraint", choices=["regex", "schema"], default="regex")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.gpu_model:
        args.runs = args.runs or 3
        args.tokens = args.tokens or 128
        return gpu_model_bench(args)
    args.runs = args.runs or 5
    args.tokens = args.tokens or 64
    import torch

    torch.set_num_threads(args.threads)
    from tests.fixtures.models import tiny_llama
    from tests.fixtures.tokenizers import llama3

    tok = llama3()
    model = tiny_llama(tok, seed=0)
    fixed, free = c.regex(FIXED_KEYS), c.regex(FREE_TEXT)
    json_grammar = c.grammar(Path(__file__).resolve().parents[1] / "grammars" / "json.lark")
    n = args.tokens
    rows = [
        measure("unconstrained (our loop)", our_loop(model, tok, "Data:", None, n, False), args.runs),
        measure("regex, free text", our_loop(model, tok, "Data:", free, n, False), args.runs),
        measure("regex, fixed keys, no jump-forward", our_loop(model, tok, "Data:", fixed, n, False), args.runs),
        measure("regex, fixed keys, jump-forward", our_loop(model, tok, "Data:", fixed, n, True), args.runs),
        measure("grammar (json.lark), budget closing", our_loop(model, tok, "Data:", json_grammar, n, False), args.runs),
        measure("grammar (json.lark), budget=False", our_loop(model, tok, "Data:", json_grammar, n, False, False), args.runs),
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
