"""Vocabulary slices: tokens made only of characters from a common class, precomputed per vocabulary.

In a permissive automaton state (a JSON string body, ``.*``) almost every token is
allowed, and walking 120k tokens costs milliseconds. A slice is the set of tokens that
are whole UTF-8 text over one character class (any character; any but newline; JSON
string characters). If every string over that class keeps a state alive (checked once
per state by walking the class's small byte automaton against the DFA), the slice is
allowed wholesale and only the few tokens outside it are walked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..regex.charset import Ranges, python_class_ranges
from ..regex.dfa import DEAD, LazyDFA
from ..regex.nfa import char_class_automaton
from ..vocab.vocabulary import Vocabulary

SLICE_CLASSES: tuple[tuple[str, str], ...] = (
    ("any", r"(?s:.)"),
    ("not-newline", r"."),
    ("json-string", r'[^"\\\x00-\x1f]'),
    ("word", r"\w"),
)
"""Character classes with a slice, largest first: (name, one-character Python regex)."""

MAX_PRODUCT_PAIRS = 512
MIN_SLICE_FRACTION = 0.2
MIN_LIVE_BYTES = 64


@dataclass
class Slice:
    """Tokens inside one character class, and the rest as a padded byte matrix for a direct walk."""

    name: str
    ranges: Ranges
    ascii_bytes: np.ndarray
    inside: np.ndarray
    inside_count: int
    outside_ids: np.ndarray
    outside_bytes: np.ndarray
    outside_lens: np.ndarray


class VocabularySlices:
    """The slices of one vocabulary, built once (a few tenths of a second) and shared."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        texts: list[str | None] = []
        ids: list[int] = []
        for i, b in enumerate(vocab.token_bytes):
            if not b:
                continue
            ids.append(i)
            try:
                texts.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)
        self.slices: list[Slice] = []
        id_array = np.array(ids, dtype=np.int64)
        for name, char_pattern in SLICE_CLASSES:
            ranges = python_class_ranges(char_pattern, 0)
            rx = re.compile(f"(?:{char_pattern})*")
            inside_rows = np.array([t is not None and rx.fullmatch(t) is not None for t in texts], dtype=bool)
            inside = np.zeros(vocab.size, dtype=bool)
            inside[id_array[inside_rows]] = True
            out_ids = id_array[~inside_rows]
            data = [vocab.token_bytes[i] for i in out_ids.tolist()]
            lens = np.array([len(b) for b in data], dtype=np.int64)  # type: ignore[arg-type]
            width = int(lens.max()) if len(data) else 0
            matrix = np.zeros((len(data), width), dtype=np.uint8)
            for r, b in enumerate(data):
                matrix[r, : len(b)] = np.frombuffer(b, dtype=np.uint8)  # type: ignore[arg-type]
            ascii_bytes = np.array([b for b in range(128) if any(lo <= b <= hi for lo, hi in ranges)], dtype=np.int64)
            self.slices.append(Slice(name, ranges, ascii_bytes, inside, int(inside_rows.sum()), out_ids, matrix, lens))


def class_keeps_alive(dfa: LazyDFA, state: int, ranges: Ranges, bits: np.ndarray | None = None) -> bool:
    """Whether every string over the character class, read from ``state``, avoids the dead state.

    Explores the product of the DFA with the class's byte automaton; gives up (False) past
    ``MAX_PRODUCT_PAIRS`` pairs. With ``bits`` (a tagged lexer DFA's allowed-lexeme set), a state
    that can no longer complete an allowed lexeme counts as dead too.
    """
    _count, moves = char_class_automaton(ranges)
    by_src: dict[int, list[tuple[np.ndarray, int]]] = {}
    for src, lo, hi, dst in moves:
        classes = np.unique(dfa.byte_class[lo : hi + 1])
        by_src.setdefault(src, []).append((classes, dst))
    seen = {(state, 0)}
    stack = [(state, 0)]
    while stack:
        s, q = stack.pop()
        dfa.expand(s)
        row = dfa.table[s]
        for classes, dst in by_src.get(q, []):
            targets = row[classes]
            if (targets == DEAD).any():
                return False
            if bits is not None and not (dfa.possible_bits[targets] & bits).any(axis=-1).all():
                return False
            for t in set(targets.tolist()):
                pair = (t, 0 if dst == 1 else dst)
                if pair not in seen:
                    if len(seen) >= MAX_PRODUCT_PAIRS:
                        return False
                    seen.add(pair)
                    stack.append(pair)
    return True


def walk_outside(dfa: LazyDFA, state: int, piece: Slice) -> np.ndarray:
    """The slice's inside tokens plus those outside it whose bytes keep ``state`` alive."""
    allowed = piece.inside.copy()
    active = np.arange(piece.outside_ids.size)
    states = np.full(active.size, state, dtype=np.int32)
    pos = 0
    while active.size:
        dfa.expand_all(states)
        states = dfa.table[states, dfa.byte_class[piece.outside_bytes[active, pos]]]
        pos += 1
        done = piece.outside_lens[active] <= pos
        live = states != DEAD
        allowed[piece.outside_ids[active[done & live]]] = True
        keep = ~done & live
        active, states = active[keep], states[keep]
    return allowed


def looks_permissive(dfa: LazyDFA, state: int) -> bool:
    """Cheap pre-check: many bytes keep ``state`` alive, so a slice may pay off."""
    dfa.expand(state)
    return int((dfa.table[state] != DEAD)[dfa.byte_class].sum()) >= MIN_LIVE_BYTES


def best_slice(dfa: LazyDFA, state: int, slices: VocabularySlices, bits: np.ndarray | None = None) -> Slice | None:
    """The largest slice every string of which keeps ``state`` alive, if it is worth using.

    An ASCII character of the class that kills the state rules a slice out at once,
    before the (costlier) product walk. ``bits`` as in :func:`class_keeps_alive`.
    """
    dfa.expand(state)
    for piece in slices.slices:
        if piece.inside_count < MIN_SLICE_FRACTION * slices.vocab.size:
            continue
        targets = dfa.table[state, dfa.byte_class[piece.ascii_bytes]]
        if (targets == DEAD).any():
            continue
        if bits is not None and not (dfa.possible_bits[targets] & bits).any(axis=-1).all():
            continue
        if class_keeps_alive(dfa, state, piece.ranges, bits):
            return piece
    return None
