"""Schema-guided lossless coercions, then validation.

When a JSON Schema (or a pydantic model) says what the value must look like, a few mistakes can be undone
without losing information: ``"42"`` where an integer is wanted, ``"true"`` where a boolean is wanted, a single
value where an array is wanted.  Each coercion is reported as a :class:`Fix` with the JSON path it touched.
Nothing else is changed: a value that still does not validate raises :class:`RepairError`.

``jsonschema`` and ``pydantic`` are imported only when a schema is actually passed.
"""
from __future__ import annotations

import json
import re
from typing import Any

from ..errors import ConstrainError, RepairError
from .result import Fix

_INT = re.compile(r"-?(?:0|[1-9]\d*)")
_NUM = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def is_pydantic_model(schema: Any) -> bool:
    return isinstance(schema, type) and hasattr(schema, "model_validate") and hasattr(schema, "model_json_schema")


def json_schema_of(schema: Any) -> dict[str, Any]:
    """The JSON Schema dict for a dict schema or a pydantic model class."""
    if is_pydantic_model(schema):
        return schema.model_json_schema()
    if isinstance(schema, dict):
        return schema
    raise ConstrainError(f"schema must be a JSON Schema dict or a pydantic model class, not {type(schema).__name__}")


def _validator(root: dict[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as exc:
        raise ConstrainError("schema-guided repair needs jsonschema: pip install jsonschema") from exc
    cls = jsonschema.validators.validator_for(root)
    try:
        cls.check_schema(root)
    except jsonschema.SchemaError as exc:
        raise ConstrainError(f"invalid JSON Schema: {exc.message}") from exc
    return cls(root)


def _has_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return False


class _Coercer:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.validator = _validator(root)
        self.fixes: list[Fix] = []

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
            ref = schema["$ref"]
            if not ref.startswith("#"):
                return schema
            node: Any = self.root
            for part in ref[1:].split("/"):
                if part:
                    node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
            seen += 1
        return schema

    def valid(self, value: Any, schema: Any) -> bool:
        return self.validator.evolve(schema=schema).is_valid(value) if isinstance(schema, dict) else bool(schema)

    def coerce(self, value: Any, schema: Any, path: str) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return value
        for combinator in ("anyOf", "oneOf"):
            branches = schema.get(combinator)
            if isinstance(branches, list):
                if any(self.valid(value, b) for b in branches):
                    return self.descend(value, schema, path)
                for branch in branches:
                    mark = len(self.fixes)
                    candidate = self.coerce(value, branch, path)
                    if self.valid(candidate, branch):
                        return candidate
                    del self.fixes[mark:]
                return value
        types = schema.get("type")
        if types is None:
            if "properties" in schema or "additionalProperties" in schema:
                types = ["object"]
            elif "items" in schema or "prefixItems" in schema:
                types = ["array"]
            else:
                return value
        if isinstance(types, str):
            types = [types]
        if not any(_has_type(value, t) for t in types):
            value = self.convert(value, types, path)
        return self.descend(value, schema, path)

    def convert(self, value: Any, types: list[str], path: str) -> Any:
        for t in types:
            new: Any = value
            if isinstance(value, str):
                text = value.strip()
                if t == "integer" and _INT.fullmatch(text):
                    new = int(text)
                elif t == "number" and _NUM.fullmatch(text):
                    new = float(text) if any(c in text for c in ".eE") else int(text)
                elif t == "boolean" and text.lower() in ("true", "false"):
                    new = text.lower() == "true"
                elif t == "null" and text == "null":
                    new = None
            if t in ("array", "object") and isinstance(value, str) and value.strip()[:1] in "[{":
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if isinstance(parsed, list if t == "array" else dict):
                    self.fixes.append(Fix("coerced", None, f"parsed the JSON {t} inside a string", path=path))
                    return parsed
            if t == "array" and new is value and not isinstance(value, list):
                new = [value]
                self.fixes.append(Fix("coerced", None, f"wrapped single value {value!r} in a list", path=path))
                return new
            if new is not value or (new is None and value is not None):
                self.fixes.append(Fix("coerced", None, f"coerced {value!r} to {new!r} ({t})", path=path))
                return new
        return value

    def descend(self, value: Any, schema: dict[str, Any], path: str) -> Any:
        if isinstance(value, dict):
            props = schema.get("properties") or {}
            patterns = schema.get("patternProperties") or {}
            extra = schema.get("additionalProperties")
            out = {}
            for key, item in value.items():
                sub: Any = None
                if key in props:
                    sub = props[key]
                else:
                    for pattern, pschema in patterns.items():
                        if re.search(pattern, key):
                            sub = pschema
                            break
                    if sub is None and isinstance(extra, dict):
                        sub = extra
                out[key] = self.coerce(item, sub, f"{path}.{key}") if sub is not None else item
            return out
        if isinstance(value, list):
            prefix = schema.get("prefixItems")
            items = schema.get("items")
            out_list = []
            for n, item in enumerate(value):
                sub = None
                if isinstance(prefix, list) and n < len(prefix):
                    sub = prefix[n]
                elif isinstance(items, dict):
                    sub = items
                out_list.append(self.coerce(item, sub, f"{path}[{n}]") if sub is not None else item)
            return out_list
        return value


def apply_schema(value: Any, schema: Any) -> tuple[Any, list[Fix]]:
    """Coerce ``value`` towards ``schema``, validate, and build the pydantic instance for a model.

    Raises :class:`RepairError` when the value does not match even after the lossless coercions.
    """
    root = json_schema_of(schema)
    coercer = _Coercer(root)
    try:
        return _apply(value, schema, root, coercer)
    except RecursionError as exc:
        raise ConstrainError("schema refers to itself without end ($ref cycle)") from exc


def _apply(value: Any, schema: Any, root: dict[str, Any], coercer: _Coercer) -> tuple[Any, list[Fix]]:
    value = coercer.coerce(value, root, "$")
    if is_pydantic_model(schema):
        try:
            return schema.model_validate(value), coercer.fixes
        except Exception as exc:
            raise RepairError(f"value does not match {schema.__name__}: {exc}") from exc
    errors = sorted(coercer.validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        raise RepairError(f"value does not match the schema at {where}: {err.message}")
    return value, coercer.fixes


def matches(value: Any, schema: Any) -> bool:
    """True when ``value`` validates against ``schema`` after lossless coercions."""
    try:
        apply_schema(value, schema)
    except RepairError:
        return False
    return True
