"""Jump-forward keeps the model on its tokenizer's own tokenization (real SmolLM2 and Llama-3 tokenizers).

The oracle is the tokenizer's own ``encode``. A simulated model that always writes the next token of
the tokenizer's encoding of a target text is decoded under a JSON Schema with jump-forward; every
jump is checked (its tokens are the tokenizer's encoding of the forced text in context, and no
allowed token at any forced token's start runs past the forced text), and the finished output
must be exactly the tokenizer's encoding of the target.
"""
from __future__ import annotations

import functools
import json
import random
from typing import Any, Literal

import numpy as np
import pytest
from pydantic import BaseModel

import constrain as c
from constrain.generate.tokenization import PrefixIndex, any_allowed, plan_jump, retokenize
from constrain.generate.vocab_cache import vocabulary_for
from constrain.mask.matcher import Matcher
from tests.fixtures.models import smollm2_tokenizer, tiny_llama
from tests.vocabs import tokenizer


class Employee(BaseModel):
    name: str
    age: int
    level: Literal["junior", "mid", "senior"]
    remote: bool
    skills: list[str]
    manager: dict[str, str]


TARGETS = [
    {"name": "Maria Lopez", "age": 34, "level": "senior", "remote": True, "skills": ["Python", "SQL"], "manager": {"name": "Ana"}},
    {"name": "Tom", "age": 7, "level": "mid", "remote": False, "skills": [], "manager": {}},
    {"name": "Émile \"Q\" Zoë", "age": 120, "level": "junior", "remote": True, "skills": ["C++", "[x]", ""], "manager": {"k": "v", "x": ""}},
]


def _tokenizer(name: str) -> Any:
    return smollm2_tokenizer() if name == "smollm2" else tokenizer(name)


def _replay(matcher: Matcher, keep: int, out: list[int], tokens: list[int]) -> Matcher:
    m = matcher.copy()
    m.rollback(len(out) - keep)
    for t in tokens:
        m.advance(t)
    return m


@functools.cache
def _by_first_byte(vocab: c.Vocabulary) -> dict[int, list[tuple[int, bytes]]]:
    out: dict[int, list[tuple[int, bytes]]] = {}
    for i, b in enumerate(vocab.token_bytes):
        if b:
            out.setdefault(b[0], []).append((i, b))
    return out


def _check_jump(tok: Any, vocab: c.Vocabulary, matcher: Matcher, out: list[int], keep: int, tokens: list[int]) -> None:
    """The jump's tokens are the tokenizer's encoding in context, and none ends where an allowed token runs on past them."""
    forced = matcher.forced_bytes()
    in_context = tok.encode((vocab.decode(out) + forced).decode("utf-8"), add_special_tokens=False)
    assert in_context[:keep] == out[:keep] and in_context[keep : keep + len(tokens)] == tokens
    for i in range(len(tokens)):
        at = _replay(matcher, keep, out, tokens[:i])
        rest = vocab.decode(tokens[i:])
        longer = [b for t, b in _by_first_byte(vocab).get(rest[0], []) if len(b) > len(rest) and b.startswith(rest) and at.is_allowed(t)]
        assert not longer, (rest, longer[:5])


def _decode_following_the_tokenizer(tok: Any, constraint: Any, target: str) -> tuple[list[int], int]:
    """Decode ``target`` with jump-forward, the 'model' writing the tokenizer's next token; returns the tokens and the jumps made."""
    vocab = vocabulary_for(tok)
    matcher = constraint.matcher(vocab)
    canon = tok.encode(target, add_special_tokens=False)
    goal = target.encode("utf-8")
    out: list[int] = []
    jumps = 0
    while vocab.decode(out) != goal:
        if out == canon[: len(out)]:
            token = canon[len(out)]
        else:  # off the tokenizer's path: the longest allowed token that still spells the target
            done = vocab.decode(out)
            fits = [int(t) for t in matcher.allowed_token_ids() if goal.startswith(done + (vocab.token_to_bytes(int(t)) or b"\xff"))]
            token = max(fits, key=lambda t: len(vocab.token_to_bytes(t) or b""))
        matcher.advance(token)
        out.append(token)
        jump = plan_jump(matcher, vocab, tok, out, 10**6, budget=False)
        if jump is not None:
            _check_jump(tok, vocab, matcher, out, jump.keep, jump.tokens)
            assert jump.matcher is not None
            out, matcher = out[: jump.keep] + jump.tokens, jump.matcher
            jumps += 1
    return out, jumps


@pytest.mark.parametrize("name", ["smollm2", "llama3"])
@pytest.mark.parametrize("target", TARGETS, ids=["filled", "empty", "escapes"])
def test_a_model_that_follows_its_tokenizer_stays_on_it_under_jump_forward(name: str, target: dict) -> None:
    tok = _tokenizer(name)
    constraint = c.json_schema(Employee)
    text = constraint.dumps(target)
    assert constraint.accepts(text)
    out, jumps = _decode_following_the_tokenizer(tok, constraint, text)
    assert jumps >= 5
    assert out == tok.encode(text, add_special_tokens=False)


def test_the_list_bracket_is_left_to_the_model_when_a_longer_token_could_follow() -> None:
    """SmolLM2 writes a filled list as '":', '["' and an empty one as '[', ']}': the forced ``[`` is never forced alone."""
    tok = smollm2_tokenizer()
    vocab = vocabulary_for(tok)
    constraint = c.json_schema(Employee)
    matcher = constraint.matcher(vocab)
    prefix = '{"name":"Ana","age":3,"level":"mid","remote":true,"'
    out = tok.encode(prefix, add_special_tokens=False)
    for t in out:
        matcher.advance(t)
    assert matcher.forced_bytes() == b'skills":['
    jump = plan_jump(matcher, vocab, tok, out, 10**6, budget=False)
    assert jump is not None
    assert vocab.decode(jump.tokens) == b'skills":'
    assert jump.matcher is not None and jump.matcher.is_allowed(tok.convert_tokens_to_ids('["'))


@pytest.mark.parametrize("name", ["smollm2", "llama3"])
def test_prefix_index_matches_a_scan_of_the_vocabulary(name: str) -> None:
    vocab = vocabulary_for(_tokenizer(name))
    index = PrefixIndex(vocab)
    rng = random.Random(0)
    probes = [b"", b"[", b'":', b'"', b"\xff", b"\xff\xff", b"\xe2\x80", b"zzzzzzzz"]
    probes += [b[: rng.randint(1, len(b))] for b in rng.sample([b for b in vocab.token_bytes if b], 16)]
    for p in probes:
        want = sorted(i for i, b in enumerate(vocab.token_bytes) if b and len(b) > len(p) and b.startswith(p))
        assert sorted(index.extending(p).tolist()) == want, p


def test_any_allowed_reads_the_bitmask() -> None:
    words = np.zeros(3, dtype=np.int32)
    words[1] = np.int32(np.uint32(1 << 31).view(np.int32))
    assert any_allowed(words, np.array([5, 63])) and not any_allowed(words, np.array([5, 62, 64])) and not any_allowed(words, np.array([], dtype=np.int64))


@pytest.mark.parametrize("name", ["smollm2", "llama3"])
def test_retokenize_rewrites_the_output_as_the_tokenizer_writes_it(name: str) -> None:
    tok = _tokenizer(name)
    vocab = vocabulary_for(tok)
    constraint = c.json_schema(Employee)
    pieces = ['{"name":"Ma', "ria", '","age":1', "2", ',"level":"s']
    out = [t for p in pieces for t in tok.encode(p, add_special_tokens=False)]
    text = "".join(pieces)
    assert out != tok.encode(text, add_special_tokens=False)
    matcher = constraint.matcher(vocab)
    for t in out:
        matcher.advance(t)
    redo = retokenize(matcher, vocab, tok, out, 10**6, budget=True)
    assert redo is not None and redo.matcher is not None
    assert out[: redo.keep] + redo.tokens == tok.encode(text, add_special_tokens=False)
    assert redo.matcher.forced_bytes() == matcher.forced_bytes() == b'enior","remote":'
    assert retokenize(matcher, vocab, tok, tok.encode(text, add_special_tokens=False), 10**6, budget=True) is None
    assert retokenize(matcher, vocab, tok, out, len(tok.encode(text, add_special_tokens=False)) - 1, budget=False) is None


def test_generation_ends_in_the_tokenizers_own_tokens_unless_canonical_tokens_is_off() -> None:
    tok = tokenizer("llama3")
    model = tiny_llama(tok, seed=2)
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 12}, "b": {"type": "array", "items": {"type": "integer"}, "maxItems": 3}},
              "required": ["a", "b"], "additionalProperties": False}
    off_path = 0
    for seed in range(3):
        result = c.generate(model, tok, "x", schema, max_new_tokens=40, temperature=1.0, seed=seed)
        assert result.valid, result.text
        assert result.token_ids == tok.encode(result.text, add_special_tokens=False), result.text
        assert set(json.loads(result.text)) == {"a", "b"}
        plain = c.generate(model, tok, "x", schema, max_new_tokens=40, temperature=1.0, seed=seed, canonical_tokens=False)
        off_path += plain.token_ids != tok.encode(plain.text, add_special_tokens=False)
    assert off_path >= 2  # without it, a random model splits Llama-3's three-digit number tokens its own way
