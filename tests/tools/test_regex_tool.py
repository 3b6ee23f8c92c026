"""Text to regex (constrain.regex_tool) with the tiny random model and scripted candidates.

Oracles are Python's own: ``re.compile`` for validity and ``re.fullmatch`` for the examples.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

import constrain as c
from constrain.regex_tool import close_regex, evaluate_regex, extract_regex, generate_regex, rank, regex_grammar

METACHARS = set("()[]{}\\*+?|^$.-")


class _Biased:
    """The tiny model with its logits pushed toward tokens made only of regex metacharacters.

    Unconstrained, such a model writes text that rarely compiles; constrained, every
    candidate must still compile.
    """

    def __new__(cls, model: Any, tokenizer: Any, bias: float = 12.0) -> Any:
        import torch

        width = int(model.get_output_embeddings().weight.shape[0])
        boost = torch.zeros(width)
        for token_id in range(min(width, len(tokenizer))):
            text = tokenizer.decode([token_id])
            if text and set(text) <= METACHARS:
                boost[token_id] = bias

        class Wrapper(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = model
                self.generation_config = model.generation_config
                self.config = model.config

            def get_output_embeddings(self) -> Any:
                return self.inner.get_output_embeddings()

            def forward(self, *args: Any, **kwargs: Any) -> Any:
                out = self.inner(*args, **kwargs)
                out.logits = out.logits + boost.to(out.logits.dtype)
                return out

        return Wrapper().eval()


@pytest.fixture(scope="module")
def biased(tiny: tuple[Any, Any]) -> tuple[Any, Any]:
    model, tok = tiny
    return _Biased(model, tok), tok


def _oracle_counts(pattern: str, positive: list[str], negative: list[str]) -> tuple[int, int]:
    compiled = re.compile(pattern)
    return (
        sum(1 for p in positive if compiled.fullmatch(p) is not None),
        sum(1 for n in negative if compiled.fullmatch(n) is None),
    )


POS = ["123", "007"]
NEG = ["12a", "1234"]


def test_constrained_candidates_all_compile_even_when_the_model_prefers_metacharacters(biased: tuple[Any, Any]) -> None:
    model, tok = biased
    result = generate_regex(model, tok, "three digits", POS, NEG, n=4, max_new_tokens=8, temperature=1.5, seed=3)
    assert len(result.candidates) == 4
    for cand in result.candidates:
        re.compile(cand.text)  # oracle: never raises
        assert cand.compiles and cand.error is None
        assert regex_grammar().accepts(cand.text)
        assert (cand.positives_passed, cand.negatives_passed) == _oracle_counts(cand.text, POS, NEG)
    assert result.regex is not None
    re.compile(result.regex)
    # the same model unconstrained writes regexes that do not compile, so the constraint did the work
    free = generate_regex(model, tok, "three digits", POS, NEG, n=4, max_new_tokens=8, temperature=1.5, seed=3, constrained=False)
    assert sum(not cand.compiles for cand in free.candidates) >= 1


def test_chosen_regex_compiles_and_ranks_by_examples_then_logprob(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    for constrained in (True, False):
        result = generate_regex(model, tok, "a word", ["abc"], ["123"], n=4, max_new_tokens=10, seed=0, constrained=constrained)
        compiling = [cand for cand in result.candidates if cand.compiles]
        if not compiling:
            assert result.regex is None and result.chosen_index is None
            continue
        assert result.chosen is not None and result.chosen.compiles
        re.compile(result.regex or "")
        best = max((cand.passed, cand.mean_logprob if cand.mean_logprob is not None else float("-inf")) for cand in compiling)
        chosen = result.chosen
        assert (chosen.passed, chosen.mean_logprob) == best
        for cand in result.candidates:
            assert cand.mean_logprob is not None and cand.tokens >= 1


def _scripted(answers: list[str]) -> Any:
    it: Iterator[str] = iter(answers)
    return lambda _prompt: next(it)


def test_ranking_by_examples_passed_with_scripted_candidates() -> None:
    answers = ["[a-z", "\\d+", "```\n\\d{3}\n```", "`[0-9]{3}x`", "(?P<a>x)(?P<a>y)"]
    result = generate_regex(_scripted(answers), None, "three digits", POS, NEG, n=5, constrained=False)
    texts = [cand.text for cand in result.candidates]
    assert texts == ["[a-z", "\\d+", "\\d{3}", "[0-9]{3}x", "(?P<a>x)(?P<a>y)"]
    assert [cand.compiles for cand in result.candidates] == [False, True, True, True, False]
    for cand in result.candidates:
        if cand.compiles:
            assert (cand.positives_passed, cand.negatives_passed) == _oracle_counts(cand.text, POS, NEG)
        else:
            with pytest.raises(re.error):
                re.compile(cand.text)
    assert result.regex == "\\d{3}" and result.all_examples_passed
    assert "passed=4/4" in result.summary()


def test_a_regex_that_does_not_compile_is_never_chosen() -> None:
    result = generate_regex(_scripted(["(", "a{2,1}", "zzz"]), None, "x", ["x"], [], n=3, constrained=False)
    assert result.regex == "zzz" and result.chosen_index == 2 and not result.all_examples_passed
    none = generate_regex(_scripted(["(", "[b-a]"]), None, "x", ["x"], [], n=2, constrained=False)
    assert none.regex is None and not none.valid and none.compile_rate == 0.0


def test_rank_ties_go_to_logprob_then_order() -> None:
    from constrain.regex_tool import RegexCandidate

    cands = [
        RegexCandidate(0, "a", "a", True, positives_passed=1, mean_logprob=-2.0),
        RegexCandidate(1, "b", "b", True, positives_passed=1, mean_logprob=-1.0),
        RegexCandidate(2, "c", "c", False, positives_passed=5, mean_logprob=0.0),
        RegexCandidate(3, "d", "d", True, positives_passed=1, mean_logprob=-1.0),
    ]
    assert rank(cands) is cands[1]
    assert rank([cands[2]]) is None


@pytest.mark.parametrize(
    "prefix", ["(ab[c-", "a\\", "(?P<na", "a{2,", "[", "[^", "((((x", "\\x4", "(?", "a[]", "x|", "(?i", "[a-\\"]
)
def test_close_regex_gives_a_compiling_grammar_sentence(prefix: str) -> None:
    closed, trimmed, appended = close_regex(prefix, regex_grammar().accepts)
    re.compile(closed)
    assert regex_grammar().accepts(closed)
    assert closed == prefix[: len(prefix) - trimmed] + appended


def test_evaluate_agrees_with_re_fullmatch_and_survives_backtracking() -> None:
    strings = ["", "a", "ab", "aaaa", "a" * 16 + "c", "AbC", "a\nb"]
    for pattern in ["(a*)*b", "a|ab", "(?i)abc", "a.b", "(?s)a.b", "[^a]*", "^a$"]:
        error, pos, _neg = evaluate_regex(pattern, strings, [])
        assert error is None
        assert pos == sum(1 for s in strings if re.fullmatch(pattern, s) is not None), pattern


def test_extract_regex_from_free_text() -> None:
    assert extract_regex("Sure:\n```python\nr'\\d+'\n```") == "\\d+"
    assert extract_regex("Use `[a-z]+` here") == "[a-z]+"
    assert extract_regex("\n  /ab+c/  \nmore") == "ab+c"
    assert extract_regex('"x|y"') == "x|y"


def test_public_submodule() -> None:
    assert c.regex_tool.generate_regex is generate_regex
