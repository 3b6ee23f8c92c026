"""Every error the library raises: one base class, and subclasses that say what went wrong and where."""
from __future__ import annotations


class ConstrainError(Exception):
    """Base class of every error raised by constrain."""


class RegexError(ConstrainError, ValueError):
    """A regular expression is invalid or uses a construct no finite automaton can enforce.

    ``position`` is the 0-based character offset in the pattern, or ``None`` when unknown.
    """

    def __init__(self, message: str, pattern: str | None = None, position: int | None = None) -> None:
        self.pattern = pattern
        self.position = position
        where = ""
        if pattern is not None and position is not None:
            where = f" at position {position}\n  {pattern}\n  {' ' * position}^"
        super().__init__(f"{message}{where}")


class UnsupportedRegex(RegexError):
    """A valid Python regex construct that is refused because it cannot be enforced exactly."""


class LimitExceeded(ConstrainError, RuntimeError):
    """An explicit limit (automaton states, parser items, cache bytes, time) was reached."""

    def __init__(self, what: str, limit: int | float, hint: str = "") -> None:
        self.what = what
        self.limit = limit
        text = f"{what} limit of {limit} exceeded"
        super().__init__(text + (f"; {hint}" if hint else ""))


class InternalError(ConstrainError, RuntimeError):
    """A bug inside the native engine; the constraint it happened in is no longer usable, others are."""


class TokenRejected(ConstrainError, ValueError):
    """A token was passed to ``Matcher.advance`` that the constraint does not allow."""


class VocabularyError(ConstrainError, ValueError):
    """A tokenizer's vocabulary could not be mapped to exact bytes."""


class RepairError(ConstrainError, ValueError):
    """Broken JSON/YAML that cannot be repaired without guessing; ``position`` is a character offset."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message if position is None else f"{message} (at character {position})")


class GrammarError(ConstrainError, ValueError):
    """A grammar is invalid or uses a construct that cannot be enforced exactly.

    ``symbol`` names the offending rule or terminal when known; ``line`` and ``column`` (1-based) and
    ``source`` (a file name) say where it was written when the grammar came from a file or text.
    """

    def __init__(
        self,
        message: str,
        symbol: str | None = None,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
    ) -> None:
        self.symbol = symbol
        self.line = line
        self.column = column
        self.source = source
        where = ""
        if line is not None:
            where = f" at line {line}, column {column}"
            if source:
                where += f" of {source}"
        super().__init__(f"{message}{where}")


class SchemaError(ConstrainError, ValueError):
    """A JSON Schema is itself invalid (wrong keyword value types, unresolvable ``$ref``, bad JSON text)."""

    def __init__(self, message: str, pointer: str = "") -> None:
        self.pointer = pointer
        super().__init__(f"{message} (at {pointer or '/'})")


class UnsupportedSchema(ConstrainError, ValueError):
    """A valid JSON Schema keyword that cannot be enforced exactly and is therefore refused.

    ``pointer`` is the JSON pointer of the subschema holding the keyword (``""`` for the root),
    ``keyword`` the keyword's name, ``reason`` why it cannot be enforced.
    """

    def __init__(self, pointer: str, keyword: str, reason: str = "") -> None:
        self.pointer = pointer
        self.keyword = keyword
        self.reason = reason
        text = f"cannot enforce {keyword!r} at {pointer or '/'}"
        super().__init__(text + (f": {reason}" if reason else ""))
