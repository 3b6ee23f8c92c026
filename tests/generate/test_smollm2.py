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
