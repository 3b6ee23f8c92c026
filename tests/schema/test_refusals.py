"""Refusals name the JSON pointer and keyword; lenient mode drops and lists instead."""
from __future__ import annotations

import pytest

import constrain.schema as cs
from constrain.errors import SchemaError, UnsupportedSchema


def refusal(schema: object, **kw: object) -> UnsupportedSchema:
    with pytest.raises(UnsupportedSchema) as info:
        cs.json_schema(schema, **kw)
    return info.value


def test_recursive_ref_is_refused_with_pointer() -> None:
    schema = {"type": "object", "properties": {"child": {"$ref": "#"}}, "additionalProperties": False}
    e = refusal(schema)
    assert e.keyword == "$ref" and e.pointer == "/properties/child"
    assert "grammar" in str(e)


def test_any_value_needs_the_grammar_engine() -> None:
    e = refusal({"type": "object", "properties": {"tags": {"type": "array"}}, "additionalProperties": False})
    assert e.keyword == "items" and e.pointer == "/properties/tags"
    e = refusal({"type": "object"})
    assert e.keyword == "additionalProperties"


def test_non_integer_multiple_of() -> None:
    e = refusal({"type": "number", "multipleOf": 0.01})
    assert (e.pointer, e.keyword) == ("", "multipleOf")


def test_overlapping_one_of() -> None:
    e = refusal({"oneOf": [{"type": "integer"}, {"type": "integer", "minimum": 3}]})
    assert e.keyword == "oneOf"


def test_unknown_format_when_asserting() -> None:
    e = refusal({"type": "object", "properties": {"t": {"type": "string", "format": "uri-template"}}, "additionalProperties": False})
    assert (e.pointer, e.keyword) == ("/properties/t", "format")
    cs.json_schema({"type": "string", "format": "uri-template"}, format_assertion=False)


def test_unique_items_over_open_items() -> None:
    e = refusal({"type": "array", "items": {"type": "integer"}, "uniqueItems": True})
    assert e.keyword == "uniqueItems"


def test_unevaluated_properties() -> None:
    assert refusal({"type": "object", "unevaluatedProperties": False}).keyword == "unevaluatedProperties"


def test_remote_ref() -> None:
    assert refusal({"$ref": "http://example.com/other.json"}).keyword == "$ref"


def test_lenient_drops_and_lists() -> None:
    c = cs.json_schema({"type": "object", "properties": {"x": {"type": "number", "multipleOf": 0.5}}, "required": ["x"],
                        "additionalProperties": False}, lenient=True)
    assert c.dropped == [("/properties/x", "multipleOf")]
    assert c.accepts('{"x":1.5}')


def test_annotations_are_ignored() -> None:
    c = cs.json_schema({"type": "integer", "title": "n", "description": "d", "examples": [1], "default": 2, "$comment": "c"})
    assert c.accepts("5")


def test_invalid_schema() -> None:
    with pytest.raises(SchemaError):
        cs.json_schema({"type": "nonsense"})
    with pytest.raises(SchemaError):
        cs.json_schema("{not json")
    with pytest.raises(SchemaError):
        cs.json_schema({"$ref": "#/$defs/missing"})
