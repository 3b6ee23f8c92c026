"""The vocabulary as an array trie, level by level, so automata can walk all tokens at once.

Level ``d`` holds one node per distinct ``d+1``-byte prefix. Nodes of a level are in
lexicographic order, so the children of a node form a contiguous range of the next
level (``child_ptr``), and the tokens ending at a node form a contiguous range of
``end_ids`` (``end_ptr``). Built with array operations from a sorted token list.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class TokenTrie:
    """Per level: ``byte`` and ``parent`` of every node, CSR pointers to children and ending tokens."""

    byte: list[np.ndarray]
    parent: list[np.ndarray]
    child_ptr: list[np.ndarray]
    end_ptr: list[np.ndarray]
    end_ids: list[np.ndarray]
    num_tokens: int

    @property
    def depth(self) -> int:
        return len(self.byte)

    @property
    def num_nodes(self) -> int:
        return int(sum(len(b) for b in self.byte))

    @classmethod
    def build(cls, token_bytes: Sequence[bytes | None]) -> "TokenTrie":
        ids = [i for i, b in enumerate(token_bytes) if b]
        ids.sort(key=token_bytes.__getitem__)
        order = np.array(ids, dtype=np.int64)
        n = len(ids)
        lens = np.array([len(token_bytes[i]) for i in ids], dtype=np.int64)  # type: ignore[arg-type]
        flat = np.frombuffer(b"".join(token_bytes[i] for i in ids), dtype=np.uint8)  # type: ignore[misc]
        starts = np.zeros(n, dtype=np.int64)
        if n:
            starts[1:] = np.cumsum(lens)[:-1]
        depth = int(lens.max()) if n else 0
        diff = np.zeros(n, dtype=bool)
        if n:
            diff[0] = True
        prev_node = np.zeros(n, dtype=np.int64)
        levels_byte: list[np.ndarray] = []
        levels_parent: list[np.ndarray] = []
        levels_end_ptr: list[np.ndarray] = []
        levels_end_ids: list[np.ndarray] = []
        for d in range(depth):
            act = np.flatnonzero(lens > d)
            cur = flat[starts[act] + d].astype(np.int16)
            prev = act - 1
            prev_byte = np.full(act.size, 256, dtype=np.int16)
            ok = prev >= 0
            has_prev = ok.copy()
            has_prev[ok] = lens[prev[ok]] > d
            sel = np.flatnonzero(has_prev)
            prev_byte[sel] = flat[starts[prev[sel]] + d]
            diff[act] |= cur != prev_byte
            new = diff[act]
            node = np.cumsum(new) - 1
            firsts = np.flatnonzero(new)
            levels_byte.append(cur[firsts].astype(np.uint8))
            levels_parent.append(prev_node[act[firsts]] if d else np.zeros(firsts.size, dtype=np.int64))
            ending = lens[act] == d + 1
            end_nodes = node[ending]
            levels_end_ids.append(order[act[ending]])
            levels_end_ptr.append(np.searchsorted(end_nodes, np.arange(firsts.size + 1)))
            prev_node[act] = node
        child_ptr = [
            np.searchsorted(levels_parent[d + 1], np.arange(len(levels_byte[d]) + 1)) for d in range(depth - 1)
        ]
        if depth:
            child_ptr.append(np.zeros(len(levels_byte[-1]) + 1, dtype=np.int64))
        return cls(levels_byte, levels_parent, child_ptr, levels_end_ptr, levels_end_ids, n)
