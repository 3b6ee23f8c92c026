"""Result types of a repair: what value came out, which fixes produced it, and how sure we are.

Every change the repairer makes to the text is recorded as a :class:`Fix` with a kind, a character position in
the original text and a sentence saying what was done, so a caller can log it, show it, or refuse it.  A fix
that chose between two plausible readings is marked ``ambiguous``; one such fix makes the whole result ambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Confidence = Literal["exact", "repaired", "ambiguous"]


@dataclass(frozen=True)
class Fix:
    """One change made while repairing.

    ``kind`` is a short machine-readable name (``"trailing_comma"``, ``"truncated"``, ...), ``position`` the
    0-based character offset in the original text (``None`` for schema coercions, which have a ``path``
    instead), ``detail`` a sentence such as ``"removed trailing comma"``.
    """

    kind: str
    position: int | None
    detail: str
    ambiguous: bool = False
    path: str | None = None

    def __str__(self) -> str:
        where = f" at {self.position}" if self.position is not None else ""
        if self.path is not None:
            where += f" ({self.path})"
        flag = " [ambiguous]" if self.ambiguous else ""
        return f"{self.detail}{where}{flag}"


TRUNCATION_KINDS = frozenset(
    {"truncated", "dropped_partial_string", "kept_partial_string", "dropped_partial_number",
     "dropped_partial_literal", "dropped_partial_key", "dropped_dangling_key", "dropped_partial_line"}
)


@dataclass
class RepairResult:
    """The outcome of :func:`constrain.repair`.

    ``value`` is the parsed document (a pydantic instance when a model was given as schema), ``fixes`` every
    change in order, ``format`` the format that was parsed.  ``confidence`` is ``"exact"`` when the input was
    already valid, ``"repaired"`` when every fix was unambiguous and ``"ambiguous"`` otherwise.
    """

    value: Any
    fixes: list[Fix] = field(default_factory=list)
    format: Literal["json", "yaml"] = "json"

    @property
    def ambiguous(self) -> bool:
        """True when at least one fix chose between readings that give different values."""
        return any(f.ambiguous for f in self.fixes)

    @property
    def confidence(self) -> Confidence:
        if not self.fixes:
            return "exact"
        return "ambiguous" if self.ambiguous else "repaired"

    @property
    def repaired(self) -> bool:
        """True when the text needed at least one fix."""
        return bool(self.fixes)

    @property
    def truncated(self) -> bool:
        """True when the text looked cut off and incomplete parts were dropped or closed."""
        return any(f.kind in TRUNCATION_KINDS for f in self.fixes)

    def explain(self) -> str:
        """All fixes, one per line (empty for valid input)."""
        return "\n".join(str(f) for f in self.fixes)
