"""transformers integration: ``constrain.hf.LogitsProcessor(constraint, tokenizer)`` for ``model.generate``."""
from .generate.hf import LogitsProcessor
from .generate.vocab_cache import vocabulary_for

__all__ = ["LogitsProcessor", "vocabulary_for"]
