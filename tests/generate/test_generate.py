"""Generation with tiny random Llamas over real tokenizers: every output is valid, for many seeds and settings."""
from __future__ import annotations

import re

import pytest
import torch

import constrain as c
from constrain.hf import LogitsProcessor
from tests.fixtures.models import tiny_llama
from tests.vocabs import tokenizer

PATTERNS = [
    r"\d{4}-\d{2}-\d{2}",
    r'\{"name": "[a-z]{1,12}", "age": [0-9]{1,3}, "tags": \["[a-z]+"(, "[a-z]+")*\]\}',
    r"(?:red|green|blue)( and (?:red|green|blue))*",
    r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,3}\.",
    r"[^\n]{1,10}\n[0-9a-f]{4}",
]


@pytest.fixture(scope="module", params=["llama3", "gpt2", "phi3"])
def model_and_tokenizer(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    tok = tokenizer(request.param)
    return tiny_llama(tok), tok


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_sampled_output_is_valid(model_and_tokenizer, pattern: str) -> None:  # type: ignore[no-untyped-def]
    model, tok = model_and_tokenizer
    constraint = c.regex(pattern)
    settings = [dict(temperature=1.0), dict(temperature=0.7, top_k=50), dict(temperature=1.3, top_p=0.9)]
    for seed in range(2):
        for options in settings:
            result = c.generate(model, tok, "Output:", constraint, max_new_tokens=40, seed=seed, **options)  # type: ignore[arg-type]
            assert result.valid, (pattern, options, seed, result.text, result.finish_reason)
            assert re.fullmatch(pattern, result.text), (pattern, result.text)
            assert result.num_tokens <= 40


def test_budget_aware_closing_finishes_nested_outputs() -> None:
    tok = tokenizer("llama3")
    model = tiny_llama(tok, seed=3)
    pattern = r'\{"items": \[(\{"k": "[a-z]+", "v": \[[0-9]+(, [0-9]+)*\]\}(, )?)+\], "done": (true|false)\}'
    constraint = c.regex(pattern)
    with_budget = [c.generate(model, tok, "x", constraint, max_new_tokens=30, temperature=1.0, seed=s) for s in range(6)]
    assert all(g.valid and re.fullmatch(pattern, g.text) for g in with_budget), [g.text for g in with_budget]
    without = [c.generate(model, tok, "x", constraint, max_new_tokens=30, temperature=1.0, seed=s, budget=False) for s in range(6)]
    assert sum(not g.valid for g in without) >= 3, "without budget-aware closing the random model should run out of tokens"


def test_jump_forward_saves_forward_passes_and_stays_canonical() -> None:
    tok = tokenizer("llama3")
    model = tiny_llama(tok, seed=1)
    pattern = r'\{"first_name": "[a-z]{1,8}", "last_name": "[a-z]{1,8}", "country": "[a-z]{1,8}"\}'
    fast = c.generate(model, tok, "x", c.regex(pattern), max_new_tokens=60, temperature=1.0, seed=0)
    slow = c.generate(model, tok, "x", c.regex(pattern), max_new_tokens=60, temperature=1.0, seed=0, jump_forward=False,
                      canonical_tokens=False)  # one forward pass per sampled token, none re-fed
    assert fast.valid and slow.valid
    assert fast.jump_forward_tokens > 0 and fast.forward_passes < fast.num_tokens
    assert slow.jump_forward_tokens == 0 and slow.forward_passes == slow.num_tokens + 0 or slow.forward_passes == slow.num_tokens + 1
    assert c.Vocabulary.from_tokenizer(tok).decode(fast.token_ids).decode() == fast.text
    forced = '{"first_name": "'
    assert fast.token_ids[: len(tok.encode(forced, add_special_tokens=False))] == tok.encode(forced, add_special_tokens=False)


def test_typed_outputs() -> None:
    from typing import Literal

    tok = tokenizer("gpt2")
    model = tiny_llama(tok, seed=2)
    for seed in range(4):
        assert isinstance(c.generate(model, tok, "n:", int, max_new_tokens=6, temperature=1.0, seed=seed).value, int)
        assert isinstance(c.generate(model, tok, "b:", bool, max_new_tokens=4, temperature=1.0, seed=seed).value, bool)
        value = c.generate(model, tok, "c:", Literal["cat", "dog", 3], max_new_tokens=4, temperature=1.0, seed=seed).value
        assert value in ("cat", "dog", 3)


def test_logits_processor_batched_equals_unbatched_greedy() -> None:
    tok = tokenizer("gpt2")
    model = tiny_llama(tok, seed=5)
    constraint = c.regex(r"[a-z]+(?:, [a-z]+){1,3}\.")
    prompts = ["one two", "red fox", "big cat"]
    ids = [tok.encode(p) for p in prompts]
    assert len({len(i) for i in ids}) == 1
    batch = torch.tensor(ids)
    gen = dict(max_new_tokens=24, do_sample=False, pad_token_id=tok.eos_token_id)
    together = model.generate(batch, attention_mask=torch.ones_like(batch), logits_processor=[LogitsProcessor(constraint, tok)], **gen)
    for row, single in enumerate(ids):
        alone = model.generate(torch.tensor([single]), attention_mask=torch.ones(1, len(single), dtype=torch.long), logits_processor=[LogitsProcessor(constraint, tok)], **gen)
        a = together[row, len(single) :].tolist()
        b = alone[0, len(single) :].tolist()
        assert a[: len(b)] == b
    for row in range(len(prompts)):
        out = [t for t in together[row, len(ids[row]) :].tolist() if t != tok.eos_token_id]
        assert constraint.accepts_prefix(tok.decode(out))


@pytest.mark.parametrize("num_beams, do_sample", [(1, True), (3, False)])
def test_logits_processor_sampling_and_beams(num_beams: int, do_sample: bool) -> None:
    tok = tokenizer("llama3")
    model = tiny_llama(tok, seed=6)
    constraint = c.regex(r"(?:yes|no)(?:, (?:yes|no)){0,4}")
    batch = torch.tensor([tok.encode("Q: ok?"), tok.encode("Q: no?")])
    torch.manual_seed(0)
    out = model.generate(
        batch,
        attention_mask=torch.ones_like(batch),
        logits_processor=[LogitsProcessor(constraint, tok)],
        max_new_tokens=12,
        do_sample=do_sample,
        num_beams=num_beams,
        pad_token_id=128001,
        eos_token_id=tok.eos_token_id,
    )
    for row in out.tolist():
        generated = row[batch.shape[1] :]
        text_ids = [t for t in generated if t not in (tok.eos_token_id, 128001)]
        text = tok.decode(text_ids)
        assert constraint.accepts_prefix(text), text
        if tok.eos_token_id in generated:
            assert constraint.accepts(text), text


def test_stream_yields_deltas_and_final_result() -> None:
    tok = tokenizer("gpt2")
    model = tiny_llama(tok, seed=7)
    pattern = r'\{"a": [0-9]{1,3}, "b": "[a-z]{1,6}"\}'
    events = list(c.stream(model, tok, "x", c.regex(pattern), max_new_tokens=30, temperature=1.0, seed=1))
    assert events[-1].done and events[-1].result is not None and events[-1].result.valid
    assert "".join(e.delta for e in events) == events[-1].result.text
