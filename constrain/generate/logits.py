"""Applying int32 token bitmasks to torch logits in place, on CPU or GPU.

The mask is computed on the CPU (numpy); only the packed words travel to the device,
``ceil(vocab/32)`` int32 per row, and are expanded there. On CUDA the expansion and the
``-inf`` writes are one fused kernel (:mod:`constrain.generate.kernels`: Triton when it is
importable, else ``torch.compile``), with the plain torch path below as the fallback when
compilation or launch fails (the failure is remembered, not retried every step). CPU
logits always take the plain torch path.

Overlapping mask computation with the forward pass
--------------------------------------------------
CUDA kernels are launched asynchronously: ``model(...)`` returns as soon as the forward
pass is queued, and the host only blocks when something reads the logits back (sampling:
``argmax``/``multinomial`` followed by ``int(...)``/``.tolist()``). The matcher's state for
step t+1 is known as soon as token t is chosen, so a decoding loop can

1. advance the matcher with token t and launch the forward pass for token t;
2. compute ``matcher.mask()`` for step t+1 on the host *while the device runs the
   forward* (in the same thread right after the launch, or on a worker thread);
3. copy the words to the device from pinned memory with ``non_blocking=True``
   (:func:`apply_token_bitmask_` does this for numpy masks and CUDA logits: torch's
   caching host allocator keeps the pinned block alive until the copy has run), and
   apply them with the fused kernel, still queued behind the forward;
4. sample (and check for a dead end), where the host first waits for the device.

The mask then costs nothing on the critical path as long as it takes less time than the
forward pass. :func:`constrain.generate` does steps 1-4 in that order (the mask is
computed after the forward is launched and before anything reads its logits). A
transformers ``LogitsProcessor`` cannot: ``generate()`` calls it after the forward with
``input_ids`` on the device, and reading them (``.tolist()``, needed to know each row's
prefix) waits for the queued forward to finish, so there the mask is computed after the
forward rather than beside it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

_SHIFTS: dict[str, "torch.Tensor"] = {}


def _shifts(device: "torch.device") -> "torch.Tensor":
    import torch

    key = str(device)
    found = _SHIFTS.get(key)
    if found is None:
        found = torch.arange(32, dtype=torch.int32, device=device)
        _SHIFTS[key] = found
    return found


def bitmask_to_bool(bitmask: "torch.Tensor", width: int) -> "torch.Tensor":
    """``(batch, words)`` int32 -> ``(batch, width)`` bool; columns past the mask are False."""
    import torch

    bits = (bitmask.unsqueeze(-1) >> _shifts(bitmask.device)) & 1
    allowed = bits.reshape(bitmask.shape[0], -1).to(torch.bool)
    if allowed.shape[1] >= width:
        return allowed[:, :width]
    pad = torch.zeros(allowed.shape[0], width - allowed.shape[1], dtype=torch.bool, device=allowed.device)
    return torch.cat([allowed, pad], dim=1)


def _fused_device(logits: "torch.Tensor") -> bool:
    """Whether ``logits`` take the fused path (CUDA); a function so tests can route CPU tensors through it."""
    return logits.device.type == "cuda"


_FUSED_IMPORT_ERROR: list[str] = []


def _to_device(bitmask: "torch.Tensor | np.ndarray", device: "torch.device") -> "torch.Tensor":
    """Int32 words on ``device``; host words go through pinned memory with a non-blocking copy."""
    import torch

    if isinstance(bitmask, np.ndarray):
        bitmask = torch.from_numpy(np.array(bitmask, dtype=np.int32, copy=True))
    if bitmask.device != device:
        if bitmask.device.type == "cpu" and device.type != "cpu":
            try:
                bitmask = bitmask.pin_memory()
            except RuntimeError:  # no pinned memory here: a pageable copy still works
                pass
        bitmask = bitmask.to(device, non_blocking=True)
    if bitmask.dtype != torch.int32:
        bitmask = bitmask.to(torch.int32)
    return bitmask


def _apply_fused_(logits: "torch.Tensor", bitmask: "torch.Tensor | np.ndarray") -> "torch.Tensor":
    words = _to_device(bitmask, logits.device)
    rows = logits.unsqueeze(0) if logits.dim() == 1 else logits
    words = words.reshape(rows.shape[0], -1).contiguous()
    if not _FUSED_IMPORT_ERROR:
        try:
            from . import kernels
        except Exception as e:  # torch too old or broken: remember, use the torch path from now on
            _FUSED_IMPORT_ERROR.append(f"{type(e).__name__}: {e}")
        else:
            if kernels.apply_fused_(rows, words) is not None:
                return logits
    rows.masked_fill_(~bitmask_to_bool(words, rows.shape[-1]), float("-inf"))
    return logits


def apply_token_bitmask_(logits: "torch.Tensor", bitmask: "torch.Tensor | np.ndarray") -> "torch.Tensor":
    """Set logits of disallowed tokens to ``-inf`` in place; ``logits`` is ``(batch, vocab)`` or ``(vocab,)``.

    ``bitmask`` holds int32 words, ``(batch, words)`` or ``(words,)`` (numpy or torch, on
    any device): bit ``i % 32`` of word ``i // 32`` allows token ``i``. Columns of
    ``logits`` past the mask's ``32 * words`` are masked. CUDA logits use a fused kernel
    (see the module docstring), CPU logits the torch path below.
    """
    import torch

    if _fused_device(logits):
        return _apply_fused_(logits, bitmask)
    if isinstance(bitmask, np.ndarray):
        bitmask = torch.from_numpy(np.array(bitmask, dtype=np.int32, copy=True))
    if bitmask.device != logits.device:
        bitmask = bitmask.to(logits.device, non_blocking=True)
    squeeze = logits.dim() == 1
    rows = logits.unsqueeze(0) if squeeze else logits
    words = bitmask.reshape(rows.shape[0], -1)
    allowed = bitmask_to_bool(words, rows.shape[-1])
    rows.masked_fill_(~allowed, float("-inf"))
    return logits
