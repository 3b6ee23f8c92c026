"""Test-time sampling: retry until valid, best-of-n, majority vote, first valid; every attempt recorded.

>>> # result = constrain.sample(model, tokenizer, prompt, Person, strategy=constrain.sampling.vote(5))
>>> # result.value, result.confidence, result.summary()
"""
from .api import sample
from .batch import BatchResult, Row, decode_batch
from .check import Checker
from .records import Attempt, SampleResult, canonical
from .strategies import BestOf, FirstValid, Retry, Strategy, Vote, best_of, first_valid, retry, vote

__all__ = [
    "Attempt",
    "BatchResult",
    "BestOf",
    "Checker",
    "FirstValid",
    "Retry",
    "Row",
    "SampleResult",
    "Strategy",
    "Vote",
    "best_of",
    "canonical",
    "decode_batch",
    "first_valid",
    "retry",
    "sample",
    "vote",
]
