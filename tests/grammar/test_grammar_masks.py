"""Grammar masks against brute force: a token is allowed iff the text extended by it is a viable prefix.

The oracle steps each token's bytes through the lexer/parser hypotheses one token at a
time (no trie walk, no grouping, no memo), and whole sentences are cross-checked with
lark's own Earley parser.
"""
from __future__ import annotations

import random
from pathlib import Path

import lark
import numpy as np
import pytest

import constrain as c
from constrain.mask import unpack
from tests.vocabs import vocabulary
from tests.data import SHARED as SHARED_DATA

GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"


def reduced_vocabulary(name: str, keep: int, seed: int) -> c.Vocabulary:
    """A real vocabulary cut down to ``keep`` tokens (all short punctuation-rich ones plus a random sample)."""
    full = vocabulary(name)
    rng = random.Random(seed)
    ids = [i for i, b in enumerate(full.token_bytes) if b]
    punct = [i for i in ids if any(ch in full.token_bytes[i] for ch in b'{}[]",:()*+-./0123456789 \n') and len(full.token_bytes[i]) <= 4]  # type: ignore[operator]
    chosen = set(rng.sample(punct, min(len(punct), keep // 2))) | set(rng.sample(ids, keep // 2))
    chosen |= {i for i in ids if len(full.token_bytes[i]) == 1}  # type: ignore[arg-type]
    token_bytes = [full.token_bytes[i] if i in chosen else None for i in range(len(full.token_bytes))]
    return c.Vocabulary(token_bytes, full.eos_token_ids, full.special_token_ids, size=full.size)


def brute_force(constraint: c.GrammarConstraint, hyps: list, vocab: c.Vocabulary, ids: list[int]) -> np.ndarray:  # type: ignore[type-arg]
    out = np.zeros(vocab.size, dtype=bool)
    for i in ids:
        data = vocab.token_bytes[i]
        if data and constraint.engine.step(hyps, data):
            out[i] = True
    return out


@pytest.mark.parametrize("grammar_file, seed", [("json.lark", 0), ("arithmetic.lark", 1), ("csv.lark", 2), ("sqlite.lark", 3)])
def test_masks_equal_brute_force_on_reduced_vocabulary(grammar_file: str, seed: int) -> None:
    constraint = c.grammar(GRAMMARS / grammar_file)
    vocab = reduced_vocabulary("gpt2", 3000, seed)
    ids = [i for i, b in enumerate(vocab.token_bytes) if b]
    rng = random.Random(seed)
    for _trajectory in range(3):
        matcher = constraint.matcher(vocab)
        for _step in range(25):
            mask = unpack(matcher.mask(), vocab.size)
            hyps = matcher._stack[-1]
            expected = brute_force(constraint, hyps, vocab, ids)
            if constraint.engine.accepting(hyps):
                expected[sorted(vocab.eos_token_ids)] = True
            assert np.array_equal(mask, expected), (grammar_file, np.flatnonzero(mask != expected)[:10])
            choices = [i for i in np.flatnonzero(mask) if i not in vocab.eos_token_ids]
            if not choices:
                break
            matcher.advance(int(rng.choice(choices)))


def test_sampled_masks_on_llama3_json() -> None:
    constraint = c.grammar(GRAMMARS / "json.lark")
    vocab = vocabulary("llama3")
    rng = random.Random(7)
    ids = [i for i, b in enumerate(vocab.token_bytes) if b]
    matcher = constraint.matcher(vocab)
    for _step in range(30):
        mask = unpack(matcher.mask(), vocab.size)
        hyps = matcher._stack[-1]
        sample = rng.sample(ids, 1500) + [int(i) for i in rng.sample(list(np.flatnonzero(mask)), min(500, int(mask.sum())))]
        expected = brute_force(constraint, hyps, vocab, sample)
        assert np.array_equal(mask[sample], expected[sample])
        choices = [i for i in np.flatnonzero(mask) if i not in vocab.eos_token_ids]
        matcher.advance(int(rng.choice(choices)))


def test_sentences_agree_with_lark() -> None:
    text = (GRAMMARS / "json.lark").read_text()
    oracle = lark.Lark(text, parser="earley", lexer="dynamic")
    constraint = c.grammar(text)
    good = ['{"a": [1, -2.5e3, true, false, null]}', "[]", '  {"x" : {"y": [[], {}]}} ', '"just a string"', "3"]
    bad = ['{"a": [1, 2,]}', "{'a': 1}", '{"a" 1}', "[1 2]", "tru", '{"a": 01}']
    for s in good + bad:
        try:
            oracle.parse(s)
            expected = True
        except lark.exceptions.LarkError:
            expected = False
        assert constraint.accepts(s) == expected, s


def test_tokens_spanning_lexemes() -> None:
    constraint = c.grammar(GRAMMARS / "json.lark")
    vocab = vocabulary("gpt2")
    matcher = constraint.matcher(vocab)
    for piece in (b"[", b"{", b'"', b"a", b'":', b"1"):
        matcher.advance(vocab.token_bytes.index(piece))
    assert matcher.is_allowed(vocab.token_bytes.index(b"},"))
    assert matcher.is_allowed(vocab.token_bytes.index(b"}"))
    assert not matcher.is_allowed(vocab.token_bytes.index(b"],"))
    assert not matcher.is_allowed(vocab.token_bytes.index(b"]"))


def test_geoquery_gold_sql_token_by_token_on_llama3() -> None:
    """Real SQL through real Llama-3 tokens: every token of a gold query is allowed, end-of-sequence only at
    the end (checked against the text-level recognizer on every prefix)."""
    import json
    import os

    path = str(SHARED_DATA / "text2sql" / "geography" / "questions.jsonl")
    if not os.path.exists(path):
        pytest.skip("GeoQuery data not available")
    from tests.fixtures import tokenizers

    tok = tokenizers.llama3()
    vocab = c.Vocabulary.from_tokenizer(tok)
    constraint = c.grammar(GRAMMARS / "sqlite.lark")
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    queries = sorted({r["gold_sql"] for r in rows if r["executes_on_sqlite"]})
    eos = min(vocab.eos_token_ids)
    for query in random.Random(4).sample(queries, 3):
        matcher = constraint.matcher(vocab)
        text = ""
        for token in tok.encode(query, add_special_tokens=False):
            assert matcher.is_allowed(token), (query, text)
            assert matcher.is_allowed(eos) == constraint.accepts(text), (query, text)
            matcher.advance(token)
            text += tok.decode([token])
        assert matcher.is_allowed(eos) and constraint.accepts(query)


def test_slice_masks_equal_full_walks_inside_lexemes() -> None:
    """Inside a string body a vocabulary slice is allowed wholesale and only the rest is walked; the result
    equals the plain walk of the whole trie at every step of a JSON text, and the slice path is taken."""
    from tests.fixtures import tokenizers

    tok = tokenizers.gpt2()
    vocab = c.Vocabulary.from_tokenizer(tok)
    constraint = c.grammar(GRAMMARS / "json.lark")
    matcher = constraint.matcher(vocab)
    cache = matcher.cache
    used = 0
    for token in tok.encode('{"name": "Ada Lovelace, née Byron", "tags": ["x y", "\\u00e9"], "n": 1.5e3}'):
        hyps = matcher._stack[-1]
        with_slices = cache.allowed_with_slices(hyps)
        assert np.array_equal(with_slices, cache.allowed(hyps))
        used += any(s != constraint.engine.dfa.start and cache._slice_for(p, s) is not None for p, s in hyps)
        matcher.advance(token)
    assert used >= 3
