"""Turning a candidate's text into the output's typed value, or into readable errors.

A candidate is valid when it parses (after repair, for text that was not generated under
a constraint) and validates: against the JSON Schema, or through the pydantic model with
its own validators, or against the regex/grammar of a constraint output. The errors are
short sentences with the path that failed, fit to show a chat model when re-asking.
"""
from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field
from typing import Any

from ..constraints import Constraint
from ..errors import ConstrainError
from ..generate.output import OutputSpec, resolve_output


@dataclass
class Checked:
    """The outcome of checking one text."""

    value: Any = None
    errors: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when the text parsed and validated."""
        return not self.errors


def _is_model(output: Any) -> bool:
    return isinstance(output, type) and hasattr(output, "model_validate") and hasattr(output, "model_json_schema")


def _is_adapted(output: Any) -> bool:
    return typing.get_origin(output) in (list, dict, tuple, typing.Union) or output in (list, dict)


def _path(parts: Any) -> str:
    text = ".".join(str(p) for p in parts)
    return text or "(root)"


class Checker:
    """Checks texts against one output type; ``repair=False`` refuses any text that is not exact."""

    def __init__(self, output: Any, repair: bool = True) -> None:
        self.output = output
        self.repair = repair
        self.kind = self._kind(output)
        self._spec: OutputSpec | None = None
        self._validator: Any = None
        self._adapter: Any = None
        if self.kind == "spec":
            self._spec = resolve_output(output)
        elif self.kind == "schema":
            self._validator = _schema_validator(output)
        elif self.kind == "adapted":
            from pydantic import TypeAdapter

            self._adapter = TypeAdapter(output)

    @staticmethod
    def _kind(output: Any) -> str:
        if output is None or output is str:
            return "text"
        if _is_model(output):
            return "model"
        if isinstance(output, dict):
            return "schema"
        if isinstance(output, Constraint) or output in (int, float, bool) or typing.get_origin(output) is typing.Literal:
            return "spec"
        if _is_adapted(output):
            return "adapted"
        raise TypeError(f"unsupported output type {output!r}")

    @property
    def is_json(self) -> bool:
        """Whether the output is a JSON document (schema, model or container type)."""
        return self.kind in ("model", "schema", "adapted")

    def check(self, text: str, constrained: bool = False) -> Checked:
        """Parse and validate ``text``; ``constrained`` texts are taken as they are (no repair)."""
        if self.kind == "text":
            return Checked(text)
        if self.kind == "spec":
            return self._check_spec(text, constrained)
        out = Checked()
        raw = self._json(text, out, use_repair=self.repair and not constrained)
        if out.errors:
            return out
        if self.kind == "model":
            return self._validate_model(raw, out)
        if self.kind == "adapted":
            return self._validate_adapted(raw, out)
        return self._validate_schema(raw, out)

    def _check_spec(self, text: str, constrained: bool) -> Checked:
        assert self._spec is not None and self._spec.constraint is not None
        candidate = text if constrained or not self.repair else text.strip()
        if not self._spec.constraint.accepts(candidate):
            return Checked(errors=[f"the answer {candidate[:80]!r} is not {self._spec.description}"])
        try:
            return Checked(self._spec.parse(candidate))
        except Exception as e:  # the parser may be the user's type: report, don't raise
            return Checked(errors=[f"{type(e).__name__}: {e}"])

    @staticmethod
    def _json(text: str, out: Checked, use_repair: bool) -> Any:
        try:
            return json.loads(text)
        except ValueError as e:
            if not use_repair:
                out.errors.append(f"not valid JSON: {e}")
                return None
        from ..repair import repair

        try:
            result = repair(text, format="json")
        except ConstrainError as e:
            out.errors.append(f"not valid JSON: {e}")
            return None
        out.fixes.extend(str(f) for f in result.fixes)
        return result.value

    def _validate_model(self, raw: Any, out: Checked) -> Checked:
        from pydantic import ValidationError

        assert _is_model(self.output)
        try:
            out.value = self.output.model_validate(raw)
        except ValidationError as e:
            out.errors.extend(f"{_path(err['loc'])}: {err['msg']}" for err in e.errors())
        return out

    def _validate_adapted(self, raw: Any, out: Checked) -> Checked:
        from pydantic import ValidationError

        try:
            out.value = self._adapter.validate_python(raw)
        except ValidationError as e:
            out.errors.extend(f"{_path(err['loc'])}: {err['msg']}" for err in e.errors())
        return out

    def _validate_schema(self, raw: Any, out: Checked) -> Checked:
        from ..repair.coerce import apply_schema

        value = raw
        if self.repair:
            try:
                value, coercions = apply_schema(raw, self.output)
                out.fixes.extend(str(f) for f in coercions)
            except ConstrainError:
                value = raw
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        out.errors.extend(f"{_path(e.absolute_path)}: {e.message}" for e in errors)
        if not out.errors:
            out.value = value
        return out


def _schema_validator(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as e:
        raise ConstrainError("validating against a JSON Schema needs jsonschema: pip install jsonschema") from e
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ConstrainError(f"invalid JSON Schema: {e.message}") from e
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def constraint_for(output: Any) -> Constraint | None:
    """The constraint that decoding of ``output`` is held to (``None`` for free text).

    Raises :class:`ConstrainError` when the output cannot be compiled to a constraint
    (for instance a JSON Schema while no schema compiler is installed).
    """
    try:
        return resolve_output(output).constraint
    except (TypeError, ImportError) as e:
        raise ConstrainError(f"cannot hold decoding to {output!r}: {e}") from e
