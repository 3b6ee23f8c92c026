"""A transformers ``LogitsProcessor`` that holds ``generate()`` to a constraint.

One matcher per sequence, advanced with the tokens actually chosen. Sequences are keyed
by their generated tokens, so beam search (which reorders and forks rows) gets the
matcher of each row's own prefix.

On CUDA the masks go to the device as packed words and are applied by a fused kernel (see
:mod:`constrain.generate.logits`). The masks are computed after the forward pass rather
than beside it: ``generate()`` hands the processor ``input_ids`` on the device, and reading
them (each row's prefix picks its matcher) waits for the queued forward. Our own loop,
:func:`constrain.generate`, overlaps the two.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..constraints import Constraint
from ..mask.batch import fill_masks
from ..mask.bitmask import num_words
from ..mask.matcher import Matcher
from ..vocab.vocabulary import Vocabulary
from .logits import apply_token_bitmask_
from .vocab_cache import vocabulary_for

try:
    from transformers import LogitsProcessor as _Base
except ImportError:  # pragma: no cover - transformers is an optional dependency
    _Base = object  # type: ignore[assignment,misc]


class LogitsProcessor(_Base):  # type: ignore[misc,valid-type]
    """Masks every row's logits to the tokens the constraint allows after that row's generated tokens.

    >>> # model.generate(**inputs, logits_processor=[LogitsProcessor(c.regex(r"\\d+"), tokenizer)])
    """

    def __init__(self, constraint: Constraint, tokenizer: Any, vocab: Vocabulary | None = None) -> None:
        self.constraint = constraint
        self.tokenizer = tokenizer
        self.vocab = vocab
        self._prompt_len: int | None = None
        self._by_prefix: dict[tuple[int, ...], Matcher] = {}

    def reset(self) -> None:
        """Forget all sequences (call between independent ``generate`` calls)."""
        self._prompt_len = None
        self._by_prefix.clear()

    def _matcher_for(self, prefix: tuple[int, ...]) -> Matcher:
        found = self._by_prefix.get(prefix)
        if found is not None:
            return found
        if not prefix:
            assert self.vocab is not None
            found = self.constraint.matcher(self.vocab)
        else:
            found = self._matcher_for(prefix[:-1]).copy()
            found.advance(prefix[-1])
        self._by_prefix[prefix] = found
        return found

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.vocab is None or self.vocab.size < scores.shape[-1]:
            self.vocab = vocabulary_for(self.tokenizer, scores.shape[-1])
        if self._prompt_len is None or input_ids.shape[1] < self._prompt_len:
            self.reset()
            self._prompt_len = int(input_ids.shape[1])
        generated = input_ids[:, self._prompt_len :].tolist()
        words = np.empty((len(generated), num_words(self.vocab.size)), dtype=np.int32)
        fill_masks([self._matcher_for(tuple(row)) for row in generated], words)
        live = {tuple(row) for row in generated}
        if len(self._by_prefix) > 64 * max(1, len(live)):
            self._by_prefix = {k: v for k, v in self._by_prefix.items() if k in live}
        return apply_token_bitmask_(scores, words)
