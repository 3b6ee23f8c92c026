"""Our Earley recognizer and Lark front end against lark, on the shipped grammars and on the shared Lark
grammars that the front end accepts.

* terminal level: lark's Earley parser over a copy of the rules with one character per terminal decides
  membership and (with a prefix grammar) viability of generated and mutated terminal sequences;
* text level: texts generated from our IR are accepted by lark's ``dynamic_complete`` Earley parser on the
  original grammar (so the conversion kept the language), and the token sequence lark finds is accepted by
  our recognizer.
"""
import os
import random
import re
from pathlib import Path

import lark
import pytest
from helpers import SentenceGenerator, terminal_oracle_grammar

from constrain.grammar.earley import EarleyParser
from constrain.grammar.lark_frontend import load_lark
from tests.data import SHARED as SHARED_DATA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = str(SHARED_DATA / "grammars")
SHIPPED = [os.path.join(ROOT, "grammars", f) for f in ("json.lark", "csv.lark", "arithmetic.lark", "regex.lark", "sqlite.lark")]
SHARED_OK = [os.path.join(SHARED, p) for p in (
    "syncode/syncode/parsers/grammars/json_grammar.lark",
    "syncode/syncode/parsers/grammars/calc_grammar.lark",
    "syncode/syncode/parsers/grammars/c_grammar.lark",
    "syncode/syncode/parsers/grammars/go_grammar.lark",
    "syncode/syncode/parsers/grammars/java_grammar.lark",
    "syncode/syncode/parsers/grammars/sql_grammar.lark",
    "syncode/syncode/parsers/grammars/prover9_grammar.lark",
    "syncode/syncode/parsers/grammars/invariants.lark",
    "syncode/syncode/parsers/grammars/tiny_grammar.lark",
    "lark/examples/composition/storage.lark",
    "lark/examples/composition/json.lark",
    "lark/examples/composition/csv.lark",
    "lark/examples/relative-imports/multiples.lark",
    "lark/examples/standalone/json.lark",
    "llguidance/sample_parser/data/lark.lark",
)]
SLOW = {"syncode/syncode/parsers/grammars/sql_grammar.lark"}  # building its lark oracles alone takes ~7 s
ALL = SHIPPED + [
    pytest.param(p, marks=pytest.mark.slow) if p.replace(SHARED + "/", "") in SLOW else p
    for p in SHARED_OK if os.path.exists(p)
]
LAZY = re.compile(r"(?<!\\)[*+?}]\?")


def short(path: str) -> str:
    return path.replace(SHARED + "/", "").replace(ROOT + "/", "")


class Oracle:
    """Terminal-level membership and prefix oracles built with lark from our IR."""

    def __init__(self, grammar):
        text, self.char = terminal_oracle_grammar(grammar)
        self.full = lark.Lark(text, parser="earley", lexer="basic")
        text, _ = terminal_oracle_grammar(grammar, prefixes=True)
        self.prefix = lark.Lark(text, parser="earley", lexer="basic")

    def _ok(self, parser, seq) -> bool:
        try:
            parser.parse("".join(self.char[t] for t in seq))
            return True
        except lark.exceptions.LarkError:
            return False

    def accepts(self, seq) -> bool:
        return self._ok(self.full, seq)

    def viable(self, seq) -> bool:
        return self._ok(self.prefix, seq)


def mutate(seq: list[str], terminals: list[str], rng: random.Random) -> list[str]:
    seq = list(seq)
    kind = rng.choice(["delete", "insert", "replace", "swap"]) if seq else "insert"
    i = rng.randrange(len(seq) + (kind == "insert")) if seq else 0
    if kind == "delete":
        del seq[i]
    elif kind == "insert":
        seq.insert(i, rng.choice(terminals))
    elif kind == "replace":
        seq[i] = rng.choice(terminals)
    elif len(seq) > 1:
        j = rng.randrange(len(seq))
        seq[i], seq[j] = seq[j], seq[i]
    return seq


@pytest.mark.parametrize("path", ALL, ids=short)
def test_terminal_sequences_against_lark(path):
    grammar = load_lark(Path(path))
    parser = EarleyParser(grammar)
    oracle = Oracle(grammar)
    gen = SentenceGenerator(grammar, seed=7)
    rng = random.Random(11)
    terminals = sorted(grammar.terminals)
    rounds = 12 if len(grammar.rules) < 300 else 4
    for _ in range(rounds):
        seq = gen.terminals(rng.randint(1, 14))
        assert oracle.accepts(seq)
        state = parser.initial()
        for i, t in enumerate(seq):
            assert t in state.allowed_terminals(), (seq, i)
            state = state.advance(t)
        assert state.is_accepting(), seq
        for _ in range(4):
            wrong = mutate(seq, terminals, rng)
            assert parser.accepts(wrong) == oracle.accepts(wrong), wrong
        # a random terminal after a random prefix: allowed iff some sentence continues that way
        cut = rng.randrange(len(seq) + 1)
        state = parser.initial()
        for t in seq[:cut]:
            state = state.advance(t)
        for t in rng.sample(terminals, min(4, len(terminals))):
            allowed = oracle.viable(seq[:cut] + [t])
            assert (t in state.allowed_terminals()) == allowed, (seq[:cut], t)
            assert (state.advance(t) is not None) == allowed, (seq[:cut], t)


@pytest.mark.parametrize("path", ALL, ids=short)
def test_generated_texts_against_lark(path):
    grammar = load_lark(Path(path))
    if any(LAZY.search(lx.pattern) for lx in grammar.lexemes.values()):
        pytest.skip("lazy terminal regexes: lark's lexer stops at Python's preferred match (see lark_frontend)")
    parser = EarleyParser(grammar)
    oracle = lark.Lark.open(path, parser="earley", lexer="dynamic_complete", keep_all_tokens=True)
    gen = SentenceGenerator(grammar, seed=3)
    sep = " " if grammar.ignore else None
    for _ in range(8):
        seq = gen.terminals(10)
        text = gen.text(seq, sep)
        tree = oracle.parse(text)
        if isinstance(tree, lark.Token):
            tokens = [tree.type]
        else:
            tokens = [tok.type for tok in tree.scan_values(lambda v: isinstance(v, lark.Token))]
        assert parser.accepts(tokens), (text, tokens)
