"""The request fields that carry a format between our client and an OpenAI-compatible server.

JSON outputs travel as the standard ``response_format`` (``json_schema`` or ``json_object``).
Formats the standard API cannot express travel as extension fields in the request body
(with the ``openai`` client: ``extra_body={...}``):

* ``"regex": "<python regex>"`` -- the completion fully matches the pattern;
* ``"choice": ["a", "b"]`` -- the completion is exactly one of the strings;
* ``"grammar": "<lark grammar text>"`` -- the completion is a sentence of the grammar. The field is
  always grammar TEXT, never a file name: a server never opens a file a request names, and the text may
  ``%import`` only from lark's bundled library (``%import common.WS``);
* ``"grammar_name": "<name>"`` -- the completion is a sentence of a grammar the server's operator
  registered under that name (``constrain serve --grammar sql=grammars/sqlite.lark``, or
  ``Server(..., grammars={"sql": Path(...)})``). An unknown name is a 400 error that lists the known
  names; where a grammar was loaded from is never sent.
"""
from __future__ import annotations

import typing
from typing import Any, Mapping

from ..constraints import Choice, Constraint, Regex

EXTENSION_FIELDS = ("regex", "choice", "grammar", "grammar_name")


def _schema_of(output: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(output, type) and hasattr(output, "model_json_schema"):
        return output.__name__, output.model_json_schema()
    if isinstance(output, dict):
        return str(output.get("title") or "output"), output
    if typing.get_origin(output) in (list, dict, tuple, typing.Union):
        from pydantic import TypeAdapter

        return "output", TypeAdapter(output).json_schema()
    return None


def request_fields(output: Any) -> dict[str, Any]:
    """The body fields asking a server for ``output`` (empty when nothing standard or known fits)."""
    named = _schema_of(output)
    if named is not None:
        name, schema = named
        return {"response_format": {"type": "json_schema", "json_schema": {"name": name[:64], "schema": schema, "strict": True}}}
    constraint = output
    if not isinstance(output, Constraint):
        from ..generate.output import resolve_output

        try:
            constraint = resolve_output(output).constraint
        except TypeError:
            return {}
    if isinstance(constraint, Choice):
        return {"choice": list(constraint.options)}
    if isinstance(constraint, Regex):
        return {"regex": constraint.pattern}
    return {}


class RequestError(ValueError):
    """A request the server refuses: HTTP status, OpenAI error type, the offending parameter."""

    def __init__(self, message: str, status: int = 400, param: str | None = None, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.param = param
        self.kind = kind

    def body(self) -> dict[str, Any]:
        """The OpenAI-style error object sent back to the client."""
        return {"error": {"message": str(self), "type": self.kind, "param": self.param, "code": None}}


def output_from_body(body: dict[str, Any], grammars: Mapping[str, Constraint] | None = None) -> Any:
    """What a request asks for: a JSON Schema dict, a constraint, or ``None`` for free text.

    ``grammars`` are the operator's named grammars that ``grammar_name`` may pick (the request never
    names a file).
    """
    from ..constraints import choice, grammar, regex

    given = [k for k in EXTENSION_FIELDS if body.get(k) is not None]
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt is not None and kind not in ("text", "json_schema", "json_object"):
        raise RequestError("response_format.type must be 'text', 'json_schema' or 'json_object'", param="response_format")
    if len(given) + (kind in ("json_schema", "json_object")) > 1:
        raise RequestError("give at most one of response_format, regex, choice, grammar, grammar_name",
                           param=given[0] if given else None)
    try:
        if kind == "json_schema":
            spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
            schema = spec.get("schema") if isinstance(spec, dict) else None
            if not isinstance(schema, dict):
                raise RequestError("response_format.json_schema.schema must be an object", param="response_format")
            return schema
        if kind == "json_object":
            return {"type": "object"}
        if "regex" in given:
            if not isinstance(body["regex"], str):
                raise RequestError("regex must be a string", param="regex")
            return regex(body["regex"])
        if "choice" in given:
            options = body["choice"]
            if not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options):
                raise RequestError("choice must be a non-empty list of strings", param="choice")
            return choice(options)
        if "grammar" in given:
            if not isinstance(body["grammar"], str):
                raise RequestError("grammar must be Lark grammar text", param="grammar")
            return grammar(body["grammar"])
        if "grammar_name" in given:
            return _named_grammar(body["grammar_name"], grammars or {})
    except RequestError:
        raise
    except Exception as e:  # a bad pattern or grammar is the caller's error: say which and why
        raise RequestError(f"{given[0] if given else 'response_format'}: {e}", param=given[0] if given else "response_format") from e
    return None


def _named_grammar(name: Any, grammars: Mapping[str, Constraint]) -> Constraint:
    """The operator's grammar registered as ``name``; the error lists the names, never where they came from."""
    if not isinstance(name, str):
        raise RequestError("grammar_name must be a string", param="grammar_name")
    if name in grammars:
        return grammars[name]
    if not grammars:
        raise RequestError(f"unknown grammar_name {name!r}: this server has no named grammars "
                           "(its operator adds them with --grammar NAME=PATH)", param="grammar_name")
    known = ", ".join(repr(n) for n in sorted(grammars))
    raise RequestError(f"unknown grammar_name {name!r}; the known names are {known}", param="grammar_name")
