"""The public entry points: :func:`repair` and :func:`repair_strict`.

``repair`` always returns what it could recover, with the fixes and a confidence flag; it raises
:class:`~constrain.errors.RepairError` only when there is nothing to return (no value in the text, or a value
that cannot match the schema).  ``repair_strict`` additionally raises instead of returning an ambiguous result.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from ..errors import ConstrainError, RepairError
from .extract import find_fences, first_content
from .limits import MAX_INPUT_BYTES, input_too_large
from .json_text import combine, fast_path, repair_json_values
from .result import Fix, RepairResult

Format = Literal["json", "yaml", "auto"]

_YAML_LINE = re.compile(r"^\s*(?:-\s+\S|-\s*$|[\w\"'.$][^:\n]*:(?:\s|$))", re.M)


def _detect(text: str) -> Literal["json", "yaml"]:
    """Pick a format for ``format="auto"``: a fence's tag, else the first character, else YAML-looking lines."""
    i = first_content(text)
    if i < len(text) and text[i] in "{[":
        return "json"
    for region in find_fences(text):
        if region.lang in ("yaml", "yml"):
            return "yaml"
        if region.lang in ("json", "jsonc", "json5"):
            return "json"
        if region.lang:
            continue
        j = first_content(text, region.start, region.end)
        if j < region.end:
            return "json" if text[j] in "{[" else "yaml"
    if "{" in text or "[" in text:
        return "json"
    return "yaml" if _YAML_LINE.search(text) else "json"


def _pick_with_schema(values: list[Any], fixes: list[Fix], schema: Any) -> Any:
    """Among several separate values, keep the one the schema accepts (if exactly one does)."""
    from .coerce import matches

    fitting = [v for v in values if matches(v, schema)]
    if len(fitting) == 1:
        for n, f in enumerate(fixes):
            if f.kind == "several_values":
                fixes[n] = Fix("several_values", f.position, "kept the only value that matches the schema")
        return fitting[0]
    return list(values)


def repair(
    text: str,
    format: Format = "auto",
    schema: Any = None,
    partial_strings: bool = False,
    truncated: bool | None = None,
) -> RepairResult:
    """Parse ``text`` as JSON or YAML, repairing the usual model mistakes and reporting every fix.

    ``format="auto"`` (the default) reads JSON when the text (or its first code fence) starts with a bracket or
    the fence is tagged ``json``, and YAML when the fence is tagged ``yaml`` or the text is ``key: value`` lines.
    ``schema`` (a JSON Schema dict or a pydantic model class) validates the result after lossless coercions
    (``"42"`` -> 42, ``"true"`` -> true, a single value -> a one-item list), each reported as a fix; for a
    model the value is the model instance.  ``partial_strings=True`` keeps the prefix of a string cut off by the
    end of the text instead of dropping it.  ``truncated=True`` tells the YAML reader the text was cut off by a
    token limit (JSON shows that by itself through its unclosed brackets).

    Input is bounded (see :mod:`constrain.repair.limits`): text over ``MAX_INPUT_BYTES`` UTF-8 bytes (YAML:
    ``MAX_YAML_BYTES``), nesting over ``MAX_DEPTH`` levels, integers over ``MAX_INT_DIGITS`` digits and YAML
    aliases expanding to over ``MAX_ALIAS_NODES`` nodes are refused with :class:`RepairError`; work is linear in
    the input size.  YAML scalars follow the YAML 1.2 core schema (``no``, ``12:30`` and dates stay strings).

    Raises :class:`RepairError` when no value can be read, or when it does not match ``schema``.
    """
    if not isinstance(text, str):
        raise ConstrainError(f"repair expects str, got {type(text).__name__}")
    size = input_too_large(text)
    if size is not None:
        raise RepairError(f"input of {size} bytes is larger than the repair limit of {MAX_INPUT_BYTES} bytes", 0)
    try:
        return _repair(text, format, schema, partial_strings, truncated)
    except RecursionError:
        raise RepairError("input nested too deeply to read with the stack available", None) from None


def _repair(text: str, format: Format, schema: Any, partial_strings: bool, truncated: bool | None) -> RepairResult:
    """The body of :func:`repair`, after the input size check."""
    ok, value = fast_path(text) if format != "yaml" else (False, None)
    fmt = "json" if ok else (_detect(text) if format == "auto" else format)
    if fmt == "json":
        if ok:
            fixes: list[Fix] = []
        else:
            values, fixes = repair_json_values(text, partial_strings)
            if len(values) > 1 and schema is not None:
                value = combine(values, fixes)
                value = _pick_with_schema(values, fixes, schema)
            else:
                value = combine(values, fixes)
    elif fmt == "yaml":
        from .yaml_repair import repair_yaml

        value, fixes = repair_yaml(text, truncated)
    else:
        raise ConstrainError(f"format must be 'json', 'yaml' or 'auto', not {format!r}")
    if schema is not None:
        from .coerce import apply_schema

        value, coercions = apply_schema(value, schema)
        fixes.extend(coercions)
    return RepairResult(value, fixes, fmt)


def repair_strict(
    text: str,
    format: Format = "auto",
    schema: Any = None,
    partial_strings: bool = False,
    truncated: bool | None = None,
) -> RepairResult:
    """Like :func:`repair`, but raise :class:`RepairError` (with position and reason) on an ambiguous result."""
    result = repair(text, format, schema, partial_strings, truncated)
    doubtful = next((f for f in result.fixes if f.ambiguous), None)
    if doubtful is not None:
        raise RepairError(f"ambiguous repair: {doubtful.detail}", doubtful.position)
    return result
