"""Token bytes are exact on every real vocabulary: concatenated token bytes equal the text's UTF-8."""
from __future__ import annotations

import pytest

import constrain as c
from tests.fixtures import tokenizers as fx
from tests.vocabs import tokenizer, vocabulary

TEXTS = [
    "Hello, world! The quick brown fox.",
    '{"name": "Zoë", "tags": ["a", "b"], "n": -1.5e3}\n',
    "emoji: 🎉🚀👩‍👩‍👧 and flags 🇫🇷",
    "中文字符和日本語のテキスト、한국어 텍스트",
    "    indented\tcode();\n\n  // comment",
    "ﬁ ligature, Ω, ß, İstanbul, \u200b zero width",
]


@pytest.mark.parametrize("name", ["llama3", "gpt2", "qwen2", "phi3", "cl100k", "o200k"])
def test_token_bytes_concatenate_to_the_text(name: str) -> None:
    tok = tokenizer(name)
    vocab = vocabulary(name)
    assert vocab.size >= len(tok)
    for text in TEXTS:
        ids = tok.encode(text, add_special_tokens=False)
        decoded = vocab.decode(ids)
        if name == "phi3" and decoded == b" " + text.encode("utf-8"):
            decoded = decoded[1:]  # SentencePiece's dummy prefix is a real space token byte
        assert decoded == text.encode("utf-8"), (name, text, decoded)


@pytest.mark.parametrize("name", ["cl100k", "o200k"])
def test_from_tiktoken_matches_tokenizer(name: str) -> None:
    enc = fx.tiktoken_encoding({"cl100k": "cl100k_base", "o200k": "o200k_base"}[name])
    vocab = c.Vocabulary.from_tiktoken(enc)
    assert vocab.eos_token_ids == {enc.encode_single_token("<|endoftext|>")}
    for text in TEXTS:
        assert vocab.decode(enc.encode(text)) == text.encode("utf-8")


def test_sentencepiece_byte_fallback_and_space() -> None:
    vocab = vocabulary("phi3")
    tok = tokenizer("phi3")
    byte_tokens = [i for i in range(len(vocab.token_bytes)) if tok.convert_ids_to_tokens(i) == "<0x0A>"]
    assert byte_tokens and vocab.token_bytes[byte_tokens[0]] == b"\n"
    spaced = [t for t in tok.get_vocab() if t.startswith("▁") and len(t) > 1][:50]
    for t in spaced:
        assert vocab.token_bytes[tok.convert_tokens_to_ids(t)] == t.replace("▁", " ").encode("utf-8")


def test_from_token_bytes_and_size() -> None:
    vocab = c.Vocabulary.from_token_bytes([b"a", b"b", b"ab", None], eos_token_ids=[3], size=40)
    assert vocab.size == 40 and vocab.eos_token_ids == {3}
    assert vocab.decode([2, 0, 3]) == b"aba"
    with pytest.raises(c.VocabularyError):
        c.Vocabulary.from_token_bytes([b"a"], eos_token_ids=[5], size=3)
