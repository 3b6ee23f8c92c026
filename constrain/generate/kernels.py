"""Fused bitmask application for device logits: a Triton kernel, else a ``torch.compile``d expansion.

Imported lazily by :mod:`constrain.generate.logits`, and only for logits on a CUDA
device, so ``import constrain`` never imports triton (or compiles anything).

Both backends do in one pass what the plain torch path does in several (expand the
int32 words to a bool tensor, pad it, invert it, ``masked_fill_``): each element tests
bit ``i % 32`` of word ``i // 32`` of its row and writes ``-inf`` where the bit is clear
or the column lies past the mask's words. Writing ``-inf`` is idempotent, so a backend
that fails part-way can be followed by another on the same logits.

:func:`apply_fused_` tries the backends in order and remembers a failure (compilation,
launch, an unsupported dtype) for the rest of the process, so a broken backend costs one
exception, not one per decoding step; the caller falls back to the plain torch path
when it returns ``None``.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Callable

import torch

try:
    import triton
    import triton.language as tl
except Exception:  # ImportError, or an install that fails to load (driver, libc)
    triton = None
    tl = None

BLOCK = 1024
"""Logit columns per Triton program (one program per (row, block of columns))."""

FAILED: dict[str, str] = {}
"""Backend name -> why it failed; a backend listed here is not tried again in this process."""

USED: dict[str, int] = {}
"""Backend name -> how many applies it ran (for benchmarks and checks on a real GPU)."""

if tl is not None:

    def _bitmask_kernel(
        logits_ptr,
        bitmask_ptr,
        n_cols,
        n_mask_cols,
        logits_row_stride,
        bitmask_row_stride,
        BLOCK: tl.constexpr,
    ):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        words = tl.load(bitmask_ptr + row * bitmask_row_stride + cols // 32, mask=cols < n_mask_cols, other=0)
        allowed = ((words >> (cols % 32)) & 1) != 0
        neg_inf = tl.full([BLOCK], float("-inf"), tl.float32)  # the store casts to the logits dtype
        tl.store(logits_ptr + row * logits_row_stride + cols, neg_inf, mask=(cols < n_cols) & ~allowed)


_JITTED: dict[bool, Any] = {}


def _interpreting() -> bool:
    knobs = getattr(triton, "knobs", None)
    if knobs is not None:
        return bool(knobs.runtime.interpret)
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def _triton_kernel() -> Any:
    """The jitted kernel; jitted lazily (and once per interpreter mode: ``triton.jit`` reads it at decoration)."""
    if triton is None:
        raise RuntimeError("triton is not importable")
    interpret = _interpreting()
    found = _JITTED.get(interpret)
    if found is None:
        found = _JITTED[interpret] = triton.jit(_bitmask_kernel)
    return found


def triton_apply_(logits: torch.Tensor, words: torch.Tensor) -> None:
    """``logits`` ``(rows, cols)`` with unit column stride; ``words`` ``(rows, n_words)`` int32, contiguous, same device.

    On CPU tensors this runs only under ``TRITON_INTERPRET=1`` (Triton's interpreter, for tests).
    """
    rows, cols = logits.shape
    if rows == 0 or cols == 0:
        return
    if logits.stride(1) != 1 or not words.is_contiguous() or words.dtype != torch.int32:
        raise ValueError("triton_apply_ needs unit-stride logit rows and contiguous int32 words")
    grid = (rows, triton.cdiv(cols, BLOCK))
    _triton_kernel()[grid](logits, words, cols, words.shape[1] * 32, logits.stride(0), words.stride(0), BLOCK=BLOCK)


def expand_and_fill_(logits: torch.Tensor, words: torch.Tensor) -> None:
    """The one-expression torch version of the kernel (what ``torch.compile`` fuses); any device."""
    n_words = words.shape[1]
    if n_words == 0:
        logits.fill_(float("-inf"))
        return
    cols = torch.arange(logits.shape[1], device=logits.device)
    index = cols // 32
    bits = (words[:, index.clamp(max=n_words - 1)] >> (cols % 32).to(torch.int32)) & 1
    allowed = (bits != 0) & (index < n_words)
    logits.masked_fill_(~allowed, float("-inf"))


_COMPILED: list[Callable[[torch.Tensor, torch.Tensor], None]] = []


def compiled_apply_(logits: torch.Tensor, words: torch.Tensor) -> None:
    """:func:`expand_and_fill_` through ``torch.compile`` (inductor), compiled on first use with dynamic shapes."""
    if not _COMPILED:
        _COMPILED.append(torch.compile(expand_and_fill_, dynamic=True, fullgraph=True))
    _COMPILED[0](logits, words)


def _triton_usable(logits: torch.Tensor, words: torch.Tensor) -> bool:
    return triton is not None and logits.stride(1) == 1 and words.is_contiguous()


BACKENDS: list[tuple[str, Callable[[torch.Tensor, torch.Tensor], bool], Callable[[torch.Tensor, torch.Tensor], None]]] = [
    ("triton", _triton_usable, triton_apply_),
    ("compile", lambda logits, words: True, compiled_apply_),
]
"""(name, whether it applies to these tensors, runner), tried in order by :func:`apply_fused_`."""


def apply_fused_(logits: torch.Tensor, words: torch.Tensor) -> str | None:
    """Mask ``logits`` ``(rows, cols)`` in place with ``words`` ``(rows, n_words)`` int32 on the same device.

    Returns the name of the backend that ran, or ``None`` when none could (the caller
    then uses the plain torch path). A backend that raises is recorded in :data:`FAILED`
    with a warning and skipped from then on.
    """
    for name, usable, run in BACKENDS:
        if name in FAILED or not usable(logits, words):
            continue
        try:
            run(logits, words)
            USED[name] = USED.get(name, 0) + 1
            return name
        except Exception as e:  # compilation or launch failure: fall through to the next backend
            FAILED[name] = f"{type(e).__name__}: {e}"
            warnings.warn(f"constrain: fused bitmask backend {name!r} failed, not retried: {FAILED[name]}", RuntimeWarning, stacklevel=2)
    return None
