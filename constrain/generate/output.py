"""What ``generate(output=...)`` accepts, turned into a constraint plus a parser for the typed value."""
from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Any, Callable

from ..constraints import Constraint, choice, regex

INTEGER = r"-?(?:0|[1-9][0-9]{0,18})"
NUMBER = r"-?(?:0|[1-9][0-9]{0,18})(?:\.[0-9]{1,16})?(?:[eE][+-]?[0-9]{1,3})?"


@dataclass
class OutputSpec:
    """A constraint (``None``: free text) and how to turn the generated text into the value."""

    constraint: Constraint | None
    parse: Callable[[str], Any]
    description: str


def _schema_spec(schema: Any) -> OutputSpec:
    try:
        from ..schema import json_schema
    except ImportError as e:  # pragma: no cover - depends on the schema compiler being present
        raise TypeError("JSON Schema outputs need constrain.schema") from e
    constraint = json_schema(schema)
    return OutputSpec(constraint, constraint.parse, "JSON")  # type: ignore[attr-defined]


def resolve_output(output: Any) -> OutputSpec:
    """Map a constraint, Python type, ``Literal``, pydantic model or JSON Schema dict to an :class:`OutputSpec`."""
    if output is None or output is str:
        return OutputSpec(None, lambda text: text, "text")
    if isinstance(output, Constraint):
        parse = getattr(output, "parse", None)
        return OutputSpec(output, parse if callable(parse) else (lambda text: text), repr(output))
    if output is int:
        return OutputSpec(regex(INTEGER), int, "an integer")
    if output is float:
        return OutputSpec(regex(NUMBER), float, "a number")
    if output is bool:
        return OutputSpec(choice(["true", "false"]), lambda text: text == "true", "true or false")
    if typing.get_origin(output) is typing.Literal:
        values = typing.get_args(output)
        texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
        lookup = dict(zip(texts, values))
        return OutputSpec(choice(texts), lookup.__getitem__, " | ".join(texts))
    if isinstance(output, (dict, str)) or hasattr(output, "model_json_schema"):
        return _schema_spec(output)
    if typing.get_origin(output) in (list, dict, tuple, typing.Union) or output in (list, dict):
        from pydantic import TypeAdapter

        adapter = TypeAdapter(output)
        spec = _schema_spec(adapter.json_schema())
        return OutputSpec(spec.constraint, lambda text: adapter.validate_json(text), spec.description)
    raise TypeError(f"unsupported output type {output!r}")
