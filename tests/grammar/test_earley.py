"""The incremental Earley recognizer against brute force on small grammars (membership and prefix
viability), plus persistence, ignored terminals, sharing and limits."""
import itertools

import lark
import pytest
from helpers import all_sequences, brute_force_sentences, terminal_oracle_grammar

from constrain.errors import LimitExceeded
from constrain.grammar.earley import EarleyParser
from constrain.grammar.ir import Grammar, Lexeme, Rule


def lex(*names: str) -> dict[str, Lexeme]:
    return {n: Lexeme.from_literal(n, n.lower()) for n in names}


def grammar(text: str, start: str = "s", ignore: tuple[str, ...] = ()) -> Grammar:
    """Rules written as ``lhs: A b | c`` one per line; upper-case names are terminals; ``ε`` is empty."""
    rules = []
    terminals = set(ignore)
    for line in text.strip().splitlines():
        lhs, alts = line.split(":")
        for alt in alts.split("|"):
            rhs = tuple(s for s in alt.split() if s != "ε")
            terminals.update(s for s in rhs if s.isupper())
            rules.append(Rule(lhs.strip(), rhs))
    return Grammar(start, tuple(rules), lex(*sorted(terminals)), ignore)


SMALL = {
    "nullable triple": "s: b b b\nb: ε | X",
    "ambiguous": "s: s s | X",
    "left recursive": "s: s P X | X",
    "right recursive": "s: X P s | X",
    "balanced": "s: ε | L s R s",
    "nullable chain": "s: a X a\na: b c\nb: ε | Y\nc: b | ε",
    "hidden left recursion": "s: n s X | Y\nn: ε",
    "cyclic units": "s: t | X\nt: s | Y",
    "epsilon only branch": "s: a a X\na: ε",
    "palindromes": "s: ε | X | Y | X s X | Y s Y",
    "ambiguous expr": "s: s P s | s M s | X | L s R",
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_membership_matches_brute_force(name):
    g = grammar(SMALL[name])
    parser = EarleyParser(g)
    alphabet = sorted(g.terminals)
    sentences = brute_force_sentences(g, 6, 14)
    for seq in all_sequences(alphabet, 6):
        assert parser.accepts(seq) == (seq in sentences), seq


@pytest.mark.parametrize("name", sorted(SMALL))
def test_prefix_viability_matches_oracle(name):
    """A terminal is allowed (and advance succeeds) iff some sentence starts with the extended prefix; the
    oracle is lark's Earley parser on a grammar for the prefixes of the language."""
    g = grammar(SMALL[name])
    parser = EarleyParser(g)
    text, char = terminal_oracle_grammar(g, prefixes=True)
    oracle = lark.Lark(text, parser="earley", lexer="basic")

    def viable(seq):
        try:
            oracle.parse("".join(char[t] for t in seq))
            return True
        except lark.exceptions.LarkError:
            return False

    sentences = brute_force_sentences(g, 6, 14)
    for seq in all_sequences(sorted(g.terminals), 5 if len(g.terminals) < 5 else 4):
        state = parser.initial()
        for i, t in enumerate(seq):
            ok = viable(seq[: i + 1])
            assert (t in state.allowed_terminals()) == ok, seq[: i + 1]
            nxt = state.advance(t)
            assert (nxt is not None) == ok, seq[: i + 1]
            if nxt is None:
                break
            state = nxt
        else:
            assert state.is_accepting() == (seq in sentences)


def test_states_are_persistent_and_branch():
    parser = EarleyParser(grammar(SMALL["left recursive"]))
    s0 = parser.initial()
    s1 = s0.advance("X")
    a = s1.advance("P")
    b = s1.advance("P")
    assert s1.is_accepting() and s1.depth == 1 and s1.previous is s0
    assert not a.is_accepting() and a.advance("X").is_accepting()
    assert b.allowed_terminals() == {"X"}
    assert s1.advance("X") is None and s0.advance("P") is None
    assert s1.allowed_terminals() == {"P"} and s1.is_accepting()


def test_list_elements_share_sets():
    parser = EarleyParser(grammar(SMALL["left recursive"]))
    state = parser.initial().advance("X")
    seen = {state._node}
    for _ in range(50):
        state = state.advance("P").advance("X")
        seen.add(state._node)
    assert len(seen) == 1 and state.depth == 101
    assert state.same_future(parser.initial().advance("X"))


def test_ignored_terminals():
    g = grammar("s: X Y", ignore=("WS",))
    parser = EarleyParser(g)
    s0 = parser.initial()
    assert "WS" in s0.allowed_terminals()
    assert s0.advance("WS") is s0
    done = s0.advance("X").advance("WS").advance("Y")
    assert done.is_accepting() and done.advance("WS").is_accepting()


def test_ignored_terminal_also_used_in_rules():
    g = grammar("s: X SP Y", ignore=("SP",))
    parser = EarleyParser(g)
    for seq, ok in [(["X", "SP", "Y"], True), (["X", "Y"], False), (["X", "SP", "SP", "Y"], True), (["SP", "X", "SP", "SP", "Y", "SP"], True),
                    (["X", "SP"], False), (["Y"], False)]:
        assert parser.accepts(seq) == ok, seq


def test_unknown_terminal():
    parser = EarleyParser(grammar("s: X"))
    with pytest.raises(KeyError):
        parser.initial().advance("NOPE")


def test_limits():
    g = grammar("s: s s | X")
    parser = EarleyParser(g, max_items_per_set=30)
    state = parser.initial()
    with pytest.raises(LimitExceeded) as info:
        for _ in range(40):
            state = state.advance("X")
    assert info.value.limit == 30
    total = EarleyParser(grammar("s: s X | X"), max_total_items=50)
    state = total.initial()
    with pytest.raises(LimitExceeded):
        for _ in range(100):
            state = state.advance("X")


def test_cache_eviction_keeps_answers():
    g = grammar(SMALL["ambiguous expr"])
    small_cache = EarleyParser(g, cache_items=40)
    big_cache = EarleyParser(g)
    for seq in itertools.islice(all_sequences(sorted(g.terminals), 5), 2000):
        assert small_cache.accepts(seq) == big_cache.accepts(seq)
