"""Cost of applying a token mask to logits: µs per apply, by batch size, on CUDA when available.

Columns (all in place on ``(batch, vocab)`` float32 logits, random masks with half the
tokens allowed):

- ``ours, device words``: :func:`constrain.generate.apply_token_bitmask_` with the int32
  words already on the device (on CUDA: the fused kernel; on CPU: the torch path);
- ``ours, numpy words``: the same from the numpy words a matcher returns, including the
  host-to-device copy (pinned, non-blocking) on CUDA;
- ``masked_fill, bool mask``: ``logits.masked_fill_(~allowed, -inf)`` with a precomputed
  bool mask on the device (a lower bound: no unpacking, but 32x the bytes per mask);
- ``unpack + masked_fill``: the words expanded to bool with torch ops, then ``masked_fill_``
  (the plain torch path, the fallback on CUDA).

Each figure is the median over ``--repeats`` samples; a sample times ``--inner`` calls
between two ``torch.cuda.synchronize()`` on CUDA (launch overhead included). Masking is
idempotent, so the same logits are reused.

Usage: python benchmarks/bench_logits.py [--repeats N] [--inner K] [--batches 1,4,16,64,256]
       [--vocab 128256] [--device cpu|cuda] [--dtype float32|bfloat16] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def timed(run: Callable[[], Any], repeats: int, inner: int, sync: Callable[[], None]) -> float:
    """Median µs per call over ``repeats`` samples of ``inner`` calls (after a warm-up sample)."""
    for _ in range(max(1, inner)):
        run()
    sync()
    samples = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        for _ in range(inner):
            run()
        sync()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="samples per cell (default 200 on CUDA, 7 on CPU)")
    parser.add_argument("--inner", type=int, default=None, help="calls per sample (default 10 on CUDA, 1 on CPU)")
    parser.add_argument("--batches", default="1,4,16,64,256")
    parser.add_argument("--vocab", type=int, default=128256)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()

    import torch

    from constrain.generate import apply_token_bitmask_
    from constrain.generate.logits import bitmask_to_bool

    torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    cuda = device.type == "cuda"
    repeats = args.repeats or (200 if cuda else 7)
    inner = args.inner or (10 if cuda else 1)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    dtype = getattr(torch, args.dtype)
    vocab = args.vocab
    n_words = (vocab + 31) // 32
    rng = np.random.default_rng(0)

    columns = ["ours, device words", "ours, numpy words", "masked_fill, bool mask", "unpack + masked_fill"]
    table: list[tuple[int, list[float]]] = []
    for batch in [int(b) for b in args.batches.split(",")]:
        words_np = rng.integers(-(2**31), 2**31, size=(batch, n_words), dtype=np.int64).astype(np.int32)
        words_dev = torch.from_numpy(words_np).to(device)
        allowed = bitmask_to_bool(words_dev, vocab)
        disallowed = ~allowed
        logits = torch.randn(batch, vocab, device=device).to(dtype)

        def unpack_fill() -> None:
            logits.masked_fill_(~bitmask_to_bool(words_dev, vocab), float("-inf"))

        runs: list[Callable[[], Any]] = [
            lambda: apply_token_bitmask_(logits, words_dev),
            lambda: apply_token_bitmask_(logits, words_np),
            lambda: logits.masked_fill_(disallowed, float("-inf")),
            unpack_fill,
        ]
        table.append((batch, [timed(run, repeats, inner, sync) for run in runs]))
        expected = torch.randn(batch, vocab, device=device).to(dtype)
        check = expected.clone()
        apply_token_bitmask_(check, words_np)
        expected.masked_fill_(disallowed, float("-inf"))
        assert torch.equal(check, expected), "apply_token_bitmask_ disagrees with masked_fill"

    if cuda:
        from constrain.generate import kernels

        name = torch.cuda.get_device_name(device)
        backend = f"fused applies by backend: {kernels.USED or 'none (torch path)'}"
        if kernels.FAILED:
            backend += f"; failed: {kernels.FAILED}"
        if kernels.triton is None:
            backend += "; triton not importable"
    else:
        name = f"CPU, {args.threads} torch thread(s)"
        backend = "torch path (CPU)"
    print(f"{name}; torch {torch.__version__}; vocab {vocab:,}; {args.dtype} logits; {backend}; "
          f"median of {repeats} samples x {inner} call(s)\n")
    print("| batch | " + " | ".join(f"{c} (µs)" for c in columns) + " |")
    print("|--:|" + "--:|" * len(columns))
    for batch, values in table:
        print(f"| {batch} | " + " | ".join(f"{v:,.1f}" for v in values) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
