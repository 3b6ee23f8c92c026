"""Exact token masks for context-free grammars: lexer DFA + incremental Earley parser.

A matcher's state is a small set of hypotheses ``(parse state, lexer state)``: with
dynamic lexing, text can be split into lexemes in more than one way, and every split the
grammar still allows is kept. A token is allowed iff some hypothesis survives all its
bytes, including tokens that end a lexeme and start the next (``"},`` or ``) FROM``).

Masks are computed by one level-by-level walk of the vocabulary trie carrying several
groups at once, one per parse state: where a trie node's lexer state completes a lexeme
the parser allows, the node's children continue in the group of the parse state after
that lexeme, from the lexer's start. Masks are memoized by the hypothesis set (parse
states are interned, so equal situations share one key).
"""
from __future__ import annotations

from collections import OrderedDict
from types import ModuleType
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import LimitExceeded, TokenRejected
from ..grammar.earley import EarleyParser, ParseState
from ..grammar.lexer import Lexer
from ..regex.dfa import DEAD
from ..vocab.trie import TokenTrie
from ..vocab.vocabulary import Vocabulary
from .bitmask import num_words, pack
from .grammar_table import GrammarTable
from .matcher import DEFAULT_CACHE_BYTES, Matcher, vocabulary_slices
from .slices import Slice, best_slice, looks_permissive
from .walk import expand_ranges, unique_codes

if TYPE_CHECKING:
    from .grammar_budget import GrammarDistances

Hypothesis = tuple[ParseState, int]
MAX_HYPOTHESES = 256
SMALL_FRONTIER = 48


def _key(hyps: list[Hypothesis]) -> frozenset[tuple[int, int]]:
    return frozenset((id(p._node), s) for p, s in hyps)


class GrammarEngine:
    """What every matcher of one grammar shares: parser, lexer, and byte-level stepping."""

    def __init__(self, parser: EarleyParser, lexer: Lexer) -> None:
        self.parser = parser
        self.lexer = lexer
        self.dfa = lexer.dfa
        self._advance: dict[tuple[int, int], ParseState | None] = {}
        self._keep: list[ParseState] = []
        self._ends: dict[tuple[int, int], list[ParseState]] = {}

    def initial(self) -> list[Hypothesis]:
        return [(self.parser.initial(), self.dfa.start)]

    def bits(self, p: ParseState) -> np.ndarray:
        return self.lexer.allowed_bits(p.allowed_terminals())

    def after_lexeme(self, p: ParseState, tag: int) -> ParseState | None:
        """The parse state after the lexeme ``tag`` (memoized by interned parse node)."""
        key = (id(p._node), tag)
        if key in self._advance:
            return self._advance[key]
        nxt = p.advance(self.lexer.names[tag])
        self._advance[key] = nxt
        self._keep.append(p)
        return nxt

    def ends(self, p: ParseState, state: int, follow: int = 0) -> list[ParseState]:
        """Parse states reachable by ending the current lexeme in lexer ``state`` (which consumed bytes).

        ``follow`` is the lexer's follow class of the next byte (0 at the end of the text): lexemes
        that may not be followed by that byte do not end here.
        """
        return self.ends_tags(p, int(self.dfa.tag_set_id[state]), follow)

    def ends_tags(self, p: ParseState, tag_set: int, follow: int = 0) -> list[ParseState]:
        """``ends`` by the lexer state's set of completed lexemes (many states share one set), memoized."""
        key = (id(p._node), tag_set, follow)
        found = self._ends.get(key)
        if found is not None:
            return found
        out = []
        allowed = p.allowed_terminals()
        forbidden = self.lexer.follow_sets[follow]
        for tag in self.dfa.tag_sets[tag_set]:
            if tag not in forbidden and self.lexer.names[tag] in allowed:
                nxt = self.after_lexeme(p, tag)
                if nxt is not None:
                    out.append(nxt)
        self._ends[key] = out
        self._keep.append(p)
        return out

    def step(self, hyps: list[Hypothesis], data: bytes) -> list[Hypothesis]:
        """Hypotheses after reading ``data`` (empty when the bytes lead nowhere).

        Hypotheses with the same parse state are merged into one lexer state (the union of
        their NFA sets), which is exact and keeps the set as small as the parse states.
        """
        dfa = self.dfa
        follow_class = self.lexer.follow_class
        for b in data:
            nxt: dict[int, Hypothesis] = {}

            def add(p: ParseState, t: int) -> None:
                if t == DEAD or not (dfa.possible_bits[t] & self.bits(p)).any():
                    return
                key = id(p._node)
                old = nxt.get(key)
                nxt[key] = (p, t) if old is None else (old[0], dfa.union(old[1], t))

            for p, s in hyps:
                add(p, dfa.step(s, b))
                if s != dfa.start:
                    t0 = dfa.step(dfa.start, b)
                    if t0 != DEAD:
                        for p2 in self.ends(p, s, int(follow_class[b])):
                            add(p2, t0)
            hyps = list(nxt.values())
            if len(hyps) > MAX_HYPOTHESES:
                raise LimitExceeded("lexing hypotheses", MAX_HYPOTHESES, "the grammar's lexemes are too ambiguous")
            if not hyps:
                return []
        return hyps

    def accepting(self, hyps: list[Hypothesis]) -> bool:
        for p, s in hyps:
            if s == self.dfa.start:
                if p.is_accepting():
                    return True
                continue
            if any(p2.is_accepting() for p2 in self.ends(p, s)):
                return True
        return False


class _TrieView:
    """A token trie (the whole vocabulary, or the tokens outside a slice) with its per-level byte tables."""

    def __init__(self, trie: TokenTrie, engine: GrammarEngine) -> None:
        self.trie = trie
        self.level_classes = [engine.dfa.byte_class[b] for b in trie.byte]
        follow_class = engine.lexer.follow_class
        self.level_follow = [follow_class[b] for b in trie.byte] if len(engine.lexer.follow_sets) > 1 else []


class GrammarMaskCache:
    """Masks of one grammar over one vocabulary, memoized by hypothesis set (LRU, bounded in bytes)."""

    def __init__(self, engine: GrammarEngine, vocab: Vocabulary, max_bytes: int = DEFAULT_CACHE_BYTES,
                 native: ModuleType | None = None) -> None:
        self.engine = engine
        self.vocab = vocab
        self.follows = len(engine.lexer.follow_sets) > 1
        self._view: _TrieView | None = None
        self._slice_views: dict[str, _TrieView] = {}
        self._slice_of: dict[tuple[int, int], Slice | None] = {}
        self.max_bytes = max_bytes
        self._masks: OrderedDict[frozenset[tuple[int, int]], tuple[np.ndarray, list[Hypothesis]]] = OrderedDict()
        self._bytes = 0
        eos = np.zeros(vocab.size, dtype=bool)
        eos[list(vocab.eos_token_ids)] = True
        self.eos_words = pack(eos)
        self.empty_words = np.zeros(num_words(vocab.size), dtype=np.int32)
        self._distances: "GrammarDistances | None" = None
        self.table = GrammarTable(native, engine, vocab) if native is not None else None

    @property
    def view(self) -> "_TrieView":
        """The Python walk's view of the vocabulary trie (built on first use: the native walk needs none)."""
        if self._view is None:
            self._view = _TrieView(self.vocab.trie, self.engine)
        return self._view

    @property
    def distances(self) -> "GrammarDistances":
        """Certified completions for budget-aware closing (built on first use)."""
        if self._distances is None:
            from .grammar_budget import GrammarDistances

            self._distances = GrammarDistances(self.engine, self.vocab)
        return self._distances

    def mask(self, hyps: list[Hypothesis], native_state: int | None = None) -> np.ndarray:
        """The mask of ``hyps``; ``native_state`` (the same situation in the native table) walks it natively."""
        key = _key(hyps)
        found = self._masks.get(key)
        if found is not None:
            self._masks.move_to_end(key)
            return found[0]
        if self.table is not None and native_state is not None:
            words = self.table.words(native_state)
        else:
            words = pack(self.allowed_with_slices(hyps))
        if self.engine.accepting(hyps):
            words = words | self.eos_words
        words.flags.writeable = False
        self._masks[key] = (words, hyps)
        self._bytes += words.nbytes
        while self._bytes > self.max_bytes:
            _k, (old, _h) = self._masks.popitem(last=False)
            self._bytes -= old.nbytes
        return words

    def allowed_with_slices(self, hyps: list[Hypothesis]) -> np.ndarray:
        """``allowed``, but when a hypothesis sits inside a lexeme that every token of a vocabulary slice keeps
        alive (a string body), that slice is allowed wholesale and only the tokens outside it are walked."""
        for p, s in hyps:
            if s == self.engine.dfa.start:
                continue
            piece = self._slice_for(p, s)
            if piece is not None:
                view = self._slice_views.get(piece.name)
                if view is None:
                    keep = set(piece.outside_ids.tolist())
                    tokens = [b if i in keep else None for i, b in enumerate(self.vocab.token_bytes)]
                    view = self._slice_views[piece.name] = _TrieView(TokenTrie.build(tokens), self.engine)
                return piece.inside | self.allowed(hyps, view)
        return self.allowed(hyps)

    def _slice_for(self, p: ParseState, state: int) -> Slice | None:
        """The largest slice whose every string keeps lexer ``state`` inside a lexeme ``p`` allows (memoized)."""
        key = (id(p._node), state)
        if key in self._slice_of:
            return self._slice_of[key]
        dfa = self.engine.dfa
        found = None
        if looks_permissive(dfa, state):
            found = best_slice(dfa, state, vocabulary_slices(self.vocab), self.engine.bits(p))
        self._slice_of[key] = found
        self.engine._keep.append(p)
        return found

    def allowed(self, hyps: list[Hypothesis], view: "_TrieView | None" = None) -> np.ndarray:
        """Boolean array over the vocabulary (EOS excluded) of tokens some hypothesis survives.

        All parse-state groups of a trie level are processed together: each frontier entry
        carries its group index, and the group's allowed-lexeme bitset is gathered per entry.
        """
        view = view or self.view
        engine, dfa, trie = self.engine, self.engine.dfa, view.trie
        allowed = np.zeros(self.vocab.size, dtype=bool)
        if trie.depth == 0:
            return allowed
        groups: list[ParseState] = []
        index: dict[int, int] = {}
        bits: list[np.ndarray] = []

        def group_of(p: ParseState) -> int:
            key = id(p._node)
            gi = index.get(key)
            if gi is None:
                gi = len(groups)
                index[key] = gi
                groups.append(p)
                bits.append(engine.bits(p))
            return gi

        pending: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(trie.depth)]
        level0 = np.arange(len(trie.byte[0]))
        dfa.expand(dfa.start)
        for p, s in hyps:
            dfa.expand(s)
            gi = group_of(p)
            pending[0].append((level0, dfa.table[s, view.level_classes[0]], np.full(level0.size, gi)))
            if s != dfa.start:
                for f, sub in self._by_follow(view, 0, level0):
                    for p2 in engine.ends(p, s, f):
                        g2 = group_of(p2)
                        pending[0].append((sub, dfa.table[dfa.start, view.level_classes[0][sub]], np.full(sub.size, g2)))
        for d in range(trie.depth):
            parts = pending[d]
            if not parts:
                if not any(pending[d + 1 :]):
                    break
                continue
            if sum(x[0].size for x in parts) <= SMALL_FRONTIER and not any(pending[d + 1 :]):
                self._finish_small(view, d, parts, groups, bits, group_of, allowed)
                break
            if len(parts) == 1:
                nodes, states, gids = parts[0]
            else:
                nodes = np.concatenate([x[0] for x in parts])
                states = np.concatenate([x[1] for x in parts])
                gids = np.concatenate([x[2] for x in parts])
            keep = states != DEAD
            nodes, states, gids = nodes[keep], states[keep], gids[keep]
            if nodes.size == 0:
                continue
            if len(parts) > 1:
                nodes, states, gids = self._merge(nodes, states, gids, len(trie.byte[d]))
            group_bits = np.stack(bits)
            keep = (dfa.possible_bits[states] & group_bits[gids]).any(axis=-1)
            nodes, states, gids = nodes[keep], states[keep], gids[keep]
            if nodes.size == 0:
                continue
            ep = trie.end_ptr[d]
            s_, e_ = ep[nodes], ep[nodes + 1]
            has = e_ > s_
            if has.any():
                allowed[trie.end_ids[d][expand_ranges(s_[has], e_[has])]] = True
            if d + 1 == trie.depth:
                continue
            cp = trie.child_ptr[d]
            cs, ce = cp[nodes], cp[nodes + 1]
            counts = ce - cs
            inner = counts > 0
            if not inner.any():
                continue
            nodes, states, gids, cs, ce, counts = nodes[inner], states[inner], gids[inner], cs[inner], ce[inner], counts[inner]
            dfa.expand_all(states)
            child = expand_ranges(cs, ce)
            cls = view.level_classes[d + 1]
            pending[d + 1].append((child, dfa.table[np.repeat(states, counts), cls[child]], np.repeat(gids, counts)))
            accepting = dfa.accepting[states]
            if accepting.any():
                self._restart(view, d, np.flatnonzero(accepting), states, gids, cs, counts, groups, group_of, pending)
        return allowed

    def _restart(
        self,
        view: _TrieView,
        d: int,
        rows: np.ndarray,
        states: np.ndarray,
        gids: np.ndarray,
        cs: np.ndarray,
        counts: np.ndarray,
        groups: list[ParseState],
        group_of: "Callable[[ParseState], int]",
        pending: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]],
    ) -> None:
        """Queue at level ``d + 1`` the children of the ``rows`` whose lexer state completes a lexeme: each
        child starts a new lexeme (from the lexer's start) in every parse state the completion leads to.

        The successors depend only on (group, the state's set of completed lexemes, the child byte's
        follow class), so they are looked up once per distinct triple and spread with array operations.
        """
        engine, dfa = self.engine, self.engine.dfa
        child = expand_ranges(cs[rows], cs[rows] + counts[rows])
        row_of = np.repeat(rows, counts[rows])
        num_follow = len(engine.lexer.follow_sets)
        num_sets = len(dfa.tag_sets)
        code = gids[row_of].astype(np.int64) * num_sets + dfa.tag_set_id[states[row_of]]
        if self.follows:
            code = code * num_follow + view.level_follow[d + 1][child]
        else:
            code = code * num_follow
        uniq, inverse = unique_codes(code, len(groups) * num_sets * num_follow)
        lists: list[list[int]] = []
        for value in uniq.tolist():
            rest, f = divmod(value, num_follow)
            g, t = divmod(rest, num_sets)
            lists.append([group_of(p2) for p2 in engine.ends_tags(groups[g], t, f)])
        sizes = np.array([len(x) for x in lists], dtype=np.int64)
        if not sizes.any():
            return
        starts = np.cumsum(sizes) - sizes
        flat = np.array([g for x in lists for g in x], dtype=np.int64)
        n = sizes[inverse]
        first = starts[inverse]
        new_child = np.repeat(child, n)
        new_gids = flat[expand_ranges(first, first + n)]
        restart = dfa.table[dfa.start, view.level_classes[d + 1][new_child]]
        pending[d + 1].append((new_child, restart, new_gids))

    def _by_follow(self, view: _TrieView, depth: int, nodes: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """``nodes`` of a trie level split by the follow class of their byte (one part when no lexeme has one)."""
        if not self.follows:
            return [(0, nodes)]
        classes = view.level_follow[depth][nodes]
        return [(int(f), nodes[classes == f]) for f in np.unique(classes)]


    def _merge(
        self, nodes: np.ndarray, states: np.ndarray, gids: np.ndarray, level_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One entry per (group, node): entries sharing both run together as the union of their lexer states."""
        dfa = self.engine.dfa
        key = gids.astype(np.int64) * level_size + nodes
        uniq, inverse = unique_codes(key, (int(gids.max()) + 1) * level_size)
        counts = np.bincount(inverse, minlength=uniq.size)
        one = np.empty(uniq.size, dtype=np.int64)
        one[inverse] = np.arange(key.size, dtype=np.int64)
        merged = states[one].copy()
        if (counts > 1).any():
            in_dup = np.flatnonzero(counts[inverse] > 1)
            order = in_dup[np.argsort(inverse[in_dup], kind="stable")]
            runs: dict[int, int] = {}
            for k, x in zip(inverse[order].tolist(), states[order].tolist()):
                u = runs.get(k)
                runs[k] = x if u is None else dfa.union(u, x)
            for k, u in runs.items():
                merged[k] = u
        return uniq % level_size, merged, uniq // level_size

    def _finish_small(
        self,
        view: _TrieView,
        depth: int,
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        groups: list[ParseState],
        bits: list[np.ndarray],
        group_of: "Callable[[ParseState], int]",
        allowed: np.ndarray,
    ) -> None:
        """Finish a small frontier depth-first in plain Python (cheaper than per-level array calls)."""
        engine, dfa, trie = self.engine, self.engine.dfa, view.trie
        stack = [(depth, int(n), int(s), int(g)) for nodes, states, gids in parts for n, s, g in zip(nodes, states, gids)]
        seen: set[tuple[int, int, int, int]] = set()
        alive: dict[tuple[int, int], bool] = {}
        while stack:
            entry = stack.pop()
            if entry in seen:
                continue
            seen.add(entry)
            d, node, state, g = entry
            if state == DEAD:
                continue
            ok = alive.get((state, g))
            if ok is None:
                ok = alive[(state, g)] = bool((dfa.possible_bits[state] & bits[g]).any())
            if not ok:
                continue
            lo, hi = trie.end_ptr[d][node], trie.end_ptr[d][node + 1]
            if hi > lo:
                allowed[trie.end_ids[d][lo:hi]] = True
            if d + 1 == trie.depth:
                continue
            cs, ce = int(trie.child_ptr[d][node]), int(trie.child_ptr[d][node + 1])
            if cs == ce:
                continue
            dfa.expand(state)
            row = dfa.table[state]
            cls = view.level_classes[d + 1]
            accepting = bool(dfa.accepting[state])
            follow = view.level_follow[d + 1] if self.follows else None
            successors: dict[int, list[int]] = {}
            for child in range(cs, ce):
                c = int(cls[child])
                stack.append((d + 1, child, int(row[c]), g))
                if accepting:
                    f = int(follow[child]) if follow is not None else 0
                    gs = successors.get(f)
                    if gs is None:
                        gs = successors[f] = [group_of(p2) for p2 in engine.ends(groups[g], state, f)]
                    restart = int(dfa.table[dfa.start, c])
                    stack.extend((d + 1, child, restart, g2) for g2 in gs)


class GrammarMatcher(Matcher):
    """Matcher for a context-free grammar: a stack of hypothesis sets, one per consumed token."""

    def __init__(self, cache: GrammarMaskCache) -> None:
        self.cache = cache
        self.engine = cache.engine
        self.vocab = cache.vocab
        self._stack: list[list[Hypothesis]] = [self.engine.initial()]
        self._native: list[int] | None = [cache.table.initial()] if cache.table is not None else None
        self._finished_at: int | None = None
        self._peeked: tuple[list[Hypothesis], int, list[Hypothesis]] | None = None

    def mask(self) -> np.ndarray:
        if self._finished_at is not None:
            return self.cache.eos_words
        return self.cache.mask(self._stack[-1], self._native[-1] if self._native is not None else None)

    def advance(self, token_id: int) -> None:
        if self._finished_at is not None:
            if token_id in self.vocab.eos_token_ids:
                self._push(self._stack[-1])
                return
            raise TokenRejected(f"token {token_id} after end of sequence")
        if token_id in self.vocab.eos_token_ids:
            if not self.engine.accepting(self._stack[-1]):
                raise TokenRejected(f"end-of-sequence token {token_id} before the output is complete")
            self._finished_at = len(self._stack)
            self._push(self._stack[-1])
            return
        data = self.vocab.token_to_bytes(token_id)
        if data is None:
            raise TokenRejected(f"token {token_id} has no bytes (special or out of range) and is never allowed")
        nxt = self._step(token_id, data)
        if not nxt:
            raise TokenRejected(f"token {token_id} ({data!r}) cannot continue the output")
        self._push(nxt, data)

    def _push(self, hyps: list[Hypothesis], data: bytes = b"") -> None:
        """Push the hypotheses after ``data`` (and the native table's set for the same text)."""
        self._stack.append(hyps)
        if self._native is not None:
            table = self.cache.table
            assert table is not None
            self._native.append(table.run(self._native[-1], data) if data else self._native[-1])

    def _step(self, token_id: int, data: bytes) -> list[Hypothesis]:
        """The hypotheses after ``token_id``; the step ``fits_budget`` just took for it is reused."""
        top = self._stack[-1]
        peeked = self._peeked
        if peeked is not None and peeked[0] is top and peeked[1] == token_id:
            return peeked[2]
        nxt = self.engine.step(top, data)
        self._peeked = (top, token_id, nxt)
        return nxt

    def advance_bytes(self, data: bytes) -> None:
        """Consume raw bytes as one step; raises ``TokenRejected`` if they lead nowhere."""
        nxt = self.engine.step(self._stack[-1], data)
        if not nxt:
            raise TokenRejected(f"bytes {data!r} cannot continue the output")
        self._push(nxt, data)

    def rollback(self, num_tokens: int = 1) -> None:
        if num_tokens < 0 or num_tokens > len(self._stack) - 1:
            raise ValueError(f"cannot roll back {num_tokens} tokens; {len(self._stack) - 1} consumed")
        if num_tokens:
            del self._stack[-num_tokens:]
            if self._native is not None:
                del self._native[-num_tokens:]
        if self._finished_at is not None and len(self._stack) <= self._finished_at:
            self._finished_at = None

    def is_accepting(self) -> bool:
        return self._finished_at is not None or self.engine.accepting(self._stack[-1])

    def is_finished(self) -> bool:
        return self._finished_at is not None

    def forced_bytes(self) -> bytes:
        if self._finished_at is not None:
            return b""
        out = bytearray()
        hyps = self._stack[-1]
        dfa = self.engine.dfa
        while len(out) < 256 and not self.engine.accepting(hyps):
            candidates = [dfa.class_bytes[c][0] for c in range(dfa.num_classes) if len(dfa.class_bytes[c]) == 1]
            live = [b for b in candidates if self.engine.step(hyps, bytes([b]))]
            if len(live) != 1:
                break
            wide = [c for c in range(dfa.num_classes) if len(dfa.class_bytes[c]) > 1]
            if any(self.engine.step(hyps, dfa.class_bytes[c][:1]) for c in wide):
                break
            out.append(live[0])
            hyps = self.engine.step(hyps, bytes([live[0]]))
        return bytes(out)

    def tokens_to_accept(self) -> int:
        if self._finished_at is not None:
            return 0
        return self.cache.distances.distance(self._stack[-1])

    def fits_budget(self, token_id: int, remaining: int) -> bool:
        if self._finished_at is not None or token_id in self.vocab.eos_token_ids:
            return True
        data = self.vocab.token_to_bytes(token_id)
        if data is None:
            return True
        nxt = self._step(token_id, data)
        return not nxt or self.cache.distances.distance(nxt) <= remaining - 1

    def closing_tokens(self) -> list[int] | None:
        if self._finished_at is not None:
            return []
        return self.cache.distances.closing_tokens(self._stack[-1])

    def copy(self) -> "GrammarMatcher":
        other = GrammarMatcher.__new__(GrammarMatcher)
        other.cache = self.cache
        other.engine = self.engine
        other.vocab = self.vocab
        other._stack = list(self._stack)
        other._native = None if self._native is None else list(self._native)
        other._finished_at = self._finished_at
        other._peeked = self._peeked
        return other

