"""End to end with the real SmolLM2-135M-Instruct: a valid, correct extraction on CPU."""
from __future__ import annotations

import re

import pytest

import constrain as c
from tests.fixtures.models import smollm2


@pytest.mark.slow
def test_smollm2_extracts_a_valid_record() -> None:
    model, tok = smollm2()
    pattern = r'\{"name": "[A-Za-z ]{1,40}", "age": [0-9]{1,3}, "city": "[A-Za-z ]{1,30}"\}'
    messages = [{"role": "user", "content": "Extract the person as JSON: Tom Baker is 41 and lives in Leeds."}]
    result = c.generate(model, tok, messages, c.regex(pattern), max_new_tokens=40, describe=True)
    assert result.valid and re.fullmatch(pattern, result.text), result.text
    assert '"age": 41' in result.text and "Leeds" in result.text, result.text
    assert result.jump_forward_tokens > 0


@pytest.mark.slow
def test_smollm2_fills_a_list_under_jump_forward_in_its_own_tokenization() -> None:
    """A forced ``[`` is left to the model (it writes ``'["'``), and no key or string gets a needless escape."""
    from pydantic import BaseModel

    class Employee(BaseModel):
        name: str
        skills: list[str]

    model, tok = smollm2()
    text = "Maria Lopez is a data engineer. She works mostly in Python and SQL."
    messages = [{"role": "user", "content": f"Extract the employee as JSON.\n\nText: {text}"}]
    jumped = c.generate(model, tok, messages, Employee, max_new_tokens=40)
    assert jumped.valid and jumped.value.name == "Maria Lopez", jumped.text
    assert jumped.value.skills[:2] == ["Python", "SQL"], jumped.text
    assert jumped.jump_forward_tokens > 0
    assert jumped.token_ids == tok.encode(jumped.text, add_special_tokens=False)
    plain = c.generate(model, tok, messages, Employee, max_new_tokens=40, jump_forward=False)
    assert plain.valid and "\\u" not in plain.text and '"skills":' in plain.text, plain.text


@pytest.mark.slow
def test_the_demo_extracts_the_skills_its_text_names(capsys: pytest.CaptureFixture[str]) -> None:
    from constrain.demo import run_demo

    smollm2()  # the fixture cache holds the model files
    assert run_demo() == 0
    value = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("value: "))
    assert "name='Maria Lopez'" in value and "age=34" in value and "skills=['Python', 'SQL'" in value, value
