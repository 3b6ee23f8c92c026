"""Vocabularies as exact bytes, and their array tries."""
from .trie import TokenTrie
from .vocabulary import Vocabulary

__all__ = ["TokenTrie", "Vocabulary"]
