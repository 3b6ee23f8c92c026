"""Masks against a brute-force walk of every token's bytes, along random valid trajectories.

The oracle reads each token on its own (a padded byte matrix, one column at a time), with
no trie, no slices and no cache, so it shares nothing with the mask code but the DFA's
transition function, which the regex tests check against ``re``.
"""
from __future__ import annotations

import random
import re

import numpy as np
import pytest

import constrain as c
from constrain.mask import unpack
from constrain.regex.dfa import DEAD, LazyDFA
from tests.vocabs import vocabulary

PATTERNS = [
    r"[\w.+-]+@[\w-]+\.[a-z]{2,}",
    r"\d{4}-\d{2}-\d{2}",
    r"\(\d{3}\) \d{3}-\d{4}",
    r"(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}",
    r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?",
    r"[a-z]{1,20}( [a-z]{1,20}){0,10}",
    r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"',
    r"(?s).{0,12}END",
    r"[^\n]*\n[A-Z][a-z]+",
    r"(?i)(select|insert|update) [a-z_]+;",
    r"[日本語한국어😀éè]{1,6}x?",
    r"(?:yes|no|maybe)",
]


class BruteForce:
    """Every token's bytes in a padded matrix; a mask is one DFA lookup per column."""

    def __init__(self, vocab: c.Vocabulary) -> None:
        self.vocab = vocab
        self.ids = np.array([i for i, b in enumerate(vocab.token_bytes) if b])
        data = [vocab.token_bytes[i] for i in self.ids]
        self.lens = np.array([len(b) for b in data])
        self.matrix = np.zeros((len(data), int(self.lens.max())), dtype=np.uint8)
        for r, b in enumerate(data):
            self.matrix[r, : len(b)] = np.frombuffer(b, dtype=np.uint8)

    def allowed(self, dfa: LazyDFA, state: int) -> np.ndarray:
        states = np.full(len(self.ids), state, dtype=np.int64)
        for col in range(self.matrix.shape[1]):
            rows = np.flatnonzero((self.lens > col) & (states != DEAD))
            if rows.size == 0:
                break
            for s in np.unique(states[rows]).tolist():
                dfa.expand(s)
            states[rows] = dfa.table[states[rows], dfa.byte_class[self.matrix[rows, col]]]
        out = np.zeros(self.vocab.size, dtype=bool)
        out[self.ids[states != DEAD]] = True
        if dfa.is_accepting(state):
            out[list(self.vocab.eos_token_ids)] = True
        return out


@pytest.mark.parametrize("vocab_name", ["llama3", "gpt2", "phi3"])
def test_masks_equal_brute_force_on_random_trajectories(vocab_name: str) -> None:
    vocab = vocabulary(vocab_name)
    assert vocab.eos_token_ids, "fixture tokenizers must know their end-of-sequence token"
    oracle = BruteForce(vocab)
    rng = random.Random(1234)
    completed = 0
    for pattern in PATTERNS:
        constraint = c.regex(pattern)
        for _trajectory in range(2):
            matcher = constraint.matcher(vocab)
            chosen: list[int] = []
            for _step in range(24):
                mask = unpack(matcher.mask(), vocab.size)
                reference = constraint.dfa  # the Python automaton, whatever engine the matcher runs on
                expected = oracle.allowed(reference, reference.run(reference.start, vocab.decode(chosen)))
                assert np.array_equal(mask, expected), (pattern, vocab.decode(chosen), np.flatnonzero(mask != expected)[:10])
                ids = np.flatnonzero(mask)
                assert ids.size, "a live state always allows some token"
                eos = [i for i in ids if i in vocab.eos_token_ids]
                if eos and rng.random() < 0.35:
                    matcher.advance(eos[0])
                    break
                token = int(rng.choice([i for i in ids if i not in vocab.eos_token_ids] or eos))
                matcher.advance(token)
                chosen.append(token)
            if matcher.is_finished():
                completed += 1
                text = vocab.decode(chosen).decode("utf-8")
                assert re.fullmatch(pattern, text), (pattern, text)
            else:
                assert constraint.accepts_prefix(vocab.decode(chosen))
    assert completed >= 4, completed


def test_eos_allowed_exactly_in_accepting_states() -> None:
    vocab = vocabulary("gpt2")
    matcher = c.regex(r"ab(cd)?").matcher(vocab)
    eos = next(iter(vocab.eos_token_ids))
    assert not matcher.is_allowed(eos)
    for piece in (b"a", b"b"):
        matcher.advance(vocab.token_bytes.index(piece))
    assert matcher.is_allowed(eos) and matcher.is_accepting()
    matcher.advance(vocab.token_bytes.index(b"cd"))
    assert matcher.is_allowed(eos)
    with pytest.raises(c.TokenRejected):
        matcher.advance(vocab.token_bytes.index(b"a"))
    matcher.advance(eos)
    assert matcher.is_finished()
    assert set(matcher.allowed_token_ids().tolist()) == set(vocab.eos_token_ids)


def test_rollback_and_copy() -> None:
    vocab = vocabulary("gpt2")
    matcher = c.regex(r"\d+(\.\d+)?").matcher(vocab)
    first = matcher.mask().copy()
    matcher.advance(vocab.token_bytes.index(b"12"))
    after = matcher.mask().copy()
    clone = matcher.copy()
    matcher.advance(vocab.token_bytes.index(b"."))
    assert not np.array_equal(matcher.mask(), after)
    assert np.array_equal(clone.mask(), after)
    matcher.rollback(2)
    assert np.array_equal(matcher.mask(), first)
    with pytest.raises(ValueError):
        matcher.rollback(1)


def test_forced_bytes() -> None:
    vocab = vocabulary("gpt2")
    matcher = c.regex(r'\{"name": "[a-z]+", "age": \d+\}').matcher(vocab)
    assert matcher.forced_bytes() == b'{"name": "'
    for token in (b'{"', b"name", b'":', b' "', b"ab"):
        matcher.advance(vocab.token_bytes.index(token))
    assert matcher.forced_bytes() == b""
    matcher.advance(vocab.token_bytes.index(b'",'))
    assert matcher.forced_bytes() == b' "age": '


def test_special_tokens_and_padding_never_allowed() -> None:
    vocab = c.Vocabulary.from_tokenizer(__import__("tests.vocabs", fromlist=["tokenizer"]).tokenizer("llama3"), size=128_512)
    mask = unpack(c.regex(r"(?s).*").matcher(vocab).mask(), vocab.size)
    assert mask.shape == (128_512,)
    assert not mask[128_256:].any()
    specials = sorted(vocab.special_token_ids - vocab.eos_token_ids)
    assert specials and not mask[specials].any()
    assert mask[sorted(vocab.eos_token_ids)].all()
