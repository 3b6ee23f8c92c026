"""String spelling: ``escapes="canonical"`` (the default) is exactly what ``json.dumps(..., ensure_ascii=False)`` writes.

The oracle is Python's own ``json`` module: a text is canonical when re-serialising its parsed value
gives the same text back. ``escapes="any"`` keeps every spelling JSON allows.
"""
from __future__ import annotations

import json

import pytest

import constrain.schema as cs
from tests.schema.helpers import random_texts

STRINGS_ONLY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 3},
        "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z/\\\\\"é\\n]{0,2}$"}, "maxItems": 2},
        "when": {"type": "string", "format": "date"},
        "kind": {"enum": ["a/b", "tab\there", "quote\"", "é"]},
    },
    "required": ["name", "tags", "when", "kind"],
    "additionalProperties": False,
}


def _canonical(text: str) -> bool:
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")) == text


def test_default_is_canonical_and_any_is_opt_in() -> None:
    assert cs.json_schema({"type": "string"}).options.escapes == "canonical"
    with pytest.raises(ValueError, match="escapes must be"):
        cs.json_schema({"type": "string"}, escapes="ascii")


@pytest.mark.parametrize("text", ['"skill\\u0073"', '"a\\/b"', '"\\u00e9"', '"\\u001F"', '"\\u000a"', '"\\ud83d\\ude00"'])
def test_needless_escapes_are_only_in_the_full_language(text: str) -> None:
    assert not cs.json_schema({"type": "string"}).accepts(text)
    assert cs.json_schema({"type": "string"}, escapes="any").accepts(text)


@pytest.mark.parametrize("value", ["", "skills", "a/b", "tab\tnew\nline", 'q"b\\s', "\x00\x1f\x7f", "é€😀", "\u2028"])
def test_every_string_has_its_canonical_spelling(value: str) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert cs.json_schema({"type": "string"}).accepts(text)
    assert cs.json_schema({"type": "object"}).accepts(json.dumps({value: [value]}, ensure_ascii=False, separators=(",", ":")))


def test_random_canonical_texts_are_what_json_dumps_writes() -> None:
    texts = random_texts(cs.json_schema(STRINGS_ONLY), 60, seed=3)
    assert len(texts) >= 30
    assert all(_canonical(t) for t in texts), [t for t in texts if not _canonical(t)]


def test_canonical_language_is_the_canonical_part_of_the_full_language() -> None:
    full, canon = cs.json_schema(STRINGS_ONLY, escapes="any"), cs.json_schema(STRINGS_ONLY)
    texts = random_texts(full, 80, seed=7)
    assert sum(not _canonical(t) for t in texts) >= 10  # the full language really spells things other ways
    for t in texts:
        assert canon.accepts(t) == _canonical(t), t


def test_grammar_backed_schemas_are_canonical_too() -> None:
    schema = {"type": "object", "properties": {"x": {}}, "required": ["x"]}
    canon, full = cs.json_schema(schema), cs.json_schema(schema, escapes="any")
    assert canon.accepts('{"x":{"k\\"":["é\\n"]}}') and full.accepts('{"x":{"k\\"":["é\\n"]}}')
    assert not canon.accepts('{"x":{"\\u006b":1}}') and full.accepts('{"x":{"\\u006b":1}}')
