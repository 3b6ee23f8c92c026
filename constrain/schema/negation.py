"""``not`` as positive keywords, where the negation can be stated exactly.

A schema is a conjunction of keyword groups, so its negation is the union of the groups'
negations. A keyword that constrains one JSON type holds vacuously for the other types, so its
negation is "that type, and the opposite condition": ``not {minLength: 3}`` is
``{type: string, maxLength: 2}``. Combinators negate by De Morgan's laws, and negations that
need a nested ``not`` (``properties``, ``items``, ``contains``) leave it to the compiler, which
applies this module again. Keywords whose meaning depends on siblings (``additionalProperties``,
``patternProperties``, ``uniqueItems``...) make the negation unsupported (``None``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import SchemaError

if TYPE_CHECKING:
    from .compiler import Compiler

Alternatives = list[list[Any]]

_IGNORED = frozenset({
    "title", "description", "examples", "default", "$comment", "$schema", "$id", "$anchor", "$defs",
    "definitions", "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
    "contentSchema", "$vocabulary", "$dynamicAnchor", "then", "else", "nullable",
})
_OPPOSITE = {
    "minLength": ("string", "maxLength", -1),
    "maxLength": ("string", "minLength", 1),
    "minItems": ("array", "maxItems", -1),
    "maxItems": ("array", "minItems", 1),
    "minProperties": ("object", "maxProperties", -1),
    "maxProperties": ("object", "minProperties", 1),
}
_BOUND_OPPOSITE = {
    "minimum": "exclusiveMaximum",
    "maximum": "exclusiveMinimum",
    "exclusiveMinimum": "maximum",
    "exclusiveMaximum": "minimum",
}
_ALL_TYPES = ["null", "boolean", "object", "array", "string", "integer", "$fraction"]


def negate(c: "Compiler", schema: Any, origin: dict, depth: int = 0) -> Alternatives | None:
    """Alternatives (each a list of schemas to conjoin) whose union is the complement of ``schema``."""
    if depth > 20:
        return None
    if schema is True:
        return []
    if schema is False:
        return [[]]
    if not isinstance(schema, dict):
        raise SchemaError("a schema must be an object or a boolean", c.ctx.pointer(origin))
    syn = lambda d: c._synthetic(origin, d)  # noqa: E731
    out: Alternatives = []
    if "$ref" in schema:
        target = c.ctx.resolve(schema, schema["$ref"])
        sub = negate(c, target, origin, depth + 1)
        if sub is None:
            return None
        out.extend(sub)
        if c.ctx.draft == "7":
            return out
    for kw, value in schema.items():
        if kw in _IGNORED or kw == "$ref" or (kw.startswith("x-")):
            continue
        part = _negate_keyword(c, schema, kw, value, syn, depth)
        if part is None:
            return None
        out.extend(part)
    return out


def _negate_keyword(c: "Compiler", schema: dict, kw: str, value: Any, syn: Any, depth: int) -> Alternatives | None:
    from .compiler import _types_of

    if kw == "type":
        have = _types_of(value, schema, c.ctx)
        rest = [t for t in _ALL_TYPES if t.lstrip("$") not in have]
        return [[syn({"type": rest})]] if rest else []
    if kw in ("enum", "const"):
        values = value if kw == "enum" else [value]
        return [[syn({"$exclude": list(values)})]]
    if kw == "required":
        return [[syn({"type": "object", "$absent": [n]})] for n in value]
    if kw == "$absent":
        return [[syn({"type": "object", "required": [n]})] for n in value]
    if kw in _OPPOSITE:
        t, other, step = _OPPOSITE[kw]
        bound = int(value) + step
        if bound < 0:
            return []
        return [[syn({"type": t, other: bound})]]
    if kw in _BOUND_OPPOSITE:
        if isinstance(value, bool):
            return None
        return [[syn({"type": "number", _BOUND_OPPOSITE[kw]: value})]]
    if kw == "pattern":
        return [[syn({"type": "string", "$notPattern": [value]})]]
    if kw == "format":
        if not c.ctx.options.format_assertion:
            return []
        return [[syn({"type": "string", "$notFormat": [value]})]]
    if kw == "properties":
        return [
            [syn({"type": "object", "required": [name], "properties": {name: syn({"not": sub})}})]
            for name, sub in value.items()
            if sub is not True
        ]
    if kw == "items" and not isinstance(value, list) and "prefixItems" not in schema:
        if value is True:
            return []
        return [[syn({"type": "array", "contains": syn({"not": value})})]]
    if kw == "contains" and "minContains" not in schema and "maxContains" not in schema:
        return [[syn({"type": "array", "items": syn({"not": value})})]]
    if kw == "not":
        return [[value]]
    if kw == "anyOf":
        return [[syn({"not": sub}) for sub in value]]
    if kw == "allOf":
        return [[syn({"not": sub})] for sub in value]
    if kw == "oneOf":
        out: Alternatives = [[syn({"not": sub}) for sub in value]]
        for i in range(len(value)):
            for j in range(i + 1, len(value)):
                out.append([value[i], value[j]])
        return out
    if kw == "if":
        then, other = schema.get("then", True), schema.get("else", True)
        return [[value, syn({"not": then})], [syn({"not": value}), syn({"not": other})]]
    if kw in ("unevaluatedProperties", "unevaluatedItems") and value is True:
        return []
    return None
