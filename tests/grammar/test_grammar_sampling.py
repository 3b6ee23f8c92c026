"""Outputs of a tiny random model under each shipped grammar parse with lark (complete) or are viable prefixes."""
from __future__ import annotations

from pathlib import Path

import lark
import pytest

import constrain as c
from tests.fixtures.models import tiny_llama
from tests.vocabs import tokenizer

GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"


@pytest.mark.parametrize("grammar_file", ["json.lark", "arithmetic.lark", "csv.lark", "regex.lark"])
def test_sampled_outputs_parse_with_lark(grammar_file: str) -> None:
    text = (GRAMMARS / grammar_file).read_text()
    oracle = lark.Lark(text, parser="earley", lexer="dynamic")
    constraint = c.grammar(text)
    tok = tokenizer("gpt2")
    model = tiny_llama(tok, seed=11)
    complete = 0
    for seed in range(3):
        result = c.generate(model, tok, "x", constraint, max_new_tokens=16, temperature=1.0, seed=seed)
        if result.valid:
            oracle.parse(result.text)
            complete += 1
        else:
            assert constraint.accepts_prefix(result.text), result.text
    assert complete >= 1
