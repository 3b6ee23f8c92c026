"""Applying int32 token bitmasks to torch logits in place, on CPU or GPU.

The mask is computed on the CPU (numpy); only the packed words travel to the device,
``ceil(vocab/32)`` int32 per row, and are expanded there. To overlap CPU mask work for
step t+1 with the device's forward pass, compute the masks while the forward runs (the
forward is asynchronous on CUDA) and copy them with ``non_blocking=True`` from pinned
memory; :func:`apply_token_bitmask_` accepts a device tensor for that purpose.
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


def apply_token_bitmask_(logits: "torch.Tensor", bitmask: "torch.Tensor | np.ndarray") -> "torch.Tensor":
    """Set logits of disallowed tokens to ``-inf`` in place; ``logits`` is ``(batch, vocab)`` or ``(vocab,)``."""
    import torch

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
