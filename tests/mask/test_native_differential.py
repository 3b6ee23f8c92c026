"""The native engine against the Python reference engine, bit for bit, along random trajectories.

Both engines are built from the same IR; at every step the mask, ``is_accepting``, ``forced_bytes``,
``tokens_to_accept`` and budget masks must agree. The Python engine's own masks are checked against a
brute-force oracle in ``test_oracle.py`` and its automata against ``re``, so agreement here carries
those oracles over to the native engine.
"""
from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import constrain as c
from constrain._engine import ENV_VAR
from tests.data import read_jsonl
from tests.mask.test_oracle import PATTERNS
from tests.vocabs import vocabulary

try:
    import constrain._native  # noqa: F401  (built or not, whatever CONSTRAIN_ENGINE selects)
except ImportError:
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("the native extension constrain._native is not built; CI must build it")
    pytest.skip("native engine not built (pip install -e . builds it)", allow_module_level=True)


def both(build: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The same constraint built on the Python and on the native engine."""
    with monkeypatch.context() as m:
        m.setenv(ENV_VAR, "python")
        py = build()
    with monkeypatch.context() as m:
        m.setenv(ENV_VAR, "native")
        nat = build()
    if isinstance(py, c.RegularConstraint):
        assert (py.backend, nat.backend) == ("python", "native")
    return py, nat


def compare_walks(py: Any, nat: Any, vocab: c.Vocabulary, rng: random.Random, steps: int, budgets: tuple[int, ...]) -> int:
    """Walk both matchers with the same random tokens; returns the number of steps compared."""
    mp, mn = py.matcher(vocab), nat.matcher(vocab)
    compared = 0
    chosen: list[int] = []
    for _ in range(steps):
        assert np.array_equal(mp.mask(), mn.mask()), vocab.decode(chosen)
        assert mp.is_accepting() == mn.is_accepting()
        assert mp.forced_bytes() == mn.forced_bytes()
        assert mp.tokens_to_accept() == mn.tokens_to_accept()
        for r in budgets:
            assert np.array_equal(mp.budget_mask(r), mn.budget_mask(r)), r
        compared += 1
        ids = mp.allowed_token_ids()
        if ids.size == 0 or mp.is_finished():
            break
        token = int(rng.choice(ids.tolist()))
        mp.advance(token)
        mn.advance(token)
        chosen.append(token)
    return compared


@pytest.mark.parametrize("vocab_name", ["gpt2", "llama3"])
def test_regex_masks_agree(vocab_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    vocab = vocabulary(vocab_name)
    rng = random.Random(7)
    total = 0
    for pattern in PATTERNS:
        py, nat = both(lambda: c.regex(pattern), monkeypatch)
        for _ in range(2):
            total += compare_walks(py, nat, vocab, rng, 16, (1, 3, 8))
    assert total > 200, total


def test_corpus_regexes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    vocab = vocabulary("gpt2")
    rng = random.Random(11)
    rows = list(read_jsonl("regex", "xgrammar-regex-cases", "xgrammar_regex_accept_reject.jsonl"))
    rng.shuffle(rows)
    compared = 0
    for row in rows[:60]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # re's notes on the corpus' own patterns
                py, nat = both(lambda: c.regex(row["regex"], max_states=5_000), monkeypatch)
            compared += compare_walks(py, nat, vocab, rng, 8, (2, 6))
        except (c.RegexError, c.LimitExceeded):
            continue
    assert compared > 150, compared


@pytest.mark.parametrize(
    ("vocab_name", "datasets", "every", "least"),
    [
        ("gpt2", ("BFCL_simple", "BFCL_multiple"), 40, 10),
        pytest.param("llama3", ("BFCL_simple", "Synthesized", "Github_easy", "Snowplow"), 12, 25, marks=pytest.mark.slow),
    ],
)
def test_schema_masks_agree(
    vocab_name: str, datasets: tuple[str, ...], every: int, least: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    vocab = vocabulary(vocab_name)
    rng = random.Random(3)
    compared = schemas = 0
    for name in datasets:
        for i, row in enumerate(read_jsonl("maskbench-dev", f"{name}.jsonl")):
            if i % every:
                continue
            schema = row["schema"] if isinstance(row["schema"], dict) else json.loads(row["schema"])
            try:
                py, nat = both(lambda: c.json_schema(schema), monkeypatch)
            except (c.ConstrainError, ValueError):
                continue
            if not isinstance(py, c.RegularConstraint):
                continue
            schemas += 1
            compared += compare_walks(py, nat, vocab, rng, 24, (4, 12))
    assert schemas >= least and compared > 20 * least, (schemas, compared)


def test_dead_and_limit_behaviour_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    py, nat = both(lambda: c.regex(r"ab|ac"), monkeypatch)
    for text in ["", "a", "ab", "ac", "ad", "abc", "\xff"]:
        assert py.accepts(text) == nat.accepts(text) and py.accepts_prefix(text) == nat.accepts_prefix(text), text
    for engine in ("python", "native"):
        monkeypatch.setenv(ENV_VAR, engine)
        blowup = c.regex(r"(a|b)*a(a|b){14}", max_states=500)
        blowup.matcher(vocabulary("gpt2")).mask()
        with pytest.raises(c.LimitExceeded, match="DFA states limit of 500"):
            blowup.automaton.explore()


def test_ir_fixtures_are_current() -> None:
    from tests.tools.export_ir_fixtures import FIXTURES, fixtures

    for name, data in fixtures().items():
        assert (FIXTURES / name).read_bytes() == data, f"{name}: run python -m tests.tools.export_ir_fixtures"


GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"


@pytest.mark.parametrize("grammar_file", ["json.lark", "arithmetic.lark", "csv.lark", "sqlite.lark"])
def test_grammar_masks_agree(grammar_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The native table walk and the Python level-by-level walk give the same grammar masks."""
    vocab = vocabulary("gpt2")
    rng = random.Random(grammar_file)
    py, nat = both(lambda: c.grammar(GRAMMARS / grammar_file), monkeypatch)
    compared = 0
    for _ in range(3):
        mp, mn = py.matcher(vocab), nat.matcher(vocab)
        assert mn.cache.table is not None and mp.cache.table is None
        chosen: list[int] = []
        for _step in range(20):
            words = mp.mask()
            assert np.array_equal(words, mn.mask()), (grammar_file, vocab.decode(chosen))
            compared += 1
            ids = [t for t in mp.allowed_token_ids().tolist() if t not in vocab.eos_token_ids]
            if not ids:
                break
            token = rng.choice(ids)
            mp.advance(token)
            mn.advance(token)
            chosen.append(token)
    assert compared >= 30, compared
