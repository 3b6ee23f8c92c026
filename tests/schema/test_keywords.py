"""Keyword-by-keyword checks with jsonschema as the oracle.

Each case lists valid and invalid instances: the canonical text of a valid instance must be
accepted, of an invalid one rejected; random texts drawn from the automaton must all validate.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import constrain.schema as cs
from tests.schema.helpers import check_sound, random_texts, validator

CLOSED = {"additionalProperties": False}

CASES: list[tuple[str, dict, list, list]] = [
    ("type-list", {"type": ["integer", "null"]}, [1, None, -7], [1.5, "a", True]),
    ("boolean", {"type": "boolean"}, [True, False], [0, None]),
    ("enum", {"enum": ["a", 1, None, [1, 2], {"k": "v"}]}, ["a", 1, None, [1, 2], {"k": "v"}], ["b", 2, [2, 1]]),
    ("const", {"const": {"b": 1, "a": [True]}}, [{"b": 1, "a": [True]}], [{"b": 1}]),
    ("enum+type", {"type": "string", "enum": ["x", 3]}, ["x"], [3]),
    ("int-range", {"type": "integer", "minimum": -15, "maximum": 1234}, [-15, 0, 99, 1234], [-16, 1235, 10**20]),
    ("int-exclusive", {"type": "integer", "exclusiveMinimum": 2.5, "exclusiveMaximum": 10}, [3, 9], [2, 10]),
    ("multipleOf", {"type": "integer", "multipleOf": 7, "minimum": -100}, [0, 7, -98, 700000], [1, -105, 8]),
    ("number-range", {"type": "number", "minimum": 0.1, "maximum": 2.5}, [0.1, 1, 2.5, 0.25], [0.0999, 2.51, -1]),
    ("number-exclusive", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, [0.5, 1e-7, 0.999], [0, 1, -0.5]),
    ("string-length", {"type": "string", "minLength": 2, "maxLength": 4}, ["ab", "abcd", "é😀", "a\nb"], ["a", "abcde"]),
    ("pattern", {"type": "string", "pattern": "^[a-z]+-[0-9]{2}$"}, ["ab-12", "x-00"], ["ab-1", "AB-12", "ab-12\n"]),
    ("pattern-search", {"type": "string", "pattern": "foo"}, ["foo", "xfooy"], ["fo", "FOO"]),
    ("pattern+length", {"type": "string", "pattern": "^a", "maxLength": 3}, ["a", "abc"], ["abcd", "ba"]),
    ("format-date", {"type": "string", "format": "date"}, ["2024-02-29", "2023-12-31"], ["2023-02-29", "2023-13-01"]),
    ("format-date-time", {"type": "string", "format": "date-time"}, ["2024-01-01T12:00:00Z", "2024-01-01T12:00:00.5+02:00"], []),
    ("format-uuid", {"type": "string", "format": "uuid"}, ["123e4567-e89b-12d3-a456-426614174000"], ["123e4567"]),
    ("format-ipv4", {"type": "string", "format": "ipv4"}, ["192.168.0.1"], ["256.1.1.1", "01.1.1.1"]),
    ("format-ipv6", {"type": "string", "format": "ipv6"}, ["::1", "fe80::1:2", "1:2:3:4:5:6:7:8"], ["1:2:3:4:5:6:7:8:9", ":::"]),
    ("format-email", {"type": "string", "format": "email"}, ["a.b@example.com"], ["no-at-sign"]),
    ("object", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["b"], **CLOSED},
     [{"b": "x"}, {"a": 1, "b": "x"}], [{"a": 1}, {"b": "x", "c": 1}, {"a": "1", "b": "x"}]),
    ("additional-schema", {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
     [{"a": 1}, {"a": 1, "x": "y", "z": ""}, {"q": "r"}], [{"x": 1}, {"a": "s"}]),
    ("patternProperties", {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, **CLOSED},
     [{}, {"x-a": 1, "x-b": 2}], [{"x-a": "s"}, {"y": 1}]),
    ("propertyNames", {"type": "object", "propertyNames": {"maxLength": 2}, "additionalProperties": {"type": "null"}},
     [{"ab": None}, {}], [{"abc": None}]),
    ("min-max-properties", {"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "null"}, "c": {"type": "null"}},
     "minProperties": 1, "maxProperties": 2, **CLOSED}, [{"a": None}, {"b": None, "c": None}], [{}, {"a": None, "b": None, "c": None}]),
    ("dependentRequired", {"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "null"}}, "dependentRequired": {"a": ["b"]}, **CLOSED},
     [{}, {"b": None}, {"a": None, "b": None}], [{"a": None}]),
    ("array-items", {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}, [[1], [1, 2, 3]], [[], [1, 2, 3, 4], ["a"]]),
    ("prefixItems", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
     [[], ["a"], ["a", 1]], [["a", 1, 2], [1]]),
    ("contains", {"type": "array", "items": {"type": "integer"}, "contains": {"minimum": 5}, "minContains": 2, "maxContains": 3},
     [[5, 6], [1, 5, 9, 7]], [[5], [5, 6, 7, 8], [1, 2]]),
    ("uniqueItems", {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True}, [[], ["a", "c"], ["c", "b", "a"]], [["a", "a"]]),
    ("anyOf", {"anyOf": [{"type": "string", "maxLength": 1}, {"type": "integer", "minimum": 3}]}, ["a", 3], ["ab", 2]),
    ("oneOf-disjoint", {"oneOf": [{"type": "integer", "maximum": 0}, {"type": "integer", "minimum": 10}]}, [0, 10], [5]),
    ("allOf-merge", {"allOf": [{"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}, "required": ["a"]},
                               {"properties": {"a": {"maximum": 5}}, **CLOSED}]}, [{"a": 0}, {"a": 5}], [{"a": 6}, {}]),
    ("allOf-patterns", {"type": "string", "allOf": [{"pattern": "a"}, {"pattern": "b"}]}, ["ab", "ba"], ["aa", "bb"]),
    ("not-type", {"not": {"type": ["string", "object", "array"]}}, [1, None, True, 2.5], ["s"]),
    ("not-enum", {"type": "string", "not": {"enum": ["x", "y"]}}, ["z", ""], ["x", "y"]),
    ("not-number", {"type": "number", "not": {"const": 1}}, [2, 0.5], [1, 1.0]),
    ("if-then-else", {"type": "integer", "if": {"minimum": 10}, "then": {"multipleOf": 2}, "else": {"maximum": 3}},
     [10, 12, 3, -4], [11, 5]),
    ("ref-defs", {"$defs": {"pos": {"type": "integer", "minimum": 1}}, "type": "array", "items": {"$ref": "#/$defs/pos"}}, [[1, 2]], [[0]]),
    ("anchor", {"$defs": {"x": {"$anchor": "name", "type": "string"}}, "$ref": "#name"}, ["s"], [1]),
    ("nullable-union", {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "null"}]}, ["a", None], [1, "abc"]),
    ("draft7-tuple", {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": [{"type": "integer"}],
                      "additionalItems": {"type": "string"}}, [[1, "a", "b"], []], [["a"], [1, 2]]),
]


@pytest.mark.parametrize("name,schema,valid,invalid", CASES, ids=[c[0] for c in CASES])
def test_keyword(name: str, schema: dict, valid: list, invalid: list) -> None:
    constraint = cs.json_schema(schema)
    oracle = validator(schema)
    for v in valid:
        assert oracle.is_valid(v), f"bad test data {v!r}"
        assert constraint.accepts(constraint.dumps(v)), f"rejected valid {v!r}: {constraint.dumps(v)}"
    for v in invalid:
        assert not oracle.is_valid(v), f"bad test data {v!r}"
        assert not constraint.accepts(constraint.dumps(v)), f"accepted invalid {v!r}"
    assert check_sound(constraint, schema, n=25) > 0


FORMAT_STRICT = [
    ("date-time", ["2024-01-01t12:00:00z", "2016-12-31T23:59:60Z"], ["2024-01-01 12:00", "2024-01-01T24:00:00Z", "2023-02-29T00:00:00Z"]),
    ("time", ["12:00:00+01:00", "01:29:60+01:30", "00:29:60-23:30"], ["12:00:00", "22:59:60Z", "01:29:60+01:29"]),
    ("duration", ["P1Y2M", "PT1H", "P2W"], ["P", "PT", "P1H"]),
    ("hostname", ["example.com", "a-b.c", "a--b.com", "1host", "A" * 62 + ".com"],
     ["-a.com", "a..b", "example.", "host_name", "xn--x.com", "XN--aa---o47jg78q", "a" * 64 + ".com", "é.com"]),
    ("uri", ["https://a.b/c?d#e", "urn:x:y"], ["//a.b", "a b:c"]),
    ("email", ["a.b@example.com", "x+y@a.io", "te~st@example.com", "te.s.t@a-b.example"],
     ["a@", "@b.c", "a b@c.d", ".a@b.c", "a.@b.c", "a..b@c.d", "a@b_c.d", "a@-b.c", "a@b.c.", "a@b@c.d", "é@b.c"]),
]


@pytest.mark.parametrize("fmt,good,bad", FORMAT_STRICT, ids=[f[0] for f in FORMAT_STRICT])
def test_format_languages(fmt: str, good: list, bad: list) -> None:
    c = cs.json_schema({"type": "string", "format": fmt})
    for g in good:
        assert c.accepts(c.dumps(g)), g
    for b in bad:
        assert not c.accepts(c.dumps(b)), b


_LDH_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def rfc1123_hostname(s: str) -> bool:
    """Independent oracle: ASCII LDH labels of 1-63 characters, at most 253 characters in all."""
    return s.isascii() and len(s) <= 253 and all(_LDH_LABEL.fullmatch(label) for label in s.split("."))


def in_hostname_subset(s: str) -> bool:
    """The documented subset: no ``--`` in the third and fourth positions (no IDNA A-labels)."""
    return rfc1123_hostname(s) and all(label[2:4] != "--" for label in s.split("."))


def rfc5321_dot_atom_email(s: str) -> bool:
    """Independent oracle: RFC 5321 ``Mailbox`` with a dot-string local part and an RFC 1123 domain."""
    local, at, domain = s.rpartition("@")
    return bool(at) and _DOT_ATOM.fullmatch(local) is not None and rfc1123_hostname(domain)


@pytest.mark.parametrize("fmt,oracle", [("hostname", in_hostname_subset), ("email", rfc5321_dot_atom_email)])
def test_subset_formats_accept_only_valid_strings(fmt: str, oracle: object) -> None:
    c = cs.json_schema({"type": "string", "format": fmt})
    texts = random_texts(c, 150, seed=3)
    assert len(texts) > 100
    for t in texts:
        value = json.loads(t)
        assert oracle(value), f"accepted {value!r}"
        host = value.rpartition("@")[2]
        assert in_hostname_subset(host), f"outside the documented subset: {value!r}"


@pytest.mark.parametrize("fmt,value", [
    ("hostname", "xn--9n2bp8q.xn--9t4b11yi5a"),
    ("hostname", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk.com"),
    ("email", '"joe bloggs"@example.com'),
    ("email", "joe.bloggs@[127.0.0.1]"),
    ("email", "joe@xn--9n2bp8q.com"),
])
def test_valid_values_outside_the_documented_subset_are_rejected(fmt: str, value: str) -> None:
    """Valid (JSON-Schema-Test-Suite) values the documented subsets leave out: rejected, never refused."""
    c = cs.json_schema({"type": "string", "format": fmt})
    assert not c.accepts(c.dumps(value))


def test_subset_formats_inside_objects_are_sound() -> None:
    schema = {"type": "object", "properties": {"mail": {"type": "string", "format": "email"},
                                               "host": {"type": "string", "format": "hostname"}},
              "required": ["mail", "host"], **CLOSED}
    c = cs.json_schema(schema)
    assert c.accepts(c.dumps({"mail": "a@b.io", "host": "db-1.internal"}))
    assert not c.accepts(c.dumps({"mail": "a@b", "host": "db_1"}))
    texts = random_texts(c, 40, seed=5)
    assert texts
    for t in texts:
        value = json.loads(t)
        assert rfc5321_dot_atom_email(value["mail"]) and in_hostname_subset(value["host"]), t


def test_format_as_annotation() -> None:
    c = cs.json_schema({"type": "string", "format": "date"}, format_assertion=False)
    assert c.accepts('"not a date"')


def test_string_escapes_count_as_one_character() -> None:
    c = cs.json_schema({"type": "string", "minLength": 2, "maxLength": 2}, escapes="any")
    assert c.accepts('"\\u0041\\n"')
    assert c.accepts('"\\ud83d\\ude00x"')
    assert not c.accepts('"\\ud83d\\ude00"')
    assert not c.accepts('"\\ud800x"')
    assert not c.accepts('"a\nb"'.replace("\\n", "\n"))


def test_declared_key_cannot_repeat_as_extra() -> None:
    c = cs.json_schema({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}}, escapes="any")
    assert not c.accepts('{"a":1,"a":"x"}')
    assert not c.accepts('{"a":1,"\\u0061":"x"}')
    assert c.accepts('{"a":1,"b":"x"}')


def test_flexible_whitespace_is_bounded() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}, "required": ["a"], **CLOSED}
    c = cs.json_schema(schema, whitespace="flexible", max_whitespace=4)
    assert c.accepts('{ "a" : [ 1 , 2 ] }')
    assert c.accepts('{\n  "a": [1, 2]\n}')
    assert not c.accepts('{' + " " * 5 + '"a":[]}')
    assert c.accepts(c.dumps({"a": [1]}))


def test_any_property_order() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"], **CLOSED}
    ordered = cs.json_schema(schema)
    free = cs.json_schema(schema, property_order="any")
    assert ordered.accepts('{"a":1,"b":2}') and not ordered.accepts('{"b":2,"a":1}')
    assert free.accepts('{"a":1,"b":2}') and free.accepts('{"b":2,"a":1}')
    assert not free.accepts('{"a":1,"a":2}')


def test_additional_properties_option_closes_objects() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    c = cs.json_schema(schema, additional_properties=False)
    assert c.accepts('{"a":1}') and not c.accepts('{"a":1,"b":2}')


def test_dumps_uses_schema_order_and_extras_last() -> None:
    schema = {"type": "object", "properties": {"z": {"type": "integer"}, "a": {"type": "integer"}},
              "additionalProperties": {"type": "integer"}}
    c = cs.json_schema(schema)
    assert c.dumps({"q": 3, "a": 2, "z": 1}) == '{"z":1,"a":2,"q":3}'
    assert c.accepts(c.dumps({"q": 3, "a": 2, "z": 1}))


def test_json_text_input_and_parse() -> None:
    c = cs.json_schema(json.dumps({"type": "array", "items": {"type": "boolean"}}))
    assert c.parse("[true,false]") == [True, False]
    with pytest.raises(ValueError):
        c.parse("[1]")


SCALAR_SCHEMAS = [
    {"type": "integer", "minimum": -50, "exclusiveMaximum": 300, "multipleOf": 3},
    {"type": "number", "minimum": -1.5, "maximum": 2.25},
    {"type": "number", "exclusiveMinimum": 0.1, "exclusiveMaximum": 0.3},
    {"type": "string", "maxLength": 3, "pattern": "^[a-c]"},
]


@pytest.mark.parametrize("schema", SCALAR_SCHEMAS, ids=[json.dumps(s) for s in SCALAR_SCHEMAS])
@settings(max_examples=150, deadline=None)
@given(value=st.one_of(st.integers(-400, 400), st.floats(-3, 3, allow_nan=False), st.text(max_size=5), st.decimals(-3, 3, places=3)))
def test_scalar_against_oracle(schema: dict, value: object) -> None:
    from decimal import Decimal

    if isinstance(value, Decimal):
        value = float(value)
    c = _cached(json.dumps(schema))
    assert c.accepts(c.dumps(value)) == validator(schema).is_valid(value)


_CACHE: dict[str, cs.JsonSchemaConstraint] = {}


def _cached(key: str) -> cs.JsonSchemaConstraint:
    if key not in _CACHE:
        _CACHE[key] = cs.json_schema(json.loads(key))
    return _CACHE[key]


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(min_codepoint=0x2b, max_codepoint=0x3a), min_size=1, max_size=12))
def test_fraction_text_bounds_follow_float_parsing(text: str) -> None:
    schema = {"type": "number", "minimum": 0.1, "exclusiveMaximum": 0.7}
    c = _cached(json.dumps(schema))
    try:
        value = json.loads(text)
    except ValueError:
        assert not c.accepts(text)
        return
    if c.accepts(text):
        assert validator(schema).is_valid(value)
