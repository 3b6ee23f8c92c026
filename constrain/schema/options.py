"""Compiler options for :func:`constrain.json_schema`, validated once."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """How a schema is turned into a language.

    ``whitespace``: ``"compact"`` (no whitespace) or ``"flexible"`` (up to ``max_whitespace``
    whitespace characters between tokens, never an unbounded run). ``property_order``: ``"schema"``
    (declared order) or ``"any"`` (any order, each key at most once). ``additional_properties``:
    ``None`` follows each schema (absent means true, as the specification says), ``False`` closes every
    object that does not say otherwise. ``lenient``: drop keywords that cannot be enforced instead of
    refusing the schema (the constraint lists them in ``dropped``). ``format_assertion``: enforce
    ``format`` (default) or treat it as the annotation the 2020-12 specification makes it.
    ``escapes``: ``"canonical"`` (default) gives every character of a string or key its one canonical
    spelling (raw UTF-8; ``\\"``, ``\\\\``, ``\\n``-style short forms and ``\\u00xx`` only for what JSON
    requires escaped), the text ``json.dumps(..., ensure_ascii=False)`` writes; ``"any"`` also accepts
    every other escape spelling (``\\u0073``, ``\\/``, upper-case hex). ``max_states``: automaton state
    budget. ``max_branches``: bound on the alternatives that ``anyOf``/``oneOf``/``if`` distribution may
    create.
    """

    whitespace: str = "compact"
    property_order: str = "schema"
    additional_properties: bool | None = None
    lenient: bool = False
    format_assertion: bool = True
    max_states: int = 50_000
    max_whitespace: int = 20
    max_branches: int = 256
    draft: str | None = None
    escapes: str = "canonical"

    def __post_init__(self) -> None:
        if self.whitespace not in ("compact", "flexible"):
            raise ValueError("whitespace must be 'compact' or 'flexible'")
        if self.property_order not in ("schema", "any"):
            raise ValueError("property_order must be 'schema' or 'any'")
        if self.additional_properties not in (None, False, True):
            raise ValueError("additional_properties must be None, True or False")
        if self.escapes not in ("canonical", "any"):
            raise ValueError("escapes must be 'canonical' or 'any'")
        if self.draft not in (None, "2020-12", "7"):
            raise ValueError("draft must be None (detect), '2020-12' or '7'")
