"""Budget-aware closing for grammar constraints: how many tokens certainly finish the output from here.

A completion is built in three parts: the bytes that finish the lexeme being read (a breadth-first
search in the lexer DFA, to a lexeme the parser allows there), the parser's cheapest terminal sequence
after it (``grammar.completion``, each terminal weighted by its shortest lexeme in bytes), and those
terminals written as their shortest lexemes, with an ignored lexeme (a space) put in where a lexeme may
not be followed by the next one's first byte. The completion is run through the engine before it is
trusted, so the count is a certificate: a longest-match tokenization of text the grammar accepts, and
every token of it is allowed by the exact mask on the way. Counts are memoized per hypothesis set.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..grammar.completion import INFINITE, Completions
from ..grammar.earley import ParseState
from ..regex.dfa import DEAD
from ..vocab.vocabulary import Vocabulary
from .budget import UNREACHABLE, GreedyTokenizer, path_to
from .grammar_matcher import GrammarEngine, Hypothesis, _key

MAX_EXPLORED = 20_000
"""Lexer states one search may visit before giving up (the count is then unknown, never wrong)."""

MAX_MEMO = 100_000
"""Hypothesis sets whose completions are remembered; the memo is emptied when it reaches this size."""


class GrammarDistances:
    """Certified completions and their token counts for one grammar over one vocabulary."""

    def __init__(self, engine: GrammarEngine, vocab: Vocabulary) -> None:
        self.engine = engine
        self.lexer = engine.lexer
        self.dfa = engine.dfa
        self.tokenizer = GreedyTokenizer(vocab)
        self._shortest: dict[tuple[int, bytes], bytes | None] = {}
        self._forbid = [self.lexer.grammar.lexemes[name].not_followed_by for name in self.lexer.names]
        costs = {}
        for tag, name in enumerate(self.lexer.names):
            found = self.shortest_lexeme(tag)
            costs[name] = INFINITE if found is None else len(found)
        self.completions = Completions(engine.parser, costs)
        self._memo: dict[frozenset[tuple[int, int]], tuple[bytes | None, list[int] | None, list[Hypothesis]]] = {}

    # ------------------------------------------------------------------ lexemes
    def shortest_lexeme(self, tag: int, forbidden_first: bytes = b"") -> bytes | None:
        """The shortest text of lexeme ``tag`` whose first byte is not in ``forbidden_first`` (memoized)."""
        key = (tag, forbidden_first)
        if key in self._shortest:
            return self._shortest[key]
        dfa = self.dfa
        word, bit = tag >> 6, np.uint64(1 << (tag & 63))
        parent: dict[int, tuple[int, int]] = {dfa.start: (-1, -1)}
        queue = deque([dfa.start])
        found = None
        while queue and len(parent) <= MAX_EXPLORED:
            s = queue.popleft()
            if s != dfa.start and tag in dfa.tag_sets[dfa.tag_set_id[s]]:
                found = path_to(parent, s)
                break
            dfa.expand(s)
            for cls in range(dfa.num_classes):
                t = int(dfa.table[s, cls])
                if t == DEAD or t in parent or not (dfa.possible_bits[t, word] & bit):
                    continue
                choices = dfa.class_bytes[cls]
                if s == dfa.start and forbidden_first:
                    choices = bytes(b for b in choices if b not in forbidden_first)
                    if not choices:
                        continue
                parent[t] = (s, choices[0])
                queue.append(t)
        self._shortest[key] = found
        return found

    def _finish_lexeme(self, p: ParseState, state: int) -> list[tuple[int, bytes, int, ParseState]]:
        """Ways to end the lexeme being read: (total cost estimate, bytes, lexeme tag, parse state after it).

        Lexer states are searched breadth-first while they can still complete a lexeme ``p`` allows; the
        search stops once its depth alone exceeds the cheapest estimate found.
        """
        dfa, engine = self.dfa, self.engine
        bits = engine.bits(p)
        allowed = p.allowed_terminals()
        names = self.lexer.names
        parent: dict[int, tuple[int, int]] = {state: (-1, -1)}
        frontier = [state]
        out: list[tuple[int, bytes, int, ParseState]] = []
        best = INFINITE
        depth = 0
        while frontier and depth < best and len(parent) <= MAX_EXPLORED:
            nxt_frontier = []
            for s in frontier:
                for tag in dfa.tag_sets[dfa.tag_set_id[s]]:
                    if names[tag] not in allowed:
                        continue
                    p2 = engine.after_lexeme(p, tag)
                    if p2 is None:
                        continue
                    cost = depth + self.completions.cost(p2)
                    if cost < INFINITE:
                        out.append((cost, path_to(parent, s), tag, p2))
                        best = min(best, cost)
                dfa.expand(s)
                for cls in range(dfa.num_classes):
                    t = int(dfa.table[s, cls])
                    if t != DEAD and t not in parent and (dfa.possible_bits[t] & bits).any():
                        parent[t] = (s, dfa.class_bytes[cls][0])
                        nxt_frontier.append(t)
            frontier = nxt_frontier
            depth += 1
        out.sort(key=lambda x: x[0])
        return out

    def _render(self, forbidden: bytes, terminals: list[str]) -> bytes | None:
        """``terminals`` as text: each its shortest lexeme, separated by an ignored lexeme where needed."""
        out = bytearray()
        tag_of = self.lexer.tag_of
        for name in terminals:
            tag = tag_of[name]
            piece = self.shortest_lexeme(tag, forbidden)
            if piece is None:
                options = []
                for sep in self.lexer.ignore:
                    gap = self.shortest_lexeme(sep, forbidden)
                    after = self.shortest_lexeme(tag, self._forbid[sep]) if gap is not None else None
                    if after is not None:
                        options.append(gap + after)
                if not options:
                    return None
                piece = min(options, key=len)
            out += piece
            forbidden = self._forbid[tag]
        return bytes(out)

    # ------------------------------------------------------------------ public
    def _certified(self, hyps: list[Hypothesis]) -> tuple[bytes | None, list[int] | None]:
        """The completion from ``hyps`` and its greedy tokens, memoized per hypothesis set."""
        key = _key(hyps)
        found = self._memo.get(key)
        if found is None:
            text = b"" if self.engine.accepting(hyps) else self._search(hyps)
            tokens = None if text is None else self.tokenizer.tokens(text)
            if len(self._memo) >= MAX_MEMO:
                self._memo.clear()
            found = self._memo[key] = (text, tokens, hyps)
        return found[0], found[1]

    def _search(self, hyps: list[Hypothesis]) -> bytes | None:
        """The shortest checked completion over the hypotheses (``None`` if none was found)."""
        best: bytes | None = None
        engine = self.engine
        for p, s in hyps:
            if s == self.dfa.start:
                options = [(self.completions.cost(p), b"", None, p)]
            else:
                options = self._finish_lexeme(p, s)
            for _cost, head, tag, p2 in options[:4]:
                terminals = self.completions.terminals(p2)
                if terminals is None:
                    continue
                tail = self._render(self._forbid[tag] if tag is not None else b"", terminals)
                if tail is None:
                    continue
                text = head + tail
                if best is not None and len(text) >= len(best):
                    continue
                after = engine.step([(p, s)], text) if text else [(p, s)]
                if after and engine.accepting(after):
                    best = text
                    break
        return best

    def completion(self, hyps: list[Hypothesis]) -> bytes | None:
        """A short text that completes the output from ``hyps``, checked by the engine (``None``: none found)."""
        return self._certified(hyps)[0]

    def distance(self, hyps: list[Hypothesis]) -> int:
        """Tokens that certainly finish the output from ``hyps`` (0 when it is complete; ``UNREACHABLE``: unknown)."""
        tokens = self._certified(hyps)[1]
        return UNREACHABLE if tokens is None else len(tokens)

    def closing_tokens(self, hyps: list[Hypothesis]) -> list[int] | None:
        """The tokens of the certified completion from ``hyps`` (``None`` if none was found)."""
        return self._certified(hyps)[1]
