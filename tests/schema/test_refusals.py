"""Refusals name the JSON pointer and keyword; lenient mode drops and lists instead."""
from __future__ import annotations

import pytest

import constrain.schema as cs
from constrain.errors import SchemaError, UnsupportedSchema


def refusal(schema: object, **kw: object) -> UnsupportedSchema:
    with pytest.raises(UnsupportedSchema) as info:
        cs.json_schema(schema, **kw)
    return info.value


def test_recursion_intersected_with_other_keywords_is_refused_with_pointer() -> None:
    schema = {"type": "object", "properties": {"child": {"$ref": "#", "maxProperties": 1}}, "additionalProperties": False}
    e = refusal(schema)
    assert e.keyword == "maxProperties" and e.pointer == "/properties/child"
    assert "recursive" in str(e)


def test_reference_loop_without_descent_is_refused() -> None:
    e = refusal({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})
    assert e.keyword == "$ref"


def test_excluding_a_value_from_any_value_is_refused() -> None:
    e = refusal({"type": "object", "properties": {"o": {"type": "object", "not": {"const": {}}}}})
    assert (e.pointer, e.keyword) == ("/properties/o", "not")


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


@pytest.mark.parametrize("fmt", ["idn-hostname", "idn-email"])
def test_internationalised_formats_are_refused(fmt: str) -> None:
    e = refusal({"type": "object", "properties": {"h": {"type": "string", "format": fmt}}})
    assert (e.pointer, e.keyword) == ("/properties/h", "format")
    cs.json_schema({"type": "string", "format": fmt}, format_assertion=False)


@pytest.mark.parametrize("fmt", ["hostname", "email"])
def test_documented_subset_formats_compile(fmt: str) -> None:
    """``hostname`` and ``email`` are enforced as documented subsets, not refused."""
    assert cs.json_schema({"type": "string", "format": fmt}).accepts('"a.example.com"') == (fmt == "hostname")


def test_min_properties_reached_through_extra_keys_is_refused() -> None:
    e = refusal({"type": "object", "minProperties": 3})
    assert (e.pointer, e.keyword) == ("", "minProperties")


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
