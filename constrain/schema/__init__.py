"""JSON Schema (and pydantic models) compiled to exact token-level constraints.

>>> import constrain as c
>>> person = c.json_schema({"type": "object", "properties": {"name": {"type": "string"}},
...                         "required": ["name"], "additionalProperties": False})
>>> person.accepts('{"name":"Ada"}'), person.accepts('{"name":1}')
(True, False)
>>> person.dumps({"name": "Ada"})
'{"name":"Ada"}'

Schemas whose values have bounded nesting compile to a regular language (a lazy byte DFA,
:class:`JsonSchemaConstraint`). Values that may be any JSON value (``{}``/``true`` schemas, items
without a schema, extra properties when ``additionalProperties`` is absent) and recursive ``$ref``
s compile to a context-free grammar (:class:`JsonSchemaGrammarConstraint`, masks from the Earley
grammar engine): the regular parts become lexemes, and a rule for JSON values or for the
recursive target is referenced where the nesting is unbounded; nothing is unrolled to a fixed depth.

Keywords that cannot be enforced exactly raise :class:`~constrain.errors.UnsupportedSchema` naming
the JSON pointer and keyword (or, with ``lenient=True``, are dropped and listed in ``dropped``).
That includes operations that need an automaton of a value that needs a grammar: intersecting a
recursive schema with other keywords, ``oneOf`` branches not shown disjoint, excluding values
(``not``/``const``) from such values, ``uniqueItems`` on them, and reference loops that never
descend into a sub-value.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ..compile_cache import compiled_once
from ..constraints import GrammarConstraint, RegularConstraint
from ..errors import LimitExceeded, SchemaError, UnsupportedSchema
from ..regex.ir import Node
from .compiler import Compiler, dumps as _dumps
from .context import Context
from .options import Options
from .pydantic_input import is_model_class, model_schema, validate
from .regular import NOTHING, build_nfa, has_rule_ref
from .rules import to_grammar


class _JsonText:
    """``dumps``/``parse`` shared by the regular and the grammar-backed schema constraints."""

    model: type | None
    _ranks: dict[str, int]
    accepts: Callable[[str | bytes], bool]  # the constraint class's own

    def dumps(self, value: Any) -> str:
        """``value`` as canonical JSON text (compact, keys in the schema's order) that this constraint accepts when valid."""
        if hasattr(value, "model_dump") and self.model is not None:
            value = value.model_dump(mode="json")
        return _dumps(value, self._ranks)

    def parse(self, text: str | bytes) -> Any:
        """Parse ``text`` (refusing text outside the language); a model instance when built from a model."""
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        if not self.accepts(raw):
            raise ValueError("text is not in the constraint's language")
        value = json.loads(raw)
        return validate(self.model, value) if self.model is not None else value


class JsonSchemaConstraint(_JsonText, RegularConstraint):
    """JSON texts valid under a schema, in the constraint's key order, whitespace and string spelling (``options``)."""

    def __init__(self, node: Node, schema: Any, options: Options, ranks: dict[str, int], dropped: list[tuple[str, str]], model: type | None = None) -> None:
        self._init_automaton(node, options.max_states)
        self.description = "json_schema"
        self.schema = schema
        self.options = options
        self.dropped = list(dropped)
        self.model = model
        self.node = node
        self._ranks = dict(ranks)

    def _build_nfa(self, node: Node) -> Any:
        """The Python engine's NFA, lowering the compiler's automaton leaves."""
        return build_nfa(node)


class JsonSchemaGrammarConstraint(_JsonText, GrammarConstraint):
    """JSON texts valid under a schema that needs a grammar (any-value parts or recursion).

    Same extra API as :class:`JsonSchemaConstraint`: ``schema``, ``options``, ``dropped``, ``model``,
    ``dumps`` and ``parse``; ``node`` is the compiled tree and ``rule_defs`` its rule definitions.
    """

    def __init__(self, grammar_ir: Any, node: Node, rule_defs: dict[str, Node], schema: Any, options: Options,
                 ranks: dict[str, int], dropped: list[tuple[str, str]], model: type | None = None) -> None:
        super().__init__(grammar_ir, max_states=options.max_states, description="json_schema")
        self.schema = schema
        self.options = options
        self.dropped = list(dropped)
        self.model = model
        self.node = node
        self.rule_defs = dict(rule_defs)
        self._ranks = dict(ranks)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"




_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _close_objects(node: Any) -> Any:
    """A copy of a schema where every object with declared properties and no ``additionalProperties`` is closed."""
    if isinstance(node, list):
        return [_close_objects(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _close_objects(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "examples"):
            out[key] = value
        else:
            out[key] = _close_objects(value)
    if "properties" in out and "additionalProperties" not in out and "patternProperties" not in out:
        out["additionalProperties"] = False
    return out


@compiled_once
def json_schema(
    schema: Any,
    *,
    whitespace: str = "compact",
    property_order: str = "schema",
    additional_properties: bool | None = None,
    lenient: bool = False,
    format_assertion: bool = True,
    max_states: int = 50_000,
    max_whitespace: int = 20,
    draft: str | None = None,
    escapes: str = "canonical",
) -> JsonSchemaConstraint | JsonSchemaGrammarConstraint:
    """A constraint to JSON texts valid under ``schema`` (a dict, JSON text, or a pydantic v2 model class).

    The result is a :class:`JsonSchemaConstraint` (a DFA) when the language is regular, else a
    :class:`JsonSchemaGrammarConstraint` (any-value parts or recursion need grammar rules).

    ``whitespace``: ``"compact"`` or ``"flexible"`` (bounded runs of at most ``max_whitespace``).
    ``property_order``: ``"schema"`` (declared order; keys the schema does not name come after) or
    ``"any"``. ``additional_properties=False`` closes objects that do not say otherwise.
    ``format_assertion``: enforce ``format`` (default) or treat it as an annotation. ``lenient``:
    drop unenforceable keywords (listed in ``.dropped``) instead of raising ``UnsupportedSchema``.
    ``draft``: ``"2020-12"`` or ``"7"`` (default: from ``$schema``, else 2020-12).
    ``escapes``: ``"canonical"`` (strings and keys spelled as ``json.dumps(..., ensure_ascii=False)``
    writes them: raw UTF-8, an escape only where JSON requires one; what generation should produce) or
    ``"any"`` (every escape spelling JSON allows, e.g. to accept texts written elsewhere).
    For a pydantic model, objects are closed unless the model allows extra fields: pydantic
    ignores extra keys, so generating none loses nothing and keeps outputs small.
    """
    model = None
    if is_model_class(schema):
        model = schema
        schema = model_schema(schema)
        if additional_properties is None and getattr(model, "model_config", {}).get("extra") != "allow":
            schema = _close_objects(schema)
    elif isinstance(schema, (str, bytes)):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as e:
            raise SchemaError(f"schema is not valid JSON: {e}") from None
    if not isinstance(schema, (dict, bool)):
        raise SchemaError("a schema must be an object or a boolean")
    meta = schema.get("$schema") if isinstance(schema, dict) else None
    if isinstance(meta, str) and "json-schema.org/" not in meta:
        raise UnsupportedSchema("", "$schema", f"custom meta-schema {meta!r} (its vocabularies are unknown)")
    options = Options(
        whitespace=whitespace,
        property_order=property_order,
        additional_properties=additional_properties,
        lenient=lenient,
        format_assertion=format_assertion,
        max_states=max_states,
        max_whitespace=max_whitespace,
        draft=draft,
        escapes=escapes,
    )
    ctx = Context(schema, options)
    compiler = Compiler(ctx)
    try:
        node = compiler.document()
        defs = compiler.finish() if has_rule_ref(node) else {}
        grammar_ir = to_grammar(node, defs) if defs else None
    except RecursionError:
        raise UnsupportedSchema("", "schema", "the schema nests too deeply") from None
    except LimitExceeded as e:
        raise UnsupportedSchema("", "schema", str(e)) from None
    if defs:
        if grammar_ir is None:
            node = NOTHING
        else:
            return JsonSchemaGrammarConstraint(grammar_ir, node, defs, schema, options, ctx.ranks, ctx.dropped, model)
    return JsonSchemaConstraint(node, schema, options, ctx.ranks, ctx.dropped, model)


__all__ = ["JsonSchemaConstraint", "JsonSchemaGrammarConstraint", "Options", "json_schema"]
