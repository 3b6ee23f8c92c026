"""Checks that the offline tokenizer and model fixtures are the real vocabularies they claim to be.

Sizes and special-token ids are compared with the published values, every tokenizer must
round-trip ASCII, emoji and CJK text, and the conversions are compared token for token
with independent references: llama.cpp's tokenizer test files shipped beside its test
vocabularies, and tiktoken itself for the rank-file vocabularies.
"""

from __future__ import annotations

import random
import unicodedata
from typing import TYPE_CHECKING

import pytest

from tests.fixtures import tokenizers as fx
from tests.fixtures.models import smollm2, tiny_llama

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

# name -> (len(tokenizer), id space, eos token, eos id)
EXPECTED = {
    "llama3": (128_256, 128_256, "<|end_of_text|>", 128_001),
    "gpt2": (50_257, 50_257, "<|endoftext|>", 50_256),
    "qwen2": (151_665, 151_665, "<|endoftext|>", 151_643),
    "phi3": (32_064, 32_064, "<|endoftext|>", 32_000),
    "cl100k": (100_261, 100_277, "<|endoftext|>", 100_257),
    "o200k": (200_000, 200_019, "<|endoftext|>", 199_999),
}

TEXTS = {
    "ascii": 'Hello, world! {"id": 42, "ok": true, "x": [1.5e-3, null]}\n\tdef f(a, b):\n    return a  # done',
    "emoji": "🦙🚀 ✨ 👩\u200d👩\u200d👧 🇯🇵 ok 👍🏽!",
    "cjk": "我想在apple工作。日本語のテキスト、한국어 문장입니다",
}

# llama.cpp reference vocabulary name for each fixture that has one
LLAMA_CPP_REFERENCES = {"phi3": "phi-3", "llama3": "llama-bpe", "gpt2": "gpt-2", "qwen2": "qwen2"}

TIKTOKEN_OF = {"cl100k": "cl100k_base", "o200k": "o200k_base", "qwen2": "qwen"}


@pytest.fixture(params=sorted(EXPECTED))
def named_tok(request: pytest.FixtureRequest) -> tuple[str, PreTrainedTokenizerFast]:
    """Each fixture tokenizer with its name, through the session fixtures in conftest."""
    return request.param, request.getfixturevalue(f"{request.param}_tok")


def test_vocabulary_size_and_eos(named_tok: tuple[str, PreTrainedTokenizerFast]) -> None:
    name, tok = named_tok
    size, width, eos, eos_id = EXPECTED[name]
    assert len(tok) == size
    assert fx.vocab_width(tok) == width
    assert tok.eos_token == eos
    assert tok.eos_token_id == eos_id
    assert tok.convert_tokens_to_ids(eos) == eos_id


def test_loaders_are_cached_per_process() -> None:
    for loader in fx.ALL_TOKENIZERS.values():
        assert loader() is loader()


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_round_trip(named_tok: tuple[str, PreTrainedTokenizerFast], kind: str) -> None:
    _, tok = named_tok
    text = TEXTS[kind]
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text
    assert tok.decode(tok.encode(text), skip_special_tokens=True) == text


@pytest.mark.parametrize("name", sorted(LLAMA_CPP_REFERENCES))
def test_matches_llama_cpp_reference(request: pytest.FixtureRequest, name: str) -> None:
    tok = request.getfixturevalue(f"{name}_tok")
    cases = fx.llama_cpp_reference(LLAMA_CPP_REFERENCES[name])
    assert len(cases) >= 40
    mismatched = [text for text, ids in cases if tok.encode(text, add_special_tokens=False) != ids]
    matched = len(cases) - len(mismatched)
    assert not mismatched, f"{name}: {matched}/{len(cases)} match; first mismatch {mismatched[0]!r}"


def test_phi3_is_sentencepiece_with_byte_fallback(phi3_tok: PreTrainedTokenizerFast) -> None:
    assert phi3_tok.convert_tokens_to_ids("▁") == 29871
    assert phi3_tok.convert_tokens_to_ids("<0x0A>") == 13
    assert phi3_tok.convert_ids_to_tokens(3) == "<0x00>"
    assert phi3_tok.encode("hello world", add_special_tokens=False) == phi3_tok.convert_tokens_to_ids(
        ["▁hello", "▁world"]
    )
    assert "<0xF0>" in phi3_tok.convert_ids_to_tokens(phi3_tok.encode("🦙", add_special_tokens=False))


@pytest.mark.parametrize("name", sorted(TIKTOKEN_OF))
def test_matches_tiktoken(request: pytest.FixtureRequest, name: str) -> None:
    tok = request.getfixturevalue(f"{name}_tok")
    enc = fx.tiktoken_encoding(TIKTOKEN_OF[name])
    assert enc.n_vocab == fx.vocab_width(tok)
    texts = [*TEXTS.values(), "a<|endoftext|>b", "x  \n\n  y   ", "1234 12345678 3.14159", "I'M here, y'all"]
    texts += [text for text, _ in fx.llama_cpp_reference("qwen2")]
    texts += _random_texts(300)
    mismatched = []
    for text in texts:
        text = unicodedata.normalize("NFC", text)
        if tok.encode(text, add_special_tokens=False) != enc.encode(text, allowed_special="all"):
            mismatched.append(text)
    assert not mismatched, f"{len(mismatched)}/{len(texts)} differ from tiktoken, e.g. {mismatched[:3]!r}"
    assert enc.encode("<|endoftext|>", allowed_special="all") == [tok.eos_token_id]


def _random_texts(count: int) -> list[str]:
    """Seeded random strings mixing letters, digit runs, whitespace runs, punctuation and non-Latin text."""
    rng = random.Random(1234)
    pieces = [
        "a", "Z", "the", " quick", "ÄÖü", "ſ", "日本", "語", "🦙", "👍🏽", "\u0301", "'s", "'LL", "1", "42", "9999",
        "3.14", " ", "  ", "\t", "\n", "\r\n", "\n\n", "!", "?!", "...", "-->", "{", "}", '"', "<|", "|>", "/",
    ]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 24))) for _ in range(count)]


def test_missing_fixture_is_an_error_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(fx.FixtureUnavailable, match="prefetch"):
        fx.unavailable("example", "source package not installed")


def test_missing_fixture_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="source package not installed"):
        fx.unavailable("example", "source package not installed")


def test_tiny_llama_is_seeded_and_covers_every_id(cl100k_tok: PreTrainedTokenizerFast) -> None:
    import torch

    model = tiny_llama(cl100k_tok, seed=3)
    again = tiny_llama(cl100k_tok, seed=3)
    other = tiny_llama(cl100k_tok, seed=4)
    assert not model.training
    assert model.config.vocab_size == fx.vocab_width(cl100k_tok)
    assert model.config.eos_token_id == model.generation_config.eos_token_id == 100_257
    ids = torch.tensor([cl100k_tok.encode("hello") + [cl100k_tok.eos_token_id]])
    with torch.no_grad():
        logits = model(ids).logits
        assert logits.shape == (1, ids.shape[1], 100_277)
        assert torch.equal(logits, again(ids).logits)
        assert not torch.equal(logits, other(ids).logits)


@pytest.mark.slow
def test_smollm2_answers_a_question() -> None:
    model, tok = smollm2()
    assert len(tok) == model.config.vocab_size == 49_152
    assert tok.eos_token == "<|im_end|>"
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert "Paris" in tok.decode(out[0, prompt["input_ids"].shape[1] :])
