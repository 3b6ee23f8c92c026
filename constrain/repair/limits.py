"""The explicit limits of repair, and reading integers exactly past Python's str -> int digit limit.

Repair reads text a model wrote, so its cost must be bounded by the input and never by what the input claims:

* ``MAX_INPUT_BYTES``: longer text (in UTF-8) is refused with :class:`~constrain.errors.RepairError` before any
  parsing, so the worst case of every later step is bounded.
* ``MAX_YAML_BYTES``: YAML is read by PyYAML's pure-Python parser (about 5 microseconds a character) and a
  repair may parse the text again after each line fix, so YAML input has a lower limit.
* ``MAX_DEPTH``: brackets (JSON) or nested collections (YAML) deeper than this are refused at the opening that
  goes one level too deep; the readers recurse once per level, so this keeps them far from Python's stack limit.
* ``MAX_INT_DIGITS``: integers are read exactly (also past Python's 4300-digit ``int(str)`` limit) up to this
  many digits; a longer one is refused at its position rather than rounded or turned into a string.
* ``MAX_ALIAS_NODES``: YAML aliases share one node, but every consumer that walks the value (``json.dumps``,
  ``==``, schema validation) sees it once per alias; the nodes reached through aliases, counted that way, are
  bounded so that a "billion laughs" document is refused instead of exhausting memory.
"""
from __future__ import annotations

from functools import lru_cache

MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_YAML_BYTES = 256 * 1024
MAX_DEPTH = 200
MAX_INT_DIGITS = 100_000
MAX_ALIAS_NODES = 100_000

_CHUNK = 4000


def input_too_large(text: str, limit: int = MAX_INPUT_BYTES) -> int | None:
    """The UTF-8 size of ``text`` (at least) when it exceeds ``limit``, else None; encodes only near the limit."""
    if len(text) * 4 <= limit:
        return None
    if len(text) > limit:
        return len(text)
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


@lru_cache(maxsize=64)
def _power_of_ten(n: int) -> int:
    """10**n, cached because the halving in :func:`_digits_to_int` asks for the same few powers repeatedly."""
    return 10 ** n


def _digits_to_int(digits: str) -> int:
    """Exact value of a run of decimal digits, by halving so that no ``int()`` call sees more than 4000 digits."""
    if len(digits) <= _CHUNK:
        return int(digits)
    low = len(digits) // 2
    return _digits_to_int(digits[:-low]) * _power_of_ten(low) + _digits_to_int(digits[-low:])


def exact_int(token: str) -> int | None:
    """The exact integer ``token`` spells (optional sign, decimal digits), or None past ``MAX_INT_DIGITS`` digits."""
    sign = token[:1] if token[:1] in "+-" else ""
    digits = token[len(sign):]
    if len(digits) > MAX_INT_DIGITS:
        return None
    value = _digits_to_int(digits)
    return -value if sign == "-" else value
