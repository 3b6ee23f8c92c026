"""constrain: make language-model output follow a format exactly.

>>> import constrain as c
>>> date = c.regex(r"\\d{4}-\\d{2}-\\d{2}")
>>> date.accepts("2024-02-29"), date.accepts_prefix("2024-0"), date.accepts("2024-2-29")
(True, True, False)
"""
from __future__ import annotations

from . import grammar as _grammar_package  # loaded first so the name `grammar` below stays the function
from .constraints import Choice, Constraint, GrammarConstraint, Regex, RegularConstraint, choice, grammar, regex
from .errors import (
    ConstrainError,
    SchemaError,
    UnsupportedSchema,
    LimitExceeded,
    RegexError,
    RepairError,
    TokenRejected,
    UnsupportedRegex,
    VocabularyError,
)
from .generate import Generation, StreamEvent, describe, generate, stream
from .mask.matcher import Matcher
from .repair import Fix, RepairResult, repair, repair_strict
from .schema import JsonSchemaConstraint, json_schema
from .sampling import SampleResult, best_of, first_valid, retry, sample, vote
from .vocab.vocabulary import Vocabulary
from . import regex_tool  # submodule: text to regex (constrain.regex_tool.generate_regex)

__version__ = "0.1.0"

__all__ = [
    "Choice",
    "Fix",
    "Generation",
    "JsonSchemaConstraint",
    "GrammarConstraint",
    "SampleResult",
    "StreamEvent",
    "RepairResult",
    "SchemaError",
    "UnsupportedSchema",
    "ConstrainError",
    "Constraint",
    "LimitExceeded",
    "Matcher",
    "Regex",
    "RegexError",
    "RegularConstraint",
    "RepairError",
    "TokenRejected",
    "UnsupportedRegex",
    "Vocabulary",
    "VocabularyError",
    "choice",
    "describe",
    "generate",
    "grammar",
    "json_schema",
    "regex",
    "repair",
    "repair_strict",
    "sample",
    "stream",
    "best_of",
    "first_valid",
    "retry",
    "vote",
]
