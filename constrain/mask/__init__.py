"""Token masks: bitmask layout, vectorized vocabulary walks and per-sequence matchers."""
from .bitmask import allowed_ids, apply_numpy, num_words, pack, unpack
from .matcher import DFAMaskCache, DFAMatcher, Matcher

__all__ = ["allowed_ids", "apply_numpy", "num_words", "pack", "unpack", "DFAMaskCache", "DFAMatcher", "Matcher"]
