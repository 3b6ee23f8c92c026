"""Keeping the model on its own tokenization: jump-forward that stops at safe token boundaries.

A model only ever saw text cut into tokens the way its tokenizer cuts it. Jump-forward appends the
bytes every valid continuation must start with (the *forced* bytes) without asking the model; done
naively it cuts those bytes where the tokenizer never would. Writing the forced ``":[`` of a list as
``'":'``, ``'['`` shows the model a ``[`` that, in its training data, is followed by ``]``: a filled
list starts with the token ``'["'``. So the forced bytes are tokenized in context (the output so far
plus the forced bytes, through the tokenizer itself; earlier tokens it would write differently are
re-tokenized), and then trailing forced tokens are dropped while some token allowed at their start
would run past the end of the forced bytes: the boundary there depends on what comes next, and the
model chooses, under the mask, the token that crosses it.

For the model's own choices, :func:`retokenize` (generation's ``canonical_tokens``) rewrites the
output in the tokenizer's own tokens wherever a new token makes the tokenizer write the text so far
differently (``'skill'``, ``'s'`` becomes ``'skills'``), so the model always conditions on text cut
the way it was trained on; the text itself is the model's.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TokenRejected
from ..mask.matcher import Matcher
from ..vocab.derived import per_vocabulary
from ..vocab.vocabulary import Vocabulary


class PrefixIndex:
    """The tokens of a vocabulary sorted by their bytes: the tokens that extend given bytes are one slice."""

    def __init__(self, vocab: Vocabulary) -> None:
        pairs = sorted((b, i) for i, b in enumerate(vocab.token_bytes) if b)
        self.keys: list[bytes] = [b for b, _ in pairs]
        self.ids: np.ndarray = np.array([i for _, i in pairs], dtype=np.int64)
        self.max_len: int = max((len(b) for b in self.keys), default=0)

    def extending(self, prefix: bytes) -> np.ndarray:
        """Ids of the tokens whose bytes start with ``prefix`` and are longer than it."""
        lo = bisect.bisect_right(self.keys, prefix)
        stem = prefix.rstrip(b"\xff")
        if not stem:
            return self.ids[lo:]
        upper = stem[:-1] + bytes([stem[-1] + 1])
        hi = bisect.bisect_left(self.keys, upper, lo)
        return self.ids[lo:hi]


@per_vocabulary
def prefix_index(vocab: Vocabulary) -> PrefixIndex:
    """The prefix index of ``vocab``, built once per vocabulary."""
    return PrefixIndex(vocab)


def any_allowed(words: np.ndarray, ids: np.ndarray) -> bool:
    """Whether the mask ``words`` allows any of ``ids``."""
    if not len(ids):
        return False
    picked = words.view(np.uint32)[ids >> 5]
    return bool(((picked >> (ids & 31).astype(np.uint32)) & 1).any())


@dataclass
class Jump:
    """A new tail for the output: keep its first ``keep`` tokens, then ``tokens``; ``matcher`` is the state after them (``None`` when unconstrained)."""

    keep: int
    tokens: list[int]
    matcher: Matcher | None


def encode_text(tokenizer: Any, vocab: Vocabulary, data: bytes) -> list[int] | None:
    """The tokenizer's own tokens for ``data`` (no special tokens), or ``None`` when they do not spell ``data`` back."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    ids = [int(t) for t in tokenizer.encode(text, add_special_tokens=False)]
    return ids if vocab.decode(ids) == data else None


def plan_jump(
    matcher: Matcher, vocab: Vocabulary, tokenizer: Any, out_ids: list[int], max_tokens: int, budget: bool,
) -> Jump | None:
    """The forced tokens after ``out_ids`` (``matcher`` is the state after them), or ``None`` when nothing is forced.

    The tokens are a prefix of the tokenizer's encoding of the output plus the forced bytes; a
    trailing run is dropped while a token allowed where it starts would run past the forced bytes.
    With ``budget``, the jump is refused when the output could no longer finish within ``max_tokens``.
    """
    forced = matcher.forced_bytes()
    if not forced:
        return None
    before = vocab.decode(out_ids)
    canon = encode_text(tokenizer, vocab, before + forced)
    if canon is None:
        return None
    keep = 0
    while keep < min(len(canon), len(out_ids)) and canon[keep] == out_ids[keep]:
        keep += 1
    new = canon[keep:]
    trial = matcher.copy()
    try:
        trial.rollback(len(out_ids) - keep)
    except ValueError:
        return None
    index = prefix_index(vocab)
    pieces = [vocab.token_to_bytes(t) or b"" for t in new]
    tail = sum(len(p) for p in pieces)
    chosen: list[int] = []
    for token, piece in zip(new, pieces):
        if tail < index.max_len:
            longer = index.extending(b"".join(pieces[len(chosen) :]))
            if len(longer) and any_allowed(trial.mask(), longer):
                break
        try:
            trial.advance(token)
        except TokenRejected:
            return None
        chosen.append(token)
        tail -= len(piece)
    if not chosen or len(vocab.decode(canon[: keep + len(chosen)])) <= len(before):
        return None
    if keep + len(chosen) > max_tokens:
        return None
    if budget:
        try:
            if keep + len(chosen) + trial.tokens_to_accept() > max_tokens:
                return None
        except NotImplementedError:
            pass
    return Jump(keep, chosen, trial)


def retokenize(
    matcher: Matcher | None, vocab: Vocabulary, tokenizer: Any, out_ids: list[int], max_tokens: int, budget: bool,
) -> Jump | None:
    """The output rewritten in the tokenizer's own tokens from the first token where they differ, or ``None`` if they do not.

    Undecidable outputs (a code point split between tokens, a tokenizer that does not spell the
    text back) are left as they are, and so are rewrites longer than ``max_tokens`` or, with
    ``budget``, after which the output could no longer finish within it.
    """
    canon = encode_text(tokenizer, vocab, vocab.decode(out_ids))
    if canon is None or canon == out_ids or len(canon) > max_tokens:
        return None
    keep = 0
    while keep < min(len(canon), len(out_ids)) and canon[keep] == out_ids[keep]:
        keep += 1
    trial = matcher.copy() if matcher is not None else None
    if trial is not None:
        try:
            trial.rollback(len(out_ids) - keep)
            for token in canon[keep:]:
                trial.advance(token)
        except (TokenRejected, ValueError):
            return None
        if budget and len(canon) > len(out_ids):
            try:
                if len(canon) + trial.tokens_to_accept() > max_tokens:
                    return None
            except NotImplementedError:
                return None
    return Jump(keep, canon[keep:], trial)
