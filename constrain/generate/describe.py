"""``describe(output)``: what the model must produce, in words a small model follows.

A raw JSON Schema pasted into a prompt makes small models copy schema keywords into
values; a compact type sketch with placeholders does not.
"""
from __future__ import annotations

import json
import typing
from typing import Any

from ..constraints import Choice, Constraint, Regex


def _sketch(schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if not isinstance(schema, dict) or depth > 6:
        return "<value>"
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return _sketch(defs.get(name, {}), defs, depth + 1)
    if "enum" in schema:
        return " or ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(str(_sketch(s, defs, depth + 1)) for s in schema[key])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _sketch(v, defs, depth + 1) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_sketch(schema.get("items", {}), defs, depth + 1)]
    if kind in ("integer", "number", "boolean", "string", "null"):
        return _Placeholder(kind)
    return _Placeholder("value")


class _Placeholder(str):
    """A typed slot rendered bare (``<integer>``), so the model does not quote numbers and booleans."""


def _render(sketch: Any) -> str:
    if isinstance(sketch, _Placeholder):
        return f"<{sketch}>" if str(sketch) != "string" else '"<string>"'
    if isinstance(sketch, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_render(v)}" for k, v in sketch.items()) + "}"
    if isinstance(sketch, list):
        return "[" + ", ".join(_render(v) for v in sketch) + ", ...]"
    return sketch if isinstance(sketch, str) and " or " in sketch else json.dumps(sketch, ensure_ascii=False)


def describe(output: Any) -> str:
    """A short instruction describing the required output format."""
    if isinstance(output, Choice):
        return "Answer with exactly one of: " + ", ".join(output.options) + "."
    if isinstance(output, Regex):
        return f"Answer with text matching the regular expression {output.pattern}"
    if output is int:
        return "Answer with an integer only."
    if output is float:
        return "Answer with a number only."
    if output is bool:
        return "Answer with true or false only."
    if typing.get_origin(output) is typing.Literal:
        return "Answer with exactly one of: " + ", ".join(map(str, typing.get_args(output))) + "."
    schema: Any = None
    if hasattr(output, "model_json_schema"):
        schema = output.model_json_schema()
    elif isinstance(output, dict):
        schema = output
    elif isinstance(output, Constraint) and isinstance(getattr(output, "schema", None), dict):
        schema = output.schema  # type: ignore[attr-defined]
    if schema is not None:
        defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
        sketch = _render(_sketch(schema, defs))
        return f"Answer with JSON only, in this shape (replace each <type> with a value of that type): {sketch}"
    return "Answer in the required format."
