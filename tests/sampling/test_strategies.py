"""Strategies and their records: retry with feedback, best_of, vote, first_valid, repair and validation."""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import pytest
from pydantic import BaseModel, field_validator

import constrain as c
from constrain.sampling import Checker, best_of, first_valid, retry, sample, vote
from constrain.sampling.backends import Candidate, Request
from constrain.sampling.run import Run


class Person(BaseModel):
    name: str
    age: int

    @field_validator("age")
    @classmethod
    def plausible(cls, v: int) -> int:
        if not 0 <= v <= 130:
            raise ValueError("age must be between 0 and 130")
        return v


def scripted(answers: list[str]) -> tuple[Callable[[Any], str], list[Any]]:
    """A function model replying with ``answers`` in turn; also returns the prompts it saw."""
    prompts: list[Any] = []

    def fn(prompt: Any) -> str:
        prompts.append(prompt)
        return answers[min(len(prompts) - 1, len(answers) - 1)]

    return fn, prompts


class FakeBackend:
    """Candidates with fixed texts and log-probabilities, drawn in order."""

    def __init__(self, items: list[tuple[str, float]]) -> None:
        self.items = items
        self.forward_passes = 0

    def draw(self, prompt: Any, n: int, request: Request, accept: Any = None) -> list[Candidate]:
        return [Candidate(text, 3, 0.01 * (i + 1), lp, "eos") for i, (text, lp) in enumerate(self.items[:n])]


def fake_run(items: list[tuple[str, float]], output: Any) -> Run:
    return Run(FakeBackend(items), Checker(output), "p", Request(), constrained=False, temperature=None)


def test_retry_feedback_reasks_with_errors() -> None:
    fn, prompts = scripted(['{"name": "Ann", "age": 200}', '{"name": "Ann", "age": 41}'])
    messages = [{"role": "user", "content": "Ann is 41."}]
    result = sample(fn, None, messages, Person, retry(3, feedback=True))
    assert result.valid and result.value == Person(name="Ann", age=41)
    assert [a.valid for a in result.attempts] == [False, True]
    assert result.attempts[0].errors == ["age: Value error, age must be between 0 and 130"]
    assert result.attempts[1].prompt_feedback
    second = prompts[1]
    assert second[-2] == {"role": "assistant", "content": '{"name": "Ann", "age": 200}'}
    assert second[-1]["role"] == "user" and "age must be between 0 and 130" in second[-1]["content"]
    assert "JSON" in second[0]["content"], "the format is described when decoding is not constrained"
    assert result.confidence == 0.5 and result.chosen_index == 1


def test_retry_gives_up_after_max_tries_and_records_all() -> None:
    fn, prompts = scripted(["no json here"])
    result = sample(fn, None, "Who?", Person, retry(4))
    assert not result.valid and result.value is None and result.chosen_index is None
    assert len(result.attempts) == 4 == len(prompts)
    assert all(a.errors for a in result.attempts)
    assert prompts[0] == prompts[3], "without feedback the prompt does not change"


def test_retry_is_bounded_by_tokens(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    result = sample(model, tok, "x", Person, retry(5, max_tokens=8), constrained=False, max_new_tokens=8, seed=0)
    assert len(result.attempts) == 1 and result.total_tokens == 8


def test_repair_makes_broken_json_valid_and_is_recorded() -> None:
    fn, _ = scripted(['Sure! ```json\n{"name": "Bo", "age": "7",}\n```'])
    result = sample(fn, None, "Bo is 7", Person, retry(1))
    assert result.valid and result.value.age == 7
    assert result.chosen is not None and result.chosen.repaired
    strict = sample(fn, None, "Bo is 7", Person, retry(1), repair=False)
    assert not strict.valid


def test_json_schema_errors_name_the_path() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
    fn, _ = scripted(['{"n": 0}', '{"m": 1}'])
    result = sample(fn, None, "x", schema, retry(2))
    assert not result.valid
    assert result.attempts[0].errors == ["n: 0 is less than the minimum of 1"]
    assert "'n' is a required property" in result.attempts[1].errors[0]


def test_vote_majority_and_agreement() -> None:
    fn, _ = scripted([])
    answers = iter(['{"name": "A", "age": 1}', '{"age": 1, "name": "A"}', '{"name": "B", "age": 2}', "junk", '{"name":"A","age":1}'])
    result = sample(lambda _p: next(answers), None, "x", Person, vote(5))
    assert result.value == Person(name="A", age=1)
    assert result.confidence == pytest.approx(0.6)
    assert [a.score for a in result.attempts] == [0.6, 0.6, 0.2, None, 0.6]


def test_vote_ties_go_to_the_higher_logprob() -> None:
    items = [('"x"', -2.0), ('"y"', -0.5), ('"x"', -1.9), ('"y"', -3.0)]
    result = vote(4).run(fake_run(items, c.choice(['"x"', '"y"'])))
    assert result.text == '"y"' and result.chosen_index == 1
    assert result.confidence == 0.5


def test_best_of_picks_highest_logprob_among_valid() -> None:
    items = [("12", -1.5), ("oops", -0.1), ("7", -0.9), ("30", -2.0)]
    result = best_of(4).run(fake_run(items, int))
    assert result.value == 7 and result.chosen_index == 2
    assert [a.score for a in result.attempts] == [-1.5, None, -0.9, -2.0]


def test_best_of_with_a_verifier() -> None:
    items = [("12", -1.5), ("7", -0.9), ("30", -2.0)]
    result = best_of(3, score=lambda v: -abs(v - 28)).run(fake_run(items, int))
    assert result.value == 30
    assert result.attempts[2].score == -2


def test_best_of_on_a_local_model_in_one_batch(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    pattern = r'\{"n": [0-9]{1,3}, "w": "[a-z]{2,6}"\}'
    result = sample(model, tok, "Output:", c.regex(pattern), best_of(4), max_new_tokens=24, seed=0)
    assert result.valid and re.fullmatch(pattern, result.text)
    assert len(result.attempts) == 4 and all(a.valid for a in result.attempts)
    best = max(result.attempts, key=lambda a: a.mean_logprob or -1e9)
    assert result.chosen_index == best.index
    assert result.forward_passes <= 24 + 1, "all candidates share one forward pass per step"
    assert result.total_tokens == sum(a.tokens for a in result.attempts) > 0


def test_local_constrained_outputs_are_always_valid(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    for strategy in (retry(2), vote(3), first_valid(3)):
        result = sample(model, tok, "Answer:", bool, strategy, max_new_tokens=4, seed=1)
        assert result.valid and isinstance(result.value, bool), result.summary()
    schema = {"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"], "additionalProperties": False}
    result = sample(model, tok, "Answer:", schema, vote(3), max_new_tokens=12, seed=2)
    assert result.valid and isinstance(result.value["k"], int), result.summary()
    assert json.loads(result.text) == result.value


def test_first_valid_stops_at_the_first_valid() -> None:
    answers = iter(["bad", "42", "43", "44"])
    result = sample(lambda _p: next(answers), None, "n?", int, first_valid(4))
    assert result.value == 42 and result.chosen_index == 1
    assert [a.finish_reason for a in result.attempts] == ["stop", "stop", "cancelled", "cancelled"]


def test_sample_rejects_unknown_models() -> None:
    with pytest.raises(TypeError):
        sample(object(), None, "x", int)
    with pytest.raises(ValueError):
        best_of(0)
