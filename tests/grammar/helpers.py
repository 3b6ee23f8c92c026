"""Test-only helpers: a scannerless text recognizer over the Earley parser, a random sentence generator over
the grammar IR, a sampler of strings for simple regexes, terminal-level oracle grammars for lark and a
brute-force enumerator for tiny grammars."""
from __future__ import annotations

import random
import re
from collections.abc import Iterator

from constrain.grammar.earley import EarleyParser, ParseState
from constrain.grammar.ir import Grammar

try:
    from re import _constants as sre_c
    from re import _parser as sre_p
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse as sre_p  # type: ignore[no-redef]


class TextRecognizer:
    """Accept or reject whole texts with dynamic lexing: some split of the text into lexemes (ignored lexemes
    anywhere between) must be a sentence. Candidate lexeme ends at a position are the ends of the prefixes of
    Python's preferred match that still fully match (lark's ``dynamic_complete`` candidates) and are not
    followed by a character the lexeme excludes (its trailing negative lookahead)."""

    def __init__(self, parser: EarleyParser) -> None:
        self.parser = parser
        lexemes = parser.grammar.lexemes
        self.compiled = {name: lexemes[name].compiled() for name in parser.terminal_names()}
        self.not_followed_by = {name: lexemes[name].not_followed_by for name in parser.terminal_names()}

    def ends(self, name: str, text: str, pos: int) -> list[int]:
        rx = self.compiled[name]
        m = rx.match(text, pos)
        if m is None:
            return []
        excluded = self.not_followed_by[name]
        return [e for e in range(m.end(), pos, -1)
                if rx.fullmatch(text, pos, e) and (e == len(text) or text[e].encode("utf-8")[0] not in excluded)]

    def accepts(self, text: str) -> bool:
        return self.terminal_sequence(text) is not None

    def terminal_sequence(self, text: str) -> list[str] | None:
        """One terminal sequence (grammar terminals only) that splits ``text`` into a sentence, or None.

        Depth-first, longest lexeme first, remembering dead (position, parser set) pairs: complete, and
        fast on texts that are accepted."""
        n = len(text)
        dead: set[tuple[int, object]] = set()
        ends_at: dict[tuple[str, int], list[int]] = {}
        seq: list[str] = []

        def search(state: ParseState, pos: int) -> bool:
            key = (pos, state._node)
            if key in dead:
                return False
            if pos == n and state.is_accepting():
                return True
            for name in sorted(state.allowed_terminals()):
                ends = ends_at.get((name, pos))
                if ends is None:
                    ends = ends_at[(name, pos)] = self.ends(name, text, pos) if pos < n else []
                if not ends:
                    continue
                nxt = state.advance(name)
                if nxt is None:
                    continue
                pushed = nxt is not state
                if pushed:
                    seq.append(name)
                if any(search(nxt, e) for e in ends):
                    return True
                if pushed:
                    seq.pop()
            dead.add(key)
            return False

        import sys
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20 * n + 1000))
        try:
            return list(seq) if search(self.parser.initial(), 0) else None
        finally:
            sys.setrecursionlimit(limit)


def sample_regex(pattern: str, flags: int, rng: random.Random, tries: int = 30) -> str:
    """A random string fully matched by ``pattern`` (raises ValueError if none is found)."""
    rx = re.compile(pattern, flags)
    parsed = sre_p.parse(pattern, flags)
    for _ in range(tries):
        s = _gen(parsed, rng)
        if rx.fullmatch(s):
            return s
    raise ValueError(f"could not sample {pattern!r}")


_POOL = [chr(c) for c in range(32, 127)] + ["\n", "\t", "é", "ß", "中", "\u00a0"]


def _category_ok(cat, ch: str) -> bool:
    name = str(cat)
    if "DIGIT" in name:
        ok = ch.isdigit()
    elif "SPACE" in name:
        ok = ch.isspace()
    elif "WORD" in name:
        ok = ch.isalnum() or ch == "_"
    elif "LINEBREAK" in name:
        ok = ch == "\n"
    else:
        ok = False
    return not ok if "NOT" in name else ok


def _in_class(items, ch: str) -> bool:
    negate = False
    hit = False
    for op, arg in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            hit |= ord(ch) == arg
        elif op is sre_c.RANGE:
            hit |= arg[0] <= ord(ch) <= arg[1]
        elif op is sre_c.CATEGORY:
            hit |= _category_ok(arg, ch)
    return hit != negate


def _gen(sub, rng: random.Random) -> str:
    out = []
    for op, arg in sub:
        if op is sre_c.LITERAL:
            out.append(chr(arg))
        elif op is sre_c.NOT_LITERAL:
            out.append(rng.choice([c for c in _POOL if ord(c) != arg]))
        elif op is sre_c.ANY:
            out.append(rng.choice([c for c in _POOL if c != "\n"]))
        elif op is sre_c.IN:
            cands = [c for c in _POOL if _in_class(arg, c)]
            if not cands:
                for lo_op, a in arg:
                    if lo_op is sre_c.RANGE:
                        cands.append(chr(rng.randint(a[0], a[1])))
                    elif lo_op is sre_c.LITERAL:
                        cands.append(chr(a))
            out.append(rng.choice(cands) if cands else "?")
        elif op is sre_c.BRANCH:
            out.append(_gen(rng.choice(arg[1]), rng))
        elif op is sre_c.SUBPATTERN:
            out.append(_gen(arg[-1], rng))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi, item = arg
            hi = min(hi, lo + 3)
            out.extend(_gen(item, rng) for _ in range(rng.randint(lo, hi)))
        elif op is sre_c.CATEGORY:
            out.append(rng.choice([c for c in _POOL if _category_ok(arg, c)]))
        else:
            raise ValueError(f"unsupported regex op {op}")
    return "".join(out)


class SentenceGenerator:
    """Random derivations over the IR: terminal sequences of bounded size, and texts made from them."""

    def __init__(self, grammar: Grammar, seed: int = 0) -> None:
        self.g = grammar
        self.rng = random.Random(seed)
        self.by_lhs: dict[str, list[tuple[str, ...]]] = {}
        for r in grammar.rules:
            self.by_lhs.setdefault(r.lhs, []).append(r.rhs)
        self.min_len = self._min_lengths()

    def _min_lengths(self) -> dict[str, int]:
        inf = 10 ** 9
        best = {nt: inf for nt in self.by_lhs}
        changed = True
        while changed:
            changed = False
            for lhs, alts in self.by_lhs.items():
                for rhs in alts:
                    cost = sum(1 if s in self.g.lexemes else best[s] for s in rhs)
                    if cost < best[lhs]:
                        best[lhs] = cost
                        changed = True
        return best

    def terminals(self, budget: int = 30) -> list[str]:
        out: list[str] = []
        self._expand(self.g.start, budget, out, 0)
        return out

    def _expand(self, sym: str, budget: int, out: list[str], depth: int) -> None:
        if sym in self.g.lexemes:
            out.append(sym)
            return
        alts = self.by_lhs[sym]
        fits = [rhs for rhs in alts if self._cost(rhs) <= budget] or [min(alts, key=self._cost)]
        if depth > 40:
            fits = [min(alts, key=self._cost)]
        rhs = self.rng.choice(fits)
        remaining = budget - self._cost(rhs)
        for s in rhs:
            share = self.rng.randint(0, max(0, remaining))
            before = len(out)
            extra = 1 if s in self.g.lexemes else self.min_len[s]
            self._expand(s, extra + share, out, depth + 1)
            remaining -= max(0, len(out) - before - extra)

    def _cost(self, rhs: tuple[str, ...]) -> int:
        return sum(1 if s in self.g.lexemes else self.min_len[s] for s in rhs)

    def text(self, terminals: list[str], separator: str | None = None) -> str:
        parts = []
        for t in terminals:
            lx = self.g.lexemes[t]
            parts.append(lx.literal.decode() if lx.literal is not None else sample_regex(lx.pattern, lx.flags, self.rng))
        if separator is None:
            return "".join(parts)
        return separator.join(parts)


def terminal_oracle_grammar(grammar: Grammar, prefixes: bool = False) -> tuple[str, dict[str, str]]:
    """A lark grammar over one character per terminal that has the same rules as ``grammar`` (or, with
    ``prefixes``, whose language is the set of prefixes of its sentences). Returns (text, terminal->char)."""
    g = grammar
    names = sorted(g.terminals)
    char = {t: chr(0x4E00 + i) for i, t in enumerate(names)}
    nts = sorted(g.nonterminals)
    rid = {nt: f"r{i}" for i, nt in enumerate(nts)}
    def sym(s: str) -> str:
        return f'"{char[s]}"' if s in char else rid[s]
    lines = []
    for nt in nts:
        alts = [" ".join(sym(s) for s in r.rhs) for r in g.rules_for(nt)]
        lines.append(f"{rid[nt]}: " + " | ".join(a if a else "" for a in alts))
    if prefixes:
        # p_X derives every prefix of a sentence of X (including the empty one).
        for nt in nts:
            alts = []
            for r in g.rules_for(nt):
                for i, s in enumerate(r.rhs):
                    head = " ".join(sym(x) for x in r.rhs[:i])
                    tail = f'"{char[s]}"' if s in char else f"p{rid[s]}"
                    alts.append((head + " " + tail).strip())
                alts.append("")
            lines.append(f"p{rid[nt]}: " + " | ".join(alts))
        lines.append(f"start: p{rid[g.start]}")
    else:
        lines.append(f"start: {rid[g.start]}")
    return "\n".join(lines) + "\n", char


def brute_force_sentences(grammar: Grammar, max_len: int, max_form: int | None = None) -> set[tuple[str, ...]]:
    """Every sentence of at most ``max_len`` terminals, by exhaustive leftmost derivation over sentential
    forms of at most ``max_form`` symbols (tiny grammars only)."""
    max_form = max_form if max_form is not None else max_len + 6
    by_lhs: dict[str, list[tuple[str, ...]]] = {}
    for r in grammar.rules:
        by_lhs.setdefault(r.lhs, []).append(r.rhs)
    out: set[tuple[str, ...]] = set()
    seen: set[tuple[str, ...]] = set()
    todo = [(grammar.start,)]
    while todo:
        form = todo.pop()
        if form in seen:
            continue
        seen.add(form)
        i = next((k for k, s in enumerate(form) if s in by_lhs), None)
        if i is None:
            if len(form) <= max_len:
                out.add(form)
            continue
        if i > max_len:
            continue
        for rhs in by_lhs[form[i]]:
            new = form[:i] + rhs + form[i + 1:]
            if len(new) <= max_form and sum(1 for s in new if s not in by_lhs) <= max_len:
                todo.append(new)
    return out


def all_sequences(alphabet: list[str], max_len: int) -> Iterator[tuple[str, ...]]:
    """Every sequence over ``alphabet`` of length 0..max_len."""
    level: list[tuple[str, ...]] = [()]
    for _ in range(max_len + 1):
        yield from level
        level = [s + (a,) for s in level for a in alphabet]
